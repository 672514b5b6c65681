"""Property tests: export for review -> import gives back exactly the exported labels.

A fake tagger predicts generated IOB2 tags; every token is marked uncertain (threshold 0) so
every sentence is exported. Importing the untouched review file (or a Label Studio export that
accepts the pre-annotations as they are) must write those tags into the data, tokens unchanged.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xner.data.conll import read_conll, write_conll
from xner.data.corpus import Sentence
from xner.labels.space import LabelSpace
from xner.selection.annotate import export_for_review, import_reviewed

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_CHARS = st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs"))
# write_conll refuses a token starting with -DOCSTART- (a document marker on read).
any_token = st.one_of(st.text(_CHARS, min_size=1, max_size=6),
                      st.sampled_from(["#", "#x", "\ufeff#"])).filter(
    lambda t: not t.startswith("-DOCSTART-"))
types = st.sampled_from(["PER", "LOC", "org", "musical-artist", "é"])


@st.composite
def tags_of(draw: st.DrawFn, n: int) -> list[str]:
    """A valid IOB2 sequence of exactly ``n`` tags."""
    tags: list[str] = []
    while len(tags) < n:
        kind = draw(st.one_of(st.none(), types))
        length = min(draw(st.integers(1, 3)), n - len(tags))
        tags += ["O"] * length if kind is None else ["B-" + kind] + ["I-" + kind] * (length - 1)
    return tags


@st.composite
def reviews(draw: st.DrawFn, token: st.SearchStrategy[str]) -> tuple[list[Sentence], list[list[str]]]:
    """Gold sentences and the (different) labels a model proposes for them."""
    sents, preds = [], []
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(1, 6))
        words = draw(st.lists(token, min_size=n, max_size=n))
        sents.append(Sentence(tuple(words), tuple(draw(tags_of(n)))))
        preds.append(draw(tags_of(n)))
    return sents, preds


class ProposingTagger:
    """Predicts the given tags; every row is flat-ish so every token is above threshold 0."""

    def __init__(self, labels: LabelSpace, pred: dict[tuple[str, ...], list[str]]) -> None:
        self.labels, self.pred = labels, pred

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [list(self.pred[tuple(s)]) for s in sentences]

    def marginals(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        n = len(self.labels)
        out = []
        for s in sentences:
            rows = np.full((len(s), n), 0.5 / (n - 1))
            for i, tag in enumerate(self.pred[tuple(s)]):
                rows[i, self.labels.id(tag)] = 0.5
            out.append(rows)
        return out


def _export(folder: Path, sents: list[Sentence], preds: list[list[str]]) -> tuple[Path, list[Sentence]]:
    data = folder / "toy" / "train.txt"
    data.parent.mkdir()
    write_conll(data, sents)
    stored = read_conll(data, "toy")  # ids come from where each sentence is in the file
    labels = LabelSpace.from_types({"PER"} | {t[2:] for tags in [*preds, *(s.tags for s in sents)]
                                              for t in tags if t != "O"})
    # Sentences with the same tokens would need the same proposal: key on tokens, last wins.
    pred = {s.tokens: p for s, p in zip(stored, preds)}
    export_for_review(ProposingTagger(labels, pred), stored, folder / "out", threshold=0.0)
    return data, stored


def _expected(stored: list[Sentence], preds: list[list[str]]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    pred = {s.tokens: p for s, p in zip(stored, preds)}
    return [(s.tokens, tuple(pred[s.tokens])) for s in stored]


@SETTINGS
@given(reviews(any_token))
def test_review_file_round_trip(case: tuple[list[Sentence], list[list[str]]]) -> None:
    sents, preds = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data, stored = _export(folder, sents, preds)
        summary = import_reviewed(folder / "out" / "review.conll", data)
        got = [(s.tokens, s.tags) for s in read_conll(data, "toy")]
    assert got == _expected(stored, preds)
    assert summary.sentences == len(stored)
    assert summary.written == [data]


@SETTINGS
@given(reviews(any_token))
def test_label_studio_round_trip(case: tuple[list[Sentence], list[list[str]]]) -> None:
    sents, preds = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data, stored = _export(folder, sents, preds)
        tasks = json.loads((folder / "out" / "tasks.json").read_text(encoding="utf-8"))
        # What Label Studio exports when each pre-annotation is accepted unchanged.
        export = [{"id": k, "data": task["data"],
                   "annotations": [{"was_cancelled": False, "result": task["predictions"][0]["result"]}]}
                  for k, task in enumerate(tasks, 1)]
        (folder / "export.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
        import_reviewed(folder / "export.json", data)
        got = [(s.tokens, s.tags) for s in read_conll(data, "toy")]
    assert got == _expected(stored, preds)


def test_review_file_keeps_a_hash_token(tmp_path: Path) -> None:
    """A token line starting with '#' (the token '#' is in CrossNER) is a token, not a comment."""
    sents = [Sentence(("#", "AI"), ("O", "B-field"))]
    data, stored = _export(tmp_path, sents, [["O", "O"]])
    import_reviewed(tmp_path / "out" / "review.conll", data)
    assert [(s.tokens, s.tags) for s in read_conll(data)] == [(("#", "AI"), ("O", "O"))]
