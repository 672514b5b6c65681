"""Encoder benchmark: MiniLM PTF (or DFT) on the five CrossNER targets, timings and CPU speed.

Per target domain and seed: pre-train on conll2003 (PTF, cached by content hash, once per seed),
fine-tune on the target's 100 train sentences, score test entity F1 (seqeval default mode) in
fp32 and with int8 dynamic quantisation. Prints mean ± std next to CrossNER's BERT-base PTF,
pre-training and fine-tuning wall time, and inference words/s with 1 and 2 threads, fp32 and
int8. ``--ablation`` instead compares heads, casing feature and head learning rate on conll2003.
Results go to a JSON file rewritten after every run (a rerun with the same settings resumes).

Full run (the lead's job; hours on 2 cores):
    .venv/bin/python bench/encoder_bench.py
Tiny check run:
    .venv/bin/python bench/encoder_bench.py --domains ai --seeds 1 --source-epochs 1 --epochs 1 \
        --source-limit 100 --source-dev-limit 50 --speed-sentences 50 --out /tmp/enc.json
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
# CrossNER (Liu et al., 2021), BERT-base pre-train then fine-tune (raw labels), test F1.
BERT_PTF = {"politics": 68.71, "science": 64.94, "music": 68.30, "literature": 63.63, "ai": 58.88}
BERT_PTF_AVERAGE = 64.89
ABLATIONS: dict[str, dict[str, Any]] = {
    "softmax, casing, head lr x1": {"head": "softmax", "casing_dim": 16, "head_lr_multiplier": 1.0},
    "softmax, casing, head lr x20": {"head": "softmax", "casing_dim": 16, "head_lr_multiplier": 20.0},
    "softmax, no casing, head lr x20": {"head": "softmax", "casing_dim": 0, "head_lr_multiplier": 20.0},
    "crf, casing, head lr x20": {"head": "crf", "casing_dim": 16, "head_lr_multiplier": 20.0},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=("ptf", "dft"), default="ptf")
    p.add_argument("--domains", default=",".join(DOMAINS), help="comma-separated target domains")
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (0..N-1)")
    p.add_argument("--epochs", type=int, default=20, help="max epochs on a target")
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--source-epochs", type=int, default=3, help="max epochs of conll2003 pre-training")
    p.add_argument("--source-limit", type=int, default=None, help="first N conll2003 train sentences only")
    p.add_argument("--source-dev-limit", type=int, default=None, help="first N conll2003 dev sentences only")
    p.add_argument("--label-init", choices=("fresh", "map"), default="map",
                   help="PTF: new target labels start fresh or from the source label of their "
                        "generic type in the shipped CrossNER label map")
    p.add_argument("--model-config", default=None, help="encoder settings as JSON text or a JSON file")
    p.add_argument("--threads", type=int, default=2, help="torch threads for training")
    p.add_argument("--speed-sentences", type=int, default=300, help="test sentences timed for words/s")
    p.add_argument("--ablation", action="store_true", help="compare heads/casing/head lr on conll2003")
    p.add_argument("--variants", default=None, help="ablation: comma-separated indices into ABLATIONS")
    p.add_argument("--data", type=Path, default=None, help="data root (default: xner's search order)")
    p.add_argument("--cache", type=Path, default=ROOT / "bench" / "results" / "pretrained_encoder")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "encoder.json")
    return p.parse_args(argv)


def model_config(args: argparse.Namespace) -> dict[str, Any]:
    if not args.model_config:
        return {}
    text = args.model_config
    return json.loads(Path(text).read_text() if Path(text).is_file() else text)


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """What the numbers depend on; a results file with other settings is not resumed."""
    keep = ("mode", "epochs", "patience", "lr", "batch_size", "source_epochs", "source_limit",
            "source_dev_limit", "ablation")
    out = {**{k: getattr(args, k) for k in keep}, "model_config": model_config(args)}
    if args.label_init != "fresh":  # left out at "fresh": results files from before the option resume
        out["label_init"] = args.label_init
    return out


def header(args: argparse.Namespace, argv: list[str] | None) -> dict[str, Any]:
    import torch

    return {
        "command": shlex.join([sys.executable, *(sys.argv if argv is None else [sys.argv[0], *argv])]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.platform()} {platform.processor() or platform.machine()}",
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "train_threads": args.threads,
    }


def train_configs(args: argparse.Namespace, seed: int) -> tuple[Any, Any]:
    from xner.models.encoder import recommended_train_config

    common = {"seed": seed, "threads": args.threads, "batch_size": args.batch_size, "lr": args.lr}
    target = recommended_train_config(epochs=args.epochs, patience=args.patience, **common)
    source = recommended_train_config(epochs=args.source_epochs, **common)
    return target, source


def load_data(args: argparse.Namespace, domains: list[str]) -> dict[str, Any]:
    from xner.data.conll import load_domain
    from xner.data.sources import find_data_root

    root = find_data_root(args.data)
    data: dict[str, Any] = {name: load_domain(root / name, name) for name in ["conll2003", *domains]}
    source = data["conll2003"]
    if args.source_limit:
        source.train = source.train[: args.source_limit]
    if args.source_dev_limit:
        source.dev = source.dev[: args.source_dev_limit]
    return data


def untyped(tags: list[list[str]]) -> list[list[str]]:
    """Every entity type made one: scores spans alone, so typed vs untyped F1 says how much of the
    error is the type rather than the boundary."""
    return [[t[:2] + "X" if t != "O" else t for t in s] for s in tags]


def test_scores(tagger: Any, test: list[Any]) -> tuple[float, float, float]:
    """Test entity F1 (percent) in fp32, after int8 quantisation of the same weights, and fp32
    with types ignored."""
    from xner.evaluation.metrics import entity_f1

    gold = [list(s.tags) for s in test]
    pred = tagger.predict(test)
    fp32 = 100 * entity_f1(gold, pred)
    spans = 100 * entity_f1(untyped(gold), untyped(pred))
    tagger.quantize()
    int8 = 100 * entity_f1(gold, tagger.predict(test))
    return fp32, int8, spans


def pretrain(args: argparse.Namespace, data: dict[str, Any], seed: int) -> tuple[Path, float]:
    """The cached conll2003 model of this seed and its training wall time (from its record)."""
    from xner.transfer.pretrain_finetune import pretrain_source

    _, source_cfg = train_configs(args, seed)
    path = pretrain_source(data["conll2003"], "encoder", model_config(args) or None, source_cfg,
                           "raw", None, args.cache)
    meta = json.loads((path / "pretrain.json").read_text())
    return path, round(float(meta["fit"]["seconds"]), 1)


def run_one(args: argparse.Namespace, data: dict[str, Any], domain: str, seed: int) -> dict[str, Any]:
    """Train one (domain, seed) by PTF or DFT and score it on the target's test split."""
    from xner.transfer.pretrain_finetune import finetune, train_target

    target_cfg, _ = train_configs(args, seed)
    target = data[domain]
    pretrain_seconds = None
    if args.mode == "ptf":
        path, pretrain_seconds = pretrain(args, data, seed)
        started = time.perf_counter()
        from xner.labels.normalise import load_label_map

        label_map = load_label_map() if args.label_init == "map" else None
        tagger, fit = finetune(path, target.train, target.dev, target_cfg, label_map=label_map)
    else:
        started = time.perf_counter()
        tagger, fit = train_target("dft", None, target.train, target.dev, target_cfg, backbone="encoder",
                                   model_config=model_config(args) or None)
    seconds = time.perf_counter() - started
    fp32, int8, spans = test_scores(tagger, target.test)
    return {"domain": domain, "seed": seed, "f1": fp32, "f1_int8": int8, "f1_untyped": spans,
            "dev_f1": 100 * fit.best_dev_f1,
            "best_epoch": fit.best_epoch, "epochs_run": fit.epochs_run, "finetune_seconds": round(seconds, 1),
            "pretrain_seconds": pretrain_seconds}


