"""The study report: ``DIR/report/README.md`` plus PNGs, every number read from the store.

Timings are left out on purpose: they differ between machines and between an interrupted and
an uninterrupted study, while everything here must not (``xner study status`` shows them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xner.atomic import atomic_dir, write_text
from xner.evaluation.plots import plot_curves, plot_heatmap
from xner.evaluation.report import evaluation_report, write_confusion
from xner.study.findings import findings
from xner.study.grid import BASELINE
from xner.study.store import RunRow, Store
from xner.study.summary import Group, format_p, load_predictions, setting_text, summarise

METHOD_NAMES = {
    "random": "PTF + random pool data",
    "similar": "PTF + most similar domain",
    "dissimilar": "PTF + most dissimilar domain",
    "uncertainty": "PTF + active learning (uncertainty)",
    "uncertainty_random": "PTF + random picks (same size as AL)",
    "staged": "PTF + a stage on pool + target train, then target",
    "reannotate": "PTF, uncertain target tokens re-annotated (simulated oracle)",
    "o_weight": "PTF with the O tag's loss down-weighted",
    "dft": "DFT (target only)",
    "jt": "JT (source + target jointly)",
}


def _pm(group: Group) -> str:
    """Test F1 ``mean ± std`` over seeds; one seed has no spread, so it reads ``F1 (1 seed)``, not ``± 0``."""
    if len(group.values()) > 1:
        return f"{group.mean:.4f} ± {group.std:.4f}"
    return f"{group.mean:.4f} (1 seed)"


def _tokens(group: Group) -> str:
    tokens = group.n_added_tokens
    return "—" if tokens is None else f"{tokens:.0f}"


_p = format_p
# A row whose seeds spread wider than this (std of test F1) gets its runs shown under the table.
WIDE_STD = 0.05


def _setting(group: Group, budget: int | None) -> str:
    text = setting_text(group.method, group.setting)
    if group.method.startswith("uncertainty") and budget:
        text += f" × {budget}"
    return text or "—"


def _curve(groups: list[Group], method: str, mode: str, base: Group | None,
           x: str = "setting") -> tuple[list[float], list[float], list[float]] | None:
    """(xs, means, stds) for one method and label mode, starting from the 0% baseline."""
    chosen = sorted((g for g in groups if g.method == method and g.label_mode == mode),
                    key=lambda g: g.setting)
    if base is not None and method != "random":
        chosen = [base, *chosen]
    if not chosen:
        return None
    xs = [g.setting if x == "setting" else float(getattr(g, x) or 0.0) for g in chosen]
    if base is not None and method != "random":
        xs[0] = 0.0
    return xs, [g.mean for g in chosen], [g.std for g in chosen]


def _base(groups: list[Group], mode: str) -> Group | None:
    return next((g for g in groups if (g.method, g.setting) == BASELINE and g.label_mode == mode), None)


def _figures(groups: list[Group], modes: list[str], out: Path, names: dict[str, str]) -> list[str]:
    lines: list[str] = []
    series = {m: c for m in modes if (c := _curve(groups, "random", m, None))}
    if series:
        plot_curves(series, "% of the pool added", "test entity F1", "Random data: raw vs normalised",
                    out / "curves_random.png")
        lines += ["### Random data: learning curves (raw vs normalised, ± std over seeds)", "",
                  "![random](curves_random.png)", ""]
    for mode in modes:
        base = _base(groups, mode)
        sim = {names.get(k, k): c for k in ("random", "similar", "dissimilar")
               if (c := _curve(groups, k, mode, base)) and any(g.method == k for g in groups)}
        if len(sim) > 1:
            plot_curves(sim, "% added", "test entity F1", f"Similar vs dissimilar vs random ({mode})",
                        out / f"similarity_{mode}.png")
            lines += [f"### Similar vs dissimilar vs random ({mode})", "", f"![similarity](similarity_{mode}.png)", ""]
        unc = {names.get(k, k): c for k in ("uncertainty", "uncertainty_random")
               if (c := _curve(groups, k, mode, base, x="n_added")) and any(g.method == k for g in groups)}
        if unc:
            plot_curves(unc, "sentences added from the pool", "test entity F1",
                        f"Uncertainty sampling vs random ({mode})", out / f"uncertainty_{mode}.png")
            lines += [f"### Uncertainty sampling vs random of the same size ({mode})", "",
                      f"![uncertainty](uncertainty_{mode}.png)", ""]
        lines += _token_figure(groups, mode, base, out, names)
    return lines


def _token_figure(groups: list[Group], mode: str, base: Group | None, out: Path, names: dict[str, str]) -> list[str]:
    """Uncertainty sampling, its twin and random pool shares against the tokens they added."""
    chosen = [k for k in ("uncertainty", "uncertainty_random", "random")
              if any(g.method == k and g.label_mode == mode for g in groups)]
    if "uncertainty" not in chosen or any(g.n_added_tokens is None for g in groups
                                          if g.method in chosen and g.label_mode == mode and g is not base):
        return []
    series = {names.get(k, k): c for k in chosen if (c := _curve(groups, k, mode, base, x="n_added_tokens"))}
    plot_curves(series, "tokens added from the pool", "test entity F1",
                f"Uncertainty sampling vs random, by tokens added ({mode})", out / f"uncertainty_tokens_{mode}.png")
    return [f"### Uncertainty sampling vs random at equal cost in tokens ({mode})", "",
            f"![uncertainty by tokens](uncertainty_tokens_{mode}.png)", ""]


def _modes_line(groups: list[Group]) -> list[str]:
    """Raw vs normalised labels for the baseline: the comparison the reference study led with."""
    raw, norm = _base(groups, "raw"), _base(groups, "normalised")
    if raw is None or norm is None:
        return []
    ratio = f" (× {norm.mean / raw.mean:.2f})" if raw.mean > 0 else ""
    return [f"Label normalisation, baseline (PTF, 0% added): test F1 {_pm(raw)} with raw labels, "
            f"{_pm(norm)} with normalised labels{ratio}.", ""]


def _results_table(groups: list[Group], budget: int | None, names: dict[str, str]) -> list[str]:
    lines = ["| label mode | method | setting | sentences added | tokens added | test F1 (mean ± std) | seeds "
             "| Δ vs baseline | p (paired bootstrap) | p (Holm-adjusted) |", "|---" * 10 + "|"]
    for g in groups:
        base = _base(groups, g.label_mode)
        delta = "—" if base is None or g is base else f"{g.mean - base.mean:+.4f}"
        lines.append(f"| {g.label_mode} | {names[g.method]} | {_setting(g, budget)} | {g.n_added:.0f} | {_tokens(g)} "
                     f"| {_pm(g)} | {len(g.runs)} | {delta} | {_p(g.p_value)} | {_p(g.p_adjusted)} |")
    return [*lines, "", "Sentences and tokens added: means over seeds (the sentences differ between seeds)."]


def _spread_lines(groups: list[Group], budget: int | None, names: dict[str, str]) -> list[str]:
    """Every row with a std above WIDE_STD, its runs one by one: where each peaked on dev and when
    it stopped, so a reader sees whether one seed failed (an early stop) or all of them vary."""
    wide = [g for g in groups if len(g.values()) > 1 and g.std > WIDE_STD]
    if not wide:
        return [f"No row has a std of test F1 above {WIDE_STD:g}.", ""]
    lines = [f"### Rows with a std above {WIDE_STD:g}", "",
             "| label mode | method | setting | seed | test F1 | dev F1 | best epoch | epochs run |",
             "|---|---|---|---|---|---|---|---|"]
    for g in wide:
        for r in sorted(g.runs, key=lambda r: r.seed):
            m = r.metrics or {}
            lines.append(f"| {g.label_mode} | {names[g.method]} | {_setting(g, budget)} "
                         f"| {r.seed} | {_num(m.get('test_f1'))} | {_num(m.get('dev_f1'))} "
                         f"| {_int(m.get('best_epoch'))} | {_int(m.get('epochs_run'))} |")
    return [*lines, ""]


def _num(value: Any) -> str:
    return "—" if value is None else f"{float(value):.4f}"


def _int(value: Any) -> str:
    return "—" if value is None else str(int(value))


def _flag_lines(groups: list[Group], threshold: float | None) -> list[str]:
    lines = []
    for g in groups:
        if (g.method, g.setting) == BASELINE:
            seeds = [(r.seed, r.metrics) for r in sorted(g.runs, key=lambda r: r.seed)
                     if r.metrics and "flagged_tokens" in r.metrics]
            lines += [f"- {g.label_mode}, seed {seed}: {int(m['flagged_tokens'])} of {int(m['train_tokens'])} tokens "
                      f"in {int(m['flagged_sentences'])} sentences" for seed, m in seeds]
    if not lines:
        return []
    return [f"## Uncertain tokens in the target's training set (entropy > {threshold:g})", "",
            "Flagged by the baseline model (PTF, 0% added); `xner annotate export` writes them for review.", "",
            *lines, ""]


def _dist(table: dict[str, Any], a: str, b: str) -> float:
    names = table["names"]
    return float(table["values"][names.index(a)][names.index(b)])


def _target_section(store: Store, out: Path) -> list[str]:
    lines: list[str] = []
    choice = store.artefact("target_choice")
    if choice:
        lines += [f"## Target choice ({choice['label_mode']} labels, seed {choice['seed']})", "",
                  "The pre-trained source model fine-tuned on each candidate's train split, scored on its "
                  "dev split; the worst becomes the target.", "",
                  "| domain | train | dev | dev F1 |", "|---|---|---|---|"]
        lines += [f"| {r['domain']} | {r.get('train', '')} | {r.get('dev', '')} | {float(r['dev_f1']):.4f} |"
                  for r in choice["rows"]]
        lines += ["", f"Target: **{choice['target']}**", ""]
    dist = store.artefact("distances")
    if dist:
        metric = dist["key"]["metric"]
        table = dist["tables"][metric]
        plot_heatmap(table["values"], table["names"], table["names"],
                     f"{metric} distance ({dist['key']['method']})", out / "distances.png", fmt=".3f")
        lines += [f"## Domain distances ({dist['key']['method']}, {metric})", "", "![distances](distances.png)", "",
                  "Pool domains from most to least similar to the target (distance): "
                  + ", ".join(f"{n} ({_dist(table, dist['key']['target'], n):.3f})" for n in dist["ranking"]), ""]
    return lines


def _best_section(study_dir: Path, groups: list[Group], out: Path) -> list[str]:
    runs = [r for g in groups for r in g.runs if r.metrics]
    if not runs:
        return []
    best: RunRow = max(runs, key=lambda r: (float(r.metrics["test_f1"]), r.id))  # type: ignore[index]
    pred = load_predictions(study_dir, best)
    rep: dict[str, Any] = evaluation_report(pred["gold"], pred["pred"])
    write_confusion(rep, out)
    lines = [f"## Best run: {METHOD_NAMES[best.method]}, {best.setting:g}, {best.label_mode}, seed {best.seed}",
             "", f"Run `{best.id[:12]}`, test F1 {float(best.metrics['test_f1']):.4f}.", "",  # type: ignore[index]
             "| type | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, s in rep["entity"]["per_type"].items():
        lines.append(f"| {name} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {s['support']} |")
    return [*lines, "", "![confusion matrix](confusion.png)", ""]


def _header(store: Store, groups: list[Group]) -> list[str]:
    cfg = store.artefact("config") or {}
    grid = store.artefact("grid") or {}
    ids = list(grid.get("pretrain", [])) + list(grid.get("runs", []))
    counts = store.counts(ids)
    lines = [f"# Study `{cfg.get('name', '?')}`", "",
             f"Source **{cfg.get('source')}**, target **{grid.get('target', '?')}**, pool "
             f"{', '.join(grid.get('pool', []))}; backbone {cfg.get('backbone')}; seeds "
             f"{', '.join(str(s) for s in cfg.get('seeds', []))}.", "",
             "Runs: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + ".", "",
             "Every number below is read from `study.db`. F1 is seqeval's micro entity F1 (default mode) on "
             "the target's test split. p: paired bootstrap over test sentences (1000 resamples, seeded, "
             "two-sided) against PTF with 0% added data, same label mode and seeds; adjusted p: Holm-Bonferroni over "
             "all of them.", ""]
    if counts.get("done", 0) < len(ids):
        lines += [f"**Incomplete:** {len(ids) - counts.get('done', 0)} of {len(ids)} runs are not done.", ""]
    return lines


def write_report(study_dir: str | Path) -> Path:
    """Write ``DIR/report/`` (replacing it whole) and return the README path."""
    study_dir = Path(study_dir)
    with Store(study_dir, readonly=True) as store:
        store.check_schema()
        groups = summarise(study_dir, store)
        cfg = store.artefact("config") or {}
        budget = cfg.get("methods", {}).get("uncertainty", {}).get("budget")
        modes = [m for m in cfg.get("label_modes", []) if any(g.label_mode == m for g in groups)]
        names = dict(METHOD_NAMES)
        dist = store.artefact("distances")
        if dist and dist.get("ranking"):
            names["similar"] += f" ({dist['ranking'][0]})"
            names["dissimilar"] += f" ({dist['ranking'][-1]})"
        with atomic_dir(study_dir / "report") as out:
            lines = _header(store, groups)
            if groups:
                lines += findings(groups, modes, names)
            lines += _target_section(store, out)
            if groups:
                lines += ["## Results", "", *_modes_line(groups), *_results_table(groups, budget, names), "",
                          *_spread_lines(groups, budget, names), "## Figures", ""]
                lines += _figures(groups, modes, out, names)
                threshold = cfg.get("methods", {}).get("uncertainty", {}).get("threshold")
                lines += _flag_lines(groups, threshold)
                lines += _best_section(study_dir, groups, out)
            write_text(out / "README.md", "\n".join(lines).rstrip() + "\n")
    return study_dir / "report" / "README.md"

