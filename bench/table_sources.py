"""The tables of bench/RESULTS.md, each printed from the result files in bench/results/.

Every function takes the results folder and returns one Markdown table. Numbers are exactly as
the files give them, formatted as the scripts that wrote the files printed them. The only
numbers not read from a file are the published reference rows (CrossNER's BiLSTM-CRF and
BERT-base), which are constants of the paper.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOMAINS = ("politics", "science", "music", "literature", "ai")
# CrossNER (Liu et al., 2021): BiLSTM-CRF trained jointly with GloVe, and BERT-base PTF; test F1.
BILSTM_ANCHOR = {"politics": 56.60, "science": 49.97, "music": 44.79, "literature": 43.03, "ai": 43.56}
BERT_PTF = {"politics": 68.71, "science": 64.94, "music": 68.30, "literature": 63.63, "ai": 58.88}
BERT_PTF_AVERAGE = 64.89
Row = dict[str, Any]


def _json(results: Path, name: str) -> Any:
    return json.loads((results / name).read_text(encoding="utf-8"))


def _jsonl(results: Path, name: str) -> list[Row]:
    lines = (results / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"

    return "\n".join([line(header), "|---" * len(header) + "|"] + [line(row) for row in rows])


def _mean_std(values: list[float]) -> str:
    """``mean ± std`` (sample std) to two decimals, as bench/encoder_bench.py prints it."""
    if not values:
        return "-"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {std:.2f}"


def _summary_cells(summary: dict[str, Any], key: str) -> list[str]:
    """One method's row of a quality_bilstm.py summary: ``mean ± std`` per domain and average."""
    cells = []
    for column in (*DOMAINS, "average"):
        value = summary.get(column, {}).get(key)
        cells.append(f"{value[0]:.2f} ± {value[1]:.2f}" if value else "-")
    return cells


def _anchor_row() -> list[str]:
    average = statistics.fmean(BILSTM_ANCHOR.values())
    return ["CrossNER BiLSTM-CRF (JT, GloVe)", *(f"{BILSTM_ANCHOR[d]:.2f}" for d in DOMAINS), f"{average:.2f}"]


def _bilstm_quality(results: Path, key: str) -> str:
    summaries = {**_json(results, "quality_bilstm_ptf_dft.json")["summary"],
                 **_json(results, "quality_bilstm_jt.json")["summary"]}
    rows = [_anchor_row()] + [[f"xner {mode.upper()}", *_summary_cells(summaries[mode], key)]
                              for mode in ("ptf", "dft", "jt") if mode in summaries]
    return _table(["method", *DOMAINS, "average"], rows)


def bilstm_quality(results: Path) -> str:
    """PTF, DFT and JT test F1 (seqeval default mode) beside the CrossNER anchor."""
    return _bilstm_quality(results, "f1")


def bilstm_quality_strict(results: Path) -> str:
    """The same runs scored with strict IOB2 entity F1."""
    return _bilstm_quality(results, "strict_f1")


def bilstm_label_init(results: Path) -> str:
    """BiLSTM-CRF PTF with new labels started fresh vs from the label map (same pre-trainings)."""
    fresh = _json(results, "quality_bilstm_ptf_fresh_rerun.json")["summary"]["ptf"]
    mapped = _json(results, "quality_bilstm_ptf_map.json")["summary"]["ptf"]
    rows = [["fresh (rerun)", *_summary_cells(fresh, "f1")], ["label init map", *_summary_cells(mapped, "f1")]]
    return _table(["BiLSTM-CRF PTF", *DOMAINS, "average"], rows)


