"""The reference study's claims, kept as data (``claims.toml``), checked against a study's numbers.

Each claim has an id, the reference's conclusion in our words, where the reference makes it and
a test (``[claims.test]``, kinds described in ``claims.toml``). ``check`` evaluates a test on
the summary groups of a study (``xner.study.summary``) and says what our numbers are and
whether the claim holds, does not hold, or is not measured by this study's grid.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from xner.errors import ConfigError
from xner.study.grid import BASELINE
from xner.study.summary import Group, format_p, setting_text

HOLDS, FAILS, UNMEASURED = "holds", "does not hold", "not measured"


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    statement: str
    test: dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    verdict: str  # HOLDS, FAILS or UNMEASURED
    ours: str  # our numbers, one line


def load_claims(path: Path | None = None) -> list[Claim]:
    """The claims file (default: the one shipped with xner); a test of unknown kind is an error."""
    text = path.read_text(encoding="utf-8") if path else \
        resources.files("xner.study").joinpath("claims.toml").read_text(encoding="utf-8")
    where = path or Path("claims.toml")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"cannot read claims: {err}", where) from None
    claims = []
    for entry in data.get("claims", []):
        try:
            claim = Claim(entry["id"], str(entry["section"]), entry["statement"], dict(entry["test"]))
        except KeyError as err:
            raise ConfigError(f"a claim lacks {err}", where) from None
        if claim.test.get("kind") not in KINDS:
            raise ConfigError(f"claim {claim.id}: unknown test kind {claim.test.get('kind')!r}", where)
        claims.append(claim)
    return claims


def _find(groups: list[Group], method: str, setting: float, mode: str) -> Group | None:
    return next((g for g in groups if (g.method, g.setting, g.label_mode) == (method, float(setting), mode)), None)


def _base(groups: list[Group], mode: str) -> Group | None:
    return _find(groups, *BASELINE, mode)


def _curve(groups: list[Group], method: str, mode: str) -> list[Group]:
    """The method's groups by setting; a percentage method's 0% is the baseline."""
    return sorted((g for g in groups if g.method == method and g.label_mode == mode), key=lambda g: g.setting)


def _ratio(test: dict[str, Any], groups: list[Group]) -> tuple[str, str]:
    a, b = (_find(groups, t["method"], t["setting"], t["label_mode"]) for t in (test["a"], test["b"]))
    if a is None or b is None or b.mean <= 0:
        return UNMEASURED, "the study has not both groups"
    ratio = a.mean / b.mean
    return (HOLDS if ratio >= test["at_least"] else FAILS,
            f"{a.mean:.4f} / {b.mean:.4f} = × {ratio:.2f} (claimed × {test['at_least']:g} or more)")


def _beats(test: dict[str, Any], groups: list[Group]) -> tuple[str, str]:
    mode = test["label_mode"]
    a = {g.setting: g for g in _curve(groups, test["a"], mode)}
    b = {g.setting: g for g in _curve(groups, test["b"], mode)}
    shared = sorted(set(a) & set(b))
    if not shared:
        return UNMEASURED, f"no setting of both {test['a']} and {test['b']} ({mode})"
    diff = sum(a[s].mean - b[s].mean for s in shared) / len(shared)
    spread = sum(a[s].std + b[s].std for s in shared) / (2 * len(shared))
    note = " (smaller than the seeds' std)" if abs(diff) < spread else ""
    where = ", ".join(f"{s:g}%" for s in shared)
    return HOLDS if diff > 0 else FAILS, f"{test['a']} − {test['b']} = {diff:+.4f} F1 at {where}, {mode}{note}"


def _best_setting(test: dict[str, Any], groups: list[Group]) -> tuple[str, str]:
    parts, verdicts = [], []
    for mode in test["label_modes"]:
        curve = _curve(groups, test["method"], mode)
        if not any(g.setting == float(test["setting"]) for g in curve):
            continue
        best = max(curve, key=lambda g: g.mean)
        verdicts.append(best.setting == float(test["setting"]))
        parts.append(f"{mode}: best at {best.setting:g}% ({best.mean:.4f})")
    if not verdicts:
        return UNMEASURED, f"the grid has no {test['setting']:g}% {test['method']} run"
    return HOLDS if all(verdicts) else FAILS, "; ".join(parts)


def _gain(test: dict[str, Any], groups: list[Group]) -> tuple[str, str]:
    alpha = float(test.get("alpha", 0.05))
    ran = [m for m in test["methods"] if any(g.method == m for g in groups)]
    if not ran:
        return UNMEASURED, f"the study ran none of {', '.join(test['methods'])}"
    parts, verdicts = [], []
    for mode in test["label_modes"]:
        curve, base = _curve(groups, ran[0], mode), _base(groups, mode)
        if not curve or base is None or curve[-1] is base:
            continue
        top = curve[-1]
        verdicts.append(top.mean > base.mean and top.p_adjusted is not None and top.p_adjusted < alpha)
        parts.append(f"{mode}: {ran[0]} {setting_text(top.method, top.setting)} {top.mean - base.mean:+.4f} "
                     f"(adjusted p {format_p(top.p_adjusted)})")
    if not verdicts:
        return UNMEASURED, f"no {ran[0]} run with a baseline"
    return HOLDS if all(verdicts) else FAILS, "; ".join(parts)


def data_gains(groups: list[Group]) -> list[tuple[Group, float]]:
    """Every group that adds data or trains differently, with its gain over its mode's baseline."""
    out = []
    for g in groups:
        base = _base(groups, g.label_mode)
        if base is not None and g is not base:
            out.append((g, g.mean - base.mean))
    return out


def _normalisation_first(test: dict[str, Any], groups: list[Group]) -> tuple[str, str]:
    raw, norm = _base(groups, "raw"), _base(groups, "normalised")
    gains = data_gains(groups)
    if raw is None or norm is None or not gains:
        return UNMEASURED, "needs both label modes and a method besides the baseline"
    best, gain = max(gains, key=lambda x: x[1])
    norm_gain = norm.mean - raw.mean
    return (HOLDS if norm_gain > gain else FAILS,
            f"normalising {norm_gain:+.4f} F1; best other gain {gain:+.4f} ({best.method} "
            f"{setting_text(best.method, best.setting)}, {best.label_mode})".replace(" ,", ","))


KINDS: dict[str, Callable[[dict[str, Any], list[Group]], tuple[str, str]]] = {
    "ratio": _ratio, "beats": _beats, "best_setting": _best_setting, "gain": _gain,
    "normalisation_first": _normalisation_first,
}


def check(claim: Claim, groups: list[Group]) -> Verdict:
    verdict, ours = KINDS[claim.test["kind"]](claim.test, groups)
    return Verdict(claim, verdict, ours)


def check_all(groups: list[Group], claims: list[Claim] | None = None) -> list[Verdict]:
    return [check(c, groups) for c in (claims if claims is not None else load_claims())]
