"""Find the CrossNER data: --data, $XNER_DATA, ../shared/data/crossner, the user cache.

A candidate folder counts only if it holds at least one complete domain folder (train.txt,
dev.txt and test.txt). A folder the user names explicitly (``--data`` or ``XNER_DATA``) that
does not count is an error rather than silently skipped: falling back to some other copy of
the data would make results depend on which folders happen to exist.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir

from xner.data.conll import discover_domains
from xner.errors import DataError

ENV_VAR = "XNER_DATA"
SHARED_RELATIVE = Path("shared") / "data" / "crossner"  # beside the working folder


def default_cache_dir() -> Path:
    """Where ``xner data download crossner`` puts the data by default."""
    return Path(user_cache_dir("xner")) / "crossner"


def _package_repo_root() -> Path | None:
    """The repository root when xner runs from a source checkout (editable install)."""
    # src/xner/data/sources.py -> parents[3] is the checkout holding pyproject.toml.
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() else None


def is_data_root(folder: Path) -> bool:
    """True if ``folder`` holds at least one complete domain folder."""
    return bool(discover_domains(folder, complete_only=True))


def candidate_roots() -> list[tuple[str, Path]]:
    """The implicit places searched, in order, each with a short label for messages."""
    found = [("../shared/data/crossner", Path.cwd().parent / SHARED_RELATIVE)]
    repo = _package_repo_root()
    if repo is not None:
        found.append(("repository ../shared/data/crossner", repo.parent / SHARED_RELATIVE))
    found.append(("user cache", default_cache_dir()))
    return found


def _named_root(folder: Path, origin: str) -> Path:
    """Check a folder the user named; DataError if it cannot be a data root."""
    if not folder.exists():
        raise DataError(f"data folder from {origin} not found", folder)
    if not folder.is_dir():
        raise DataError(f"data folder from {origin} is not a folder", folder)
    if not is_data_root(folder):
        raise DataError(
            f"data folder from {origin} has no domain folder "
            "(a domain is a folder with train.txt, dev.txt and test.txt)", folder,
        )
    return folder


def find_data_root(explicit: Path | str | None = None) -> Path:
    """The data root: ``explicit``, then $XNER_DATA, ../shared/data/crossner, the user cache."""
    if explicit is not None and str(explicit) != "":
        return _named_root(Path(explicit), "--data")
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return _named_root(Path(env), ENV_VAR)
    candidates = candidate_roots()
    for _, folder in candidates:
        if is_data_root(folder):
            return folder.resolve()
    looked = ", ".join(str(folder) for _, folder in candidates)
    raise DataError(
        f"no CrossNER data found (looked in {looked}): run `xner data download crossner` "
        f"or pass --data DIR (or set {ENV_VAR})"
    )