def bilstm_defaults(results: Path) -> str:
    """BiLSTM-CRF PTF with xner's defaults through bench/run.py, per domain (mean ± std over
    seeds), and how many of its runs give the same test F1 as the earlier script's runs."""
    earlier = {(r["domain"], r["seed"]): r["f1"] for r in _json(results, "quality_bilstm_ptf_map.json")["runs"]}
    rows = []
    for name, when in (("quality_bilstm_map.jsonl", "2026-12-05"), ("quality_bilstm_map_rerun.jsonl", "2026-12-06")):
        runs = _jsonl(results, name)
        f1 = {(r["config"]["data"]["target"][0], r["config"]["seed"]): 100 * r["test"]["f1"] for r in runs}
        seeds = sorted({seed for _, seed in f1})
        per_seed = [statistics.fmean(f1[(d, seed)] for d in DOMAINS) for seed in seeds]
        cells = [_mean_std([f1[(d, seed)] for seed in seeds]) for d in DOMAINS] + [_mean_std(per_seed)]
        same = sum(abs(value - earlier.get(key, float("nan"))) < 1e-9 for key, value in f1.items())
        rows.append([f"{when}: {name}", *cells, f"{same} of {len(f1)}"])
    return _table(["BiLSTM-CRF PTF, defaults", *DOMAINS, "average", "runs equal to the earlier table's"], rows)


def encoder_defaults(results: Path) -> str:
    """MiniLM PTF with xner's defaults through bench/run.py beside the published benchmark's runs
    of the same (domain, seed): test F1, int8 F1 and span-only F1."""
    earlier = _json(results, "encoder_map_3source.json")["runs"]
    rows = []
    for r in _jsonl(results, "encoder_ptf.jsonl"):
        domain, seed = r["config"]["data"]["target"][0], r["config"]["seed"]
        old, m = earlier[f"ptf/{domain}/{seed}"], r["measures"]
        pairs = ((100 * r["test"]["f1"], old["f1"]), (m["int8_f1"], old["f1_int8"]),
                 (m["untyped_f1"], old["f1_untyped"]))
        same = all(abs(new - was) < 1e-9 for new, was in pairs)
        rows.append([domain, str(seed), *(f"{new:.2f}" for new, _ in pairs), "yes" if same else "no"])
    return _table(["domain", "seed", "test F1", "int8", "types ignored", "equal to the published run's"], rows)


def encoder_precision_cpu(results: Path) -> str:
    """The encoder on CPU in fp32 and bf16 autocast: test F1, run time and prediction words/s,
    mean ± std over seeds (the last record of each (precision, seed))."""
    runs = {(r["precision"], r["config"]["seed"]): r for r in _jsonl(results, "encoder_precision_cpu.jsonl")}
    rows = []
    for precision in ("fp32", "bf16"):
        mine = [r for (p, _), r in sorted(runs.items()) if p == precision]
        speed = [r["measures"]["words_per_second"] for r in mine]
        rows.append([precision, str(len(mine)), _mean_std([100 * r["test"]["f1"] for r in mine]),
                     _mean_std([r["fit"]["seconds"] for r in mine]),
                     _mean_std([float(r["fit"]["epochs_run"]) for r in mine]),
                     _mean_std([s["1 thread"] for s in speed]), _mean_std([s["2 threads"] for s in speed])])
    return _table(["precision", "seeds", "test F1", "fit s", "epochs", "predict words/s (1 thread)",
                   "predict words/s (2 threads)"], rows)


def bilstm_speed(results: Path) -> str:
    """Training sentences/s and prediction words/s per torch thread count."""
    data = _json(results, "speed_bilstm.json")
    predict = {r["threads"]: r["words_per_second"] for r in data["inference"]}
    rows = [[str(r["threads"]), str(r["sentences_per_second"]), str(predict.get(r["threads"], "-"))]
            for r in data["training"]]
    return _table(["threads", "train sentences/s", "predict words/s"], rows)


def stopping_rule(results: Path) -> str:
    """The collapsed settings of the first full study rerun with patience alone (min_epochs 1)
    and with min_epochs 10: test F1, best epoch and epochs run per seed, then mean ± std."""
    runs: dict[tuple[str, int], dict[int, Row]] = {}
    for r in _jsonl(results, "stopping_rule.jsonl"):
        added, finetune = r["config"]["added"], r["config"]["finetune"]
        setting = f"{added['method']} {added['domains'][0]} {added['setting']:g} %"
        runs.setdefault((setting, finetune.get("min_epochs", 1)), {})[r["config"]["seed"]] = r
    rows = []
    for (setting, min_epochs), by_seed in runs.items():
        ordered = [by_seed[seed] for seed in sorted(by_seed)]
        cells = [f"{100 * r['test']['f1']:.2f} ({r['fit']['best_epoch']}/{r['fit']['epochs_run']})" for r in ordered]
        rows.append([setting, str(min_epochs), *cells, _mean_std([100 * r["test"]["f1"] for r in ordered])])
    return _table(["added data", "min_epochs", "seed 0: test F1 (best/run epochs)", "seed 1", "seed 2",
                   "test F1"], rows)


