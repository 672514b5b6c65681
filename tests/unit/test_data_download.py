"""download_crossner against a real HTTP server on 127.0.0.1 serving fixture files."""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from xner.data.download import download_crossner, pinned, pinned_checksums
from xner.errors import DataError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "conll" / "root"
FILES = {
    f"{domain}/{split}.txt": (FIXTURES / domain / f"{split}.txt").read_bytes()
    for domain in ("alpha", "beta")
    for split in ("train", "dev", "test")
}
SUMS = {name: hashlib.sha256(body).hexdigest() for name, body in FILES.items()}


class _Handler(BaseHTTPRequestHandler):
    """Serves FILES; ``corrupt`` paths get altered bytes, ``drop`` paths a cut-off body."""

    corrupt: set[str] = set()
    drop: set[str] = set()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        name = self.path.removeprefix("/data/")
        body = FILES.get(name)
        if body is None:
            self.send_error(404, "Not Found")
            return
        if name in self.corrupt:
            body = body[:-2] + b"X\n"
        self.send_response(200)
        if name in self.drop:
            # Promise more than we send, then close: a connection dropped mid-body.
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture()
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"corrupt": set(), "drop": set()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/data", handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _leftovers(dest: Path) -> list[str]:
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.name.startswith("."))


def test_all_good(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    url, _ = server
    dest = tmp_path / "cache"
    assert download_crossner(dest, url, checksums=SUMS, timeout=5, quiet=True) == dest
    for name, body in FILES.items():
        assert (dest / name).read_bytes() == body
    assert (dest / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert _leftovers(dest) == []
    assert {(dest / name).stat().st_mode & 0o777 for name in [*FILES, "LICENSE"]} == {0o644}


def test_second_run_keeps_verified_files(
    server: tuple[str, type[_Handler]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = server
    download_crossner(tmp_path, url, checksums=SUMS, timeout=5, quiet=True)
    download_crossner(tmp_path, url, checksums=SUMS, timeout=5)
    assert "0 file(s) downloaded, 6 already there" in capsys.readouterr().err


def test_corrupted_file(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    url, handler = server
    handler.corrupt.add("beta/dev.txt")
    with pytest.raises(DataError) as info:
        download_crossner(tmp_path, url, checksums=SUMS, timeout=5, quiet=True)
    message = str(info.value)
    assert "checksum mismatch for beta/dev.txt" in message
    assert f"expected sha256 {SUMS['beta/dev.txt']}, got " in message
    assert not (tmp_path / "beta" / "dev.txt").exists()
    assert _leftovers(tmp_path) == []
    # Files before it in the (sorted) order were verified and kept.
    assert (tmp_path / "alpha" / "train.txt").read_bytes() == FILES["alpha/train.txt"]


def test_connection_dropped_mid_body(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    url, handler = server
    handler.drop.add("alpha/dev.txt")
    dropped = r"connection dropped after \d+ of \d+ bytes of .*alpha/dev"
    with pytest.raises(DataError, match=dropped):
        download_crossner(tmp_path, url, checksums=SUMS, timeout=5, quiet=True)
    assert not (tmp_path / "alpha" / "dev.txt").exists()
    assert _leftovers(tmp_path) == []


def test_http_404(server: tuple[str, type[_Handler]], tmp_path: Path) -> None:
    url, _ = server
    sums = {**SUMS, "gamma/train.txt": "0" * 64}
    with pytest.raises(DataError, match=r"HTTP 404 .* for .*/gamma/train.txt"):
        download_crossner(tmp_path, url, checksums=sums, timeout=5, quiet=True)
    assert not (tmp_path / "gamma" / "train.txt").exists()
    assert _leftovers(tmp_path) == []


def test_unreachable_server(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DataError, match="cannot reach"):
        download_crossner(tmp_path, f"http://127.0.0.1:{port}", checksums=SUMS, timeout=5,
                          quiet=True)


def test_env_url_and_bad_url(
    server: tuple[str, type[_Handler]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = server
    monkeypatch.setenv("XNER_DOWNLOAD_URL", url)
    download_crossner(tmp_path, checksums=SUMS, timeout=5, quiet=True)
    assert (tmp_path / "beta" / "test.txt").is_file()
    with pytest.raises(DataError, match="must start with http"):
        download_crossner(tmp_path, "ftp://example.org", checksums=SUMS, quiet=True)


def test_cli_download_failure_exits_2(
    server: tuple[str, type[_Handler]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from xner.cli import main

    url, _ = server  # serves none of the real CrossNER names: the first file is a 404
    monkeypatch.setattr(sys, "argv", ["xner", "data", "download", "crossner", "--dest",
                                      str(tmp_path), "--url", url, "--quiet", "--timeout", "5"])
    with pytest.raises(SystemExit) as info:
        main()
    _, err = capsys.readouterr()
    assert info.value.code == 2
    assert err.strip().splitlines() == [
        f"error: download failed: HTTP 404 Not Found for {url}/ai/dev.txt"
    ]
    assert _leftovers(tmp_path) == []


def test_destination_that_is_a_file(tmp_path: Path) -> None:
    dest = tmp_path / "file"
    dest.write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="destination is not a folder"):
        download_crossner(dest, "http://127.0.0.1:9", checksums=SUMS, quiet=True)


def test_pinned_checksums_cover_six_domains() -> None:
    sums = pinned_checksums()
    domains = {name.split("/")[0] for name in sums}
    assert domains == {"ai", "conll2003", "literature", "music", "politics", "science"}
    assert len(sums) == 18 and all(len(v) == 64 for v in sums.values())
    licence = pinned()["license"]
    assert hashlib.sha256(licence["text"].encode()).hexdigest() == licence["sha256"]
