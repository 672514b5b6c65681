"""Where one run's time goes: training steps, dev evaluation each epoch, everything else.

    .venv/bin/python bench/profile_run.py bench/configs/profile-random30.toml [--cprofile 25]
        [--code "COMMIT (what changed)" --append bench/results/profile_random30.jsonl]

Runs the first run of a bench config (``bench/run.py``'s format) through ``xner.run.execute.run``
with timers around the trainer's dev evaluation, and prints one JSON line: seconds in all, in
the fit, in dev evaluation, per training step and per epoch, and their shares. ``--cprofile N``
also prints the N functions with the most own time (cProfile slows the run by ~10 %).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import expand  # noqa: E402


def profile(config: Path, top: int = 0) -> dict[str, Any]:
    import xner.training.trainer as trainer
    from xner.run.execute import run

    cfg = expand(config)[0][0]
    dev_seconds: list[float] = []
    scored = trainer.dev_f1

    def timed_dev_f1(*args: Any, **kwargs: Any) -> float:
        started = time.perf_counter()
        try:
            return scored(*args, **kwargs)
        finally:
            dev_seconds.append(time.perf_counter() - started)

    trainer.dev_f1 = timed_dev_f1  # the trainer looks it up at call time
    profiler = cProfile.Profile() if top else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = run(cfg)
    if profiler:
        profiler.disable()
    total = time.perf_counter() - started
    fit = result.fit
    fit_seconds = fit.seconds  # every epoch: its training steps and its dev evaluation
    dev = sum(dev_seconds)
    train = max(0.0, fit_seconds - dev)
    steps = sum(-(-result.n_train // cfg.finetune.batch_size) for _ in fit.history)
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(top)
    return {"config": str(config), "seconds": round(total, 1), "epochs": fit.epochs_run, "best_epoch": fit.best_epoch,
            "n_train": result.n_train, "test_f1": result.test["f1"] if result.test else None,
            "train_seconds": round(train, 1), "dev_eval_seconds": round(dev, 1),
            "other_seconds": round(total - train - dev, 1),
            "ms_per_step": round(1000 * train / max(1, steps), 2),
            "dev_eval_s_per_epoch": round(dev / max(1, len(dev_seconds)), 3),
            "share_train": round(train / total, 3), "share_dev_eval": round(dev / total, 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config", type=Path)
    p.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the N functions with most own time")
    p.add_argument("--code", help="what code ran (e.g. a commit and what it changed), kept in the record")
    p.add_argument("--append", type=Path, metavar="FILE", help="also append the record to this JSONL file")
    args = p.parse_args(argv)
    record = profile(args.config, args.cprofile)
    if args.code:
        record["code"] = args.code
    line = json.dumps(record)
    print(line)
    if args.append:
        with args.append.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
