"""Study config: validation errors name the key, the file and the line; the grid is as described."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xner.errors import ConfigError
from xner.run.config import RunConfig
from xner.run.load import run_id
from xner.study.config import load_config, parse_config
from xner.study.grid import pretrain_specs, run_specs

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, 'data_root = "data"\nlabel_map = "maps/m.toml"\n'))
    assert cfg.data_root == (tmp_path / "data").resolve()
    assert cfg.label_map == (tmp_path / "maps/m.toml").resolve()
    assert cfg.methods.random.percentages == (0, 10, 20, 30, 40, 50, 60)
    assert cfg.label_modes == ("raw", "normalised") and cfg.seeds == (1, 2, 3)


def test_unknown_key_names_key_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, 'source = "conll2003"\n\n[methods.random]\npercentage = [10]\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "methods.random.percentage" in text and f"{path}:4" in text and "\n" not in text


def test_wrong_value_in_train_config(tmp_path: Path) -> None:
    path = _write(tmp_path, "[finetune]\nepochs = 0\n")
    with pytest.raises(ConfigError, match=r"c.toml:2: finetune.epochs: Input should be greater"):
        load_config(path)


@pytest.mark.parametrize("text, message", [
    ('label_modes = ["raw", "lower"]', "label_modes.1"),
    ("seeds = []", "seeds"),
    ("seeds = [1, 1]", "seeds"),
    ('backbone = "bert"', "backbone"),
    ("[methods.random]\npercentages = [0, 120]", "methods.random.percentages"),
    ('[methods.uncertainty]\nscore = "median"', "methods.uncertainty.score"),
    ('candidates = ["conll2003"]', "source domain"),
    ("[model]\nhiden = 3", "model.hiden: unknown setting"),
    ('data_root = "~no_such_user_xner/data"', "data_root: not a usable path"),
    ('label_map = "a\\u0000b.toml"', "label_map: not a usable path"),
    ("[model]\nhidden = -1", "model.hidden: Input should be greater"),
])
def test_bad_values(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, text + "\n"))


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name = "x"\nseeds = [1,\n\n= 3\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"error: {path}:4: TOML syntax error")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.toml")


def test_cli_exit_code_2_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "bogus = 1\n")
    proc = subprocess.run([sys.executable, "-m", "xner", "study", "run", str(path), "--out", str(tmp_path / "s")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {path}:1: bogus: unknown setting"


def _cfg(text: str = "") -> object:
    return parse_config('seeds = [1, 2]\n[methods.random]\npercentages = [0, 30, 60]\n'
                        '[methods.similarity]\npercentages = [30]\n[methods.uncertainty]\nrounds = 2\n' + text,
                        Path("x.toml"))


def test_grid_shape_and_identity() -> None:
    cfg = _cfg()
    pre = pretrain_specs(cfg, "ai")  # type: ignore[arg-type]
    assert len(pre) == 4  # 2 label modes x 2 seeds
    specs = run_specs(cfg, "ai", ["music", "science"], ["music", "science"])  # type: ignore[arg-type]
    # per (mode, seed): random 3 + similar 1 + dissimilar 1 + (uncertainty + random twin) x 2 + dft + jt
    assert len(specs) == 2 * 2 * (3 + 2 + 4 + 2)
    assert len({s.id for s in specs + pre}) == len(specs) + len(pre)
    sim = next(s for s in specs if s.method == "similar")
    dis = next(s for s in specs if s.method == "dissimilar")
    assert sim.config.added.domains == ("music",) and dis.config.added.domains == ("science",)
    # Identity is run_id of the RunConfig: equal content gives an equal id, any change another one.
    for spec in specs:
        again = RunConfig.model_validate(spec.config.model_dump(mode="json"))
        assert run_id(again) == spec.id
    assert run_id(specs[0].config.model_copy(update={"seed": 99})) != specs[0].id
    # Every result run starts from one of the pre-training tasks (dft/jt from none).
    assert {s.pretrain_key for s in specs if s.config.mode == "ptf"} == {p.id for p in pre}
    # Seed-major: the first seed's runs, both label modes, come before any of the second's.
    half = len(specs) // 2
    assert {s.seed for s in specs[:half]} == {1} and {s.label_mode for s in specs[:half]} == {"raw", "normalised"}


def test_runtime_is_not_in_any_id(tmp_path: Path) -> None:
    """The study's cache folder, data root and threads change where and how fast, never an id."""
    one = run_specs(_cfg(), "ai", ["music"], None, data_root=tmp_path / "d", study_dir=tmp_path / "s")  # type: ignore[arg-type]
    two = run_specs(_cfg("[runtime]\nthreads = 3\n"), "ai", ["music"], None)  # type: ignore[arg-type]
    assert [s.id for s in one] == [s.id for s in two]
    assert one[0].config.runtime.cache == tmp_path / "s" / "pretrained" and two[0].config.runtime.threads == 3
    assert [s.id for s in pretrain_specs(_cfg(), "ai", study_dir=tmp_path)] == [  # type: ignore[arg-type]
        s.id for s in pretrain_specs(_cfg(), "music")]  # type: ignore[arg-type]  # target: not read


