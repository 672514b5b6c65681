"""A hub encoder (`xner train --encoder org/name`) against a fake Hugging Face Hub on 127.0.0.1:
the first use downloads into the Hugging Face cache (HF_HOME), later uses read the cache with the
hub stopped or unreachable, and a name that cannot be had is one line and exit 2, before any data
is read. Nothing here reaches the internet: HF_ENDPOINT points at the fake hub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from _fake_hub import HubState, serve
from _tiny_models import save_tiny_bert
from test_cli_train import SOURCE_ENTS, TARGET_ENTS, run_cli, write_domains
from test_encoder_tagger import VOCAB

from xner.errors import ModelError
from xner.models.encoder_config import EncoderConfig
from xner.models.hub import fetch_encoder, hub_cache
from xner.run.preflight import check_encoder

pytestmark = pytest.mark.filterwarnings("ignore:lr .* is far above:UserWarning")
TINY = "org/tiny"


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files of a hub model: a random 1-layer BERT, its WordPiece vocabulary (uncased)."""
    return save_tiny_bert(tmp_path_factory.mktemp("repo"), VOCAB, hidden=16, layers=1, positions=64)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_domains(tmp_path_factory.mktemp("data"),
                         [("conll2003", SOURCE_ENTS, (8, 4, 4)), ("ai", TARGET_ENTS, (8, 4, 4))], seed=0)
    (root / "encoder.json").write_text(json.dumps({"max_length": 32, "window_overlap": 8}))
    return root


@dataclass
class FakeHub:
    state: HubState
    endpoint: str
    stop: ExitStack

    def downloads(self) -> list[str]:
        """Files fetched (GET .../resolve/...) so far."""
        return [path.rsplit("/", 1)[1] for method, path in self.state.requests
                if method == "GET" and "/resolve/" in path]


