"""Atomic writes leave the old file or the new one, never half of one."""

import os
import stat

import pytest

from xner import atomic


def test_write_text_replaces_and_uses_normal_permissions(tmp_path):
    target = tmp_path / "a.txt"
    atomic.write_text(target, "one")
    atomic.write_text(target, "two")
    assert target.read_text() == "two"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    atomic.write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_open(target) as handle:
            handle.write("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_dir_swaps_whole_directory(tmp_path):
    target = tmp_path / "model"
    with atomic.atomic_dir(target) as d:
        (d / "x").write_text("1")
    with pytest.raises(RuntimeError):
        with atomic.atomic_dir(target) as d:
            (d / "x").write_text("2")
            raise RuntimeError("crash")
    assert (target / "x").read_text() == "1"
    with atomic.atomic_dir(target) as d:
        (d / "y").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["y"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert stat.S_IMODE(target.stat().st_mode) & 0o055 == 0o055 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
