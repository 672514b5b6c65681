"""`xner train --config FILE --set KEY=VALUE --dry-run`: one RunConfig from a file, shorthand flags
and overrides, printed with its run id; a model folder's run.toml repeats the run."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from test_cli_train import SOURCE_ENTS, TARGET_ENTS, TINY, run_cli, run_in_fixture, write_domains

ID_LINE = re.compile(r"# run id: ([0-9a-f]{64})")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_domains(tmp_path_factory.mktemp("data"),
                           [("conll2003", SOURCE_ENTS, (20, 6, 6)), ("ai", TARGET_ENTS, (12, 6, 6))], seed=2)
    (folder / "tiny.json").write_text(json.dumps(TINY))
    (folder / "map.toml").write_text('[map]\nperson = "PER"\nlocation = "LOC"\norganisation = "ORG"\nmisc = "MISC"\n'
                                     'programlang = "MISC"\nalgorithm = "MISC"\n')
    return folder


def dry_run(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """(printed TOML, run id) of ``xner train ARGS --dry-run``, which must succeed."""
    code, out, err = run_cli(["train", *args, "--dry-run"], monkeypatch, capsys)
    assert code == 0 and err == "", err
    *toml_lines, last = out.rstrip("\n").split("\n")
    match = ID_LINE.fullmatch(last)
    assert match is not None, last
    return "\n".join(toml_lines) + "\n", match.group(1)


def test_dry_run_prints_the_config_and_its_id_and_writes_nothing(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["--domain", "ai", "--data", str(root), "--out", str(tmp_path / "m"), "--cache", str(tmp_path / "cache"),
            "--epochs", "3", "--model-config", str(root / "tiny.json")]
    text, run_id = dry_run(args, monkeypatch, capsys)
    data = tomllib.loads(text)
    assert data["data"]["target"] == "ai" and data["finetune"]["epochs"] == 3 and data["mode"] == "ptf"
    assert data["backbone"]["settings"]["hidden"] == TINY["hidden"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no model folder, no cache, nothing
    (root / "again.toml").write_text(text)
    try:
        again, again_id = dry_run(["--config", str(root / "again.toml")], monkeypatch, capsys)
    finally:
        (root / "again.toml").unlink()
    assert again_id == run_id and tomllib.loads(again) == data


def test_flags_file_and_set_give_the_same_id(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    flags = ["--domain", "ai", "--mode", "jt", "--seed", "4", "--source-epochs", "2", "--target-repeat", "3",
             "--labels", "normalised", "--label-map", str(root / "map.toml")]
    file = tmp_path / "run.toml"
    file.write_text(f'mode = "jt"\nseed = 4\ntarget_repeat = 3\n[data]\ntarget = "ai"\nlabel_mode = "normalised"\n'
                    f'label_map = "{root / "map.toml"}"\n[pretrain]\nepochs = 2\n')
    sets = ["--set", "data.target=ai", "--set", "mode=jt", "--set", "seed=4", "--set", "pretrain.epochs=2",
            "--set", "target_repeat=3", "--set", "data.label_mode=normalised", "--set",
            f"data.label_map={root / 'map.toml'}"]
    _, from_flags = dry_run(flags, monkeypatch, capsys)
    _, from_file = dry_run(["--config", str(file)], monkeypatch, capsys)
    _, from_set = dry_run(sets, monkeypatch, capsys)
    assert from_flags == from_file == from_set
    _, other = dry_run([*flags, "--seed", "5"], monkeypatch, capsys)
    assert other != from_flags  # the id does follow the settings


def test_config_then_flags_then_set(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "run.toml"
    file.write_text('seed = 1\n[data]\ntarget = "ai"\n[finetune]\nepochs = 5\nlr = 0.01\n')
    base = ["--config", str(file)]

    def finetune(*extra: str) -> dict[str, object]:
        text, _ = dry_run([*base, *extra], monkeypatch, capsys)
        table: dict[str, object] = tomllib.loads(text)["finetune"]
        return table

    assert (finetune()["epochs"], finetune()["lr"]) == (5, 0.01)  # the file over the defaults
    assert finetune("--epochs", "6")["epochs"] == 6 and finetune("--epochs", "6")["lr"] == 0.01  # a flag over the file
    assert finetune("--epochs", "6", "--set", "finetune.epochs=7")["epochs"] == 7  # --set over both
    assert finetune("--set", "finetune.epochs=7", "--epochs", "6")["epochs"] == 7  # whatever the order typed
    assert finetune("--set", "finetune.epochs=7", "--set", "finetune.epochs=8")["epochs"] == 8  # the last --set


@pytest.mark.parametrize("override, message", [
    ("finetune.lrr=1", "error: --set finetune.lrr: unknown setting\n"),
    ("finetune.epochs=many", "error: --set finetune.epochs: Input should be a valid integer"),
    ("backbone.settings.hiden=4",
     "error: --set backbone.settings.hiden: unknown setting (for the bilstm_crf backbone)\n"),
    ("finetune.seed=3", "error: --set finetune.seed: set by the top-level seed, not per phase\n"),
    ("epochs", "error: --set 'epochs': expected KEY=VALUE"),
])
def test_bad_set_is_one_line_exit_2_naming_the_key(override: str, message: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m"
    code, stdout, err = run_cli(["train", "--domain", "ai", "--out", str(out), "--set", override], monkeypatch, capsys)
    assert code == 2 and stdout == "" and err.startswith(message) and err.count("\n") == 1, err
    assert not out.exists()


@pytest.mark.parametrize("body, line, message", [
    ('[data]\ntarget = "ai"\n[finetune]\nepochs = 0\n', 4,
     "finetune.epochs: Input should be greater than or equal to 1"),
    ('[data]\ntarget = "ai"\nsauce = "x"\n', 3, "data.sauce: unknown setting"),
    ('mode = "ptf"\n[data]\ntarget = "ai"\n[pretrain]\nlr = "fast"\n', 5,
     "pretrain.lr: Input should be a valid number"),
    ('[data\ntarget = "ai"\n', 1, "TOML syntax error"),
])
def test_bad_config_file_is_one_line_naming_file_and_line(body: str, line: int, message: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "run.toml"
    file.write_text(body)
    code, stdout, err = run_cli(["train", "--config", str(file), "--dry-run"], monkeypatch, capsys)
    assert code == 2 and stdout == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {file}:{line}: {message}"), err


def test_missing_target_and_missing_out_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["train", "--dry-run"], monkeypatch, capsys)
    assert code == 2 and err.startswith("error: --domain is needed") and err.count("\n") == 1, err
    file = tmp_path / "run.toml"
    file.write_text('seed = 1\n')
    code, _, err = run_cli(["train", "--config", str(file), "--dry-run"], monkeypatch, capsys)
    assert code == 2 and err == f"error: {file}: data: Field required\n"
    _, run_id = dry_run(["--set", "data.target=ai"], monkeypatch, capsys)  # --set can name the target too
    assert len(run_id) == 64
    code, _, err = run_cli(["train", "--domain", "ai"], monkeypatch, capsys)
    assert code == 2 and err == "error: --out is needed (or --dry-run)\n"


@pytest.fixture(scope="module", params=["raw", "normalised"])
def trained(request: pytest.FixtureRequest, root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dft model (tiny, 1 epoch); the normalised one reads a custom label map, which enters its id."""
    out = tmp_path_factory.mktemp("models") / request.param
    extra = ["--labels", "normalised", "--label-map", str(root / "map.toml")] if request.param == "normalised" else []
    run_in_fixture(["train", "--domain", "ai", "--mode", "dft", "--data", str(root), "--out", str(out), "--epochs", "1",
                    "--model-config", str(root / "tiny.json"), "--threads", "1", "--quiet", *extra])
    return out


def test_a_model_folders_run_toml_repeats_its_run_id(trained: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    recorded = json.loads((trained / "metrics.json").read_text())["run_id"]
    text, run_id = dry_run(["--config", str(trained / "run.toml")], monkeypatch, capsys)
    assert run_id == recorded
    assert tomllib.loads(text) == tomllib.loads((trained / "run.toml").read_text())
    _, changed = dry_run(["--config", str(trained / "run.toml"), "--set", "finetune.epochs=2"], monkeypatch, capsys)
    assert changed != recorded
