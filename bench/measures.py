"""Extra measurements a benchmark config may ask for after each run (``measures = [...]``):

- ``untyped``: test entity F1 with every type made one, so typed vs untyped F1 says how much of
  the error is the type rather than the boundary;
- ``speed``: prediction words/s on the test split with 1 and 2 torch threads (best of two passes);
- ``int8``: test F1 and speed after dynamic int8 quantisation of the encoder (encoder only; it
  changes the model, so it runs last).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

MEASURES = ("untyped", "speed", "int8")


def untyped(tags: Sequence[Sequence[str]]) -> list[list[str]]:
    return [[t[:2] + "X" if t != "O" else t for t in s] for s in tags]


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def words_per_second(tagger: Any, sentences: Sequence[Any]) -> dict[str, float]:
    """Prediction speed per thread count, best of two passes after a warm-up."""
    import torch

    words = sum(len(s) for s in sentences)
    saved = torch.get_num_threads()
    out: dict[str, float] = {}
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            tagger.predict(list(sentences[:8]))
            best = min(_timed(lambda: tagger.predict(list(sentences))) for _ in range(2))
            out[f"{threads} thread{'s' * (threads > 1)}"] = round(words / best, 1)
    finally:
        torch.set_num_threads(saved)
    return out


def measure(names: Sequence[str], tagger: Any, test: Sequence[Any], gold: list[list[str]],
            pred: list[list[str]]) -> dict[str, Any]:
    """The asked-for measurements of a trained tagger on its test split (F1 in percent)."""
    from xner.evaluation.metrics import entity_f1

    unknown = sorted(set(names) - set(MEASURES))
    if unknown:
        raise ValueError(f"unknown measures {unknown}; known: {', '.join(MEASURES)}")
    out: dict[str, Any] = {}
    if "untyped" in names:
        out["untyped_f1"] = 100 * entity_f1(untyped(gold), untyped(pred))
    if "speed" in names:
        out["words_per_second"] = words_per_second(tagger, test)
    if "int8" in names and hasattr(tagger, "quantize"):
        tagger.quantize()
        out["int8_f1"] = 100 * entity_f1(gold, tagger.predict(list(test)))
        if "speed" in names:
            out["int8_words_per_second"] = words_per_second(tagger, test)
    return out
