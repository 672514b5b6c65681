"""Download the CrossNER domains into the user cache, checking pinned sha256 sums.

Each file streams into a temp file beside its target and is renamed into place only after its
checksum matches, so an interrupted or corrupted download never leaves a file that looks real.
Files already present with the right checksum are kept (a second run resumes the first).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)

from xner.atomic import write_text
from xner.data.sources import default_cache_dir
from xner.errors import DataError

DEFAULT_BASE_URL = "https://raw.githubusercontent.com/zliucr/CrossNER/main/ner_data"
URL_ENV_VAR = "XNER_DOWNLOAD_URL"
_CHUNK = 1 << 16
_FILE_MODE = 0o644


def pinned() -> dict[str, Any]:
    """The shipped ``checksums.json``: source, licence text and per-file sha256."""
    text = resources.files("xner.data").joinpath("checksums.json").read_text(encoding="utf-8")
    return json.loads(text)


def pinned_checksums() -> dict[str, str]:
    """``{"domain/split.txt": sha256}`` for the six CrossNER domains."""
    return {name: entry["sha256"] for name, entry in pinned()["files"].items()}


def file_sha256(path: Path) -> str:
    """sha256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    """Open ``url``, turning HTTP and network failures into one-line DataErrors."""
    try:
        return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - http(s) only, checked
    except urllib.error.HTTPError as err:
        raise DataError(f"download failed: HTTP {err.code} {err.reason} for {url}") from None
    except urllib.error.URLError as err:
        raise DataError(f"download failed: cannot reach {url} ({err.reason})") from None
    except (OSError, http.client.HTTPException) as err:
        raise DataError(f"download failed: {url} ({err})") from None


def _stream(url: str, handle: Any, timeout: float, progress: Progress, task: Any) -> str:
    """Copy the body of ``url`` into ``handle``; return its sha256. Short bodies are errors."""
    digest = hashlib.sha256()
    received = 0
    with _open(url, timeout) as response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        progress.update(task, total=expected)
        try:
            while chunk := response.read(_CHUNK):
                handle.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                progress.update(task, advance=len(chunk))
        except (OSError, http.client.HTTPException) as err:
            # socket.timeout is an OSError; IncompleteRead is an HTTPException.
            kind = "timed out" if isinstance(err, socket.timeout) else "connection dropped"
            raise DataError(f"download failed: {kind} after {received} bytes of {url}") from None
    if expected is not None and received < expected:
        raise DataError(
            f"download failed: connection dropped after {received} of {expected} bytes of {url}"
        )
    return digest.hexdigest()


def _fetch(url: str, target: Path, sha256: str, timeout: float, progress: Progress) -> int:
    """Download ``url`` to ``target`` via a temp file; rename only if the checksum matches."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as err:
        raise DataError(f"cannot write there ({err.strerror or err})", target.parent) from None
    tmp = Path(tmp_name)
    task = progress.add_task(str(Path(target.parent.name) / target.name), total=None)
    try:
        with os.fdopen(fd, "wb") as handle:
            got = _stream(url, handle, timeout, progress, task)
            handle.flush()
            os.fsync(handle.fileno())
        if got != sha256:
            raise DataError(
                f"checksum mismatch for {target.parent.name}/{target.name}: "
                f"expected sha256 {sha256}, got {got} (from {url})"
            )
        os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600; data files are meant to be shared
        os.replace(tmp, target)
    except OSError as err:  # disk full, permissions: still one line, still no partial file
        raise DataError(f"cannot write downloaded file ({err.strerror or err})", target) from None
    finally:
        tmp.unlink(missing_ok=True)
    return target.stat().st_size


def _base_url(base_url: str | None) -> str:
    base = base_url or os.environ.get(URL_ENV_VAR, "").strip() or DEFAULT_BASE_URL
    if not base.startswith(("http://", "https://")):
        raise DataError(f"download URL must start with http:// or https://, got {base!r}")
    return base.rstrip("/")


def download_crossner(
    dest: Path | str | None = None,
    base_url: str | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    quiet: bool = False,
    console: Console | None = None,
) -> Path:
    """Fetch the CrossNER files into ``dest`` (default: the user cache) and return ``dest``.

    ``checksums`` maps ``"domain/split.txt"`` to its sha256 (default: the pinned sums of the six
    domains); it also decides which files are fetched, which is how tests use a local server.
    """
    root = Path(dest) if dest is not None else default_cache_dir()
    if root.exists() and not root.is_dir():
        raise DataError("download destination is not a folder", root)
    base = _base_url(base_url)
    wanted = dict(checksums) if checksums is not None else pinned_checksums()
    console = console or Console(stderr=True)
    fetched = kept = 0
    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        console=console, disable=quiet or not console.is_terminal, transient=True,
    ) as progress:
        for name, sha256 in sorted(wanted.items()):
            target = root / name
            if target.is_file() and file_sha256(target) == sha256:
                kept += 1
                continue
            _fetch(f"{base}/{name}", target, sha256, timeout, progress)
            fetched += 1
    licence = pinned()["license"]
    write_text(root / licence["file"], licence["text"])
    os.chmod(root / licence["file"], _FILE_MODE)
    if not quiet:
        console.print(
            f"CrossNER data in {root}: {fetched} file(s) downloaded, {kept} already there",
            soft_wrap=True,
        )
    return root


def download_dataset(name: str, dest: Path | str | None = None, base_url: str | None = None,
                     timeout: float = 60.0, quiet: bool = False) -> Path:
    """``xner data download NAME``: :func:`download_crossner`, the one dataset that can be fetched."""
    if name.lower() != "crossner":
        raise DataError(f"unknown dataset {name!r} (only 'crossner' can be downloaded)")
    return download_crossner(dest, base_url, timeout=timeout, quiet=quiet)
