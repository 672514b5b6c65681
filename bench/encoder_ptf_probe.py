"""One MiniLM PTF run (one domain, one seed) with settings from the environment; appends a JSON line.

Uses encoder_bench's pre-training cache (bench/results/pretrained_encoder, 1 source epoch), so
its runs start from the same CoNLL-2003 models as the issue-6 benchmark. Settings:
DOMAIN (ai), SEED (0), INIT (map | fresh), LR (5e-5), BS (16), EPOCHS (20), PATIENCE (5),
SCHED (constant | linear), WARMUP (0.1), HEAD_LR_X (the pre-trained model's head_lr_multiplier, 20),
AUG (0: mention-replacement copies of each train sentence), AUG_P (0.5), PRED (file for word / gold / predicted test tags), THREADS (2), OUT (bench/results/encoder_probes.jsonl),
SOURCE_LIMIT (pre-train on the first N conll2003 sentences), SOURCE_EPOCHS (1), CACHE (pre-training cache folder),
VARIANT (a label for patched runs, see bench/encoder_variant_probe.py).

    DOMAIN=music SEED=0 INIT=map THREADS=1 .venv/bin/python bench/encoder_ptf_probe.py

``--table FILE...`` instead prints the probes' test F1 beside the fresh-init runs of the same
domain and seed in bench/results/encoder.json (the issue-6 benchmark).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import encoder_bench as eb  # noqa: E402


def table(files: list[str]) -> int:
    """Probe test F1 vs the benchmark's fresh-init run of the same domain and seed, then per
    domain mean ± std over the seeds next to CrossNER's BERT-base PTF."""
    import statistics

    fresh = json.loads((Path(__file__).resolve().parent / "results" / "encoder.json").read_text())["runs"]
    rows = [json.loads(line) for f in files for line in Path(f).read_text().splitlines() if line.strip()]
    print("| domain | seed | test F1, fresh | test F1, map | gain | dev F1, fresh | dev F1, map | untyped test F1, map |")
    print("|---|---|---|---|---|---|---|---|")
    gains: list[float] = []
    for r in sorted(rows, key=lambda r: (r["seed"], eb.DOMAINS.index(r["domain"]))):
        base = fresh[f"ptf/{r['domain']}/{r['seed']}"]
        gains.append(r["test_f1"] - base["f1"])
        untyped = f"{r['test_untyped_f1']:.2f}" if "test_untyped_f1" in r else "-"
        print(f"| {r['domain']} | {r['seed']} | {base['f1']:.2f} | {r['test_f1']:.2f} | {gains[-1]:+.2f} | "
              f"{base['dev_f1']:.2f} | {r['dev_f1']:.2f} | {untyped} |")
    seeds = sorted({r["seed"] for r in rows})
    print()
    for seed in seeds:
        mine = [r for r in rows if r["seed"] == seed]
        if len(mine) == len(eb.DOMAINS):
            avg = statistics.mean(r["test_f1"] for r in mine)
            base = statistics.mean(fresh[f"ptf/{d}/{seed}"]["f1"] for d in eb.DOMAINS)
            print(f"seed {seed}: five-domain average test F1 fresh {base:.2f}, map {avg:.2f}")
    print(f"mean gain over {len(gains)} runs: {statistics.mean(gains):+.2f} (min {min(gains):+.2f}, max {max(gains):+.2f})")
    print()
    eb.print_beside_reference(rows, fresh, "MiniLM PTF, label init map", "fresh (same seeds)")
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--table"]:
        return table(sys.argv[2:])
    import torch

    from xner.evaluation.metrics import entity_f1, entity_scores
    from xner.labels.normalise import load_label_map
    from xner.models.encoder import recommended_train_config
    from xner.transfer.pretrain_finetune import finetune

    env = os.environ.get
    domain, seed, threads = env("DOMAIN", "ai"), int(env("SEED", "0")), int(env("THREADS", "2"))
    argv = ["--source-epochs", env("SOURCE_EPOCHS", "1"), "--domains", domain, "--seeds", "1"]
    if env("SOURCE_LIMIT"):  # pre-train on the first N conll2003 train sentences only
        argv += ["--source-limit", env("SOURCE_LIMIT", "")]
    if env("CACHE"):  # another pre-training cache (needed when a patch changes the network)
        argv += ["--cache", env("CACHE", "")]
    args = eb.parse_args(argv)
    torch.set_num_threads(threads)
    data = eb.load_data(args, [domain])
    path, _ = eb.pretrain(args, data, seed)
    cfg = recommended_train_config(epochs=int(env("EPOCHS", "20")), patience=int(env("PATIENCE", "5")), seed=seed,
                                   threads=threads, batch_size=int(env("BS", "16")), lr=float(env("LR", "5e-5")),
                                   lr_schedule=env("SCHED", "constant"), warmup=float(env("WARMUP", "0.1")))
    label_map = load_label_map() if env("INIT", "map") == "map" else None
    started = time.time()
    train = data[domain].train
    copies = int(env("AUG", "0"))
    if copies:
        from xner.data.augment import mention_replacement

        train = mention_replacement(train, copies, float(env("AUG_P", "0.5")), seed)
    head_x = env("HEAD_LR_X")
    if head_x:  # fine-tune with another head learning-rate multiplier than the pre-training's
        import xner.transfer.pretrain_finetune as pf

        load = pf.load_tagger

        def load_with_head_lr(folder: Path) -> object:
            tagger = load(folder)
            tagger.config = tagger.config.model_copy(update={"head_lr_multiplier": float(head_x)})
            return tagger

        pf.load_tagger = load_with_head_lr
    tagger, fit = finetune(path, train, data[domain].dev, cfg, label_map=label_map)
    seconds = time.time() - started
    test = data[domain].test
    gold, pred = [list(s.tags) for s in test], tagger.predict(test)
    scores = entity_scores(gold, pred)
    f1 = 100 * scores.f1
    untyped = 100 * entity_f1(eb.untyped(gold), eb.untyped(pred))
    record = {"domain": domain, "seed": seed, "init": env("INIT", "map"), "variant": env("VARIANT"),
              "source_limit": args.source_limit, "source_epochs": args.source_epochs, "lr": cfg.lr, "batch_size": cfg.batch_size,
              "epochs": cfg.epochs, "patience": cfg.patience, "lr_schedule": cfg.lr_schedule,
              "warmup": cfg.warmup, "augment_copies": copies,
              "augment_p": float(env("AUG_P", "0.5")) if copies else None, "head_lr_multiplier": float(head_x) if head_x else None, "threads": threads, "test_f1": round(f1, 2),
              "test_precision": round(100 * scores.precision, 2), "test_recall": round(100 * scores.recall, 2),
              "test_untyped_f1": round(untyped, 2),
              "dev_f1": round(100 * fit.best_dev_f1, 2), "best_epoch": fit.best_epoch,
              "epochs_run": fit.epochs_run, "finetune_seconds": round(seconds, 1)}
    if env("PRED"):  # word, gold, predicted tag per line: for error analysis
        lines = ["\n".join(f"{w} {g} {q}" for w, g, q in zip(s.tokens, g_, p_)) for s, g_, p_ in zip(test, gold, pred)]
        Path(env("PRED", "")).write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    eb.emit(record, Path(env("OUT", str(Path(__file__).resolve().parent / "results" / "encoder_probes.jsonl"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