def words_per_second(model_dir: Path, sentences: list[Any]) -> dict[str, float]:
    """Prediction speed of a saved model, best of two passes, per thread count and precision."""
    import torch

    from xner.models.encoder import EncoderTagger

    words = sum(len(s) for s in sentences)
    out: dict[str, float] = {}
    saved_threads = torch.get_num_threads()
    for precision in ("fp32", "int8"):
        tagger = EncoderTagger.load(model_dir)
        if precision == "int8":
            tagger.quantize()
        for threads in (1, 2):
            torch.set_num_threads(threads)
            tagger.predict(sentences[:8])  # warm-up
            best = min(_timed(tagger.predict, sentences) for _ in range(2))
            out[f"{precision}, {threads} thread{'s' * (threads > 1)}"] = round(words / best, 1)
    torch.set_num_threads(saved_threads)
    return out


def _timed(fn: Any, *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def run_ablation(args: argparse.Namespace, data: dict[str, Any], results: dict[str, Any], out: Path) -> None:
    """Each variant trained from the same MiniLM on conll2003 (limited as asked), test F1."""
    from xner.transfer.joint import train_scratch

    source = data["conll2003"]
    test = source.test[: args.source_dev_limit] if args.source_dev_limit else source.test
    for seed in range(args.seeds):
        _, source_cfg = train_configs(args, seed)
        for index, (name, variant) in enumerate(ABLATIONS.items()):
            if args.variants and str(index) not in args.variants.split(","):
                continue
            key = f"ablation/{name}/{seed}"
            if key in results["runs"]:
                continue
            started = time.perf_counter()
            config = {**model_config(args), **variant}
            tagger, fit = train_scratch(source.train, source.dev, source_cfg, "encoder", config)
            fp32, int8, _ = test_scores(tagger, test)
            results["runs"][key] = {"variant": name, "seed": seed, "f1": fp32, "f1_int8": int8,
                                    "dev_f1": 100 * fit.best_dev_f1, "seconds": round(time.perf_counter() - started, 1)}
            save(out, results)
            print(f"{name:34s} seed {seed}: test F1 {fp32:.2f} (int8 {int8:.2f})", flush=True)


def mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {std:.2f}"


def emit(record: dict, out: Path) -> None:
    """Print a probe's record and append it to a JSON-lines file."""
    print(json.dumps(record), flush=True)
    with out.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def print_beside_reference(rows: list[dict], reference: dict, ours: str, theirs: str) -> None:
    """Markdown table: per domain, mean ± std of ``rows``' test_f1, of ``reference`` runs
    (``ptf/<domain>/<seed>`` -> {"f1": ...}) for the same seeds, and CrossNER's BERT-base PTF."""
    print(f"| domain | seeds | {ours} | {theirs} | CrossNER BERT-base PTF |")
    print("|---|---|---|---|---|")
    means: list[float] = []
    reference_means: list[float] = []
    for domain in DOMAINS:
        mine = [r for r in rows if r["domain"] == domain]
        if not mine:
            continue
        base = [reference[f"ptf/{domain}/{r['seed']}"]["f1"] for r in mine]
        means.append(statistics.mean(r["test_f1"] for r in mine))
        reference_means.append(statistics.mean(base))
        print(f"| {domain} | {len(mine)} | {mean_std([r['test_f1'] for r in mine])} | {mean_std(base)} | "
              f"{BERT_PTF[domain]:.2f} |")
    if len(means) == len(DOMAINS):
        print(f"| average | | {statistics.mean(means):.2f} | {statistics.mean(reference_means):.2f} | "
              f"{BERT_PTF_AVERAGE:.2f} |")


def table(results: dict[str, Any], domains: list[str]) -> str:
    runs = [r for k, r in results["runs"].items() if not k.startswith("ablation/")]
    lines = ["| domain | MiniLM (ours) | int8 | types ignored | CrossNER BERT-base PTF | fine-tune s | pre-train s |",
             "|---|---|---|---|---|---|---|"]
    means: list[float] = []
    for domain in domains:
        rows = [r for r in runs if r["domain"] == domain]
        f1 = [r["f1"] for r in rows]
        if f1:
            means.append(statistics.mean(f1))
        pre = [r["pretrain_seconds"] for r in rows if r.get("pretrain_seconds")]
        lines.append(f"| {domain} | {mean_std(f1)} | {mean_std([r['f1_int8'] for r in rows])} | "
                     f"{mean_std([r['f1_untyped'] for r in rows if 'f1_untyped' in r])} | "
                     f"{BERT_PTF[domain]:.2f} | {mean_std([r['finetune_seconds'] for r in rows])} | "
                     f"{mean_std(pre)} |")
    if len(means) == len(domains):
        anchor = statistics.mean(BERT_PTF[d] for d in domains)
        lines.append(f"| average | {statistics.mean(means):.2f} | | | {anchor:.2f} | | |")
    return "\n".join(lines)


def ablation_table(results: dict[str, Any]) -> str:
    lines = ["| variant | conll2003 test F1 | int8 | seconds |", "|---|---|---|---|"]
    for name in ABLATIONS:
        rows = [r for k, r in results["runs"].items() if k.startswith(f"ablation/{name}/")]
        if not rows:
            continue
        lines.append(f"| {name} | {mean_std([r['f1'] for r in rows])} | "
                     f"{mean_std([r['f1_int8'] for r in rows])} | {mean_std([r['seconds'] for r in rows])} |")
    return "\n".join(lines)


def save(path: Path, results: dict[str, Any]) -> None:
    from xner.atomic import write_json

    write_json(path, results)


def load_results(path: Path, settings: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    if path.is_file():
        old = json.loads(path.read_text())
        if old.get("settings") == settings:
            old.update(head)
            return old
    return {**head, "settings": settings, "runs": {}}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    domains = [d for d in args.domains.split(",") if d]
    head = header(args, argv)
    for key, value in head.items():
        print(f"{key}: {value}")
    data = load_data(args, [] if args.ablation else domains)
    results = load_results(args.out, settings_of(args), head)
    if args.ablation:
        run_ablation(args, data, results, args.out)
        print(ablation_table(results))
        return 0
    for seed in range(args.seeds):
        for domain in domains:
            key = f"{args.mode}/{domain}/{seed}"
            if key not in results["runs"]:
                results["runs"][key] = run_one(args, data, domain, seed)
                save(args.out, results)
            r = results["runs"][key]
            print(f"{args.mode} {domain} seed {seed}: test F1 {r['f1']:.2f} (int8 {r['f1_int8']:.2f}), "
                  f"fine-tune {r['finetune_seconds']} s", flush=True)
    speed_model(args, data, domains, results)
    save(args.out, results)
    print(table(results, domains))
    print("inference words/s: " + ", ".join(f"{k}: {v}" for k, v in results["speed"].items()))
    costs = [r["f1"] - r["f1_int8"] for k, r in results["runs"].items() if not k.startswith("ablation/")]
    print(f"int8 F1 cost (fp32 - int8, points): {mean_std(costs)}")
    return 0


def speed_model(args: argparse.Namespace, data: dict[str, Any], domains: list[str], results: dict[str, Any]) -> None:
    """Time prediction with a conll2003-shaped model on the first target's test sentences."""
    import tempfile

    from xner.labels.space import LabelSpace
    from xner.models.encoder import EncoderTagger

    sentences = data[domains[0]].test[: args.speed_sentences]
    with tempfile.TemporaryDirectory() as tmp:
        tagger = EncoderTagger.create([], LabelSpace.from_sentences(data[domains[0]].train), model_config(args))
        tagger.save(Path(tmp) / "m")  # speed does not depend on the weights' values, only shapes
        results["speed"] = words_per_second(Path(tmp) / "m", sentences)
    results["speed_sentences"] = {"domain": domains[0], "sentences": len(sentences),
                                  "words": sum(len(s) for s in sentences)}


if __name__ == "__main__":
    raise SystemExit(main())
