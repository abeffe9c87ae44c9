"""graphkit.synth"""