@pytest.fixture
def hub(tiny_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """The fake hub serving org/tiny (and a pickle-only, a gated and a private repo), HF_ENDPOINT
    at it, an empty HF_HOME, and the network allowed (the test session forbids it otherwise)."""
    import huggingface_hub.constants

    state = HubState()
    state.add_folder(TINY, tiny_repo)
    state.repos["org/pickled"] = {"config.json": (tiny_repo / "config.json").read_bytes(),
                                  "vocab.txt": (tiny_repo / "vocab.txt").read_bytes(), "pytorch_model.bin": b"\0"}
    state.gated.add("org/gated")
    state.private.add("org/private")
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with ExitStack() as stack:
        endpoint = stack.enter_context(serve(state))
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
        yield FakeHub(state, endpoint, stack)


def train_args(root: Path, out: Path, encoder: str, *extra: str, data: Path | None = None) -> list[str]:
    return ["train", "--backbone", "encoder", "--encoder", encoder, "--mode", "dft", "--domain", "ai",
            "--data", str(data or root), "--out", str(out), "--model-config", str(root / "encoder.json"),
            "--epochs", "1", "--lr", "1e-3", "--threads", "1", "--quiet", *extra]


def test_first_use_downloads_later_uses_need_no_hub(hub: FakeHub, data_root: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(train_args(data_root, tmp_path / "m1", TINY), monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith("ai dft (raw labels): dev F1")
    assert sorted(hub.downloads()) == ["config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"]
    assert (hub_cache() / "models--org--tiny").is_dir() and hub_cache().is_relative_to(tmp_path / "hf-home")
    meta = json.loads((tmp_path / "m1" / "meta.json").read_text())
    assert meta["config"]["encoder"] == TINY and meta["config"]["casing_dim"] == 16  # auto: uncased WordPiece
    assert {"config.json", "tokenizer.json"} <= {p.name for p in (tmp_path / "m1" / "encoder").iterdir()}

    # the hub is up but drops every connection: the cache serves, and nothing is asked of it
    hub.state.drop, hub.state.requests[:] = True, []
    code, _, err = run_cli(train_args(data_root, tmp_path / "m2", TINY), monkeypatch, capsys)
    assert code == 0, err
    assert hub.state.requests == []
    # the hub is gone: --offline, HF_HUB_OFFLINE=1 and plain online use all train from the cache
    hub.stop.close()
    for name, extra in (("m3", ["--offline"]), ("m4", []), ("m5", [])):
        if name == "m5":
            monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        code, _, err = run_cli(train_args(data_root, tmp_path / name, TINY, *extra), monkeypatch, capsys)
        assert code == 0, err
    assert json.loads((tmp_path / "m3" / "run.toml").read_text().split("offline = ")[1].split("\n")[0]) is True
    # a saved model never needs the hub: predict with the cache deleted
    import shutil

    shutil.rmtree(tmp_path / "hf-home")
    code, out, err = run_cli(["predict", "--model", str(tmp_path / "m1"), "--text", "Hinton uses Python."],
                             monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["text"] == "Hinton uses Python."


def one_line_error(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 2 and out == "" and err.startswith("error: ") and err.count("\n") == 1, (code, err)
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("case", ["flag", "env"])
def test_offline_and_not_cached_is_one_line(case: str, hub: FakeHub, data_root: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    extra = ["--offline"] if case == "flag" else []
    if case == "env":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    err = one_line_error(train_args(data_root, tmp_path / "m", TINY, *extra), monkeypatch, capsys)
    assert f"encoder '{TINY}' is not in the Hugging Face cache" in err
    assert ("--offline" if case == "flag" else "HF_HUB_OFFLINE") in err and "run once online" in err
    assert hub.state.requests == [] and not (tmp_path / "m").exists()


@pytest.mark.parametrize("name, expected", [
    ("org/missing", "no model org/missing on the Hugging Face Hub"),
    ("org/private", "(a private model needs a login"),
    ("org/gated", "is a gated model: accept its conditions at"),
    ("org/pickled", "has only pytorch_model.bin weights; xner loads safetensors weights only"),
    ("dropped", "cannot be reached (RemoteProtocolError"),
    ("stopped", "cannot be reached"),
])
def test_names_that_cannot_be_had_are_one_line_before_any_data_is_read(
        name: str, expected: str, hub: FakeHub, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    if name == "dropped":
        hub.state.drop, name = True, TINY
    elif name == "stopped":
        hub.stop.close()
        name = TINY
    # a data root that does not exist: the encoder is checked first
    err = one_line_error(train_args(data_root, tmp_path / "m", name, data=tmp_path / "no-data"), monkeypatch, capsys)
    assert f"encoder '{name}'" in err and expected in err
    assert not (tmp_path / "m").exists() and not (hub_cache() / "models--org--tiny" / "snapshots").exists()


def test_a_download_cut_short_is_one_line_and_completes_later(hub: FakeHub) -> None:
    """The model info answers, then the file requests are dropped: one line; offline, the partial
    cache is named for what it lacks; online again, the download completes."""
    hub.state.drop_files = True
    with pytest.raises(ModelError, match="cannot be reached") as err:
        check_encoder(TINY)
    assert "\n" not in str(err.value) and f"encoder '{TINY}' cannot be downloaded" in str(err.value)
    with pytest.raises(ModelError, match="in the Hugging Face cache .* and downloads are off"):
        fetch_encoder(TINY, offline=True)
    hub.state.drop_files = False
    assert (fetch_encoder(TINY) / "model.safetensors").is_file()


def test_check_encoder_downloads_once_and_the_tagger_reads_the_cache(hub: FakeHub) -> None:
    check_encoder(TINY)
    first = len(hub.state.requests)
    assert first > 0
    folder = fetch_encoder(TINY, offline=True)
    assert (folder / "model.safetensors").is_file() and len(hub.state.requests) == first
    from xner.labels.space import LabelSpace
    from xner.models.encoder import EncoderTagger

    tagger = EncoderTagger.create([], LabelSpace.from_types(["person"]), {"encoder": TINY, "max_length": 32,
                                                                           "window_overlap": 8})
    assert tagger.config.casing_dim == 16 and len(hub.state.requests) == first
    assert [len(t) for t in tagger.predict([["Alice", "met", "Bob"]])] == [3]


def test_a_local_folder_with_only_pickled_weights_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "vocab.txt").write_text("[UNK]\n")
    (tmp_path / "pytorch_model.bin").write_bytes(b"\0")
    with pytest.raises(ModelError, match="has only pytorch_model.bin weights") as err:
        check_encoder(str(tmp_path))
    assert "\n" not in str(err.value)


def test_the_default_encoder_keeps_its_casing_and_run_ids() -> None:
    """MiniLM is uncased: auto casing is 16, spelt out in the settings as before (same run ids)."""
    for name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        assert EncoderConfig(encoder=name).casing_dim == 16
    assert EncoderConfig(encoder=TINY).casing_dim is None
    assert EncoderConfig(encoder=TINY, casing_dim=0).casing_dim == 0