def profile_run(results: Path) -> str:
    """bench/profile_run.py on one full-study run, before and after the CRF and encoding changes."""
    rows = [[r["code"], str(r["epochs"]), f"{r['test_f1']:.4f}", f"{r['seconds']:.1f}", f"{r['ms_per_step']:.2f}",
             f"{r['dev_eval_s_per_epoch']:.3f}", f"{100 * r['share_dev_eval']:.1f} %"]
            for r in _jsonl(results, "profile_random30.jsonl")]
    return _table(["code", "epochs", "test F1", "run s", "ms per training step", "dev evaluation s per epoch",
                   "dev evaluation share"], rows)


def _per_method(runs: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]], list[str]]]:
    """bench/compare_studies.py's runs per method (first-seen order), then all of them: (method,
    its runs, the cells: seconds published, seconds rerun, change)."""
    methods = sorted({r["method"] for r in runs}, key=lambda m: [r["method"] for r in runs].index(m))
    out = []
    for method in [*methods, "all"]:
        items = [r for r in runs if method in ("all", r["method"])]
        new, old = sum(r["seconds"] for r in items), sum(r["old_seconds"] for r in items)
        out.append((method, items, [f"{old:,.0f}", f"{new:,.0f}", f"{100 * (new / old - 1):+.0f} %"]))
    return out


def fit_reuse(results: Path) -> str:
    """The full study's runs that reuse fits, rerun (bench/compare_studies.py): identical metrics
    and durations, per method, against the published study."""
    rows = []
    for method, items, seconds in _per_method(_json(results, "fit_reuse.json")["runs"]):
        name = {"random": "PTF baseline (random 0 %)", "all": "all"}.get(method, method)
        rows.append([name, str(len(items)), f"{sum(r['identical'] for r in items)} of {len(items)}",
                     *seconds])
    return _table(["method", "runs", "metrics identical", "seconds, published study", "seconds, rerun",
                   "change"], rows)


def full_study_timed(results: Path) -> str:
    """configs/full.toml rerun from scratch with today's code (bench/compare_studies.py against the
    published store): seconds and test F1 per method, published and rerun."""
    rows = []
    for method, items, seconds in _per_method(_json(results, "full_study_timed.json")["runs"]):
        gaps = [abs(r["test_f1"] - r["old_test_f1"]) for r in items]
        rows.append([method, str(len(items)), *seconds,
                     f"{statistics.mean(r['old_test_f1'] for r in items):.4f}",
                     f"{statistics.mean(r['test_f1'] for r in items):.4f}",
                     f"{statistics.mean(gaps):.4f}", f"{max(gaps):.4f}"])
    return _table(["method", "runs", "seconds, published", "seconds, rerun", "change", "test F1, published (mean)",
                   "test F1, rerun (mean)", "mean abs. difference a run", "largest"], rows)


# Probes for a faster study: (what changed, results file, the full study's random share they rerun).
_FASTER_PROBES = [
    ("batch 32", "batch32_random60.jsonl", 60.0),
    ("batch 32, lr 4e-3 (x sqrt 4)", "batch32_sqrtlr_random60.jsonl", 60.0),
    ("patience 5", "patience5_random60.jsonl", 60.0),
    ("patience 5", "patience5_baseline.jsonl", 0.0),
]


