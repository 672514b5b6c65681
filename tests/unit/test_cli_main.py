"""The CLI's error handling: usage errors and user errors exit 2 without a traceback."""

import sys

import pytest

from xner.cli import main


def run_main(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["xner", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_unknown_option_exits_2_without_traceback(monkeypatch, capsys):
    code, out, err = run_main(monkeypatch, capsys, "evaluate", "--no-such-option")
    assert code == 2
    assert "No such option" in err
    assert "Traceback" not in out + err


def test_unknown_command_exits_2(monkeypatch, capsys):
    code, _, err = run_main(monkeypatch, capsys, "no-such-command")
    assert code == 2
    assert "No such command" in err


def test_user_error_is_one_line(monkeypatch, capsys, tmp_path):
    code, _, err = run_main(monkeypatch, capsys, "data", "stats", "--data", str(tmp_path / "missing"))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ")
