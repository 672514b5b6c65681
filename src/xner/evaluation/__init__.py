"""Scores (seqeval entity F1, token report, confusion matrix) and plots."""
