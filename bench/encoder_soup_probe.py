"""Weight averaging of fine-tunings ("model soup"): still one MiniLM, still PTF.

For one domain and seed: fine-tune the benchmark's cached CoNLL-2003 model (3 epochs) K times on
the target's train split, each time with another fine-tuning seed (data order, dropout), then
average the weights: all K (uniform soup), and greedily by dev F1 (add the next-best model only if
the average's dev F1 does not drop). Choices use dev F1 only; test F1 is printed beside it.
Appends one JSON line. Settings: DOMAIN (ai), SEED (0), K (4), THREADS (2), EPOCHS (20),
PATIENCE (5), OUT (bench/results/encoder_soup.jsonl).

    DOMAIN=ai SEED=0 K=4 .venv/bin/python bench/encoder_soup_probe.py

``--table FILE`` prints the records as a Markdown table.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import encoder_bench as eb  # noqa: E402

FINETUNE_SEED_STEP = 1000  # fine-tuning seed k of SEED s is s + 1000 k (k = 0 is the benchmark's run)


def _joined(rows: list[dict[str, Any]], key: str) -> str:
    return ", ".join(f"{r[key]:.2f}" for r in rows)


def table(path: str) -> int:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    print("| domain | seed | K | single runs: dev F1 | single runs: test F1 | uniform soup dev / test "
          "| greedy soup (models) dev / test | best single by dev: test |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        singles = r["singles"]
        best = max(singles, key=lambda s: s["dev_f1"])
        print(f"| {r['domain']} | {r['seed']} | {len(singles)} | "
              f"{_joined(singles, 'dev_f1')} | {_joined(singles, 'test_f1')} | "
              f"{r['uniform']['dev_f1']:.2f} / {r['uniform']['test_f1']:.2f} | "
              f"{r['greedy']['dev_f1']:.2f} / {r['greedy']['test_f1']:.2f} ({len(r['greedy']['members'])}) | "
              f"{best['test_f1']:.2f} |")
    return 0


def _scores(tagger: Any, dev: list[Any], test: list[Any]) -> dict[str, float]:
    from xner.evaluation.metrics import entity_f1

    def f1(split: list[Any]) -> float:
        return round(100 * entity_f1([list(s.tags) for s in split], tagger.predict(split)), 2)

    return {"dev_f1": f1(dev), "test_f1": f1(test)}


def _average(states: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean of each floating-point tensor; other tensors (ids, counters) from the first state."""
    first = states[0]
    return {k: (sum(s[k] for s in states) / len(states)) if first[k].is_floating_point() else first[k]
            for k in first}


def main() -> int:
    if sys.argv[1:2] == ["--table"]:
        return table(sys.argv[2])
    import torch

    from xner.labels.normalise import load_label_map
    from xner.models.encoder import recommended_train_config
    from xner.transfer.pretrain_finetune import finetune

    env = os.environ.get
    domain, seed, threads, k = env("DOMAIN", "ai"), int(env("SEED", "0")), int(env("THREADS", "2")), int(env("K", "4"))
    args = eb.parse_args(["--source-epochs", "3", "--domains", domain, "--seeds", "1"])
    torch.set_num_threads(threads)
    data = eb.load_data(args, [domain])
    path, _ = eb.pretrain(args, data, seed)
    target, label_map = data[domain], load_label_map()
    started = time.time()
    singles, states, tagger = [], [], None
    for i in range(k):
        cfg = recommended_train_config(epochs=int(env("EPOCHS", "20")), patience=int(env("PATIENCE", "5")),
                                       seed=seed + FINETUNE_SEED_STEP * i, threads=threads, batch_size=16, lr=5e-5)
        tagger, fit = finetune(path, target.train, target.dev, cfg, label_map=label_map)
        states.append({n: t.detach().clone() for n, t in tagger.net.state_dict().items()})
        singles.append({"finetune_seed": cfg.seed, "best_epoch": fit.best_epoch, **_scores(tagger, target.dev, target.test)})
        print(json.dumps(singles[-1]), flush=True)
    assert tagger is not None
    tagger.net.load_state_dict(_average(states))
    uniform = _scores(tagger, target.dev, target.test)
    order = sorted(range(k), key=lambda i: -singles[i]["dev_f1"])
    members, greedy = [order[0]], dict(singles[order[0]])
    for i in order[1:]:
        tagger.net.load_state_dict(_average([states[j] for j in [*members, i]]))
        trial = _scores(tagger, target.dev, target.test)
        if trial["dev_f1"] >= greedy["dev_f1"]:
            members, greedy = [*members, i], trial
    record = {"domain": domain, "seed": seed, "source_epochs": 3, "threads": threads, "singles": singles,
              "uniform": uniform, "greedy": {"members": members, "dev_f1": greedy["dev_f1"], "test_f1": greedy["test_f1"]},
              "seconds": round(time.time() - started, 1)}
    eb.emit(record, Path(env("OUT", str(Path(__file__).resolve().parent / "results" / "encoder_soup.jsonl"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
