"""Export for review -> (edit) -> import: CoNLL review files and Label Studio JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from xner.data.conll import read_conll
from xner.labels.space import LabelSpace
from xner.selection.annotate import export_for_review, import_reviewed, read_review_file, review_items

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "annotate"


class FakeTagger:
    """Predicts ``pred[tokens]`` (default all O); unsure tokens get a flat row (H ~ 2.34 nats)."""

    def __init__(self, labels: LabelSpace, pred: dict[tuple[str, ...], list[str]], unsure: set[str]) -> None:
        self.labels, self.pred, self.unsure = labels, pred, unsure

    def _row(self, token: str, tag: str) -> np.ndarray:
        n = len(self.labels)
        hot = self.labels.id(tag)
        if token in self.unsure:
            row = np.full(n, 0.8 / (n - 1))
            row[hot] = 0.2
            return row
        return np.eye(n)[hot]

    def _tags(self, tokens) -> list[str]:  # noqa: ANN001
        return self.pred.get(tuple(tokens), ["O"] * len(tokens))

    def marginals(self, sentences):  # noqa: ANN001, ANN201
        return [np.stack([self._row(t, g) for t, g in zip(s, self._tags(s))]) for s in sentences]

    def predict(self, sentences):  # noqa: ANN001, ANN201
        return [self._tags(s) for s in sentences]


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "toy", tmp_path / "toy")
    return tmp_path / "toy" / "train.txt"


def _gold_tagger(sentences, unsure: set[str], miss_turing: bool = True) -> FakeTagger:  # noqa: ANN001
    """Gold labels, except that (by default) every 'Turing' is predicted O."""
    labels = LabelSpace.from_sentences(sentences)
    pred = {s.tokens: [("O" if t == "Turing" and miss_turing else g) for t, g in zip(s.tokens, s.tags)]
            for s in sentences}
    return FakeTagger(labels, pred, unsure)


def test_export_selects_uncertain_sentences_and_marks_tokens(data: Path, tmp_path: Path) -> None:
    sents = read_conll(data, "toy")
    tagger = _gold_tagger(sents, {"Manchester", "GPUs", "uses"})
    summary = export_for_review(tagger, sents, tmp_path / "out", threshold=2.0)
    assert (summary.sentences, summary.uncertain_tokens) == (2, 3)
    text = (tmp_path / "out" / "review.conll").read_text()
    assert "# id = toy/train.txt/8" in text and "# id = toy/train.txt/1" in text
    assert "# id = toy/train.txt/14" not in text  # no uncertain token there
    assert "Manchester\tB-location\t?" in text and "worked\tO\t_" in text
    # Most uncertain first (sum ties broken by max: both have max 2.34 -> file order).
    assert text.index("toy/train.txt/1") < text.index("toy/train.txt/8")
    assert len(review_items(tagger, sents, 2.0, budget=1)) == 1
    assert review_items(tagger, sents, 2.5) == []
    tasks = json.loads((tmp_path / "out" / "tasks.json").read_text())
    first = tasks[0]
    assert first["data"]["sid"] == "toy/train.txt/1"
    assert [u["token"] for u in first["data"]["uncertain"]] == ["Manchester"]
    spans = [r["value"] for r in first["predictions"][0]["result"]]
    assert [(v["text"], v["labels"]) for v in spans] == [("Alan", ["person"]), ("Manchester", ["location"])]
    config = (tmp_path / "out" / "label_config.xml").read_text()
    assert '<Label value="product"/>' in config and 'value="$text"' in config


def test_conll_roundtrip_unchanged_and_edited(data: Path, tmp_path: Path) -> None:
    sents = read_conll(data, "toy")
    tagger = _gold_tagger(sents, {"Alan", "Deep", "The"})
    export_for_review(tagger, sents, tmp_path / "out")
    review = tmp_path / "out" / "review.conll"
    # Unchanged: the model missed "Turing" (O); importing as is writes the model's labels.
    summary = import_reviewed(review, data)
    after = read_conll(data, "toy")
    # Changed: both Turings -> O, and the model's stray I-misc was exported as B-misc.
    assert summary.sentences == 3 and summary.changed_tokens == 3
    assert after[0].tags[1] == "O" and after[2].tags[1:3] == ("O", "B-misc") and after[1] == sents[1]
    # A person corrects the two Turing labels; the merge restores the gold data exactly.
    text = review.read_text().replace("Turing\tO\t_", "Turing\tI-person\t_", 1)
    text = text.replace("Turing\tO\t_", "Turing\tB-misc\t_", 1).replace("test\tB-misc", "test\tI-misc")
    review.write_text(text)
    summary = import_reviewed(review, data.parent)
    assert read_conll(data, "toy") == sents and summary.changed_tokens == 3


def test_labelstudio_roundtrip(data: Path, tmp_path: Path) -> None:
    sents = read_conll(data, "toy")
    gold = _gold_tagger(sents, {"Alan", "Deep", "The"}, miss_turing=False)
    export_for_review(gold, sents, tmp_path / "out")
    tasks = json.loads((tmp_path / "out" / "tasks.json").read_text())
    # What Label Studio exports when a reviewer accepts each prediction as the annotation.
    exported = [{"id": 100 + i, **t, "annotations": [{"id": i, "was_cancelled": False,
                                                    "result": t["predictions"][0]["result"]}]}
                for i, t in enumerate(tasks)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported))
    summary = import_reviewed(path, tmp_path)  # a data root: ids name the domain folder
    assert read_conll(data, "toy") == sents and summary.changed_tokens == 0
    # Edit: "GPUs" becomes a misc entity; a cancelled later annotation is ignored.
    task = next(t for t in exported if t["data"]["sid"] == "toy/train.txt/8")
    result = [r for r in task["annotations"][0]["result"] if r["value"]["text"] != "GPUs"]
    result.append({"type": "labels", "value": {"start": 19, "end": 23, "labels": ["misc"]}})
    task["annotations"] = [{"result": result}, {"was_cancelled": True, "result": []}]
    path.write_text(json.dumps(exported))
    out = tmp_path / "merged.txt"
    import_reviewed(path, data, out=out)
    merged = read_conll(out, "toy")
    assert merged[1].tags == ("B-field", "I-field", "O", "B-misc", "O")
    assert merged[0].tags == sents[0].tags and merged[2].tags == sents[2].tags
    assert read_conll(data, "toy") == sents  # --out left the data file alone


def test_review_file_parses_header_and_blocks(data: Path, tmp_path: Path) -> None:
    sents = read_conll(data, "toy")
    export_for_review(_gold_tagger(sents, {"in", "is"}), sents, tmp_path / "out", budget=5)
    items, labels = read_review_file(tmp_path / "out" / "review.conll")
    assert labels is not None and labels[0] == "O" and "B-person" in labels
    assert [i.sid for i in items] == ["toy/train.txt/1", "toy/train.txt/14"]
    assert items[0].tokens == list(sents[0].tokens) and items[0].token_lines[0] == items[0].line + 2
