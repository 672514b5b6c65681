"""Precision and memory on the CPU: the CRF stays fp32 under autocast, bf16 (and fp16 with a
gradient scaler) trains a tiny model, gradient accumulation equals one big batch, a bf16 encoder
checkpoint loads as fp32, and the encoder's token-budget prediction batches change nothing."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from _tiny_models import save_tiny_bert
from test_device import TINY, sentences

from xner.labels.space import LabelSpace
from xner.models.base import TrainConfig
from xner.models.bilstm_crf import BiLSTMCRFTagger
from xner.models.crf import CRF
from xner.models.device import autocast
from xner.training.trainer import Stepper, fit

BERT_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "alice", "bob", "paris", "rome", "the", "met", "in",
              "and", "saw", "."]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def bilstm(seed: int = 0, dropout: float = 0.5) -> tuple[BiLSTMCRFTagger, list, list]:
    train, dev = sentences(60, seed=1), sentences(20, seed=2)
    tagger = BiLSTMCRFTagger.create(train, LabelSpace.from_sentences(train + dev), {**TINY, "dropout": dropout},
                                    seed=seed)
    return tagger, train, dev


# --------------------------------------------------------------------------- the CRF
def test_the_crf_scores_in_fp32_under_bf16_autocast() -> None:
    torch.manual_seed(0)
    crf = CRF(5)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    emissions = (torch.randn(3, 7, 5) * 3).to(torch.bfloat16)
    tags = torch.randint(0, 5, (3, 7))
    mask = torch.arange(7).unsqueeze(0) < torch.tensor([[7], [4], [1]])
    full = emissions.float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        nll = crf.nll(emissions, tags, mask)
        probs = crf.marginals(emissions, mask)
        score, paths = crf.viterbi(emissions, mask)
        log_z = crf.log_partition(emissions, mask)
    assert nll.dtype == probs.dtype == score.dtype == log_z.dtype == torch.float32
    assert torch.equal(nll, crf.nll(full, tags, mask)) and torch.equal(probs, crf.marginals(full, mask))
    assert paths == crf.decode(full, mask) and torch.equal(log_z, crf.log_partition(full, mask))
    assert crf.marginals(full.double(), mask).dtype == torch.float64  # float64 stays float64


# --------------------------------------------------------------------------- precision
def test_bf16_autocast_trains_a_tiny_bilstm_on_the_cpu() -> None:
    tagger, train, dev = bilstm()
    cfg = TrainConfig(epochs=8, batch_size=8, lr=2e-2, patience=8, device="cpu", precision="bf16", seed=0)
    result = fit(tagger, train, dev, cfg)
    assert tagger.precision == "bf16" and tagger.device == torch.device("cpu")
    assert all(p.dtype == torch.float32 for p in tagger.net.parameters())  # master weights stay fp32
    losses = [h.loss for h in result.history]
    assert losses[-1] < 0.5 * losses[0] and result.best_dev_f1 > 0.8
    with autocast(torch.device("cpu"), "bf16"):
        emissions = tagger.net.emissions(next(iter(tagger.batches(dev, 4, np.random.default_rng(0), False))))
    assert emissions.dtype == torch.bfloat16  # the network did run in bf16
    assert all(p.shape == (len(s), len(tagger.labels)) for p, s in zip(tagger.marginals(dev), dev))


def test_fp16_with_a_gradient_scaler_steps_on_the_cpu() -> None:
    try:
        with torch.autocast("cpu", dtype=torch.float16):
            torch.ones(2, 2) @ torch.ones(2, 2)
        torch.amp.GradScaler("cpu")
    except (RuntimeError, ValueError) as err:  # pragma: no cover - depends on the torch build
        pytest.skip(f"this torch has no fp16 autocast or GradScaler on the CPU: {err}")
    tagger, train, dev = bilstm()
    before = [p.detach().clone() for p in tagger.net.parameters()]
    result = fit(tagger, train, dev, TrainConfig(epochs=3, batch_size=8, lr=2e-2, patience=8, device="cpu",
                                                 precision="fp16", seed=0))
    assert tagger.precision == "fp16" and np.isfinite([h.loss for h in result.history]).all()
    assert any(not torch.equal(a, b) for a, b in zip(before, tagger.net.parameters()))  # steps were taken
    assert all(p.dtype == torch.float32 for p in tagger.net.parameters())


def test_deterministic_on_the_cpu_changes_nothing() -> None:
    results = []
    for deterministic in (False, True):
        tagger, train, dev = bilstm()
        cfg = TrainConfig(epochs=2, batch_size=8, lr=1e-2, device="cpu", deterministic=deterministic, seed=0)
        try:
            results.append([h.loss for h in fit(tagger, train, dev, cfg).history])
        finally:
            torch.use_deterministic_algorithms(False)
    assert results[0] == results[1]


# --------------------------------------------------------------------------- accumulation
def _gradients(tagger: BiLSTMCRFTagger, groups: list[list[int]], data: list) -> list[torch.Tensor]:
    """Gradients of one accumulated step over ``groups`` (sentence indices per batch)."""
    tagger.net.train()
    tagger.net.zero_grad(set_to_none=True)
    batches = [next(iter(tagger.batches([data[i] for i in g], len(g), np.random.default_rng(0), False)))
               for g in groups]
    optimizer = torch.optim.SGD(tagger.net.parameters(), lr=0.0)
    Stepper(optimizer, torch.device("cpu")).backward(tagger, batches, o_weight=0.5)
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in tagger.net.parameters()]


def test_accumulating_two_batches_of_4_gives_the_gradients_of_one_batch_of_8() -> None:
    tagger, train, _ = bilstm(dropout=0.0)
    data = train[:8]
    one = _gradients(tagger, [list(range(8))], data)
    two = _gradients(tagger, [[0, 1, 2, 3], [4, 5, 6, 7]], data)
    uneven = _gradients(tagger, [[0, 1, 2], [3, 4, 5, 6, 7]], data)  # weighted by sentences, not batches
    assert any(g.abs().sum() > 0 for g in one)
    for a, b, c in zip(one, two, uneven):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-5) and torch.allclose(a, c, atol=1e-6, rtol=1e-5)


def test_fit_with_accumulate_takes_one_step_per_group(monkeypatch: pytest.MonkeyPatch) -> None:
    tagger, train, dev = bilstm()
    steps: list[int] = []
    original = Stepper.step
    monkeypatch.setattr(Stepper, "step", lambda self: (steps.append(1), original(self))[1])
    fit(tagger, train[:40], [], TrainConfig(epochs=1, batch_size=4, accumulate=3, device="cpu", seed=0))
    assert len(steps) == 4  # 10 batches of 4: groups of 3, 3, 3 and 1


# --------------------------------------------------------------------------- the encoder
@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("bert"), BERT_VOCAB, hidden=16, layers=1, positions=64)


def _encoder(folder: Path, **extra: object) -> object:
    from xner.models.encoder import EncoderTagger

    config = {"encoder": str(folder), "max_length": 16, "window_overlap": 4, "casing_dim": 2, **extra}
    return EncoderTagger.create([], LabelSpace.from_types(["PER", "LOC"]), config, seed=0)


def test_a_bf16_encoder_checkpoint_loads_as_fp32(tiny_bert: Path, tmp_path: Path) -> None:
    from transformers import AutoModel

    half = tmp_path / "bf16"
    for name in ("vocab.txt", "tokenizer_config.json"):
        (half / name).parent.mkdir(parents=True, exist_ok=True)
        (half / name).write_bytes((tiny_bert / name).read_bytes())
    AutoModel.from_pretrained(str(tiny_bert)).to(torch.bfloat16).save_pretrained(str(half))
    tagger = _encoder(half)
    params = list(tagger.net.parameters())  # type: ignore[attr-defined]
    assert params and all(p.dtype == torch.float32 for p in params)
    reference = dict(AutoModel.from_pretrained(str(half)).named_parameters())  # the bf16 values, widened
    for name, value in tagger.net.encoder.named_parameters():  # type: ignore[attr-defined]
        assert torch.equal(value, reference[name].float())
    tagger.save(tmp_path / "model")  # type: ignore[attr-defined]
    from xner.models.modeldir import load_tagger

    loaded = load_tagger(tmp_path / "model")
    assert all(p.dtype == torch.float32 for p in loaded.net.parameters())  # type: ignore[attr-defined]


@pytest.mark.parametrize("head", ["crf", "softmax"])
def test_encoder_token_budget_keeps_order_and_predictions(tiny_bert: Path, head: str) -> None:
    tagger = _encoder(tiny_bert, head=head, predict_batch_size=32)
    rng = random.Random(4)
    words = ["alice", "Bob", "paris", "the", "met", "in", "saw", ".", "Rome"]
    test = [[rng.choice(words) for _ in range(rng.randint(1, 30))] for _ in range(40)] + [[]]
    rng.shuffle(test)
    tagger.predict_tokens = 10**9  # type: ignore[attr-defined]  # batches of predict_batch_size, as before
    before, probs_before = tagger.predict(test), tagger.marginals(test)  # type: ignore[attr-defined]
    tagger.predict_tokens = 48  # type: ignore[attr-defined]  # a few windows per batch
    after, probs_after = tagger.predict(test), tagger.marginals(test)  # type: ignore[attr-defined]
    assert after == before and [len(p) for p in after] == [len(t) for t in test]
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(probs_before, probs_after))


def test_encoder_predicts_under_bf16_autocast(tiny_bert: Path) -> None:
    tagger = _encoder(tiny_bert)
    test = [["alice", "met", "Bob", "in", "paris"], ["the"]]
    tagger.precision = "bf16"  # type: ignore[attr-defined]
    tags = tagger.predict(test)  # type: ignore[attr-defined]
    probs = tagger.marginals(test)  # type: ignore[attr-defined]
    assert [len(t) for t in tags] == [5, 1] and all(np.allclose(p.sum(1), 1.0, atol=1e-4) for p in probs)


# --------------------------------------------------------------------------- run config and CLI
def test_run_ids_keep_their_values_and_bf16_or_accumulate_change_them() -> None:
    from xner.run.load import run_id, validate

    # The ids these configs had before runtime.precision and accumulate existed (and before the
    # BiLSTM-CRF's target phase defaulted to min_epochs 10: 1 is what they meant).
    dft = {"data": {"target": "ai"}, "mode": "dft", "finetune": {"min_epochs": 1}}
    assert run_id(validate(dft)) == "695b65d322d6f1e97cc7d17a8e4aee9c877b9f81c22770a5c646512209488e60"
    ptf = {"data": {"target": "ai", "label_init": "fresh"}, "finetune": {"epochs": 3, "min_epochs": 1}}
    assert run_id(validate(ptf)) == "c2d675edbf9880579857a4e6c248c970d4d33c5d0fe00833a999fde7a65b5834"
    same = {**dft, "runtime": {"device": "cpu", "precision": "fp32", "deterministic": True, "threads": 2}}
    auto = {**dft, "runtime": {"precision": "auto"}}
    assert run_id(validate(same)) == run_id(validate(auto)) == run_id(validate(dft))
    assert run_id(validate({**dft, "finetune": {"accumulate": 1, "min_epochs": 1}})) == run_id(validate(dft))
    ids = {run_id(validate({**dft, "runtime": {"precision": p}})) for p in ("bf16", "fp16")}
    ids.add(run_id(validate({**dft, "finetune": {"accumulate": 2, "min_epochs": 1}})))
    assert len(ids) == 3 and run_id(validate(dft)) not in ids


def test_runtime_reaches_the_trainer_and_phases_cannot_set_it() -> None:
    from xner.errors import ConfigError
    from xner.run.load import validate

    cfg = validate({"data": {"target": "ai"}, "runtime": {"device": "cpu", "precision": "bf16"},
                    "finetune": {"accumulate": 4}})
    target = cfg.target_train()
    assert (target.device, target.precision, target.accumulate, cfg.source_train().accumulate) == ("cpu", "bf16", 4, 1)
    for key in ("device", "precision", "deterministic"):
        with pytest.raises(ConfigError, match=f"set by \\[runtime\\] {key}, not per phase"):
            validate({"data": {"target": "ai"}, "finetune": {key: "cpu" if key == "device" else "bf16"}})
    with pytest.raises(ConfigError, match="runtime.precision"):
        validate({"data": {"target": "ai"}, "runtime": {"precision": "fp8"}})


def test_train_shorthands_fill_runtime_and_both_phases(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import tomllib

    from xner.cli import main

    monkeypatch.setattr(sys, "argv", ["xner", "train", "--domain", "ai", "--dry-run", "--device", "cpu",
                                      "--precision", "bf16", "--accumulate", "4", "--deterministic"])
    main()
    text = capsys.readouterr().out
    data = tomllib.loads(text)
    assert data["runtime"]["device"] == "cpu" and data["runtime"]["precision"] == "bf16"
    assert data["runtime"]["deterministic"] is True
    assert data["pretrain"]["accumulate"] == data["finetune"]["accumulate"] == 4
