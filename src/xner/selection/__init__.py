"""Which extra sentences to add: random pool samples, (dis)similar domains, uncertainty; re-annotation files."""
