"""The data of one run: its target (one domain, or several pooled), its source cut to the
config's subset, and the corpus the added-data methods draw from. Loaded once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from xner.data.corpus import Corpus, Domain
from xner.run.config import RunConfig


def data_root(cfg: RunConfig) -> Path:
    """The data root: the config's, else ``$XNER_DATA``, ``../shared/data/crossner``, the cache."""
    from xner.data.sources import find_data_root

    return find_data_root(cfg.data.root)


@lru_cache(maxsize=2)
def corpus(root: str) -> Corpus:
    """Every domain under ``root`` (the pool guard needs them all)."""
    from xner.data.conll import load_corpus

    return load_corpus(Path(root))


@lru_cache(maxsize=16)
def domain(root: str, name: str) -> Domain:
    from xner.data.conll import load_domain

    return load_domain(Path(root) / name, name)


def target_domain(cfg: RunConfig, root: Path) -> Domain:
    """The target; several target domains are pooled split by split."""
    parts = [domain(str(root), name) for name in cfg.data.target]
    if len(parts) == 1:
        return parts[0]
    return Domain(cfg.data.target_name, [s for d in parts for s in d.train], [s for d in parts for s in d.dev],
                  [s for d in parts for s in d.test])


def cut_source(full: Domain, subset: int | None) -> Domain:
    """The source cut to its first ``subset`` train sentences and the same share of dev.

    The one place the subset is applied, so the CLI, the study and the benchmarks pre-train on
    the same sentences (and find the same cached pre-training)."""
    if subset is None or subset >= len(full.train):
        return full
    n_dev = max(1, round(subset * len(full.dev) / max(1, len(full.train))))
    return Domain(full.name, train=full.train[:subset], dev=full.dev[:n_dev], test=[])


def source_domain(cfg: RunConfig, root: Path) -> Domain:
    return cut_source(domain(str(root), cfg.data.source), cfg.data.source_subset)
