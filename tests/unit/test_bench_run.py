"""bench/run.py: a benchmark config expands to RunConfigs, runs them through run(), resumes."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTS = {"conll2003": [("Paris", "location"), ("IBM", "organisation")], "ai": [("Python", "programlang")]}
FILLER = "the model uses a new method for data in this work".split()


def _bench_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def _corpus(root: Path) -> None:
    rng = random.Random(0)
    for name, ents in ENTS.items():
        (root / name).mkdir(parents=True)
        for split, n in (("train", 12), ("dev", 6), ("test", 6)):
            blocks = []
            for _ in range(n):
                text, typ = rng.choice(ents)
                words = [f"{w}\tO" for w in rng.sample(FILLER, 3)] + [f"{text}\tB-{typ}"]
                blocks.append("\n".join(words))
            (root / name / f"{split}.txt").write_text("\n\n".join(blocks) + "\n")


@pytest.fixture()
def bench_config(tmp_path: Path) -> Path:
    _corpus(tmp_path / "data")
    config = tmp_path / "tiny.toml"
    config.write_text(f"""
group_by = ["mode"]
measures = ["untyped", "speed"]
[grid]
seed = [0, 1]
[run]
mode = "dft"
[run.data]
root = "{tmp_path / 'data'}"
target = "ai"
[run.backbone.settings]
word_dim = 8
casing_dim = 2
char_dim = 4
char_filters = 4
hidden = 8
[run.finetune]
epochs = 2
[run.runtime]
threads = 1
""")
    return config


def test_runs_the_grid_records_each_run_and_resumes(bench_config: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bench = _bench_run()
    results = tmp_path / "results.jsonl"
    assert bench.main([str(bench_config), "--results", str(results)]) == 0
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(records) == 2 and len({r["run_id"] for r in records}) == 2
    assert {r["config"]["seed"] for r in records} == {0, 1} and all(r["machine"] for r in records)
    measured = records[0]["measures"]
    assert 0 <= measured["untyped_f1"] <= 100 and measured["untyped_f1"] >= 100 * records[0]["test"]["f1"] - 1e-9
    assert set(measured["words_per_second"]) == {"1 thread", "2 threads"}
    assert "| dft | 2 |" in capsys.readouterr().out
    assert bench.main([str(bench_config), "--results", str(results)]) == 0  # nothing left to run
    assert len(results.read_text().splitlines()) == 2
    assert bench.main([str(bench_config), "--results", str(results), "--dry-run"]) == 0
    assert capsys.readouterr().out.count(" done dft ai ") == 2


def test_a_bad_grid_key_is_one_line_naming_the_file(bench_config: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bench_config.write_text(bench_config.read_text().replace("seed = [0, 1]", "finetune.epochz = [1]"))
    assert _bench_run().main([str(bench_config), "--results", str(tmp_path / "r.jsonl")]) == 2
    err = capsys.readouterr().err
    assert str(bench_config) in err and "finetune.epochz" in err and err.count("\n") == 1


def test_shipped_benchmark_configs_are_valid() -> None:
    bench = _bench_run()
    for config in (ROOT / "bench" / "configs").glob("*.toml"):
        configs, _ = bench.expand(config)
        assert configs, config
