"""Target choice with a fake fine-tune: the worst dev F1 is the target; test is never used."""

from __future__ import annotations

from pathlib import Path

import pytest

from xner.data.corpus import Corpus, Domain, Sentence
from xner.errors import ConfigError
from xner.labels.space import LabelSpace
from xner.models.base import FitResult, TrainConfig
from xner.transfer.target_choice import choose_target, format_choice


def _sents(domain: str, split: str, n: int) -> list[Sentence]:
    return [Sentence((f"{domain}{split}{i}", "x", "y"), ("B-t", "I-t", "O"), domain, f"{split}.txt", i)
            for i in range(n)]


def _corpus() -> Corpus:
    return Corpus({n: Domain(n, _sents(n, "train", k), _sents(n, "dev", 4), _sents(n, "test", 4))
                   for n, k in [("conll2003", 9), ("ai", 2), ("music", 5), ("science", 3)]})


class PartlyRight:
    """Gets the first ``right`` dev sentences right and tags the rest all O."""

    labels = LabelSpace.from_types(["t"])

    def __init__(self, right: int) -> None:
        self.right = right

    def predict(self, sentences):  # noqa: ANN001, ANN201
        return [list(s.tags) if i < self.right else ["O"] * len(s) for i, s in enumerate(sentences)]


def test_worst_domain_is_target_and_test_is_never_seen() -> None:
    seen: list[Sentence] = []
    skill = {"ai": 2, "music": 4, "science": 1}

    def fake_finetune(pretrained: Path, train, dev, cfg):  # noqa: ANN001, ANN202
        assert pretrained == Path("/models/pre") and cfg.epochs == 3
        seen.extend(train)
        seen.extend(dev)
        return PartlyRight(skill[train[0].domain]), FitResult(1, 0.0, 1, 0.0)

    choice = choose_target(Path("/models/pre"), _corpus(), train_cfg=TrainConfig(epochs=3), finetune_fn=fake_finetune)
    assert [r.domain for r in choice.rows] == ["ai", "music", "science"]  # source excluded
    f1 = {r.domain: r.dev_f1 for r in choice.rows}
    # k of 4 dev entities found, none spurious: P = 1, R = k/4, F1 = 2k/(k+4).
    assert f1 == pytest.approx({"ai": 4 / 6, "music": 1.0, "science": 2 / 5})
    assert choice.target == "science"
    assert {r.domain: r.train_size for r in choice.rows} == {"ai": 2, "music": 5, "science": 3}
    assert all(s.file != "test.txt" for s in seen) and not any(s.domain == "conll2003" for s in seen)
    table = format_choice(choice).splitlines()
    assert table[1].startswith("science") and table[1].endswith("<- target") and "0.4000" in table[1]
    assert choice.to_json()["target"] == "science"


def test_candidates_and_errors() -> None:
    fake = lambda p, tr, dv, c: (PartlyRight(0), FitResult(1, 0.0, 1, 0.0))  # noqa: E731
    choice = choose_target(Path("x"), _corpus(), ["music", "ai"], finetune_fn=fake)
    assert [r.domain for r in choice.rows] == ["music", "ai"] and choice.target == "ai"  # tie -> by name
    with pytest.raises(ConfigError, match="unknown candidate"):
        choose_target(Path("x"), _corpus(), ["chemistry"], finetune_fn=fake)
