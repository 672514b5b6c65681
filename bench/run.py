"""Run a benchmark config: a grid of RunConfigs, each executed by ``xner.run.execute.run``.

A benchmark config (``bench/configs/*.toml``) has a ``[run]`` table (any RunConfig keys: the
settings every run shares) and a ``[grid]`` table of dotted keys to lists of values; the runs
are the product of the lists. Each finished run is appended to the results file as one JSON
line keyed by its run id, with the machine and the time it ran, so an interrupted benchmark
resumes where it stopped and a changed setting is a new run, never a silent overwrite.

    .venv/bin/python bench/run.py bench/configs/quality-bilstm.toml [--dry-run] [--results FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from xner.errors import UserError
from xner.run.config import RunConfig
from xner.run.load import apply_override, label_map_digest, run_id, validate
from xner.tomlfile import read_toml, resolve_paths

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/measures.py beside this script


def expand(path: Path) -> tuple[list[RunConfig], dict[str, Any]]:
    """The benchmark's RunConfigs (grid order) and its other top-level settings."""
    data, text = read_toml(path)
    base = data.pop("run", {})
    grid = _flatten(data.pop("grid", {}))
    configs = []
    for values in itertools.product(*grid.values()):
        run = json.loads(json.dumps(base))  # a deep copy of plain TOML data
        for key, value in zip(grid, values, strict=True):
            apply_override(run, key, value, f"{path} [grid]")
        run = resolve_paths(run, ("data.root", "data.label_map", "runtime.cache"), ROOT, path, text)
        configs.append(validate(run, path, text))
    return configs, data


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, list[Any]]:
    """``[grid]`` as dotted keys: ``finetune.lr = [...]`` and ``"finetune.lr" = [...]`` alike."""
    flat: dict[str, list[Any]] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value if isinstance(value, list) else [value]
    return flat


def _done(results: Path) -> dict[str, dict[str, Any]]:
    if not results.is_file():
        return {}
    records = (json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip())
    return {r["run_id"]: r for r in records}


def _machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    import os

    return f"{cpu or platform.machine()}, {os.cpu_count()} cores, {platform.system()}"


def run_all(configs: list[RunConfig], results: Path, measures: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Run what is not in ``results`` yet, appending a record per run; yields every record."""
    from xner.run.execute import run

    done = _done(results)
    for cfg in configs:
        rid = run_id(cfg)
        if rid not in done:
            started = time.time()
            result = run(cfg)
            seconds = round(time.time() - started, 1)
            done[rid] = {"run_id": rid, "config": json.loads(cfg.canonical(label_map_digest(cfg))),
                         "started": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
                         "seconds": seconds, "machine": _machine(), "threads": cfg.runtime.threads,
                         "device": result.device, "precision": result.precision,
                         "dev": result.dev, "test": result.test, "fit": result.fit.to_json()}
            if measures:
                done[rid]["measures"] = _measure(measures, cfg, result)
            results.parent.mkdir(parents=True, exist_ok=True)
            with results.open("a", encoding="utf-8") as handle:  # one whole line per finished run
                handle.write(json.dumps(done[rid], separators=(",", ":")) + "\n")
        yield done[rid]


def _measure(names: list[str], cfg: RunConfig, result: Any) -> dict[str, Any]:
    from measures import measure

    from xner.run.data import data_root, target_domain

    test = target_domain(cfg, data_root(cfg)).test
    return measure(names, result.tagger, test, result.test_gold, result.test_pred)


def table(records: list[dict[str, Any]], group_keys: list[str]) -> str:
    """Markdown: test entity F1 (x100) mean ± std over seeds, one row per grid group."""
    groups: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for r in records:
        key = tuple(str(_get({**r["config"], "precision": r.get("precision")}, k)) for k in group_keys)
        groups[key].append(100 * r["test"]["f1"])
    lines = [f"| {' | '.join(group_keys)} | seeds | test F1 |", "|" + "---|" * (len(group_keys) + 2)]
    for key, f1s in groups.items():
        spread = f" ± {statistics.stdev(f1s):.2f}" if len(f1s) > 1 else ""
        lines.append(f"| {' | '.join(key)} | {len(f1s)} | {statistics.mean(f1s):.2f}{spread} |")
    return "\n".join(lines)


def _get(data: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None  # type: ignore[assignment]
    return ",".join(data) if isinstance(data, list) else data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config", type=Path)
    p.add_argument("--results", type=Path, default=None, help="JSONL results file (default: the config's)")
    p.add_argument("--dry-run", action="store_true", help="list the runs and their ids; run nothing")
    args = p.parse_args(argv)
    try:
        configs, meta = expand(args.config)
        results = args.results or ROOT / meta.get("results", f"bench/results/{args.config.stem}.jsonl")
        if args.dry_run:
            done = _done(results)
            for cfg in configs:
                rid = run_id(cfg)
                state = "done" if rid in done else "todo"
                print(f"{rid[:16]} {state} {cfg.mode} {cfg.data.target_name} seed={cfg.seed}")
            return 0
        records = list(run_all(configs, results, meta.get("measures")))
    except UserError as err:
        print(err.format(), file=sys.stderr)
        return 2
    group = [k for k in meta.get("group_by", ["mode", "data.target"])]
    print(table(records, group))
    return 0


if __name__ == "__main__":
    sys.exit(main())
