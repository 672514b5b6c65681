"""A fake Hugging Face Hub: a real HTTP server on 127.0.0.1 (a free port, in a thread) that answers
the requests huggingface_hub's ``snapshot_download`` makes, for models held in memory:

- ``GET /api/models/{repo}[/revision/{rev}]``: model info (``sha``, ``siblings``);
- ``GET /api/models/{repo}/tree/{rev}``: the file listing (one page, no ``Link`` header);
- ``HEAD``/``GET /{repo}/resolve/{rev}/{file}``: a file, with ``X-Repo-Commit``, ``ETag`` and
  ``Content-Length``, as the hub sends them.

Errors are the hub's: an unknown repo is 404 ``X-Error-Code: RepoNotFound``, a missing file 404
``EntryNotFound``, a gated repo 403 ``GatedRepo``, a private one 401 ``RepoNotFound``. With
``drop`` set the server closes every connection without answering (a dropped connection); with
``drop_files``, only file downloads (the model info and listing still answer).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class HubState:
    """What the fake hub serves, and the requests it has seen (method, path)."""

    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)
    gated: set[str] = field(default_factory=set)
    private: set[str] = field(default_factory=set)
    drop: bool = False
    drop_files: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)

    def add_folder(self, repo: str, folder: Path) -> None:
        """Serve every file of ``folder`` (top level) as repo ``repo``."""
        self.repos[repo] = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}

    def commit(self, repo: str) -> str:
        return hashlib.sha1(repo.encode("utf-8")).hexdigest()


def _split(path: str) -> tuple[str, str, str, str] | None:
    """(kind, repo, revision, file) of an API or resolve path; None if it is neither."""
    parts = [unquote(p) for p in urlsplit(path).path.strip("/").split("/")]
    if parts[:2] == ["api", "models"] and len(parts) == 4:
        return "revision", "/".join(parts[2:4]), "main", ""
    if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] in ("revision", "tree"):
        return parts[4], "/".join(parts[2:4]), parts[5], ""
    if len(parts) >= 5 and parts[2] == "resolve":
        return "resolve", "/".join(parts[:2]), parts[3], "/".join(parts[4:])
    return None


def _handler(state: HubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
            return

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            self._answer(body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._answer(body=True)

        def _send(self, status: int, payload: bytes, headers: dict[str, str], body: bool) -> None:
            self.send_response(status)
            for key, value in {"Content-Length": str(len(payload)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def _error(self, status: int, code: str, body: bool) -> None:
            payload = json.dumps({"error": code}).encode()
            self._send(status, payload, {"X-Error-Code": code, "Content-Type": "application/json"}, body)

        def _answer(self, body: bool) -> None:
            state.requests.append((self.command, self.path))
            if state.drop or (state.drop_files and "/resolve/" in self.path):  # close the socket, not a word
                self.close_connection = True
                return
            where = _split(self.path)
            if where is None:
                return self._error(404, "NotFound", body)
            kind, repo, _rev, name = where
            if repo in state.gated:
                return self._error(403, "GatedRepo", body)
            if repo in state.private or repo not in state.repos:
                return self._error(401 if repo in state.private else 404, "RepoNotFound", body)
            files, commit = state.repos[repo], state.commit(repo)
            if kind == "revision":
                info = {"id": repo, "sha": commit, "private": False, "siblings": [{"rfilename": f} for f in files]}
                return self._send(200, json.dumps(info).encode(), {"Content-Type": "application/json"}, body)
            if kind == "tree":
                tree = [{"type": "file", "path": f, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                        for f, data in files.items()]
                return self._send(200, json.dumps(tree).encode(), {"Content-Type": "application/json"}, body)
            if name not in files:
                return self._error(404, "EntryNotFound", body)
            data = files[name]
            headers = {"X-Repo-Commit": commit, "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                       "Content-Type": "application/octet-stream"}
            self._send(200, data, headers, body)

    return Handler


@contextmanager
def serve(state: HubState) -> Iterator[str]:
    """Run the fake hub in a thread while inside; yields its endpoint (http://127.0.0.1:PORT)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
