"""The Python API on a fake tagger: raw text -> entities with offsets, tokens, evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _transfer_fake import FakeTagger, sent

import xner
import xner.api as api
from xner.errors import ConfigError, DataError, ModelError
from xner.labels.space import LabelSpace
from xner.models.base import TrainConfig

TRAIN = [
    sent("Geoffrey/B-researcher Hinton/I-researcher works/O at/O Google/B-organisation"),
    sent("São/B-location Paulo/I-location and/O Zürich/B-location"),
]


@pytest.fixture()
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(api, "load_tagger", FakeTagger.load)
    tagger = FakeTagger.create(TRAIN, LabelSpace.from_sentences(TRAIN))
    tagger.fit(TRAIN, [], TrainConfig(epochs=1))
    tagger.label_mode = "raw"
    tagger.save(tmp_path / "model")
    return tmp_path / "model"


def test_predict_raw_text_gives_entities_with_character_offsets(model_dir: Path) -> None:
    model = xner.load_model(model_dir)
    text = "Yesterday Geoffrey Hinton left Google. He flew to São Paulo, then Zürich!"
    (entities,) = model.predict([text])
    got = [(e.type, e.text, e.start, e.end) for e in entities]
    assert got == [
        ("researcher", "Geoffrey Hinton", 10, 25),
        ("organisation", "Google", 31, 37),
        ("location", "São Paulo", 50, 59),
        ("location", "Zürich", 66, 72),
    ]
    for e in entities:
        assert text[e.start:e.end] == e.text
        assert e.score is None and "score" not in e.to_json()


def test_predict_accepts_a_single_string_and_many_texts(model_dir: Path) -> None:
    model = api.load_model(model_dir)
    assert [[e.text for e in ents] for ents in model.predict("Google hired Hinton.")] == [["Google", "Hinton"]]
    texts = ["Nothing here.", "", "Zürich. Google."]
    result = model.predict(texts)
    assert [[e.text for e in ents] for ents in result] == [[], [], ["Zürich", "Google"]]
    assert result[2][1].start == texts[2].index("Google")


def test_scores_are_mean_tag_probabilities(model_dir: Path) -> None:
    model = api.load_model(model_dir)
    (entities,) = model.predict("Hinton at Google", scores=True)
    assert [e.text for e in entities] == ["Hinton", "Google"]
    assert all(e.score == pytest.approx(0.9) for e in entities)  # the fake gives 0.9 to its tag
    assert entities[0].to_json()["score"] == pytest.approx(0.9)


def test_predict_tokens_labels_and_label_mode(model_dir: Path) -> None:
    model = api.load_model(model_dir)
    assert model.predict_tokens([["Google", "x"], [], ["Zürich"]]) == [["B-organisation", "O"], [], ["B-location"]]
    assert model.labels[0] == "O" and "B-researcher" in model.labels
    assert model.entity_types == ["location", "organisation", "researcher"]
    assert model.label_mode == "raw"


def test_entities_follow_conlleval_reading_of_stray_i_tags() -> None:
    assert api.token_entities(["I-x", "I-x", "O", "B-y", "I-z"]) == [("x", 0, 1), ("y", 3, 3), ("z", 4, 4)]


def test_missing_or_file_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model folder not found"):
        api.load_model(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelError, match="expected a model folder"):
        api.load_model(tmp_path / "file")


def test_broken_model_becomes_a_one_line_model_error(model_dir: Path) -> None:
    (model_dir / "meta.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot load model") as info:
        api.load_model(model_dir)
    assert "\n" not in str(info.value)


def _data_root(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "toy"
    folder.mkdir(parents=True)
    for split in ("train", "dev", "test"):
        (folder / f"{split}.txt").write_text("Hinton\tB-researcher\nvisits\tO\nGoogle\tB-organisation\n\n"
                                             "Zürich\tB-location\n\n")
    return tmp_path / "data"


def test_evaluate_model_returns_gold_and_predictions(model_dir: Path, tmp_path: Path) -> None:
    gold, pred = api.evaluate_model(model_dir, "toy", "test", data_root=_data_root(tmp_path))
    assert [list(s.tokens) for s in gold] == [["Hinton", "visits", "Google"], ["Zürich"]]
    # The fake tags a word with its training tag: Hinton was I-researcher there.
    assert pred == [["I-researcher", "O", "B-organisation"], ["B-location"]]


def test_evaluate_model_maps_gold_to_a_normalised_model(model_dir: Path, tmp_path: Path) -> None:
    meta = json.loads((model_dir / "meta.json").read_text())
    meta["label_mode"] = "normalised"
    (model_dir / "meta.json").write_text(json.dumps(meta))
    (model_dir / api.LABEL_MAP_FILE).write_text(json.dumps(
        {"map": {"researcher": "PER", "organisation": "ORG", "location": "LOC"}}))
    gold, _ = api.evaluate_model(model_dir, "toy", "dev", data_root=_data_root(tmp_path))
    assert gold[0].tags == ("B-PER", "O", "B-ORG")


def test_evaluate_model_bad_domain_and_split(model_dir: Path, tmp_path: Path) -> None:
    root = _data_root(tmp_path)
    with pytest.raises(DataError, match="unknown domain 'music' \\(found: toy\\)"):
        api.evaluate_model(model_dir, "music", "test", data_root=root)
    with pytest.raises(ConfigError, match="unknown split"):
        api.evaluate_model(model_dir, "toy", "valid", data_root=root)


def test_quantize_needs_a_tagger_that_can(model_dir: Path) -> None:
    # The fake, like the BiLSTM-CRF, has no quantize(): a one-line error, not a silent no-op.
    with pytest.raises(ModelError, match="quantize works for encoder models only, not a fake model") as info:
        xner.load_model(model_dir, quantize=True)
    assert "\n" not in str(info.value) and str(model_dir) in str(info.value)


def test_quantize_is_called_once_by_load_and_evaluate(model_dir: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    def load(directory: Path) -> FakeTagger:
        tagger = FakeTagger.load(directory)
        tagger.quantize = lambda: calls.append(tagger)  # type: ignore[attr-defined]
        return tagger

    monkeypatch.setattr(api, "load_tagger", load)
    model = xner.load_model(model_dir, quantize=True)
    assert calls == [model.tagger]
    assert api.load_model(model_dir).tagger not in calls and len(calls) == 1  # default: no quantize
    api.evaluate_model(model_dir, "toy", "test", data_root=_data_root(tmp_path), quantize=True)
    assert len(calls) == 2
