"""The pool of extra sentences a target may borrow, and nested random samples of it.

The pool is other domains' train (+dev) sentences. Two things never enter it, whatever the
arguments say: the target domain's own sentences and any test split (of any domain). A
sentence whose tokens equal a target or test sentence is dropped too, so a duplicate
sentence stored in another domain cannot leak evaluation text into training.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from xner.data.corpus import Corpus, Sentence
from xner.errors import ConfigError

DEFAULT_SOURCE = "conll2003"
POOL_SPLITS: tuple[str, ...] = ("train", "dev")


def _guarded_tokens(corpus: Corpus, target: str) -> set[tuple[str, ...]]:
    """Token sequences that must never be in a pool: every test split and all of the target."""
    banned: set[tuple[str, ...]] = set()
    for name in corpus.names():
        domain = corpus[name]
        banned.update(s.tokens for s in domain.test)
        if name == target:
            banned.update(s.tokens for s in domain.train)
            banned.update(s.tokens for s in domain.dev)
    return banned


def pool_domains(corpus: Corpus, target: str, domains: Iterable[str] | None = None,
                 source: str | None = DEFAULT_SOURCE) -> list[str]:
    """The domains a pool draws from: ``domains`` if given, else every domain but target and source."""
    if target not in corpus:
        raise ConfigError(f"unknown target domain {target!r}; known: {', '.join(corpus.names())}")
    if domains is None:
        return [n for n in corpus.names() if n not in (target, source)]
    chosen = list(dict.fromkeys(domains))
    for name in chosen:
        if name not in corpus:
            raise ConfigError(f"unknown pool domain {name!r}; known: {', '.join(corpus.names())}")
        if name == target:
            raise ConfigError(f"the pool may not contain the target domain {target!r}")
    return chosen


def build_pool(corpus: Corpus, target: str, domains: Sequence[str] | None = None,
               splits: Sequence[str] = POOL_SPLITS, source: str | None = DEFAULT_SOURCE) -> list[Sentence]:
    """Other domains' sentences in a stable order (domain, split, file order).

    ``domains=None`` means every domain except the target and ``source`` (pass ``source=None``
    to include the source domain). ``splits`` may be train and/or dev, never test.
    """
    bad = [s for s in splits if s not in POOL_SPLITS]
    if bad:
        raise ConfigError(f"pool splits must be train and/or dev, got {', '.join(bad)}")
    banned = _guarded_tokens(corpus, target)
    pool: list[Sentence] = []
    for name in pool_domains(corpus, target, domains, source):
        for split in dict.fromkeys(splits):
            pool.extend(s for s in corpus[name].split(split) if s.tokens not in banned)
    # The guarantee the whole study rests on; checked on the result, not just the inputs.
    assert all(s.tokens not in banned for s in pool), "pool contains target or test text"
    assert not {id(s) for s in pool} & _forbidden_ids(corpus, target), "pool contains target/test"
    return pool


def _forbidden_ids(corpus: Corpus, target: str) -> set[int]:
    """Object ids of target and test sentences (keys may repeat when readers leave domain empty)."""
    ids: set[int] = set()
    for name in corpus.names():
        ids.update(id(s) for s in corpus[name].test)
        if name == target:
            ids.update(id(s) for _, split in corpus[name].splits() for s in split)
    return ids


def sample_size(n: int, percent: float) -> int:
    """How many of ``n`` items ``percent`` % means: round(p/100 * n) (Python's round)."""
    if not 0 <= percent <= 100:
        raise ConfigError(f"percent must be between 0 and 100, got {percent}")
    return int(round(percent / 100 * n))


def permutation(n: int, seed: int) -> np.ndarray:
    """The one seeded order every nested sample of a pool of size ``n`` is a prefix of."""
    return np.random.default_rng(seed).permutation(n)


def nested_sample(pool: Sequence[Sentence], percent: float, seed: int) -> list[Sentence]:
    """The first round(p/100 * len) items of one seeded permutation of ``pool``.

    With the same pool and seed a larger percentage always contains a smaller one (20% ⊇ 10%).
    numpy's PCG64 generator makes this identical across processes and platforms.
    """
    k = sample_size(len(pool), percent)
    return [pool[i] for i in permutation(len(pool), seed)[:k]]


def data_pool(data_root: Path | None, target: str, domains: Sequence[str] | None = None,
              splits: Sequence[str] = POOL_SPLITS, source: str | None = DEFAULT_SOURCE) -> list[Sentence]:
    """:func:`build_pool` over the corpus in the data root (see ``find_data_root``)."""
    return build_pool(_load(data_root), target, domains, splits, source)


def _load(data_root: Path | None) -> Corpus:
    from xner.data.conll import load_corpus
    from xner.data.sources import find_data_root

    return load_corpus(find_data_root(data_root))


def _check_pick(pick: str, metric: str) -> None:
    from xner.selection.similarity import METRICS

    if pick not in ("similar", "dissimilar"):
        raise ConfigError(f"--pick must be similar or dissimilar, got {pick!r}")
    if metric not in METRICS:
        raise ConfigError(f"--metric must be one of {', '.join(METRICS)}, got {metric!r}")


def pick_domain(corpus: Corpus, target: str, pick: str, method: str = "tfidf", metric: str = "euclidean",
                domains: Sequence[str] | None = None, source: str | None = DEFAULT_SOURCE) -> str:
    """The pool domain most similar (``pick="similar"``) or most dissimilar to the target."""
    from xner.selection.similarity import distance_tables, rank_by_similarity

    _check_pick(pick, metric)
    candidates = pool_domains(corpus, target, domains, source)
    tables = distance_tables(corpus, [target, *candidates], method)
    ranking = rank_by_similarity(tables[metric], target)
    return ranking[0] if pick == "similar" else ranking[-1]


def sample_to_file(out: Path, data_root: Path | None, target: str, percent: float, seed: int = 0,
                   domains: Sequence[str] | None = None, splits: Sequence[str] = POOL_SPLITS,
                   source: str | None = DEFAULT_SOURCE, pick: str | None = None, method: str = "tfidf",
                   metric: str = "euclidean") -> tuple[list[Sentence], int, str | None]:
    """``xner select random``: p% of the pool (a nested seeded sample) written to ``out`` as CoNLL.

    With ``pick`` (similar or dissimilar) the pool is the one domain of ``domains`` (default: all
    but target and source) most (dis)similar to the target. Returns (sample, pool size, the
    picked domain or None).
    """
    from xner.data.conll import write_conll

    if pick is not None:
        _check_pick(pick, metric)
    corpus = _load(data_root)
    picked = None if pick is None else pick_domain(corpus, target, pick, method, metric, domains, source)
    pool = build_pool(corpus, target, domains if picked is None else [picked], splits, source)
    sample = nested_sample(pool, percent, seed)
    write_conll(out, sample)
    return sample, len(pool), picked
