"""Pools never hold target or test sentences; nested random samples."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xner.data.corpus import Corpus, Domain, Sentence
from xner.errors import ConfigError
from xner.selection.random_pool import build_pool, nested_sample, sample_size


def _sents(domain: str, split: str, n: int, prefix: str = "") -> list[Sentence]:
    return [Sentence((f"{prefix or domain}-{split}-{i}", "w"), ("O", "O"), domain, f"{split}.txt", 3 * i + 1)
            for i in range(n)]


def _corpus() -> Corpus:
    domains = {}
    for name, n in [("conll2003", 6), ("ai", 3), ("music", 5), ("science", 4)]:
        domains[name] = Domain(name, _sents(name, "train", n), _sents(name, "dev", n), _sents(name, "test", n))
    return Corpus(domains)


def test_pool_excludes_target_source_and_test() -> None:
    corpus = _corpus()
    pool = build_pool(corpus, "ai")
    assert {s.domain for s in pool} == {"music", "science"}
    assert len(pool) == 2 * 5 + 2 * 4
    test_tokens = {s.tokens for d in corpus.domains.values() for s in d.test}
    assert not test_tokens & {s.tokens for s in pool}
    assert all(s.file != "test.txt" for s in pool)


def test_pool_source_can_be_included_and_splits_chosen() -> None:
    pool = build_pool(_corpus(), "ai", source=None, splits=("train",))
    assert {s.domain for s in pool} == {"conll2003", "music", "science"}
    assert all(s.file == "train.txt" for s in pool)


def test_pool_refuses_test_split_and_target_domain() -> None:
    with pytest.raises(ConfigError, match="train and/or dev"):
        build_pool(_corpus(), "ai", splits=("train", "test"))
    with pytest.raises(ConfigError, match="target domain 'ai'"):
        build_pool(_corpus(), "ai", domains=["music", "ai"])
    with pytest.raises(ConfigError, match="unknown"):
        build_pool(_corpus(), "nope")


def test_pool_drops_copies_of_target_and_test_text() -> None:
    corpus = _corpus()
    leaked_test = corpus["ai"].test[0].tokens
    leaked_target = corpus["ai"].train[1].tokens
    music = corpus["music"]
    music.train.append(Sentence(leaked_test, ("O", "O"), "music", "train.txt", 99))
    music.dev.append(Sentence(leaked_target, ("O", "O"), "music", "dev.txt", 99))
    other_test = corpus["science"].test[2].tokens
    music.train.append(Sentence(other_test, ("O", "O"), "music", "train.txt", 120))
    pool = build_pool(corpus, "ai")
    tokens = {s.tokens for s in pool}
    assert leaked_test not in tokens and leaked_target not in tokens and other_test not in tokens
    assert len(pool) == 18


def test_nested_sample_sizes_and_nesting() -> None:
    pool = _sents("x", "train", 37)
    samples = {p: nested_sample(pool, p, seed=3) for p in range(0, 101, 10)}
    assert [len(samples[p]) for p in range(0, 101, 10)] == [round(p / 100 * 37) for p in range(0, 101, 10)]
    for small, big in zip(range(0, 100, 10), range(10, 101, 10)):
        assert samples[big][: len(samples[small])] == samples[small]
        assert set(samples[small]) <= set(samples[big])
    assert sorted(samples[100], key=lambda s: s.line) == pool
    assert nested_sample(pool, 20, seed=4) != samples[20]


def test_nested_sample_rejects_bad_percent() -> None:
    with pytest.raises(ConfigError, match="between 0 and 100"):
        sample_size(10, 120)


def test_nested_sample_same_in_another_process() -> None:
    code = ("from xner.selection.random_pool import permutation;"
            "print([int(i) for i in permutation(50, 7)[:10]])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123"}).stdout.strip()
    here = nested_sample(list(range(50)), 20, seed=7)  # type: ignore[arg-type]
    assert out == str([int(i) for i in here])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 300), a=st.floats(0, 100), b=st.floats(0, 100), seed=st.integers(0, 2**32 - 1))
def test_nested_property(n: int, a: float, b: float, seed: int) -> None:
    pool = list(range(n))
    small, big = sorted((a, b))
    s, t = nested_sample(pool, small, seed), nested_sample(pool, big, seed)  # type: ignore[arg-type]
    assert t[: len(s)] == s and len(set(t)) == len(t) and len(t) == round(big / 100 * n)
