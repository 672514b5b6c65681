"""Fitting a tagger (epochs, early stopping on dev entity F1) and checkpoints on disk."""
