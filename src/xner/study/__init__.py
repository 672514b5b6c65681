"""xner.study"""
