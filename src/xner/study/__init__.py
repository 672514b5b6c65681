"""A study: a grid of runs from a TOML config, stored in SQLite, resumable, summarised in a report."""
