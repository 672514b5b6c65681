"""Data layer: CoNLL reading and writing, corpora of domains, finding the data."""
