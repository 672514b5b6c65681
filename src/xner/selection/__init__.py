"""xner.selection"""