def test_label_init_reaches_every_result_run_and_only_ptf_ids_change() -> None:
    def cfg(init: str = "") -> object:
        return parse_config((f'label_init = "{init}"\n' if init else "") + "seeds = [1]\n", Path("x.toml"))

    assert cfg().label_init == "map"  # type: ignore[attr-defined]  # the default
    fresh = run_specs(cfg("fresh"), "ai", ["music"], None)  # type: ignore[arg-type]
    mapped = run_specs(cfg(), "ai", ["music"], None)  # type: ignore[arg-type]
    assert {s.config.data.label_init for s in fresh} == {"fresh"}
    assert {s.config.data.label_init for s in mapped} == {"map"}
    for a, b in zip(fresh, mapped, strict=True):  # dft and jt never read it: the same runs
        assert (a.id == b.id) == (a.config.mode != "ptf")
    assert [s.id for s in pretrain_specs(cfg("map"), "ai")] == [  # type: ignore[arg-type]
        s.id for s in pretrain_specs(cfg("fresh"), "ai")]  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="label_init"):
        cfg("copy")


def test_baseline_always_in_grid() -> None:
    cfg = parse_config("[methods.random]\nenabled = false\n", Path("x.toml"))
    specs = run_specs(cfg, "ai", ["music"], None)
    assert {(s.method, s.setting) for s in specs if s.method == "random"} == {("random", 0.0)}
    base = [s for s in specs if s.method == "random"]
    # Plain PTF (nothing added) that flags uncertain target tokens at the uncertainty threshold.
    assert all(s.config.added.method == "none" and s.config.flag_threshold == 2.0 for s in base)
    off = run_specs(parse_config("[methods.uncertainty]\nenabled = false\n", Path("x.toml")), "ai", ["music"], None)
    assert all(s.config.flag_threshold is None for s in off)


def test_shipped_configs_load() -> None:
    shipped = sorted((REPO / "configs").glob("*.toml"))
    assert {"quick.toml", "full.toml", "full-encoder.toml"} <= {p.name for p in shipped}
    for path in shipped:
        load_config(path)


def test_encoder_backbone_takes_encoder_training_defaults(tmp_path: Path) -> None:
    """lr 2e-3 (the BiLSTM's) would wreck a pre-trained encoder; given keys still win."""
    cfg = load_config(_write(tmp_path, 'backbone = "encoder"\n\n[finetune]\nepochs = 4\n'))
    assert cfg.pretrain.lr == 5e-5 and cfg.pretrain.optimizer == "adamw"
    assert cfg.finetune.lr == 5e-5 and cfg.finetune.epochs == 4
    bilstm = load_config(_write(tmp_path, 'backbone = "bilstm_crf"\n'))
    assert bilstm.finetune.lr == 2e-3 and bilstm.finetune.optimizer == "adam"


def _tiny_root(root: Path) -> Path:
    for domain, kind in (("conll2003", "person"), ("legal", "contract_party")):
        (root / domain).mkdir(parents=True)
        for split in ("train", "dev", "test"):
            (root / domain / f"{split}.txt").write_text(f"Acme B-{kind}\nsigned O\n\n")
    return root


def test_label_init_map_does_not_need_a_map_covering_every_type(tmp_path: Path) -> None:
    """A raw-only study on a domain the map does not know runs (its types start fresh); the
    normalised mode still needs every type mapped."""
    from xner.study.methods import describe

    root = _tiny_root(tmp_path / "data")
    raw_only = parse_config(f'data_root = "{root}"\nlabel_modes = ["raw"]\n', tmp_path / "s.toml")
    assert describe(raw_only)["domains"] == ["conll2003", "legal"]
    ptf = run_specs(raw_only, "legal", [], None)[0]
    assert ptf.config.uses_label_map and '"label_map":null' not in ptf.stored  # map init: the map is in the id
    both = parse_config(f'data_root = "{root}"\n', tmp_path / "s.toml")
    with pytest.raises(ConfigError, match="contract_party"):
        describe(both)


def test_staged_method_is_off_by_default_and_adds_one_run_per_seed_and_mode() -> None:
    plain = _cfg()
    staged = _cfg("[methods.staged]\nenabled = true\npatience = 2\n")
    assert not plain.methods.staged.enabled
    before = run_specs(plain, "ai", ["music", "science"], ["music", "science"])  # type: ignore[arg-type]
    after = run_specs(staged, "ai", ["music", "science"], ["music", "science"])  # type: ignore[arg-type]
    new = [s for s in after if s.method == "staged"]
    assert len(new) == 2 * 2 and not [s for s in before if s.method == "staged"]
    # The other runs keep their ids: a study that turns the method on redoes nothing.
    assert [s.id for s in after if s.method != "staged"] == [s.id for s in before]
    for spec in new:
        added, finetune = spec.config.added, spec.config.finetune
        assert added.method == "staged" and added.domains == ("music", "science") and added.stage is not None
        assert added.stage.patience == 2 and added.stage.epochs == finetune.epochs
    assert len({s.id for s in new}) == len(new)
    # A target chosen from the pool domains is not part of its own pooled stage twice.
    assert {s.config.added.domains for s in run_specs(staged, "music", ["music", "science"], None)  # type: ignore[arg-type]
            if s.method == "staged"} == {("science",)}
    with pytest.raises(ConfigError, match="methods.staged.epochs"):
        _cfg("[methods.staged]\nepochs = 0\n")
