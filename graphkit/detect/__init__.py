"""graphkit.detect"""
