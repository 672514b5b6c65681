"""A run with added data reports its cost in tokens as well as sentences (the study's ``n_added_tokens``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xner.data.conll import load_domain
from xner.run.execute import run
from xner.run.load import validate

WORDS = {"src": ("Smith", "B-person"), "pol": ("Obama", "B-politician"), "sci": ("Curie", "B-scientist"),
         "mus": ("Queen", "B-band")}


def _write(root: Path) -> None:
    for d, (name, tag) in WORDS.items():
        for split, n in (("train", 16), ("dev", 6), ("test", 6)):
            lines = []
            for i in range(n):  # sentences of 2..6 tokens, so sentence and token counts differ
                lines += [f"{name}\t{tag}", f"{split}{i}\tO"] + [f"w{j}\tO" for j in range(i % 5)] + [""]
            (root / d).mkdir(parents=True, exist_ok=True)
            (root / d / f"{split}.txt").write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.parametrize("method", ["random", "uncertainty"])
def test_added_tokens_are_the_tokens_of_the_added_sentences(tmp_path: Path, method: str) -> None:
    _write(tmp_path / "data")
    phase = {"epochs": 1, "batch_size": 8, "patience": 1}
    added = {"method": method, "setting": 50.0 if method == "random" else 1.0, "domains": ["sci", "mus"],
             "pool_splits": ["train"], **({"budget": 5} if method == "uncertainty" else {})}
    cfg = validate({"seed": 1, "data": {"root": tmp_path / "data", "target": "pol", "source": "src"},
                    "backbone": {"settings": {"word_dim": 8, "char_dim": 4, "char_filters": 4, "hidden": 8}},
                    "pretrain": phase, "finetune": phase, "added": added,
                    "runtime": {"threads": 1, "cache": tmp_path / "cache"}})
    result = run(cfg)
    pool = {tuple(s.tokens): len(s) for d in ("sci", "mus") for s in load_domain(tmp_path / "data" / d).train}
    assert result.n_added == (16 if method == "random" else 5)
    # Every added sentence is a pool sentence; their tokens add up to what the run reports.
    assert 2 * result.n_added <= result.n_added_tokens <= 6 * result.n_added
    assert result.metrics()["n_added_tokens"] == result.n_added_tokens
    assert set(pool) and result.n_added_tokens != result.n_added
