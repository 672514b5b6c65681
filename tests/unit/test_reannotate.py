"""The reference study's re-annotation: gold labels on the tokens above the entropy threshold,
the model's predictions on the rest; and the run that fine-tunes on the re-labelled set."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from xner.data.conll import load_domain
from xner.data.corpus import Sentence
from xner.errors import ConfigError
from xner.labels.space import LabelSpace
from xner.run.execute import run
from xner.run.load import validate
from xner.selection.reannotate import oracle_tags, reannotate

SURE = [0.97, 0.01, 0.01, 0.01]  # entropy ~0.17
UNSURE = [0.25, 0.25, 0.25, 0.25]  # entropy ln 4 = 1.386


class ScriptedTagger:
    """Predicts and doubts by word: 'x' words are tagged B-A with uniform marginals."""

    labels = LabelSpace(["O", "B-A", "I-A", "B-B"])

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [["B-A" if w.startswith("x") else "O" for w in s] for s in sentences]

    def marginals(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        return [np.array([UNSURE if w.startswith("x") else SURE for w in s]).reshape(len(s), 4) for s in sentences]


def test_the_oracle_relabels_flagged_tokens_only() -> None:
    gold = [Sentence(("a", "xb", "xc", "d"), ("B-B", "I-B", "O", "O")),  # 'a' is wrong but sure
            Sentence(("e", "f"), ("O", "O")),
            Sentence(("xg",), ("B-A",))]
    result = reannotate(ScriptedTagger(), gold, threshold=1.0)  # type: ignore[arg-type]
    # Sentence 1: predicted O B-A B-A O; xb, xc get gold I-B, O; 'a' keeps its (wrong) O, and the
    # stray I-B after O is read as conlleval reads it: B-B.
    assert [s.tags for s in result.sentences] == [("O", "B-B", "O", "O"), ("O", "O"), ("B-A",)]
    assert [s.tokens for s in result.sentences] == [s.tokens for s in gold]
    assert result.n_tokens == 3 and result.n_sentences == 2
    assert result.n_changed == 2  # xb: B-A -> I-B, xc: B-A -> O; xg was right already
    assert result.n_silver_errors == 1  # 'a': predicted O, gold B-B, not flagged
    assert result.counts() == {"n_reannotated_tokens": 3, "n_reannotated_sentences": 2,
                               "n_reannotated_changed": 2, "n_silver_errors": 1}


def test_the_threshold_decides_what_is_flagged() -> None:
    gold = [Sentence(("xa", "b"), ("O", "B-A"))]
    above = reannotate(ScriptedTagger(), gold, threshold=math.log(4) + 0.01)  # type: ignore[arg-type]
    assert above.n_tokens == 0 and above.sentences[0].tags == ("B-A", "O")  # all predicted
    below = reannotate(ScriptedTagger(), gold, threshold=0.1)  # type: ignore[arg-type]
    assert below.n_tokens == 2 and below.sentences[0].tags == ("O", "B-A")  # all gold


def test_oracle_tags_and_an_empty_set() -> None:
    flagged = np.array([False, False, True])
    assert oracle_tags(["B-A", "I-A", "O"], ["O", "B-B", "I-B"], flagged) == ["B-A", "I-A", "B-B"]
    assert reannotate(ScriptedTagger(), []).counts()["n_reannotated_tokens"] == 0  # type: ignore[arg-type]


def _write(root: Path) -> None:
    words = {"src": ("Smith", "B-person"), "pol": ("Obama", "B-politician")}
    for d, (name, tag) in words.items():
        for split, n in (("train", 12), ("dev", 4), ("test", 4)):
            lines = []
            for i in range(n):
                lines += [f"{name}\t{tag}", f"{split}{i}\tO", f"w{i % 3}\tO", ""]
            (root / d).mkdir(parents=True, exist_ok=True)
            (root / d / f"{split}.txt").write_text("\n".join(lines), encoding="utf-8")


def test_a_reannotate_run_records_the_tokens_it_relabelled(tmp_path: Path) -> None:
    _write(tmp_path / "data")
    phase = {"epochs": 1, "batch_size": 8, "patience": 1}
    base = {"seed": 1, "data": {"root": tmp_path / "data", "target": "pol", "source": "src"},
            "backbone": {"settings": {"word_dim": 8, "char_dim": 4, "char_filters": 4, "hidden": 8}},
            "pretrain": phase, "finetune": phase, "runtime": {"threads": 1, "cache": tmp_path / "cache"}}
    train_tokens = sum(len(s) for s in load_domain(tmp_path / "data" / "pol").train)
    # Threshold 0.01: a barely trained model is unsure of nearly every token, so nearly all are gold.
    result = run(validate({**base, "added": {"method": "reannotate", "setting": 0.01}}))
    metrics = result.metrics()
    assert 0 < metrics["flags"]["n_reannotated_tokens"] <= train_tokens
    assert result.n_added == 0 and result.n_train == 12
    # A threshold above ln(labels) flags nothing: the second fit learns the model's own predictions.
    none = run(validate({**base, "added": {"method": "reannotate", "setting": 50.0}}))
    assert none.metrics()["flags"]["n_reannotated_tokens"] == 0
    assert none.metrics()["flags"]["n_silver_errors"] >= 0


@pytest.mark.parametrize("added", [{"method": "reannotate", "setting": 0.0},
                                   {"method": "reannotate", "setting": 2.0, "domains": ["x"]}])
def test_reannotate_needs_a_threshold_and_no_domains(added: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="reannotate takes"):
        validate({"data": {"target": "ai"}, "added": added})
