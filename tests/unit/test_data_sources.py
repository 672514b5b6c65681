"""find_data_root: --data, $XNER_DATA, ../shared/data/crossner, repository, user cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from xner.data import sources
from xner.data.sources import find_data_root
from xner.errors import DataError


def _make_root(folder: Path, domain: str = "dom") -> Path:
    for split in ("train", "dev", "test"):
        path = folder / domain / f"{split}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("a\tO\n", encoding="utf-8")
    return folder


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No env var, an empty cwd, no repository candidate, an empty cache."""
    monkeypatch.delenv(sources.ENV_VAR, raising=False)
    work = tmp_path / "project" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setattr(sources, "_package_repo_root", lambda: None)
    monkeypatch.setattr(sources, "default_cache_dir", lambda: tmp_path / "cache" / "crossner")
    return tmp_path


def test_nothing_found_says_how_to_get_data(isolated: Path) -> None:
    with pytest.raises(DataError) as info:
        find_data_root()
    message = str(info.value)
    assert "xner data download crossner" in message and "--data" in message
    assert "\n" not in message


def test_cache_is_last_resort(isolated: Path) -> None:
    cache = _make_root(isolated / "cache" / "crossner")
    assert find_data_root() == cache.resolve()


def test_shared_beside_cwd_beats_cache(isolated: Path) -> None:
    _make_root(isolated / "cache" / "crossner")
    shared = _make_root(isolated / "project" / "shared" / "data" / "crossner")
    assert find_data_root() == shared.resolve()


def test_repository_candidate(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = isolated / "elsewhere" / "repo"
    shared = _make_root(isolated / "elsewhere" / "shared" / "data" / "crossner")
    monkeypatch.setattr(sources, "_package_repo_root", lambda: repo)
    assert find_data_root() == shared.resolve()


def test_env_beats_shared_and_explicit_beats_env(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make_root(isolated / "project" / "shared" / "data" / "crossner")
    env_root = _make_root(isolated / "env")
    monkeypatch.setenv(sources.ENV_VAR, str(env_root))
    assert find_data_root() == env_root
    explicit = _make_root(isolated / "explicit")
    assert find_data_root(explicit) == explicit
    assert find_data_root(str(explicit)) == explicit


def test_folder_without_complete_domain_does_not_count(isolated: Path) -> None:
    shared = isolated / "project" / "shared" / "data" / "crossner"
    (shared / "dom").mkdir(parents=True)
    (shared / "dom" / "train.txt").write_text("a\tO\n", encoding="utf-8")
    cache = _make_root(isolated / "cache" / "crossner")
    assert find_data_root() == cache.resolve()


@pytest.mark.parametrize(
    ("setup", "expected"),
    [("missing", "data folder from --data not found"), ("file", "is not a folder"),
     ("empty", "has no domain folder")],
)
def test_bad_explicit_folder_is_an_error(isolated: Path, setup: str, expected: str) -> None:
    _make_root(isolated / "cache" / "crossner")  # must not be used as a silent fallback
    target = isolated / "target"
    if setup == "file":
        target.write_text("x", encoding="utf-8")
    elif setup == "empty":
        target.mkdir()
    with pytest.raises(DataError, match=expected):
        find_data_root(target)


def test_bad_env_folder_is_an_error(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sources.ENV_VAR, str(isolated / "nope"))
    with pytest.raises(DataError, match="from XNER_DATA not found"):
        find_data_root()


def test_default_cache_dir_is_under_platformdirs_cache() -> None:
    from platformdirs import user_cache_dir

    assert sources.default_cache_dir() == Path(user_cache_dir("xner")) / "crossner"
