"""Quality benchmark: BiLSTM-CRF with PTF, DFT and JT on the five CrossNER target domains.

Test entity F1 (seqeval default/conlleval mode, strict IOB2 beside it), mean ± std over seeds,
next to the CrossNER paper's jointly trained BiLSTM-CRF. The source model is pre-trained once
per seed (cached by content hash), shared by the five PTF runs of that seed. Results go to
bench/results/quality_bilstm.json (rewritten after every run; a rerun with the same settings
skips the runs already there) and a Markdown table is printed.

Full run (the lead's job, hours on 2 cores):
    .venv/bin/python bench/quality_bilstm.py
Tiny check run:
    .venv/bin/python bench/quality_bilstm.py --domains ai --seeds 1 --epochs 1 --source-epochs 1 \
        --source-limit 200 --out /tmp/q.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("politics", "science", "music", "literature", "ai")
MODES = ("ptf", "dft", "jt")
# CrossNER (Liu et al., 2021), Table 3: BiLSTM-CRF trained jointly on source + target.
ANCHOR = {"politics": 56.60, "science": 49.97, "music": 44.79, "literature": 43.03, "ai": 43.56}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--domains", default=",".join(DOMAINS), help="comma-separated target domains")
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of ptf,dft,jt")
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (0..N-1)")
    p.add_argument("--labels", choices=("raw", "normalised"), default="raw")
    p.add_argument("--label-init", choices=("fresh", "map"), default="fresh",
                   help="PTF: target-only labels start fresh or from the source label of their "
                        "generic type in the shipped CrossNER label map")
    p.add_argument("--epochs", type=int, default=100, help="max epochs on a target (PTF fine-tuning, DFT)")
    p.add_argument("--patience", type=int, default=20,
                   help="target early-stopping patience; a fresh DFT model scores 0 dev F1 for its "
                        "first ~10 epochs on 100 sentences, so a small patience stops it too early")
    p.add_argument("--source-epochs", type=int, default=30, help="max epochs for pre-training and JT")
    p.add_argument("--source-patience", type=int, default=5)
    p.add_argument("--source-max-seconds", type=float, default=None,
                   help="time budget for pre-training and for each JT run (stops between epochs)")
    p.add_argument("--source-limit", type=int, default=None, help="first N conll2003 train sentences only")
    p.add_argument("--batch-size", type=int, default=8,
                   help="target batch size: 100 target sentences at 32 a batch give only 4 updates "
                        "an epoch; 8 converged faster in a one-seed ai probe")
    p.add_argument("--source-batch-size", type=int, default=32, help="pre-training and JT batch size")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--o-weight", type=float, default=None)
    p.add_argument("--target-repeat", type=int, default=None, help="JT: target repetitions (default: xner's)")
    p.add_argument("--model-config", type=Path, default=None, help="BiLSTM-CRF settings (JSON)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", type=Path, default=None, help="data root (default: xner's search order)")
    p.add_argument("--cache", type=Path, default=None,
                   help="pre-trained model cache (default: xner's, in the user cache folder)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality_bilstm.json")
    p.add_argument("--merge", type=Path, nargs="+", default=None,
                   help="train nothing: print the tables of these result files together")
    p.add_argument("--compare", type=Path, nargs=2, default=None, metavar=("BASE", "NEW"),
                   help="train nothing: test F1 of NEW minus BASE for each (mode, domain, seed) in both")
    return p.parse_args(argv)


def print_merged(paths: list[Path], domains: list[str]) -> None:
    """One table from several result files (e.g. PTF/DFT and JT run as separate processes)."""
    runs: list[dict[str, Any]] = []
    for path in paths:
        result = json.loads(path.read_text())
        print(f"{path}: {result['command']}\n  settings {json.dumps(result['settings'], sort_keys=True)}\n"
              f"  last update {result['date']}; {result['machine']}, {result['threads']} threads")
        runs += result["runs"]
    modes = [m for m in MODES if any(r["mode"] == m for r in runs)]
    summary = summarise(runs, domains, modes)
    counts = {m: len({r["seed"] for r in runs if r["mode"] == m}) for m in modes}
    print(f"\nseeds per mode: {counts}\n\nTest entity F1 (seqeval default mode, micro), mean ± std over seeds:\n")
    print(markdown(summary, domains, modes, "f1"))
    print("\nStrict IOB2 entity F1:\n")
    print(markdown(summary, domains, modes, "strict_f1"))


def print_gains(base_path: Path, new_path: Path) -> None:
    """Per-run test F1 gains of one result file over another (runs matched by mode, domain, seed)."""
    key = lambda r: (r["mode"], r["domain"], r["seed"])  # noqa: E731
    base = {key(r): r for r in json.loads(base_path.read_text())["runs"]}
    gains = [r["f1"] - base[key(r)]["f1"] for r in json.loads(new_path.read_text())["runs"] if key(r) in base]
    if not gains:
        print("no run in both files")
        return
    print(f"{new_path} minus {base_path}: {len(gains)} runs, mean test F1 gain {statistics.mean(gains):+.2f} "
          f"(min {min(gains):+.2f}, max {max(gains):+.2f}), {sum(g > 0 for g in gains)} gained")


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """What the numbers depend on; a results file with other settings is not resumed."""
    keep = ("labels", "epochs", "patience", "source_epochs", "source_patience", "source_max_seconds",
            "source_limit",
            "batch_size", "source_batch_size", "lr", "o_weight", "target_repeat")
    out = {k: getattr(args, k) for k in keep}
    if args.label_init != "fresh":  # left out at the default: older result files still resume
        out["label_init"] = args.label_init
    out["model_config"] = json.loads(args.model_config.read_text()) if args.model_config else None
    return out


def train_configs(args: argparse.Namespace, seed: int) -> tuple[Any, Any]:
    from xner.models.base import TrainConfig

    common: dict[str, Any] = {"seed": seed, "threads": args.threads}
    for key in ("lr", "o_weight"):
        if getattr(args, key) is not None:
            common[key] = getattr(args, key)
    target = TrainConfig(epochs=args.epochs, patience=args.patience, batch_size=args.batch_size, **common)
    source = TrainConfig(epochs=args.source_epochs, patience=args.source_patience,
                         batch_size=args.source_batch_size, max_seconds=args.source_max_seconds, **common)
    return target, source


def run_one(mode: str, domain: str, seed: int, args: argparse.Namespace, data: dict[str, Any]) -> dict[str, Any]:
    """Train one (mode, domain, seed) and score it on the target test split."""
    from xner.evaluation.metrics import entity_scores
    from xner.labels.normalise import apply_label_mode
    from xner.transfer.joint import DEFAULT_TARGET_REPEAT
    from xner.transfer.pretrain_finetune import train_target

    target_cfg, source_cfg = train_configs(args, seed)
    target = data[domain]
    started = time.perf_counter()
    # JT trains on the whole source every epoch, so it runs on the source schedule.
    tagger, fit = train_target(
        mode, data["conll2003"], target.train, target.dev, source_cfg if mode == "jt" else target_cfg,
        model_config=settings_of(args)["model_config"], label_mode=args.labels, label_map=data["label_map"],
        cache_dir=args.cache, source_cfg=source_cfg,
        target_repeat=args.target_repeat or DEFAULT_TARGET_REPEAT, label_init=args.label_init,
    )
    test = apply_label_mode(target.test, args.labels, data["label_map"])
    scores = entity_scores([list(s.tags) for s in test], tagger.predict(test))
    return {"mode": mode, "domain": domain, "seed": seed, "f1": 100 * scores.f1,
            "strict_f1": 100 * scores.strict_f1, "dev_f1": 100 * fit.best_dev_f1,
            "best_epoch": fit.best_epoch, "epochs_run": fit.epochs_run,
            "seconds": round(time.perf_counter() - started, 1)}


def load_data(args: argparse.Namespace, domains: list[str]) -> dict[str, Any]:
    from xner.data.conll import load_domain
    from xner.data.sources import find_data_root
    from xner.labels.normalise import load_label_map

    root = find_data_root(args.data)
    data: dict[str, Any] = {name: load_domain(root / name, name) for name in ["conll2003", *domains]}
    if args.source_limit:
        data["conll2003"].train = data["conll2003"].train[: args.source_limit]
    data["label_map"] = load_label_map() if args.labels == "normalised" else None
    data["root"] = str(root)
    return data


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarise(runs: list[dict[str, Any]], domains: list[str], modes: list[str]) -> dict[str, Any]:
    """mean/std per (mode, domain), and of the per-seed average over the domains."""
    out: dict[str, Any] = {}
    runs = [r for r in runs if r["domain"] in domains]
    for mode in modes:
        row: dict[str, Any] = {}
        for key in ("f1", "strict_f1"):
            for domain in domains:
                values = [r[key] for r in runs if r["mode"] == mode and r["domain"] == domain]
                if values:
                    row.setdefault(domain, {})[key] = mean_std(values)
            seeds = sorted({r["seed"] for r in runs if r["mode"] == mode})
            per_seed = [statistics.fmean(r[key] for r in runs if r["mode"] == mode and r["seed"] == s)
                        for s in seeds
                        if sum(r["mode"] == mode and r["seed"] == s for r in runs) == len(domains)]
            if per_seed:
                row.setdefault("average", {})[key] = mean_std(per_seed)
        out[mode] = row
    return out


def markdown(summary: dict[str, Any], domains: list[str], modes: list[str], key: str) -> str:
    def cell(mode: str, col: str) -> str:
        value = summary.get(mode, {}).get(col, {}).get(key)
        return f"{value[0]:.2f} ± {value[1]:.2f}" if value else "-"

    cols = [*domains, "average"]
    known = [ANCHOR[d] for d in domains if d in ANCHOR]
    # Over all five domains this is the paper's own average (47.59).
    average = f"{statistics.fmean(known):.2f}" if len(known) == len(domains) else "-"
    anchor = [f"{ANCHOR[d]:.2f}" if d in ANCHOR else "-" for d in domains] + [average]
    lines = ["| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|",
             "| CrossNER BiLSTM-CRF (JT, GloVe) | " + " | ".join(anchor) + " |"]
    lines += [f"| xner {m.upper()} | " + " | ".join(cell(m, c) for c in cols) + " |" for m in modes]
    return "\n".join(lines)


def machine() -> str:
    import torch

    return (f"{platform.platform()}, {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, torch {torch.__version__}")


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from xner.atomic import write_json

    args = parse_args(argv)
    domains = [d for d in args.domains.split(",") if d]
    modes = [m for m in args.modes.split(",") if m]
    if bad := [m for m in modes if m not in MODES]:
        sys.exit(f"error: unknown mode(s) {', '.join(bad)}")
    if args.merge:
        print_merged(args.merge, domains)
        return
    if args.compare:
        print_gains(*args.compare)
        return
    data = load_data(args, domains)
    settings = settings_of(args)
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    runs = previous.get("runs", []) if previous.get("settings") == settings else []
    done = {(r["mode"], r["domain"], r["seed"]) for r in runs}
    command = "python bench/quality_bilstm.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    for seed in range(args.seeds):
        for domain in domains:
            for mode in modes:
                if (mode, domain, seed) in done:
                    continue
                run = run_one(mode, domain, seed, args, data)
                runs.append(run)
                print(f"seed {seed} {domain:<10} {mode}: test F1 {run['f1']:.2f} (strict {run['strict_f1']:.2f}), "
                      f"dev {run['dev_f1']:.2f}, {run['epochs_run']} epochs, {run['seconds']:.0f}s", flush=True)
                result = {"settings": settings, "command": command, "data_root": data["root"],
                          "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                          "machine": machine(), "threads": args.threads, "runs": runs,
                          "summary": summarise(runs, domains, modes)}
                write_json(args.out, result)
    summary = summarise(runs, domains, modes)
    print(f"\nCommand: {command}\nDate: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}\nMachine: {machine()}, "
          f"{args.threads} threads\nLabels: {args.labels}; seeds: {args.seeds}; results: {args.out}\n")
    print("Test entity F1 (seqeval default mode, micro), mean ± std over seeds:\n")
    print(markdown(summary, domains, modes, "f1"))
    print("\nStrict IOB2 entity F1:\n")
    print(markdown(summary, domains, modes, "strict_f1"))


if __name__ == "__main__":
    main()
