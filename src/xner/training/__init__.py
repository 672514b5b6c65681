"""xner.training"""
