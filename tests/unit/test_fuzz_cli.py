"""A handful of mutated inputs through the real ``xner`` process, one per fuzzed loader.

Each mutation (seeded, so the run is repeatable; these seeds all give errors today) must end
with exit 0, or exit 2 and one ``error: ...`` line on stderr; never a traceback. Four
processes cost ~10-20 s of imports (the model one imports torch), which is why the bulk of
the fuzzing runs in-process (test_fuzz_*.py).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _fuzz import INVALID_UTF8, apply_mutation

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OPS = ("flip", "truncate", "nul", "utf8", "delete", "duplicate", "insert")


def mutate(data: bytes, seed: int) -> bytes:
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 3)):
        data = apply_mutation(data, rng.choice(OPS), rng.random(), rng.choice(INVALID_UTF8), rng.randint(1, 255))
    return data


@pytest.fixture(scope="module")
def model_dir() -> Path:
    from _tiny_models import shared_bilstm

    return shared_bilstm()


def _case(kind: str, seed: int, tmp: Path, model_dir: Path) -> list[str]:
    """Write the mutated file for ``kind`` under ``tmp``; return the command's arguments."""
    if kind == "conll":
        path = tmp / "train.txt"
        path.write_bytes(mutate((FIXTURES / "conll" / "iob2.txt").read_bytes(), seed))
        return ["data", "check", str(path)]
    if kind == "config":
        path = tmp / "study.toml"
        path.write_bytes(mutate(b'name = "x"\nseeds = [1, 2]\n[pretrain]\nepochs = 2\n', seed))
        return ["study", "run", str(path), "--out", str(tmp / "study"), "-q"]
    if kind == "annotation":
        shutil.copytree(FIXTURES / "annotate" / "toy", tmp / "toy")
        seed_file = FIXTURES / "bad" / "annotate" / "unknown_label.conll"
        path = tmp / "review.conll"
        path.write_bytes(mutate(seed_file.read_bytes().replace(b"B-city", b"B-location"), seed))
        return ["annotate", "import", str(path), "--into", str(tmp / "toy" / "train.txt")]
    copy = tmp / "model"  # kind == "model weights"
    shutil.copytree(model_dir, copy)
    (copy / "model.safetensors").write_bytes(mutate((copy / "model.safetensors").read_bytes(), seed))
    return ["predict", "--model", str(copy), "--text", "Alice met Bob."]


@pytest.mark.parametrize(("kind", "seed"), [("conll", 11), ("config", 2), ("annotation", 8),
                                            ("model weights", 5)])
def test_mutated_input_through_the_cli(kind: str, seed: int, tmp_path: Path, model_dir: Path) -> None:
    args = _case(kind, seed, tmp_path, model_dir)
    done = subprocess.run([sys.executable, "-m", "xner", *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode in (0, 2), done.stderr
    if done.returncode == 2:
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
