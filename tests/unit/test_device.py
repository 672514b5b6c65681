"""Devices on a CPU-only machine: resolving names, the missing-device errors (CUDA and MPS
faked away or in), batches and models on the device, device-independent saved models."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from xner.data.corpus import Sentence
from xner.errors import ConfigError
from xner.labels.space import LabelSpace
from xner.models.bilstm_crf import BiLSTMCRFTagger
from xner.models.device import budget_chunks, resolve_device, resolve_precision, to_device
from xner.models.modeldir import load_tagger

TINY = {"word_dim": 8, "casing_dim": 2, "char_dim": 4, "char_filters": 4, "hidden": 8}
WORDS = ["the", "met", "in", "and", "saw", "."]
NAMES = ["Alice", "Bob", "Paris", "Rome"]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _no_gpu(monkeypatch: pytest.MonkeyPatch, cuda: int = 0, mps: bool = False) -> None:
    """Pretend this machine has ``cuda`` CUDA devices and (or not) an MPS device."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


def sentences(n: int, seed: int = 0, longest: int = 12) -> list[Sentence]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        tokens, tags = [], []
        for _ in range(rng.randint(1, longest)):
            if rng.random() < 0.3:
                name = rng.choice(NAMES)
                tokens.append(name)
                tags.append("B-PER" if name in ("Alice", "Bob") else "B-LOC")
            else:
                tokens.append(rng.choice(WORDS))
                tags.append("O")
        out.append(Sentence(tuple(tokens), tuple(tags)))
    return out


# --------------------------------------------------------------------------- names
def test_cpu_and_auto_resolve_to_the_cpu_here(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_gpu(monkeypatch)
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_gpu(monkeypatch, cuda=2, mps=True)
    assert resolve_device("auto") == torch.device("cuda", 0)
    _no_gpu(monkeypatch, cuda=0, mps=True)
    assert resolve_device("auto") == torch.device("mps")


@pytest.mark.parametrize("name, cuda, mps, message", [
    ("cuda", 0, False, "device cuda: CUDA is not available here"),
    ("cuda:0", 0, False, "device cuda:0: CUDA is not available here"),
    ("cuda:3", 1, False, "device cuda:3: this machine has 1 CUDA device (cuda:0)"),
    ("cuda:2", 2, False, "device cuda:2: this machine has 2 CUDA devices (cuda:0 to cuda:1)"),
    ("mps", 0, False, "device mps: this machine has no Apple MPS device"),
    ("gpu", 1, True, "device 'gpu': expected auto, cpu, cuda, cuda:N or mps"),
    ("cuda:x", 1, True, "device 'cuda:x': expected"),
    ("", 1, True, "device '': expected"),
])
def test_a_missing_or_malformed_device_is_one_line(monkeypatch: pytest.MonkeyPatch, name: str, cuda: int,
                                                   mps: bool, message: str) -> None:
    _no_gpu(monkeypatch, cuda, mps)
    with pytest.raises(ConfigError) as err:
        resolve_device(name)
    assert str(err.value).startswith(f"error: {message}") and "\n" not in str(err.value)


def test_existing_cuda_devices_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_gpu(monkeypatch, cuda=2)
    assert resolve_device("cuda") == torch.device("cuda", 0)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)


def test_precision_auto_is_bf16_only_on_a_cuda_gpu_with_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu, gpu = torch.device("cpu"), torch.device("cuda", 0)
    assert resolve_precision("auto", cpu) == "fp32" and resolve_precision("auto", torch.device("mps")) == "fp32"
    assert resolve_precision("bf16", cpu) == "bf16" and resolve_precision("fp16", cpu) == "fp16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto", gpu) == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Tesla V100")
    assert resolve_precision("auto", gpu) == "fp32"
    with pytest.raises(ConfigError, match="Tesla V100 does not support bfloat16"):
        resolve_precision("bf16", gpu)
    with pytest.raises(ConfigError, match="precision 'fp8'"):
        resolve_precision("fp8", cpu)


