"""The study's new methods in the grid: re-annotation, the O weight and the sentence scores of
uncertainty sampling; with them off (and ``min_epochs`` at 1), every run keeps the id it had."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xner.errors import ConfigError
from xner.study.config import parse_config
from xner.study.grid import run_specs

STUDY = """name = "pin"
seeds = [4]
source_subset = 7
label_modes = ["raw", "normalised"]
label_init = "fresh"
[pretrain]
min_epochs = 1
[finetune]
epochs = 30
patience = 5
batch_size = 16
min_epochs = 1
[methods.random]
percentages = [0, 30]
[methods.similarity]
percentages = [20]
[methods.uncertainty]
rounds = 1
[methods.staged]
enabled = true
"""

# The ids of this grid before min_epochs, the new scores and the new methods existed (computed
# with the code of commit d9d4d73, the same config less the two `min_epochs = 1` lines).
PINNED = {
    ("random", 0.0, "raw"): "514e00c189494c16c05c9cc2f0639ba1b3a985bea919e8878dc9b3b8a2abd124",
    ("random", 30.0, "raw"): "b3b7f4fde3a78dc73b257bb62577e12bd19bcb14497f71a05656a2ef55fdf03d",
    ("similar", 20.0, "raw"): "868930600ae3c097cf6784a63ff9dac66d85ef95890cbe17234c2df36d065660",
    ("dissimilar", 20.0, "raw"): "fcadcc93860e35e73c2858ac0449ab1bcec7fb7075250cdddd6d445ea661ebc9",
    ("uncertainty", 1.0, "raw"): "053473f6e4184547201bfd6d9a6a82ea3c8d8bf0795535d4cef40b2edbf89480",
    ("uncertainty_random", 1.0, "raw"): "28632d73eae854466de418b54903ee282192e5c2213113b6871e815c2fc9eed9",
    ("staged", 0.0, "raw"): "c0f7ee110edfe79b4cecc8bd35e658e47b2ea54a17a3f4044e87890c8e08af42",
    ("dft", 0.0, "raw"): "55c1518c8717fa11c3497b4770a20fedfb5bf107475d9d789e1b906c7983c5fc",
    ("jt", 0.0, "raw"): "0aeed7d748f4c01e3e433888619681c53fbf5f8cda43c977458918c2691227c7",
    ("random", 0.0, "normalised"): "29f789778a332c93b266e4fb03490430e1758cd1fc098f9b28547dbb3dedec6c",
    ("random", 30.0, "normalised"): "4b4e7d3da6de6a8e5a6157cd040714408ad38f52ab5bd632372230f8b72c6135",
    ("similar", 20.0, "normalised"): "6d2a9c96283d1399e1be54648c315738f3c98dd0e9509b2709ea96ea15309806",
    ("dissimilar", 20.0, "normalised"): "effd6f2eb0a083c988f1ded2ee39e0b7360f6b32e871c0e82d82646107797bc9",
    ("uncertainty", 1.0, "normalised"): "4d3a82c60464142ddb0c32e2759a72c41bdd48456b8490031c62dc26aafa449b",
    ("uncertainty_random", 1.0, "normalised"): "ebf902775091b3b3c0022310e2833978e78f2b2bfb8cbbaf27c3ac7350c487c1",
    ("staged", 0.0, "normalised"): "9f10f8d37376ac838c5df441f70571a348fb1e550e85a5204c973d26bf9df263",
    ("dft", 0.0, "normalised"): "0c893c222c12d687a0608f5d6377b2010326e9de9e73e8754b9b8ab9457d30b3",
    ("jt", 0.0, "normalised"): "f88e4f67cf9fc35fe24211b33634f9de592b1fd8bec3f5b9853b70d412dd2df9",
}


def _grid(text: str, tmp_path: Path) -> list[Any]:
    cfg = parse_config(text, tmp_path / "s.toml")
    return run_specs(cfg, "ai", ["music", "science"], ["music", "science"], data_root=Path("/data"),
                     study_dir=Path("/s"))


def test_run_ids_are_unchanged_with_the_new_methods_off(tmp_path: Path) -> None:
    runs = _grid(STUDY, tmp_path)
    assert {(r.method, r.setting, r.label_mode): r.id for r in runs} == PINNED


def test_reannotate_and_o_weight_runs(tmp_path: Path) -> None:
    text = STUDY + "[methods.reannotate]\nenabled = true\n"
    text += "[methods.o_weight]\nenabled = true\nvalues = [1.0, 0.5, 0.2]\n"
    runs = _grid(text, tmp_path)
    old = [r for r in runs if r.method not in ("reannotate", "o_weight")]
    assert {(r.method, r.setting, r.label_mode): r.id for r in old} == PINNED  # the others are untouched
    new = {(r.method, r.setting, r.label_mode): r for r in runs if r not in old}
    # o_weight 1.0 is the [finetune] value: the baseline run itself, not run twice.
    assert sorted(new) == sorted((m, s, mode) for mode in ("raw", "normalised")
                                 for m, s in (("reannotate", 2.0), ("o_weight", 0.5), ("o_weight", 0.2)))
    re = new[("reannotate", 2.0, "raw")].config
    assert (re.added.method, re.added.setting, re.added.domains, re.mode) == ("reannotate", 2.0, (), "ptf")
    assert re.finetune.o_weight == 1.0
    for w in (0.5, 0.2):
        ow = new[("o_weight", w, "normalised")].config
        assert ow.finetune.o_weight == w and ow.added.method == "none"
        assert ow.finetune.model_copy(update={"o_weight": 1.0}) == re.finetune  # nothing else changes
    assert len({r.id for r in runs}) == len(runs)


def test_o_weight_values_the_baseline_lacks_are_all_run(tmp_path: Path) -> None:
    text = STUDY.replace("min_epochs = 1\n[methods", "min_epochs = 1\no_weight = 0.5\n[methods", 1)
    text += "[methods.o_weight]\nenabled = true\n"
    runs = [r for r in _grid(text, tmp_path) if r.method == "o_weight" and r.label_mode == "raw"]
    assert sorted(r.setting for r in runs) == [0.2, 1.0]


@pytest.mark.parametrize("score", ["mnlp", "least_confidence", "sum"])
def test_the_uncertainty_score_reaches_the_runs(tmp_path: Path, score: str) -> None:
    runs = _grid(STUDY.replace("rounds = 1", f"rounds = 1\nscore = \"{score}\""), tmp_path)
    picked = [r for r in runs if r.method.startswith("uncertainty")]
    assert picked and all(r.config.added.score == score for r in picked)
    if score != "max":  # a score other than the default is a different run
        assert not {r.id for r in picked} & set(PINNED.values())


@pytest.mark.parametrize("section", ["[methods.uncertainty]\nscore = \"entropy\"\n",
                                     "[methods.o_weight]\nenabled = true\nvalues = [0.0]\n",
                                     "[methods.o_weight]\nvalues = [0.5, 0.5]\n",
                                     "[methods.reannotate]\nthreshold = 0\n"])
def test_bad_method_settings_are_config_errors(tmp_path: Path, section: str) -> None:
    text = STUDY.replace("[methods.uncertainty]\nrounds = 1\n", "") + section
    with pytest.raises(ConfigError):
        parse_config(text, tmp_path / "s.toml")


@pytest.mark.parametrize("table", ["reannotate", "o_weight"])
def test_the_guide_lists_the_new_methods_with_their_defaults(table: str) -> None:
    import re

    from test_docs_guide import GUIDE, _check, _inline

    from xner.study.config import OWeightMethod, ReannotateMethod

    model = {"reannotate": ReannotateMethod, "o_weight": OWeightMethod}[table]
    row = re.search(rf"^\| `\[methods\.{table}\]` \| ([^|]+) \|", GUIDE, re.M)
    assert row, table
    _check(model, _inline(row.group(1)))


def test_every_result_method_has_a_report_name_and_a_readable_setting() -> None:
    from xner.study.grid import RESULT_METHODS
    from xner.study.report import METHOD_NAMES
    from xner.study.summary import setting_text

    assert set(RESULT_METHODS) <= set(METHOD_NAMES)
    assert setting_text("reannotate", 2.0) == "entropy > 2"
    assert setting_text("o_weight", 0.5) == "O weight 0.5"
    assert setting_text("random", 30.0) == "30%" and setting_text("dft", 0.0) == ""
