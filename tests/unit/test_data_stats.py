"""Corpus statistics and the `xner data stats` / `xner data check` commands on fixtures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from rich.console import Console

from xner.data.conll import load_corpus
from xner.data.stats import corpus_stats, render_stats, split_stats

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "conll" / "root"

# Counted by hand from tests/fixtures/conll/root/*/*.txt.
EXPECTED = {
    "alpha": {
        "train": {
            "sentences": 2, "tokens": 6, "entities": 3, "types": {"location": 1, "person": 2}
        },
        "dev": {"sentences": 1, "tokens": 3, "entities": 2, "types": {"location": 2}},
        "test": {"sentences": 2, "tokens": 3, "entities": 1, "types": {"person": 1}},
    },
    "beta": {
        "train": {"sentences": 1, "tokens": 4, "entities": 2, "types": {"org": 2}},
        "dev": {"sentences": 1, "tokens": 1, "entities": 1, "types": {"person": 1}},
        "test": {"sentences": 1, "tokens": 2, "entities": 0, "types": {}},
    },
}


def test_corpus_stats_match_hand_counts() -> None:
    assert corpus_stats(load_corpus(ROOT)) == EXPECTED


def test_split_stats_of_nothing() -> None:
    assert split_stats([]) == {"sentences": 0, "tokens": 0, "entities": 0, "types": {}}


def test_render_has_a_row_per_type() -> None:
    console = Console(record=True, width=120)
    render_stats(EXPECTED, console)
    text = console.export_text()
    assert "alpha" in text and "beta" in text
    assert "location" in text and "org" in text


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    from xner.cli import main

    monkeypatch.setattr(sys, "argv", ["xner", *argv])
    try:
        main()
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def test_cli_stats_json_and_domain_filter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "stats.json"
    code = _run(["data", "stats", "--data", str(ROOT), "--domain", "beta", "--json", str(out)],
                monkeypatch)
    assert code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == {"beta": EXPECTED["beta"]}
    printed = capsys.readouterr().out
    assert "beta" in printed and "alpha" not in printed


def test_cli_stats_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.json"
    assert _run(["data", "stats", "--data", str(ROOT), "--json", str(out), "--quiet"],
                monkeypatch) == 0
    assert capsys.readouterr().out == ""
    assert set(json.loads(out.read_text(encoding="utf-8"))) == {"alpha", "beta"}


def test_cli_check_root_domain_and_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["data", "check", str(ROOT)], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "ok: 6 file(s), 8 sentences, 19 tokens, 9 entities, 0 tag(s) repaired" in out
    assert "bioes" in out
    assert _run(["data", "check", str(ROOT / "alpha"), str(ROOT / "beta" / "dev.txt")],
                monkeypatch) == 0
    assert "ok: 4 file(s), 6 sentences, 13 tokens, 7 entities" in capsys.readouterr().out
    monkeypatch.setenv("XNER_DATA", str(ROOT))
    assert _run(["data", "check", "--quiet"], monkeypatch) == 0
    assert capsys.readouterr().out == ""


def test_cli_check_repair_counts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = ROOT.parents[1] / "bad" / "conll" / "auto_i_after_o.txt"
    assert _run(["data", "check", str(bad), "--repair"], monkeypatch) == 0
    assert "1 tag(s) repaired" in capsys.readouterr().out
