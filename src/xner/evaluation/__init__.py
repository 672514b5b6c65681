"""xner.evaluation"""
