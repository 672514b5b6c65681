"""The packaged MiniLM fine-tuned on a few real CrossNER sentences: training, saving, quantising."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from xner.data.conll import read_conll
from xner.labels.space import LabelSpace
from xner.models.encoder import EncoderTagger, recommended_train_config
from xner.training.trainer import fit

DATA = Path(__file__).resolve().parents[2].parent / "shared/data/crossner"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def politics():
    folder = DATA / "politics"
    if not (folder / "train.txt").is_file():
        pytest.skip(f"CrossNER data not found under {DATA}")
    return read_conll(folder / "train.txt", domain="politics"), read_conll(folder / "dev.txt", domain="politics")


def test_minilm_fine_tunes_saves_and_quantises(politics, tmp_path: Path) -> None:
    torch.set_num_threads(1)  # the test machine's cores are shared; more threads only contend
    train_all, dev_all = politics
    train, dev = train_all[:20], dev_all[:30]
    labels = LabelSpace.from_sentences(train_all + dev_all)
    tagger = EncoderTagger.create(train, labels, seed=0)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        before = float(sum(tagger.loss(b, 1.0) for b in tagger.batches(train, 10, rng, train=False)))
    result = fit(tagger, train, dev[:10], recommended_train_config(epochs=1, batch_size=4, lr=1e-4, threads=1))
    with torch.no_grad():
        after = float(sum(tagger.loss(b, 1.0) for b in tagger.batches(train, 10, rng, train=False)))
    assert result.epochs_run == 1 and after < before

    fp32 = tagger.predict(dev)
    assert [len(p) for p in fp32] == [len(s) for s in dev]
    probs = tagger.marginals(dev[:5])
    assert all(np.allclose(p.sum(1), 1.0, atol=1e-4) for p in probs)

    tagger.save(tmp_path / "model")
    loaded = EncoderTagger.load(tmp_path / "model")
    assert loaded.predict(dev[:5]) == fp32[:5]

    loaded.quantize()
    int8 = loaded.predict(dev)
    pairs = [(a, b) for x, y in zip(fp32, int8) for a, b in zip(x, y)]
    agreement = sum(a == b for a, b in pairs) / len(pairs)
    assert agreement >= 0.95, f"int8 agrees with fp32 on only {agreement:.1%} of tokens"
