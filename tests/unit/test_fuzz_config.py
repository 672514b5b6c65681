"""Fuzz the study config loader (and the label map loader) with random and mutated bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from _fuzz import FUZZ, check_outcome, fuzzed
from hypothesis import given

from xner.labels.normalise import load_label_map
from xner.study.config import load_config

# Every section and most keys of a study config, so mutations reach the validators too.
SEED_CONFIG = b'''# a study config exercising every section
name = "fuzz"
data_root = "data"
source = "conll2003"
target = "ai"
candidates = ["ai", "music"]
pool_domains = []
backbone = "bilstm_crf"
source_subset = 200
label_modes = ["raw", "normalised"]
seeds = [1, 2]
keep_models = false

[model]
hidden = 16
word_dim = 20
dropout = 0.25

[pretrain]
epochs = 2
batch_size = 16
lr = 0.002

[finetune]
epochs = 3
patience = 2
optimizer = "adam"

[methods.random]
percentages = [0, 10, 20.5]

[methods.similarity]
enabled = true
method = "tfidf"
metric = "cosine"
which = ["similar", "dissimilar"]

[methods.uncertainty]
threshold = 2.0
score = "max"
rounds = 2
budget = 5

[methods.baselines]
dft = true
jt = false
'''

SEED_MAP = Path(__file__).resolve().parents[2].joinpath(
    "src", "xner", "labels", "maps", "crossner.toml").read_bytes()


def _write(folder: str, name: str, data: bytes) -> Path:
    path = Path(folder) / name
    path.write_bytes(data)
    return path


def test_seeds_are_valid(tmp_path: Path) -> None:
    cfg = load_config(_write(str(tmp_path), "study.toml", SEED_CONFIG))
    assert cfg.name == "fuzz" and cfg.methods.random.percentages == (0.0, 10.0, 20.5)
    assert load_label_map(_write(str(tmp_path), "map.toml", SEED_MAP)).mapping


@FUZZ
@given(fuzzed(SEED_CONFIG))
def test_load_config_loads_or_fails_cleanly(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "study.toml", data)
        check_outcome(lambda: load_config(path), str(path))


@FUZZ
@given(fuzzed(SEED_MAP))
def test_load_label_map_loads_or_fails_cleanly(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "map.toml", data)
        check_outcome(lambda: load_label_map(path), str(path))


def test_unknown_home_directory_is_a_config_error(tmp_path: Path) -> None:
    path = _write(str(tmp_path), "study.toml", b'data_root = "~no_such_user_xner/data"\n')
    assert check_outcome(lambda: load_config(path), str(path)) == "error"


def test_nul_in_a_path_is_a_config_error(tmp_path: Path) -> None:
    path = _write(str(tmp_path), "study.toml", b'label_map = "maps/a\\u0000b.toml"\n')
    assert check_outcome(lambda: load_config(path), str(path)) == "error"
