"""Fitting a tagger: epochs, early stopping on dev entity F1 (``trainer.fit``)."""
