"""A tiny synthetic CrossNER-like data dir and study config for end-to-end study tests.

Four domains (``src`` is the source), a few dozen sentences each, entity types the shipped
label map knows, so both label modes work. Written by the tests; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DOMAINS = {
    "src": {"person": ["Smith", "Jones"], "location": ["Paris", "Berlin"], "organisation": ["Acme", "Reuters"]},
    "pol": {"politician": ["Obama", "Merkel"], "country": ["France", "Chile"], "politicalparty": ["Labour"]},
    "sci": {"scientist": ["Curie", "Bohr"], "university": ["MIT", "Oxford"], "country": ["Peru"]},
    "mus": {"band": ["Queen", "Abba"], "song": ["Yesterday"], "person": ["Prince"]},
}
FILLER = ["the", "a", "met", "in", "said", "of", "and", "visited", "with", "today"]
SIZES = {"src": (60, 20, 10), "pol": (20, 12, 20), "sci": (20, 12, 20), "mus": (20, 12, 20)}

CONFIG = """
name = "tiny"
data_root = "data"
source = "src"
target = "auto"
seeds = [1]
label_modes = ["raw", "normalised"]
keep_models = true

[model]
word_dim = 12
casing_dim = 2
char_dim = 6
char_filters = 6
hidden = 12
infer_batch = 64

[runtime]
threads = 1

[pretrain]
epochs = 3
batch_size = 8
lr = 0.02

[finetune]
epochs = 3
batch_size = 8
lr = 0.02

[methods.random]
percentages = [0, 50]

[methods.similarity]
percentages = [50]

[methods.uncertainty]
rounds = 1
budget = 4
"""


def _sentence(rng: np.random.Generator, types: dict[str, list[str]]) -> list[tuple[str, str]]:
    out = []
    for _ in range(int(rng.integers(4, 9))):
        if rng.random() < 0.3:
            typ = sorted(types)[int(rng.integers(len(types)))]
            out.append((types[typ][int(rng.integers(len(types[typ])))], f"B-{typ}"))
        else:
            out.append((FILLER[int(rng.integers(len(FILLER)))], "O"))
    return out


def write_data(root: Path) -> Path:
    rng = np.random.default_rng(7)
    for name, types in DOMAINS.items():
        for split, n in zip(("train", "dev", "test"), SIZES[name], strict=True):
            lines = []
            for _ in range(n):
                lines += [f"{tok}\t{tag}" for tok, tag in _sentence(rng, types)] + [""]
            (root / name).mkdir(parents=True, exist_ok=True)
            (root / name / f"{split}.txt").write_text("\n".join(lines), encoding="utf-8")
    return root


def write_study(folder: Path, config: str = CONFIG) -> Path:
    write_data(folder / "data")
    path = folder / "tiny.toml"
    path.write_text(config, encoding="utf-8")
    return path
