"""RunConfig: one run definition from TOML, shorthand flags and --set overrides, with one id."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from xner.data.corpus import Domain, Sentence
from xner.errors import ConfigError
from xner.run.config import RunConfig
from xner.run.data import cut_source
from xner.run.load import build_config, parse_override, run_id, to_toml, validate


def test_backbone_defaults_fill_each_phase() -> None:
    bilstm = validate({"data": {"target": "ai"}})
    assert (bilstm.finetune.epochs, bilstm.finetune.patience, bilstm.finetune.batch_size) == (60, 10, 8)
    assert (bilstm.pretrain.epochs, bilstm.pretrain.patience, bilstm.pretrain.batch_size) == (30, 5, 32)
    encoder = validate({"data": {"target": "ai"}, "backbone": {"name": "encoder"}})
    assert encoder.finetune.optimizer == "adamw" and encoder.finetune.lr == 5e-5
    assert encoder.backbone.settings["head"] == "crf"  # settings are stored resolved


def test_flags_toml_and_set_give_the_same_config_and_id(tmp_path: Path) -> None:
    file = tmp_path / "run.toml"
    file.write_text('mode = "dft"\nseed = 3\n[data]\ntarget = "ai"\n[finetune]\nepochs = 7\nlr = 0.001\n')
    from_file = build_config(file)
    from_flags = build_config(None, [("mode", "dft"), ("seed", 3), ("data.target", ["ai"]),
                                     ("finetune.epochs", 7), ("finetune.lr", 0.001)])
    from_set = build_config(None, (), ["mode=dft", "seed=3", "data.target=ai", "finetune.epochs=7",
                                       "finetune.lr=1e-3"])
    assert from_file == from_flags == from_set
    assert run_id(from_file) == run_id(from_flags) == run_id(from_set)


def test_resolved_toml_round_trips_to_the_same_id(tmp_path: Path) -> None:
    cfg = build_config(None, [("data.target", ["politics", "science"]), ("seed", 2)], ["finetune.epochs=4"])
    text = to_toml(cfg)
    again = validate(tomllib.loads(text))
    assert again == cfg and run_id(again) == run_id(cfg)
    (tmp_path / "r.toml").write_text(text)
    assert run_id(build_config(tmp_path / "r.toml")) == run_id(cfg)


def test_id_ignores_runtime_and_data_root_but_not_settings() -> None:
    base = {"data": {"target": "ai"}}
    cfg = validate(base)
    assert run_id(validate({**base, "runtime": {"threads": 4, "cache": "/tmp/x"}})) == run_id(cfg)
    assert run_id(validate({"data": {"target": "ai", "root": "/elsewhere"}})) == run_id(cfg)
    assert run_id(validate({**base, "seed": 1})) != run_id(cfg)
    assert run_id(validate({**base, "finetune": {"lr": 0.01}})) != run_id(cfg)
    # a dft run never pre-trains: its pre-training settings do not change its id
    dft = {"mode": "dft", "data": {"target": "ai"}}
    assert run_id(validate({**dft, "pretrain": {"epochs": 2}})) == run_id(validate(dft))


def test_label_map_enters_the_id_by_content(tmp_path: Path) -> None:
    shipped = validate({"data": {"target": "ai", "label_mode": "normalised"}})
    other = tmp_path / "m.toml"
    other.write_text('[map]\nperson = "PER"\n')
    custom = validate({"data": {"target": "ai", "label_mode": "normalised", "label_map": str(other)}})
    assert run_id(custom) != run_id(shipped)
    moved = tmp_path / "moved.toml"
    moved.write_text(other.read_text())  # same content, another path: the same run
    assert run_id(validate({"data": {"target": "ai", "label_mode": "normalised", "label_map": str(moved)}})) \
        == run_id(custom)


@pytest.mark.parametrize("override, message", [
    ("finetune.lrr=1", "--set finetune.lrr: unknown setting"),
    ("finetune.lr=fast", "--set finetune.lr: Input should be a valid number"),
    ("nonsense", "expected KEY=VALUE"),
    ("data.target.x=1", "data.target is a value, not a table"),
])
def test_bad_overrides_are_one_line_errors(override: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        build_config(None, [("data.target", ["ai"])], [override])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_key_in_a_file_names_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "run.toml"
    file.write_text('[data]\ntarget = "ai"\n[finetune]\nepochs = 0\n')
    with pytest.raises(ConfigError) as err:
        build_config(file)
    assert f"{file}:4: finetune.epochs" in str(err.value)


def test_phases_refuse_run_level_keys() -> None:
    with pytest.raises(ConfigError, match="seed: set by the top-level seed"):
        build_config(None, [("data.target", ["ai"])], ["finetune.seed=3"])


def test_override_values_are_read_as_toml() -> None:
    assert parse_override("finetune.lr=5e-5") == ("finetune.lr", 5e-5)
    assert parse_override("added.domains=[\"music\"]") == ("added.domains", ["music"])
    assert parse_override("data.target=ai") == ("data.target", "ai")


def test_consistency_rules() -> None:
    with pytest.raises(ConfigError, match="source domain cannot be a target"):
        build_config(None, [("data.target", ["conll2003"])])
    with pytest.raises(ConfigError, match="added data needs mode ptf"):
        build_config(None, [("data.target", ["ai"]), ("mode", "dft"), ("added.method", "random"),
                            ("added.setting", 10.0), ("added.domains", ["music"])])
    assert isinstance(build_config(None, [("data.target", ["ai"])]), RunConfig)


def _sentences(n: int, domain: str = "conll2003") -> list[Sentence]:
    return [Sentence((f"w{i}",), ("O",), domain, "f", i) for i in range(n)]


def test_source_subset_cuts_train_and_the_same_share_of_dev() -> None:
    full = Domain("conll2003", _sentences(100), _sentences(20), _sentences(5))
    cut = cut_source(full, 50)
    assert len(cut.train) == 50 and len(cut.dev) == 10 and cut.train == full.train[:50]
    assert cut_source(full, None) is full and cut_source(full, 500) is full
