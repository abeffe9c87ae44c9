"""graphkit.build"""