# --------------------------------------------------------------------------- the CLI
def test_train_on_a_missing_device_fails_before_reading_data(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    from xner.cli import main

    _no_gpu(monkeypatch)
    # The data root does not exist: a device error first proves nothing was read.
    args = ["xner", "train", "--domain", "ai", "--data", str(tmp_path / "no-data"), "--out", str(tmp_path / "m"),
            "--device", "cuda:1"]
    monkeypatch.setattr(sys, "argv", args)
    with pytest.raises(SystemExit) as done:
        main()
    out, err = capsys.readouterr()
    assert done.value.code == 2 and out == ""
    assert err.startswith("error: device cuda:1: CUDA is not available here") and err.count("\n") == 1


# --------------------------------------------------------------------------- batches and models
def test_batches_stay_put_on_the_cpu_and_lengths_stay_on_the_cpu() -> None:
    data = sentences(6)
    tagger = BiLSTMCRFTagger.create(data, LabelSpace.from_sentences(data), TINY)
    batch = next(iter(tagger.batches(data, 6, np.random.default_rng(0), train=False)))
    assert to_device(batch, torch.device("cpu")) is batch  # no copy on the CPU
    moved = to_device(batch, torch.device("meta"), keep_on_cpu=("lengths",))
    assert moved.words.device.type == "meta" and moved.mask.device.type == "meta"
    assert moved.lengths.device.type == "cpu" and moved.order == batch.order
    assert batch.words.device.type == "cpu"  # the original is untouched


def test_tagger_to_and_device() -> None:
    data = sentences(4)
    tagger = BiLSTMCRFTagger.create(data, LabelSpace.from_sentences(data), TINY)
    assert tagger.device == torch.device("cpu") and tagger.precision == "fp32"
    assert tagger.to("cpu") is tagger and tagger.device == torch.device("cpu")
    tagger.to(torch.device("meta"))
    assert all(p.device.type == "meta" for p in tagger.net.parameters())


def test_budget_chunks_keep_order_cap_and_budget() -> None:
    lengths = [5, 1, 9, 3, 3, 30, 2]
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])  # longest first, as the BiLSTM does
    chunks = budget_chunks(order, lengths, max_items=3, max_tokens=12)
    assert [i for c in chunks for i in c] == order  # every item once, in the given order
    assert chunks[0] == [5]  # longer than the budget: alone
    assert all(len(c) <= 3 and (len(c) == 1 or len(c) * max(lengths[i] for i in c) <= 12) for c in chunks)
    assert budget_chunks([], [], 4, 10) == []
    assert budget_chunks([0, 1, 2], [1, 1, 1], 2, 10**6) == [[0, 1], [2]]


def test_bilstm_token_budget_gives_todays_predictions() -> None:
    train = sentences(40, seed=1)
    tagger = BiLSTMCRFTagger.create(train, LabelSpace.from_sentences(train), TINY, seed=3)
    with torch.no_grad():  # a random model still has distinct, input-dependent outputs
        for p in tagger.net.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    test = sentences(50, seed=2, longest=30) + [Sentence((), ())]
    random.Random(0).shuffle(test)
    tagger.predict_tokens = 10**9  # one batch of up to infer_batch sentences: what predict did before
    before, probs_before = tagger.predict(test), tagger.marginals(test)
    tagger.predict_tokens = 40  # a few sentences per batch, the longest ones alone
    after, probs_after = tagger.predict(test), tagger.marginals(test)
    assert after == before and [len(p) for p in after] == [len(s) for s in test]
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(probs_before, probs_after))


def test_saved_models_load_to_the_cpu_without_the_training_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a GPU-trained model needs to load on a CPU-only machine: the weights file holds no
    device and loading reads it to the CPU (stands in for a model saved on cuda:0)."""
    data = sentences(10)
    tagger = BiLSTMCRFTagger.create(data, LabelSpace.from_sentences(data), TINY)
    tagger.label_mode = "raw"
    tagger.save(tmp_path / "m")

    def no_cuda(*args: object, **kwargs: object) -> torch.Tensor:
        raise AssertionError("loading a model must not move anything to CUDA")

    _no_gpu(monkeypatch)
    monkeypatch.setattr(torch.Tensor, "cuda", no_cuda)
    loaded = load_tagger(tmp_path / "m")
    assert loaded.device == torch.device("cpu")  # type: ignore[attr-defined]
    assert loaded.predict(data) == tagger.predict(data)
    again = BiLSTMCRFTagger.load(tmp_path / "m", device="cpu")
    assert again.device == torch.device("cpu") and again.predict(data) == tagger.predict(data)
    from safetensors import safe_open

    with safe_open(str(tmp_path / "m" / "model.safetensors"), "pt", device="cpu") as handle:
        assert all(handle.get_tensor(k).device.type == "cpu" for k in handle.keys())


def test_api_load_model_takes_a_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xner.api as api

    _no_gpu(monkeypatch)
    data = sentences(10)
    tagger = BiLSTMCRFTagger.create(data, LabelSpace.from_sentences(data), TINY)
    tagger.label_mode = "raw"
    tagger.save(tmp_path / "m")
    model = api.load_model(tmp_path / "m", device="auto")
    assert model.tagger.device == torch.device("cpu") and model.tagger.precision == "fp32"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="device cuda: CUDA is not available"):
        api.load_model(tmp_path / "m", device="cuda")
    with pytest.raises(ConfigError, match="device cuda: CUDA"):  # before the folder is even looked at
        api.load_model(tmp_path / "missing", device="cuda")
