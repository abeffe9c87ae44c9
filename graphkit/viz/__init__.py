"""graphkit.viz"""
