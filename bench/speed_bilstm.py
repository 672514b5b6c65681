"""Speed benchmark: BiLSTM-CRF training sentences/s and inference words/s on conll2003.

For each thread count: training throughput over ``--max-batches`` real training steps (the
trainer's own epoch loop: batching, UNK replacement, forward, backward, clipping, Adam) and
inference throughput of ``predict`` over conll2003 dev + test. ``--pretrain`` adds a full
pre-training run on conll2003 (early stopping on dev F1, capped at ``--pretrain-minutes``),
the "good model within 15 minutes on 2 cores" check. Peak memory is the process's max RSS.
Prints a Markdown summary and writes JSON (command, date, machine, numbers).

Real run (the lead's job, on a quiet machine):
    .venv/bin/python bench/speed_bilstm.py --pretrain
Tiny check run:
    .venv/bin/python bench/speed_bilstm.py --max-batches 5 --infer-limit 200 --out /tmp/speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xner.atomic import write_json
from xner.data.conll import load_domain
from xner.data.sources import find_data_root
from xner.labels.space import LabelSpace
from xner.models.base import TrainConfig
from xner.models.bilstm_crf import BiLSTMConfig, BiLSTMCRFTagger
from xner.training import trainer

ROOT = Path(__file__).resolve().parents[1]
# The peer (flair 0.15 SequenceTagger, same shape) measured on this kind of machine (issue 4).
FLAIR_TRAIN_2T, FLAIR_PREDICT_1T = 65.0, 3800.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=None, help="data root (default: xner's search order)")
    p.add_argument("--threads", default="1,2", help="comma-separated torch thread counts")
    p.add_argument("--max-batches", type=int, default=300, help="training steps timed per thread count")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--infer-limit", type=int, default=None, help="first N dev+test sentences only")
    p.add_argument("--model-config", type=Path, default=None, help="BiLSTM-CRF settings (JSON)")
    p.add_argument("--pretrain", action="store_true", help="also time a full conll2003 pre-training")
    p.add_argument("--pretrain-minutes", type=float, default=15.0)
    p.add_argument("--pretrain-threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=30, help="max pre-training epochs")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "speed_bilstm.json")
    return p.parse_args(argv)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(),
            "python": platform.python_version(), "torch": torch.__version__,
            # Other processes skew every number: a 1-minute load near 0 means a quiet machine.
            "load_average_1m_at_start": round(os.getloadavg()[0], 2)}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def make_tagger(train: list, config: BiLSTMConfig) -> BiLSTMCRFTagger:
    return BiLSTMCRFTagger.create(train, LabelSpace.from_sentences(train), config, seed=0)


def train_speed(train: list, config: BiLSTMConfig, threads: int, args: argparse.Namespace) -> dict[str, Any]:
    """Sentences/s over ``max_batches`` steps of the trainer's real epoch loop (after 3 warm-up steps)."""
    torch.set_num_threads(threads)
    tagger = make_tagger(train, config)
    cfg = TrainConfig(batch_size=args.batch_size, threads=threads)
    with tagger.fitting(cfg, train):  # the trainer's own set-up: optimiser from the tagger's groups
        optimizer = trainer.make_optimizer(tagger.param_groups(cfg.lr), cfg)
        stepper = trainer.Stepper.for_fit(tagger, optimizer, cfg)
        rng = np.random.default_rng(0)
        order = rng.permutation(len(train))
        warm = [train[i] for i in order[: 3 * args.batch_size]]
        trainer._run_epoch(tagger, warm, cfg, stepper, rng, None)
        subset = [train[i] for i in order[: args.max_batches * args.batch_size]]
        start, cpu = time.perf_counter(), time.process_time()
        loss, seen, _ = trainer._run_epoch(tagger, subset, cfg, stepper, rng, None)
        seconds = time.perf_counter() - start
    return {"threads": threads, "sentences": seen, "seconds": round(seconds, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),
            "sentences_per_second": round(seen / seconds, 1), "last_loss": round(loss, 4)}


def infer_speed(tagger: BiLSTMCRFTagger, sentences: list, threads: int) -> dict[str, Any]:
    torch.set_num_threads(threads)
    tagger.predict(sentences[:200])  # warm-up
    words = sum(len(s) for s in sentences)
    start, cpu = time.perf_counter(), time.process_time()
    tagger.predict(sentences)
    seconds = time.perf_counter() - start
    return {"threads": threads, "sentences": len(sentences), "words": words,
            "seconds": round(seconds, 3), "cpu_seconds": round(time.process_time() - cpu, 3),
            "words_per_second": round(words / seconds, 1)}


def pretrain(domain: Any, config: BiLSTMConfig, args: argparse.Namespace) -> dict[str, Any]:
    tagger = make_tagger(domain.train, config)
    cfg = TrainConfig(epochs=args.epochs, threads=args.pretrain_threads, batch_size=args.batch_size,
                      max_seconds=args.pretrain_minutes * 60)
    result = trainer.fit(tagger, domain.train, domain.dev, cfg)
    return {"threads": args.pretrain_threads, "best_dev_f1": round(100 * result.best_dev_f1, 2),
            "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
            "seconds": round(result.seconds, 1), "train_config": cfg.model_dump(mode="json"),
            "history": [vars(h) for h in result.history]}


def markdown(report: dict[str, Any]) -> str:
    lines = [f"## BiLSTM-CRF speed ({report['date']})", "", f"Command: `{report['command']}`", "",
             f"Machine: {report['machine']['cpu']}, {report['machine']['cpus']} CPUs, "
             f"torch {report['machine']['torch']}, {report['machine']['platform']}, "
             f"load average at start {report['machine']['load_average_1m_at_start']}", "",
             "| threads | train sentences/s | predict words/s |", "|---|---|---|"]
    infer = {r["threads"]: r for r in report["inference"]}
    for row in report["training"]:
        pred = infer.get(row["threads"], {}).get("words_per_second", "")
        lines.append(f"| {row['threads']} | {row['sentences_per_second']} | {pred} |")
    lines += ["", f"Peer (flair 0.15, issue 4): {FLAIR_TRAIN_2T:.0f} sentences/s training (2 threads), "
              f"{FLAIR_PREDICT_1T:.0f} words/s prediction (1 thread).",
              f"Peak memory (max RSS): {report['peak_rss_mib']:.0f} MiB"]
    if "pretrain" in report:
        pre = report["pretrain"]
        lines.append(f"Pre-training on conll2003 ({pre['threads']} threads): dev F1 {pre['best_dev_f1']} "
                     f"at epoch {pre['best_epoch']}/{pre['epochs_run']}, {pre['seconds']} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = BiLSTMConfig(**json.loads(args.model_config.read_text())) if args.model_config else BiLSTMConfig()
    domain = load_domain(find_data_root(args.data) / "conll2003", "conll2003")
    threads = [int(t) for t in args.threads.split(",") if t]
    report: dict[str, Any] = {
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "model_config": config.model_dump(mode="json"),
        "training": [train_speed(domain.train, config, t, args) for t in threads],
    }
    tagger = make_tagger(domain.train, config)
    infer_set = (domain.dev + domain.test)[: args.infer_limit]
    report["inference"] = [infer_speed(tagger, infer_set, t) for t in threads]
    if args.pretrain:
        report["pretrain"] = pretrain(domain, config, args)
    report["peak_rss_mib"] = round(peak_rss_mib(), 1)
    write_json(args.out, report)
    print(markdown(report))
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