def faster_study_probes(results: Path) -> str:
    """Each probe for a faster study (bench/configs/batch32-*.toml, patience5-*.toml) beside the
    published full-study runs it changes (bench/results/full_study_random_0_60.json, exported from
    the study's store): test F1 per seed, the change of the mean, epochs run."""
    published = _json(results, "full_study_random_0_60.json")
    rows = []
    for change, name, setting in _FASTER_PROBES:
        runs = _jsonl(results, name)
        for mode in ("raw", "normalised"):
            items = sorted((r for r in runs if r["config"]["data"]["label_mode"] == mode),
                           key=lambda r: r["config"]["seed"])
            base = sorted((r for r in published if r["setting"] == setting and r["label_mode"] == mode),
                          key=lambda r: r["seed"])
            if not items:
                continue
            f1, old = [r["test"]["f1"] for r in items], [r["test_f1"] for r in base]
            rows.append([f"random {setting:.0f} %", change, mode, ", ".join(f"{v:.4f}" for v in f1),
                         ", ".join(f"{v:.4f}" for v in old),
                         f"{statistics.mean(f1) - statistics.mean(old):+.4f}",
                         ", ".join(str(r["fit"]["epochs_run"]) for r in items),
                         ", ".join(str(r["epochs_run"]) for r in base)])
    return _table(["runs", "change", "label mode", "test F1, seeds 0-2", "published (batch 8, patience 10)",
                   "change of the mean", "epochs run", "published epochs"], rows)


def _report_table(path: Path) -> str:
    """The first table of the "## Results" section of a study report."""
    report = path.read_text(encoding="utf-8")
    section = report[report.index("## Results"):]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])


def full_study(results: Path) -> str:
    """The results table of the full BiLSTM-CRF study's report (bench/results/full_study/README.md)."""
    return _report_table(results / "full_study" / "README.md")


def full_study_encoder(results: Path) -> str:
    """The results table of the full study with the encoder (bench/results/full_study_encoder/README.md)."""
    return _report_table(results / "full_study_encoder" / "README.md")


def full_study_schema0(results: Path) -> str:
    """The first full study's results table (its report, kept in bench/results/history/)."""
    return _report_table(results / "history" / "full_study_schema0.md")


def _encoder_runs(results: Path, name: str) -> list[Row]:
    return [r for key, r in _json(results, name)["runs"].items() if not key.startswith("ablation/")]


def encoder_fresh(results: Path) -> str:
    """MiniLM PTF, new labels started fresh, 1 pre-training epoch (bench/results/encoder.json)."""
    runs = _encoder_runs(results, "encoder.json")
    rows, means = [], []
    for domain in DOMAINS:
        mine = [r for r in runs if r["domain"] == domain]
        means.append(statistics.mean(r["f1"] for r in mine))
        rows.append([domain, _mean_std([r["f1"] for r in mine]), _mean_std([r["f1_int8"] for r in mine]),
                     f"{BERT_PTF[domain]:.2f}", _mean_std([r["finetune_seconds"] for r in mine]),
                     _mean_std([r["pretrain_seconds"] for r in mine if r.get("pretrain_seconds")])])
    rows.append(["average", f"{statistics.mean(means):.2f}", "", f"{BERT_PTF_AVERAGE:.2f}", "", ""])
    header = ["domain", "MiniLM PTF (ours)", "int8", "CrossNER BERT-base PTF", "fine-tune wall s", "pre-train wall s"]
    return _table(header, rows)


def _encoder_map_table(results: Path, name: str) -> str:
    """bench/encoder_bench.py's own table: fp32, int8 and type-blind F1, times."""
    runs = _encoder_runs(results, name)
    rows, means = [], []
    for domain in DOMAINS:
        mine = [r for r in runs if r["domain"] == domain]
        means.append(statistics.mean(r["f1"] for r in mine))
        rows.append([domain, _mean_std([r["f1"] for r in mine]), _mean_std([r["f1_int8"] for r in mine]),
                     _mean_std([r["f1_untyped"] for r in mine if "f1_untyped" in r]), f"{BERT_PTF[domain]:.2f}",
                     _mean_std([r["finetune_seconds"] for r in mine]),
                     _mean_std([r["pretrain_seconds"] for r in mine if r.get("pretrain_seconds")])])
    rows.append(["average", f"{statistics.mean(means):.2f}", "", "", f"{BERT_PTF_AVERAGE:.2f}", "", ""])
    header = ["domain", "MiniLM (ours)", "int8", "types ignored", "CrossNER BERT-base PTF", "fine-tune s",
              "pre-train s"]
    return _table(header, rows)


def encoder_map(results: Path) -> str:
    """MiniLM PTF with label init map, 1 pre-training epoch (bench/results/encoder_map.json)."""
    return _encoder_map_table(results, "encoder_map.json")


def encoder_map_3source(results: Path) -> str:
    """The same with 3 pre-training epochs (bench/results/encoder_map_3source.json)."""
    return _encoder_map_table(results, "encoder_map_3source.json")


