"""Taggers: the BiLSTM-CRF baseline and the transformer encoder, behind one protocol."""
