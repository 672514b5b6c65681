"""xner.transfer"""