def _speed(results: Path, name: str) -> str:
    speed = _json(results, name)["speed"]

    def cell(precision: str, threads: int) -> str:
        value = speed[f"{precision}, {threads} thread{'s' if threads > 1 else ''}"]
        return f"{value:,.1f} words/s"

    rows = [["fp32", cell("fp32", 1), cell("fp32", 2)],
            ["int8 (dynamic, encoder Linear layers)", cell("int8", 1), cell("int8", 2)]]
    return _table(["precision", "1 thread", "2 threads"], rows)


def encoder_fresh_speed(results: Path) -> str:
    """Inference words/s of bench/results/encoder.json."""
    return _speed(results, "encoder.json")


def encoder_map_speed(results: Path) -> str:
    """Inference words/s of bench/results/encoder_map.json."""
    return _speed(results, "encoder_map.json")


def encoder_dft_ai_speed(results: Path) -> str:
    """Inference words/s of bench/results/encoder_dft_ai.json."""
    return _speed(results, "encoder_dft_ai.json")


def encoder_dft_ai(results: Path) -> str:
    """MiniLM trained on ai alone (DFT), one seed."""
    r = _json(results, "encoder_dft_ai.json")["runs"]["dft/ai/0"]
    row = ["ai", f"{r['f1']:.2f}", f"{r['f1_int8']:.2f}", f"{r['finetune_seconds']} s", f"{BERT_PTF['ai']:.2f}"]
    header = ["domain", "MiniLM DFT test F1", "int8 test F1", "fine-tune wall time", "CrossNER BERT-base PTF"]
    return _table(header, [row])


def _beside_reference(rows: list[Row], reference: dict[str, Row], ours: str, theirs: str) -> str:
    """Per domain: mean ± std of ``rows``' test F1, of the reference runs of the same seeds, BERT-base."""
    out, means, reference_means = [], [], []
    for domain in DOMAINS:
        mine = [r for r in rows if r["domain"] == domain]
        base = [reference[f"ptf/{domain}/{r['seed']}"]["f1"] for r in mine]
        means.append(statistics.mean(r["test_f1"] for r in mine))
        reference_means.append(statistics.mean(base))
        out.append([domain, str(len(mine)), _mean_std([r["test_f1"] for r in mine]), _mean_std(base),
                    f"{BERT_PTF[domain]:.2f}"])
    out.append(["average", "", f"{statistics.mean(means):.2f}", f"{statistics.mean(reference_means):.2f}",
                f"{BERT_PTF_AVERAGE:.2f}"])
    return _table(["domain", "seeds", ours, theirs, "CrossNER BERT-base PTF"], out)


def _map_probe_rows(results: Path) -> list[Row]:
    return _jsonl(results, "encoder_probes_seed0.jsonl") + _jsonl(results, "encoder_probes.jsonl")


def encoder_label_init_runs(results: Path) -> str:
    """Each MiniLM PTF run with label init map beside the fresh run of the same domain and seed."""
    fresh = _json(results, "encoder.json")["runs"]
    rows = []
    for r in sorted(_map_probe_rows(results), key=lambda r: (r["seed"], DOMAINS.index(r["domain"]))):
        base = fresh[f"ptf/{r['domain']}/{r['seed']}"]
        untyped = f"{r['test_untyped_f1']:.2f}" if "test_untyped_f1" in r else "-"
        rows.append([r["domain"], str(r["seed"]), f"{base['f1']:.2f}", f"{r['test_f1']:.2f}",
                     f"{r['test_f1'] - base['f1']:+.2f}", f"{base['dev_f1']:.2f}", f"{r['dev_f1']:.2f}", untyped])
    header = ["domain", "seed", "test F1, fresh", "test F1, map", "gain", "dev F1, fresh", "dev F1, map",
              "untyped test F1, map"]
    return _table(header, rows)


def encoder_label_init(results: Path) -> str:
    """Per domain, label init map vs fresh over the same 3 seeds, beside BERT-base."""
    fresh = _json(results, "encoder.json")["runs"]
    return _beside_reference(_map_probe_rows(results), fresh, "MiniLM PTF, label init map", "fresh (same seeds)")


