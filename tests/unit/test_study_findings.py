"""Holm-adjusted p-values, the reference claims as data, and the findings generated from numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xner.study.claims import FAILS, HOLDS, UNMEASURED, Claim, check, load_claims
from xner.study.findings import equal_token_lines, findings, normalisation_lines
from xner.study.store import RunRow
from xner.study.summary import Group, holm

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cross-domain-ner-report.md"


def test_holm_by_hand() -> None:
    # m = 4 (None is not a test). Sorted: .005 .01 .03 .04 -> 4*.005=.02, 3*.01=.03, 2*.03=.06,
    # 1*.04=.04 but never below the previous one -> .06.
    got = holm([0.01, 0.04, 0.03, 0.005, None])
    assert got[4] is None
    assert got[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_ties_and_capping() -> None:
    # Ties: 3*.02 = .06, then max(.06, 2*.02) = .06: equal p-values get equal adjusted ones.
    assert holm([0.02, 0.5, 0.02]) == pytest.approx([0.06, 0.5, 0.06])
    # Capping at 1: 3*.3 = .9, 2*.6 = 1.2 -> 1, then max(1, .9) = 1; a raw p of 1 stays 1.
    assert holm([0.6, 0.3, 0.9]) == pytest.approx([1.0, 0.9, 1.0])
    assert holm([1.0, 0.001]) == pytest.approx([1.0, 0.002])
    assert holm([]) == [] and holm([None]) == [None]
    # One test is not corrected at all.
    assert holm([0.04]) == pytest.approx([0.04])


def _row(method: str, setting: float, mode: str, seed: int, f1: float, tokens: int | None = None) -> RunRow:
    metrics: dict[str, object] = {"test_f1": f1, "n_added": int(setting)}
    if tokens is not None:
        metrics["n_added_tokens"] = tokens
    return RunRow(f"{method}{setting}{mode}{seed}", method, setting, mode, seed, "b", {}, "done", 1,
                  None, None, 1.0, metrics, None, None, None)


def _group(method: str, setting: float, mode: str, f1s: list[float], tokens: list[int] | None = None,
           p: float | None = None) -> Group:
    g = Group(method, float(setting), mode)
    g.runs = [_row(method, setting, mode, i + 1, f, tokens[i] if tokens else None) for i, f in enumerate(f1s)]
    g.p_value = g.p_adjusted = p
    return g


def _study() -> list[Group]:
    return [
        _group("random", 0, "raw", [0.10, 0.12], [0, 0]),
        _group("random", 50, "raw", [0.20, 0.22], [900, 1100], p=0.001),
        _group("similar", 50, "raw", [0.15, 0.15], [500, 500], p=0.02),
        _group("dissimilar", 50, "raw", [0.18, 0.18], [400, 400], p=0.01),
        _group("uncertainty", 1, "raw", [0.19, 0.19], [300, 300], p=0.2),
        _group("uncertainty_random", 1, "raw", [0.13, 0.13], [100, 100], p=0.5),
        _group("random", 0, "normalised", [0.40, 0.42], [0, 0]),
        _group("random", 50, "normalised", [0.45, 0.47], [900, 1100], p=0.04),
    ]


def test_shipped_claims_are_data_in_our_own_words() -> None:
    claims = load_claims()
    assert len(claims) >= 5 and len({c.id for c in claims}) == len(claims)
    if REFERENCE.is_file():  # no run of eight words is copied from the reference
        words = re.findall(r"[a-z0-9%]+", REFERENCE.read_text(encoding="utf-8").lower())
        grams = {" ".join(words[i:i + 8]) for i in range(len(words) - 7)}
        for c in claims:
            mine = re.findall(r"[a-z0-9%]+", c.statement.lower())
            assert not {" ".join(mine[i:i + 8]) for i in range(len(mine) - 7)} & grams, c.id


def test_claims_checked_against_numbers() -> None:
    groups = _study()
    by_id = {c.id: check(c, groups) for c in load_claims()}
    # 0.41 / 0.11 = x3.73 >= 3
    assert by_id["normalise-triples"].verdict == HOLDS and "× 3.73" in by_id["normalise-triples"].ours
    # Normalising gains 0.30; the best data gain is random 50 raw, 0.10.
    assert by_id["normalise-first"].verdict == HOLDS
    assert by_id["random-peaks-at-50"].verdict == HOLDS
    # raw: dissimilar 0.18 > similar 0.15; normalised has no similarity runs.
    assert by_id["dissimilar-wins-raw"].verdict == HOLDS and "+0.0300" in by_id["dissimilar-wins-raw"].ours
    assert by_id["similar-wins-normalised"].verdict == UNMEASURED
    assert by_id["more-data-helps"].verdict == HOLDS  # adjusted p .001 and .04 < .05
    assert by_id["uncertainty-helps"].verdict == FAILS  # +0.08 but adjusted p 0.2
    # One more point beats 50%: the peak moves, the claim fails.
    groups.append(_group("random", 60, "raw", [0.30, 0.30], [1200, 1200]))
    assert check(next(c for c in load_claims() if c.id == "random-peaks-at-50"), groups).verdict == FAILS


def test_unknown_claim_kind_is_refused(tmp_path: Path) -> None:
    from xner.errors import ConfigError

    path = tmp_path / "c.toml"
    path.write_text('[[claims]]\nid = "x"\nsection = "1"\nstatement = "s"\n[claims.test]\nkind = "vibes"\n')
    with pytest.raises(ConfigError, match="unknown test kind 'vibes'"):
        load_claims(path)
    claim = Claim("r", "1", "s", {"kind": "ratio", "a": {"method": "random", "setting": 0, "label_mode": "raw"},
                                  "b": {"method": "dft", "setting": 0, "label_mode": "raw"}, "at_least": 1})
    assert check(claim, _study()).verdict == UNMEASURED


def test_uncertainty_against_random_at_equal_tokens() -> None:
    (line,) = equal_token_lines(_study(), "raw")
    # Random draws (raw): 0 tokens 0.11, 100 tokens 0.13, 1000 tokens 0.21. At 300 tokens:
    # 0.13 + (0.21 - 0.13) * 200 / 900 = 0.147777...; uncertainty 0.19 -> +0.0422.
    assert "F1 0.1478 (+0.0422)" in line and "in 1 of 1 round(s)" in line
    assert "100 tokens (uncertainty took × 3.00)" in line
    # Beyond the random curve: no made-up comparison.
    far = [*_study()[:4], _group("uncertainty", 1, "raw", [0.3, 0.3], [5000, 5000]), _study()[5]]
    (line,) = equal_token_lines(far, "raw")
    assert "not compared" in line and "no random run spans" in line
    old = [_group("random", 0, "raw", [0.1]), _group("uncertainty", 1, "raw", [0.2])]
    assert "not measured" in equal_token_lines(old, "raw")[0]


def test_findings_open_with_the_numbers() -> None:
    names = {m: m for m in ("random", "similar", "dissimilar", "uncertainty", "uncertainty_random")}
    text = "\n".join(findings(_study(), ["raw", "normalised"], names))
    assert text.startswith("## Findings")
    # raw: best is random 50 (0.21 vs 0.11, +0.1000, adjusted p 0.001).
    assert "**raw labels**: the best method, random (50%), beats the baseline: test F1 0.2100 vs 0.1100 " \
           "(+0.1000; adjusted p 0.001, significant at 0.05)" in text
    assert "(+0.0500; adjusted p 0.040, significant at 0.05)" in text
    (norm,) = normalisation_lines(_study())
    # baseline +0.30 (0.11 -> 0.41), both seeds higher; 2 pairs (random 0, random 50), both higher, mean +0.275.
    assert "+0.3000" in norm and "higher in 2 of 2 seeds" in norm and "score higher in 2, by +0.2750" in norm
    assert "| `normalise-triples` |" in text and "| holds |" in text
