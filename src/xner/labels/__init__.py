"""Label spaces (BIO tags <-> ids) and normalisation of domain-specific types."""