def encoder_staged(results: Path) -> str:
    """CoNLL-2003 -> five CrossNER train splits (test text left out) -> target, beside PTF."""
    rows = _jsonl(results, "encoder_multidomain_guarded.jsonl")
    ptf = _json(results, "encoder_map_3source.json")["runs"]
    return _beside_reference(rows, ptf, "CoNLL → 5 CrossNER → target", "PTF (CoNLL → target), same seeds")


def encoder_staged_rerun(results: Path) -> str:
    """The seed-0 records of the staged recipe beside their rerun."""
    first = {r["domain"]: r["test_f1"] for r in _jsonl(results, "encoder_multidomain_guarded.jsonl") if r["seed"] == 0}
    rerun = {r["domain"]: r["test_f1"] for r in _jsonl(results, "encoder_multidomain_guarded_rerun.jsonl")}
    rows = [[d, f"{first[d]:.2f}", f"{rerun[d]:.2f}"] for d in DOMAINS]
    rows.append(["average", f"{statistics.mean(first.values()):.2f}", f"{statistics.mean(rerun.values()):.2f}"])
    return _table(["domain", "recovered record, seed 0", "rerun, seed 0"], rows)


def probe_sweep(results: Path) -> str:
    """One-run probes (seed 0), as recorded in bench/results/encoder_probes_sweep.jsonl."""
    rows = [[r["variant"], r["domain"], str(r["threads"]), f"{r['dev_f1']:.2f}", f"{r['test_f1']:.2f}"]
            for r in _jsonl(results, "encoder_probes_sweep.jsonl")]
    return _table(["variant (as recorded)", "domain", "threads", "dev F1", "test F1"], rows)


def probe_soup(results: Path) -> str:
    """Model soups of K fine-tunings (bench/results/encoder_soup.jsonl)."""
    def joined(singles: list[Row], key: str) -> str:
        return ", ".join(f"{s[key]:.2f}" for s in singles)

    rows = []
    for r in _jsonl(results, "encoder_soup.jsonl"):
        singles, uniform, greedy = r["singles"], r["uniform"], r["greedy"]
        best = max(singles, key=lambda s: s["dev_f1"])
        rows.append([r["domain"], str(r["seed"]), str(len(singles)), joined(singles, "dev_f1"),
                     joined(singles, "test_f1"), f"{uniform['dev_f1']:.2f} / {uniform['test_f1']:.2f}",
                     f"{greedy['dev_f1']:.2f} / {greedy['test_f1']:.2f} ({len(greedy['members'])})",
                     f"{best['test_f1']:.2f}"])
    header = ["domain", "seed", "K", "single runs: dev F1", "single runs: test F1", "uniform soup dev / test",
              "greedy soup (models) dev / test", "best single by dev: test"]
    return _table(header, rows)


TABLES: dict[str, Callable[[Path], str]] = {
    "bilstm_quality": bilstm_quality,
    "bilstm_quality_strict": bilstm_quality_strict,
    "bilstm_label_init": bilstm_label_init,
    "bilstm_defaults": bilstm_defaults,
    "encoder_precision_cpu": encoder_precision_cpu,
    "encoder_defaults": encoder_defaults,
    "bilstm_speed": bilstm_speed,
    "full_study": full_study,
    "full_study_encoder": full_study_encoder,
    "full_study_timed": full_study_timed,
    "fit_reuse": fit_reuse,
    "faster_study_probes": faster_study_probes,
    "full_study_schema0": full_study_schema0,
    "stopping_rule": stopping_rule,
    "profile_run": profile_run,
    "encoder_fresh": encoder_fresh,
    "encoder_fresh_speed": encoder_fresh_speed,
    "encoder_label_init_runs": encoder_label_init_runs,
    "encoder_label_init": encoder_label_init,
    "encoder_map": encoder_map,
    "encoder_map_speed": encoder_map_speed,
    "encoder_map_3source": encoder_map_3source,
    "encoder_staged": encoder_staged,
    "encoder_staged_rerun": encoder_staged_rerun,
    "encoder_dft_ai": encoder_dft_ai,
    "encoder_dft_ai_speed": encoder_dft_ai_speed,
    "probe_sweep": probe_sweep,
    "probe_soup": probe_soup,
}
