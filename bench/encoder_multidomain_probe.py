"""MiniLM with an extra stage on the five CrossNER train splits between CoNLL-2003 and the target.

PTF goes CoNLL-2003 -> target. This probe goes CoNLL-2003 -> all five CrossNER train splits
together (raw labels, the label space grown to every domain's types, early-stopped on the five
dev splits together) -> each target's own train split (early-stopped on its dev split), then
scores the target's test split. A stage-2 sentence whose text is in any test split is left out
(``guarded_union``). It uses only labelled data that xner's "adding data" methods
use too (other domains' train splits); it is not PTF, so its numbers go in their own rows.

Settings from the environment: SEED (0), THREADS (2), SOURCE_EPOCHS (3, the CoNLL-2003 model
of encoder_bench's cache), STAGE2_EPOCHS (8), STAGE2_PATIENCE (3), DOMAINS (all five, comma-
separated: the targets fine-tuned after stage 2), STAGE2_DIR (bench/results/multidomain_stage2,
gitignored; the stage-2 model of each seed is kept there and reused), OUT (a JSON-lines file).

    SEED=0 .venv/bin/python bench/encoder_multidomain_probe.py

``--table FILE`` prints per-domain mean ± std beside PTF (bench/results/encoder_map_3source.json)
and CrossNER's BERT-base PTF.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import encoder_bench as eb  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def table(path: str) -> int:
    """Per-domain test F1 of this probe next to PTF (same seeds) and CrossNER's BERT-base."""
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    ptf = json.loads((RESULTS / "encoder_map_3source.json").read_text())["runs"]
    eb.print_beside_reference(rows, ptf, "CoNLL → 5 CrossNER → target", "PTF (CoNLL → target), same seeds")
    return 0


def guarded_union(data: dict, split: str) -> tuple[list, int]:
    """The five domains' ``split`` sentences, less any whose text is in a test split (of any domain).

    One stage-2 model serves all five targets, so a sentence another domain shares with a
    target's test split would put test text into training for that target. It is left out, as
    xner's pool guard does; so is a domain's own train/test overlap, which the target stage still
    sees, exactly as PTF does. Returns the kept sentences and how many were dropped.
    """
    banned = {s.tokens for d in eb.DOMAINS for s in data[d].test}
    every = [s for d in eb.DOMAINS for s in getattr(data[d], split)]
    kept = [s for s in every if s.tokens not in banned]
    return kept, len(every) - len(kept)


def stage2(conll_dir: Path, data: dict, seed: int, threads: int, folder: Path) -> tuple[Path, dict]:
    """Fine-tune the CoNLL-2003 model on the five CrossNER train splits at once (kept in ``folder``)."""
    from xner.labels.normalise import load_label_map
    from xner.models.encoder import recommended_train_config
    from xner.transfer.pretrain_finetune import finetune

    done = folder / "stage2.json"
    if done.is_file():
        info = json.loads(done.read_text())
        if "guard_dropped_train" in info:  # a stage-2 model from before the guard is not reused
            return folder, info
    train, train_dropped = guarded_union(data, "train")
    dev, dev_dropped = guarded_union(data, "dev")
    cfg = recommended_train_config(epochs=int(os.environ.get("STAGE2_EPOCHS", "8")),
                                   patience=int(os.environ.get("STAGE2_PATIENCE", "3")),
                                   seed=seed, threads=threads)
    started = time.time()
    tagger, fit = finetune(conll_dir, train, dev, cfg, label_map=load_label_map())
    folder.mkdir(parents=True, exist_ok=True)
    tagger.save(folder)
    info = {"seed": seed, "conll_model": conll_dir.name, "train_sentences": len(train), "dev_sentences": len(dev),
            "guard_dropped_train": train_dropped, "guard_dropped_dev": dev_dropped,
            "epochs": cfg.epochs, "patience": cfg.patience, "dev_f1": round(100 * fit.best_dev_f1, 2),
            "best_epoch": fit.best_epoch, "epochs_run": fit.epochs_run, "seconds": round(time.time() - started, 1)}
    done.write_text(json.dumps(info) + "\n")
    return folder, info


def main() -> int:
    if sys.argv[1:2] == ["--table"]:
        return table(sys.argv[2])
    import torch

    from xner.evaluation.metrics import entity_f1, entity_scores
    from xner.labels.normalise import load_label_map
    from xner.models.encoder import recommended_train_config
    from xner.transfer.pretrain_finetune import finetune

    env = os.environ.get
    seed, threads = int(env("SEED", "0")), int(env("THREADS", "2"))
    targets = [d for d in env("DOMAINS", ",".join(eb.DOMAINS)).split(",") if d]
    torch.set_num_threads(threads)
    args = eb.parse_args(["--source-epochs", env("SOURCE_EPOCHS", "3"), "--seeds", "1"])
    data = eb.load_data(args, list(eb.DOMAINS))
    conll_dir, _ = eb.pretrain(args, data, seed)
    base = Path(env("STAGE2_DIR", str(RESULTS / "multidomain_stage2")))
    stage2_dir, info = stage2(conll_dir, data, seed, threads, base / f"seed{seed}")
    print(json.dumps({"stage2": info}), flush=True)
    out = Path(env("OUT", str(RESULTS / "encoder_multidomain.jsonl")))
    for domain in targets:
        cfg = recommended_train_config(epochs=20, patience=5, seed=seed, threads=threads)
        started = time.time()
        tagger, fit = finetune(stage2_dir, data[domain].train, data[domain].dev, cfg, label_map=load_label_map())
        seconds = time.time() - started
        test = data[domain].test
        gold, pred = [list(s.tags) for s in test], tagger.predict(test)
        scores = entity_scores(gold, pred)
        record = {"domain": domain, "seed": seed, "source_epochs": args.source_epochs, "stage2": info,
                  "test_f1": round(100 * scores.f1, 2), "test_precision": round(100 * scores.precision, 2),
                  "test_recall": round(100 * scores.recall, 2),
                  "test_untyped_f1": round(100 * entity_f1(eb.untyped(gold), eb.untyped(pred)), 2),
                  "dev_f1": round(100 * fit.best_dev_f1, 2), "best_epoch": fit.best_epoch,
                  "epochs_run": fit.epochs_run, "finetune_seconds": round(seconds, 1)}
        eb.emit(record, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
