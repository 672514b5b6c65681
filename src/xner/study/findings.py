"""Findings first: what a study's numbers say, as sentences generated from its summary groups.

The best method per label mode (gain over the baseline, Holm-adjusted p), whether normalised
labels help and by how much, whether uncertainty sampling beats random picks at equal cost in
tokens, and the reference study's claims beside ours (``xner.study.claims``).
"""

from __future__ import annotations

import numpy as np

from xner.study.claims import Verdict, check_all, data_gains
from xner.study.grid import BASELINE
from xner.study.summary import Group, format_p, setting_text

ALPHA = 0.05
RANDOM_DRAWS = ("random", "uncertainty_random")  # random sentences of the same pool: cost curve


def _base(groups: list[Group], mode: str) -> Group | None:
    return next((g for g in groups if (g.method, g.setting) == BASELINE and g.label_mode == mode), None)


def _significance(g: Group) -> str:
    if g.p_adjusted is None:
        return "no p-value"
    word = "significant" if g.p_adjusted < ALPHA else "not significant"
    return f"adjusted p {format_p(g.p_adjusted)}, {word} at {ALPHA:g}"


def best_lines(groups: list[Group], modes: list[str], names: dict[str, str]) -> list[str]:
    """The best group of each label mode against its baseline."""
    lines = []
    for mode in modes:
        base = _base(groups, mode)
        gains = [(g, d) for g, d in data_gains(groups) if g.label_mode == mode]
        if base is None or not gains:
            continue
        best, gain = max(gains, key=lambda x: (x[1], x[0].method, x[0].setting))
        verb = "beats" if gain > 0 else "does not beat"
        setting = f" ({text})" if (text := setting_text(best.method, best.setting)) else ""
        lines.append(f"- **{mode} labels**: the best method, {names[best.method]}{setting}, {verb} "
                     f"the baseline: test F1 {best.mean:.4f} vs {base.mean:.4f} ({gain:+.4f}; "
                     f"{_significance(best)}).")
    return lines


def normalisation_lines(groups: list[Group]) -> list[str]:
    """Normalised vs raw labels: the baseline per seed, and every method/setting run in both modes."""
    raw, norm = _base(groups, "raw"), _base(groups, "normalised")
    if raw is None or norm is None:
        return []
    by_seed = {r.seed: float(r.metrics["test_f1"]) for r in raw.runs if r.metrics}
    diffs = [float(r.metrics["test_f1"]) - by_seed[r.seed] for r in norm.runs if r.metrics and r.seed in by_seed]
    pairs = [(g, other) for g in groups if g.label_mode == "raw"
             for other in groups if other.label_mode == "normalised"
             and (other.method, other.setting) == (g.method, g.setting)]
    better = sum(o.mean > g.mean for g, o in pairs)
    mean_diff = float(np.mean([o.mean - g.mean for g, o in pairs])) if pairs else 0.0
    ratio = f", × {norm.mean / raw.mean:.2f}" if raw.mean > 0 else ""
    return [f"- **Normalisation**: the baseline scores {norm.mean - raw.mean:+.4f} test F1 with normalised "
            f"labels ({raw.mean:.4f} → {norm.mean:.4f}{ratio}; higher in {sum(d > 0 for d in diffs)} of "
            f"{len(diffs)} seeds); over the {len(pairs)} method/setting pairs run in both modes normalised "
            f"labels score higher in {better}, by {mean_diff:+.4f} on average. (Normalised F1 is measured "
            f"over the generic types, an easier task than the domain's own types.)"]


def _random_curve(groups: list[Group], mode: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean F1 of random draws from the pool against mean tokens added (0 = the baseline)."""
    points: dict[float, list[float]] = {}
    for g in groups:
        if g.label_mode == mode and g.method in RANDOM_DRAWS:
            tokens = 0.0 if (g.method, g.setting) == BASELINE else g.n_added_tokens
            if tokens is not None:
                points.setdefault(tokens, []).append(g.mean)
    if len(points) < 2:
        return None
    xs = np.array(sorted(points))
    return xs, np.array([float(np.mean(points[x])) for x in xs])


def equal_token_lines(groups: list[Group], mode: str) -> list[str]:
    """Uncertainty sampling vs random at matched token cost, for one label mode."""
    unc = sorted((g for g in groups if g.method == "uncertainty" and g.label_mode == mode), key=lambda g: g.setting)
    if not unc:
        return []
    if any(g.n_added_tokens is None for g in unc):
        return [f"- **Uncertainty vs random at equal tokens ({mode})**: not measured (these runs predate "
                "token counts; rerun them)."]
    twins = {g.setting: g for g in groups if g.method == "uncertainty_random" and g.label_mode == mode}
    parts, wins, compared = [], 0, 0
    curve = _random_curve(groups, mode)
    for g in unc:
        tokens = float(g.n_added_tokens or 0.0)
        text = f"round {g.setting:g}: {tokens:.0f} tokens, F1 {g.mean:.4f}"
        twin = twins.get(g.setting)
        if twin is not None and twin.n_added_tokens:
            text += (f"; its random twin (as many sentences) {twin.n_added_tokens:.0f} tokens "
                     f"(uncertainty took × {tokens / twin.n_added_tokens:.2f}), F1 {twin.mean:.4f}")
        if curve is not None and curve[0][0] <= tokens <= curve[0][-1]:
            at = float(np.interp(tokens, *curve))
            compared += 1
            wins += g.mean > at
            text += f"; random interpolated at {tokens:.0f} tokens: F1 {at:.4f} ({g.mean - at:+.4f})"
        elif curve is not None:
            text += f"; beyond the random runs' largest cost ({curve[0][-1]:.0f} tokens): not compared"
        parts.append(text)
    verdict = (f"beats random at equal tokens in {wins} of {compared} round(s)" if compared
               else "no random run spans its token cost")
    return [f"- **Uncertainty vs random at equal tokens ({mode})**: uncertainty sampling {verdict}. "
            + "; ".join(parts) + "."]


def claims_lines(verdicts: list[Verdict]) -> list[str]:
    lines = ["### The reference study's claims beside ours", "",
             "Claims restated in our words from `xner/study/claims.toml` (section of the reference study), "
             "each checked against this study's numbers.", "",
             "| claim | reference (§) | ours | verdict |", "|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| `{v.claim.id}` | {v.claim.statement} (§{v.claim.section}) | {v.ours} | {v.verdict} |")
    return [*lines, ""]


def findings(groups: list[Group], modes: list[str], names: dict[str, str]) -> list[str]:
    """The report's opening section."""
    lines = ["## Findings", "",
             f"Generated from the results below. Adjusted p: Holm-Bonferroni over every p-value in the results "
             f"table (family-wise error rate {ALPHA:g}).", ""]
    lines += best_lines(groups, modes, names)
    lines += normalisation_lines(groups)
    for mode in modes:
        lines += equal_token_lines(groups, mode)
    return [*lines, "", *claims_lines(check_all(groups))]
