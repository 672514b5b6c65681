"""A small client for Label Studio's REST API (standard library only): projects, task import,
JSON export.

Tokens: a personal access token (a JWT refresh token) is exchanged at ``/api/token/refresh`` for
a short-lived access token sent as ``Authorization: Bearer``; any other token is a legacy one,
sent as ``Authorization: Token``. The token never appears in an error message: every failure is
one ``ConfigError`` line naming the server, not the credentials.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from xner.errors import ConfigError

TOKEN_ENV = ("XNER_LABEL_STUDIO_TOKEN", "LABEL_STUDIO_API_KEY")
TIMEOUT = 300.0  # seconds per request: importing or exporting thousands of tasks takes a while


def resolve_token(token: str | None) -> str:
    """``--token``, else the first of ``$XNER_LABEL_STUDIO_TOKEN``, ``$LABEL_STUDIO_API_KEY`` set."""
    for value in (token, *(os.environ.get(name) for name in TOKEN_ENV)):
        if value and value.strip():
            return value.strip()
    raise ConfigError(f"no Label Studio token: pass --token or set ${TOKEN_ENV[0]} (or ${TOKEN_ENV[1]})")


def is_jwt(token: str) -> bool:
    """Whether ``token`` has a JWT's shape (three base64url parts, a JSON header naming ``alg``)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


class LabelStudio:
    """One Label Studio server, reached with one user's token."""

    def __init__(self, url: str, token: str, timeout: float = TIMEOUT) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"--url must be an http(s) address such as http://127.0.0.1:8080, got {url!r}")
        self.url = url.rstrip("/")
        self._token = token
        self._auth: str | None = None
        self.timeout = timeout

    def _fail(self, message: str) -> ConfigError:
        return ConfigError(message.replace(self._token, "***"), self.url)

    def _send(self, method: str, path: str, body: Any, auth: str | None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if auth is not None:
            request.add_header("Authorization", auth)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            raise self._http_error(err, method, path) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            if isinstance(reason, ConnectionRefusedError):
                raise self._fail("cannot reach Label Studio (connection refused): is the server running "
                                 "at this address?") from None
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise self._fail(f"Label Studio did not answer {method} {path} within {self.timeout:g} s") from None
            raise self._fail(f"cannot reach Label Studio: {reason}") from None
        try:
            return json.loads(raw) if raw.strip() else None
        except ValueError:
            raise self._fail(f"{method} {path}: the answer is not JSON (is this a Label Studio server?)") from None

    def _http_error(self, err: urllib.error.HTTPError, method: str, path: str) -> ConfigError:
        if err.code in (401, 403):
            kind = "personal access token" if is_jwt(self._token) else "legacy token"
            return self._fail(f"Label Studio refused the token (HTTP {err.code}, {kind}): check --token or "
                              f"${TOKEN_ENV[0]}")
        try:
            detail = " ".join(err.read().decode("utf-8", "replace").split())[:300]
        except OSError:
            detail = ""
        return self._fail(f"{method} {path} failed: HTTP {err.code} {err.reason}" + (f": {detail}" if detail else ""))

    def _authorization(self) -> str:
        if self._auth is None:
            if is_jwt(self._token):
                answer = self._send("POST", "/api/token/refresh/", {"refresh": self._token}, None)
                access = answer.get("access") if isinstance(answer, dict) else None
                if not isinstance(access, str):
                    raise self._fail("POST /api/token/refresh/ gave no access token")
                self._auth = f"Bearer {access}"
            else:
                self._auth = f"Token {self._token}"
        return self._auth

    def call(self, method: str, path: str, body: Any = None, query: Mapping[str, object] | None = None) -> Any:
        """One authenticated request; the answer's JSON (None when empty)."""
        if query:
            path += "?" + urllib.parse.urlencode({k: str(v) for k, v in query.items()})
        return self._send(method, path, body, self._authorization())

    def projects(self) -> list[dict[str, Any]]:
        """Every project this user sees (all pages)."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = self.call("GET", "/api/projects/", query={"page": page, "page_size": 100})
            if isinstance(answer, list):  # older servers do not paginate
                return found + answer
            found += answer.get("results") or []
            if not answer.get("next"):
                return found
            page += 1

    def project(self, project_id: int) -> dict[str, Any]:
        answer = self.call("GET", f"/api/projects/{project_id}/")
        return answer if isinstance(answer, dict) else {}

    def create_project(self, title: str, label_config: str, description: str = "") -> dict[str, Any]:
        answer = self.call("POST", "/api/projects/", {"title": title, "label_config": label_config,
                                                     "description": description})
        if not isinstance(answer, dict) or "id" not in answer:
            raise self._fail("POST /api/projects/ gave no project id")
        return answer

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> int:
        """Add tasks (with their predictions); the number of tasks created."""
        answer = self.call("POST", f"/api/projects/{project_id}/import", tasks)
        count = answer.get("task_count") if isinstance(answer, dict) else None
        return count if isinstance(count, int) else len(tasks)

    def export(self, project_id: int, all_tasks: bool = False) -> list[Any]:
        """The project's tasks as Label Studio's JSON export (only annotated ones unless ``all_tasks``)."""
        answer = self.call("GET", f"/api/projects/{project_id}/export",
                           query={"exportType": "JSON", "download_all_tasks": str(all_tasks).lower()})
        if not isinstance(answer, list):
            raise self._fail(f"the export of project {project_id} is not a list of tasks")
        return answer
