"""Catalogue of malformed inputs, one fixture each, run through the ``xner`` command.

Every case must end with exit code 2 and exactly one line on stderr, ``error: ...``, that
names the offending file (or model folder) and contains the expected message; never a
traceback. Kinds: CoNLL files, prediction files, study configs, label maps, model
directories, model configs, annotation imports and predict inputs. The bulk runs in-process
through ``xner.cli.main`` (its real error handling); a few run as real subprocesses.

Fixtures: tests/fixtures/bad/{conll,labels,annotate} were written by the data, label and
annotation engineers and are reused here; bad/{config,model,misc} belong to this catalogue
(bad/model is rebuilt by bad/model/make_fixtures.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BAD = FIXTURES / "bad"


@dataclass(frozen=True)
class Case:
    """``args`` may use {path} (the fixture), {good_model}, {toy} (a copy of the toy data), {tmp}."""

    kind: str
    path: Path
    args: tuple[str, ...]
    expected: str
    bug: str | None = None  # a known bug: the case is an xfail until it is fixed


def conll(name: str, expected: str) -> Case:
    return Case("conll", BAD / "conll" / name, ("data", "check", "{path}"), expected)


def prediction(path: Path, expected: str) -> Case:
    return Case("prediction file", path, ("evaluate", "{path}"), expected)


def config(name: str, expected: str, bug: str | None = None) -> Case:
    return Case("study config", BAD / "config" / name, ("study", "run", "{path}", "--out", "{tmp}/study", "-q"),
                expected, bug)


def label_map(name: str, expected: str) -> Case:
    return Case("label map", BAD / "labels" / name,
                ("evaluate", str(FIXTURES / "eval" / "predictions.txt"), "--label-mode", "normalised",
                 "--label-map", "{path}"), expected)


def model(name: str, expected: str, bug: str | None = None) -> Case:
    return Case("model dir", BAD / "model" / name, ("predict", "--model", "{path}", "--text", "Alice met Bob."),
                expected, bug)


def annotation(name: str, expected: str) -> Case:
    return Case("annotation", BAD / "annotate" / name, ("annotate", "import", "{path}", "--into", "{toy}"), expected)


def predict_input(name: str, expected: str, model_dir: str = "{good_model}") -> Case:
    return Case("predict input", BAD / "misc" / name, ("predict", "--model", model_dir, "{path}"), expected)


def model_config(name: str, expected: str) -> Case:
    return Case("model config", BAD / "misc" / name,
                ("train", "--domain", "ai", "--out", "{tmp}/model", "--model-config", "{path}"), expected)


CASES: dict[str, Case] = {
    "conll: no tag column": conll("missing_tag_column.txt", "missing tag column"),
    "conll: ragged columns": conll("ragged_columns.txt", "the line has 1 columns but line 1 has 2"),
    "conll: NUL byte": conll("binary.txt", "looks like a binary file (NUL byte)"),
    "conll: not UTF-8": conll("not_utf8.txt", "not valid UTF-8 (byte 0xfc at column 2)"),
    "conll: malformed tag": conll("malformed_tag.txt", "malformed tag 'X-foo'"),
    "conll: I- after another type": conll("i_after_other_type.txt", "I-LOC follows B-PER"),
    "conll: empty file": conll("empty.txt", "file is empty"),
    "prediction: two columns": prediction(BAD / "conll" / "predictions_two_columns.txt", "expected at least 3"),
    "prediction: BIOES tag in IOB2": prediction(BAD / "misc" / "prediction_bioes_in_iob2.txt",
                                                "predicted tag 'S-PER' is a BIOES tag but the gold column is IOB2"),
    "prediction: malformed tag": prediction(BAD / "misc" / "prediction_malformed_tag.txt", "malformed tag 'B_PER'"),
    "config: TOML syntax": config("syntax_error.toml", "TOML syntax error"),
    "config: unknown key": config("unknown_key.toml", "sead: unknown setting"),
    "config: unknown backbone": config("bad_backbone.toml", "backbone: Input should be 'bilstm_crf' or 'encoder'"),
    "config: percentage > 100": config("percent_out_of_range.toml", "percentages must lie in [0, 100]"),
    "config: repeated seeds": config("repeated_seeds.toml", "seeds: values must not repeat"),
    "config: target is source": config("target_is_source.toml", "the target cannot be the source domain"),
    "config: unknown model key": config("bad_model_key.toml", "model.lstm_units: unknown setting"),
    "config: wrong value type": config("wrong_type.toml", "pretrain.epochs: Input should be a valid integer"),
    "config: bad study name": config("bad_name.toml", "name: String should match pattern"),
    "config: not UTF-8": config("not_utf8.toml", "not UTF-8 text"),
    "config: unknown ~user": config("unknown_home.toml", "data_root: not a usable path"),
    "label map: malformed TOML": label_map("malformed.toml", "malformed TOML"),
    "label map: not a generic type": label_map("bad_value.toml",
                                               "scientist = 'PERSON' is not one of PER, ORG, LOC, MISC"),
    "label map: unknown section": label_map("unknown_section.toml", "unknown section(s) mapping"),
    "label map: no [map] table": label_map("no_map.toml", "label map needs a [map] table"),
    "label map: number value": label_map("non_string.toml", "band must be a string"),
    "model: no meta.json": model("no_meta", "missing metadata file"),
    "model: meta.json not JSON": model("meta_not_json", "unreadable metadata"),
    "model: meta.json lacks keys": model("meta_missing_keys", "metadata lacks the key(s) xner_version, label_mode"),
    "model: unknown backbone": model("unknown_backbone", "unknown backbone 'crf_tagger'"),
    "model: labels not a list": model("labels_not_a_list", "metadata 'labels' must be a non-empty list"),
    "model: no weights": model("missing_weights", "missing weights file"),
    "model: truncated weights": model("truncated_weights", "corrupted or unreadable weights"),
    "model: shapes disagree": model("shape_mismatch", "tensor crf.transitions has shape [5, 5], meta.json says [7, 7]"),
    "model: pickle instead of safetensors": model("pickle_weights_only", "missing weights file"),
    "model: bad vocabulary": model("bad_vocabulary", "bad vocabulary"),
    "model: encoder without encoder/config.json": model("encoder_without_config", "the encoder config is missing"),
    "model: a file, not a folder": predict_input("model_is_a_file.txt", "expected a model folder",
                                                 model_dir="{path}"),
    "model config: not JSON": model_config("model_config_not_json.json", "cannot read model config"),
    "model config: a list": model_config("model_config_list.json", "model config must be a table/object"),
    "annotation: broken span": annotation("broken_span.conll", "broken span: I-field on token 'learning' follows O"),
    "annotation: duplicate id": annotation("duplicate_id.conll", "duplicate sentence id 'toy/train.txt/1'"),
    "annotation: changed token": annotation("changed_token.conll", "token 'Turin' was changed"),
    "annotation: Label Studio bad JSON": annotation("ls_bad_json.json", "not valid JSON"),
    "annotation: Label Studio off-boundary span": annotation("ls_off_boundary.json", "is not on token boundaries"),
    "predict: NUL byte": predict_input("predict_binary.txt", "looks like a binary file (NUL byte)"),
    "predict: not UTF-8": predict_input("predict_not_utf8.txt", "not valid UTF-8"),
    "predict: CoNLL without sentences": predict_input("predict_no_sentences.conll", "input has no sentences"),
}

# A few go through a real process: the installed entry point's imports, exit code and stderr.
# (Model cases run in-process only: a process that imports torch costs ~5-10 s here.)
SUBPROCESS = ("conll: not UTF-8", "config: unknown key", "predict: NUL byte")


@pytest.fixture(scope="module")
def good_model() -> Path:
    from _tiny_models import shared_bilstm

    return shared_bilstm()


def _args(case: Case, good_model: Path, tmp: Path) -> list[str]:
    shutil.copytree(FIXTURES / "annotate" / "toy", tmp / "toy", dirs_exist_ok=True)
    values = {"path": str(case.path), "good_model": str(good_model), "toy": str(tmp / "toy" / "train.txt"),
              "tmp": str(tmp)}
    return [arg.format(**values) for arg in case.args]


def _check(case: Case, code: object, out: str, err: str) -> None:
    assert "Traceback" not in out + err
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), lines[0]
    assert str(case.path) in lines[0], f"does not name {case.path}: {lines[0]}"
    assert case.expected in lines[0], lines[0]


def _params(names: list[str] | tuple[str, ...]) -> list[object]:
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="bug: " + CASES[n].bug))
            if CASES[n].bug else n for n in names]


def test_catalogue_is_complete() -> None:
    assert len(CASES) >= 25
    assert len({case.kind for case in CASES.values()}) >= 8
    for case in CASES.values():
        assert case.path.exists(), case.path
    # Every fixture in this catalogue's own folders is used, once.
    own = sorted(p for d in ("config", "misc") for p in (BAD / d).iterdir())
    own += sorted(p for p in (BAD / "model").iterdir() if p.is_dir())
    used = [case.path for case in CASES.values()]
    assert sorted(set(own) - set(used)) == []


@pytest.mark.parametrize("name", _params(list(CASES)))
def test_bad_input_is_one_line_exit_2(name: str, good_model: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from xner.cli import main

    case = CASES[name]
    monkeypatch.setattr(sys, "argv", ["xner", *_args(case, good_model, tmp_path)])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    _check(case, info.value.code, out, err)
    assert not (tmp_path / "study").exists() and not (tmp_path / "model").exists()


@pytest.mark.parametrize("name", _params(SUBPROCESS))
def test_bad_input_through_the_entry_point(name: str, good_model: Path, tmp_path: Path) -> None:
    case = CASES[name]
    done = subprocess.run([sys.executable, "-m", "xner", *_args(case, good_model, tmp_path)],
                          capture_output=True, text=True, timeout=120)
    _check(case, done.returncode, done.stdout, done.stderr)
