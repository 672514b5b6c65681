"""The BiLSTM-CRF on the real CrossNER files (skipped when the data is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from xner.data.conll import read_conll
from xner.labels.space import LabelSpace
from xner.models.base import TrainConfig
from xner.models.bilstm_crf import BiLSTMConfig, BiLSTMCRFTagger
from xner.models.modeldir import load_tagger
from xner.training.trainer import fit

DATA = Path(__file__).resolve().parents[2].parent / "shared/data/crossner"
SMALL = BiLSTMConfig(word_dim=32, char_filters=16, hidden=32)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def real() -> dict[str, list]:
    if not (DATA / "conll2003" / "train.txt").is_file() or not (DATA / "ai" / "train.txt").is_file():
        pytest.skip(f"CrossNER data not found under {DATA}")
    torch.set_num_threads(1)
    return {
        "source": read_conll(DATA / "conll2003" / "train.txt", domain="conll2003")[:300],
        "source_dev": read_conll(DATA / "conll2003" / "dev.txt", domain="conll2003")[:200],
        "target": read_conll(DATA / "ai" / "train.txt", domain="ai")[:50],
    }


def test_pretrain_save_load_adapt_on_real_data(real, tmp_path: Path) -> None:
    source, dev, target = real["source"], real["source_dev"], real["target"]
    tagger = BiLSTMCRFTagger.create(source, LabelSpace.from_sentences(source), SMALL, seed=0)
    result = fit(tagger, source, dev, TrainConfig(epochs=3, batch_size=16, lr=0.01), log_path=tmp_path / "log.jsonl")
    assert result.history[0].loss > result.history[-1].loss
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == result.epochs_run

    predicted = tagger.predict(dev)
    assert [len(p) for p in predicted] == [len(s) for s in dev]
    assert {t for p in predicted for t in p} <= set(tagger.labels.tags)

    tagger.save(tmp_path / "model")
    loaded = load_tagger(tmp_path / "model")
    assert loaded.predict(dev) == predicted

    # PTF growth towards the ai domain: its label set extends conll2003's.
    labels = tagger.labels.copy()
    labels.extend(LabelSpace.from_sentences(target))
    old = len(tagger.labels)
    before = tagger.net.crf.transitions.detach().clone()
    tagger.adapt(target, labels)
    assert len(tagger.labels) > old
    assert torch.equal(tagger.net.crf.transitions[:old, :old], before)
    tuned = fit(tagger, target, [], TrainConfig(epochs=1, batch_size=16))
    assert tuned.epochs_run == 1
    assert [len(p) for p in tagger.predict(target)] == [len(s) for s in target]
