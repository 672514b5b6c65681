"""Label Studio push/pull without Label Studio: the confidence score, tokens, and the client and
sync logic against a tiny fake server on 127.0.0.1 (the real server: tests/integration)."""

from __future__ import annotations

import base64
import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from xner.errors import ConfigError, DataError
from xner.selection import labelstudio
from xner.selection.labelstudio_client import LabelStudio, is_jwt, resolve_token
from xner.selection.labelstudio_sync import pull_into, push_items
from xner.selection.review import ReviewItem

LEGACY = "0123456789abcdef0123456789abcdef01234567"
JWT = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
               for part in ({"alg": "HS256", "typ": "JWT"}, {"token_type": "refresh"})) + ".c2ln"
TAGS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def item(sid: str, tokens: list[str], tags: list[str], entropy: list[float]) -> ReviewItem:
    return ReviewItem(sid, tokens, tags, entropy, [h > 0.5 for h in entropy], max(entropy))


class Fake:
    """Just enough of Label Studio's API: projects, import, export, token refresh."""

    def __init__(self) -> None:
        self.projects: list[dict[str, Any]] = []
        self.tasks: dict[int, list[dict[str, Any]]] = {}
        self.auth: list[str] = []

    def answer(self, method: str, path: str, body: Any, auth: str) -> tuple[int, Any]:
        path = path.split("?")[0]
        if path == "/api/token/refresh/":
            return (200, {"access": "ACCESS"}) if body == {"refresh": JWT} else (401, {"detail": "bad"})
        self.auth.append(auth)
        if auth not in (f"Token {LEGACY}", "Bearer ACCESS"):
            return 401, {"detail": "Invalid token."}
        if path == "/api/projects/" and method == "GET":
            return 200, {"count": len(self.projects), "next": None, "results": self.projects}
        if path == "/api/projects/":
            self.projects.append({**body, "id": len(self.projects) + 1})
            self.tasks[len(self.projects)] = []
            return 201, self.projects[-1]
        pid = int(path.split("/")[3])
        if path.endswith("/import"):
            self.tasks[pid] += [{**t, "id": 100 + len(self.tasks[pid]) + i} for i, t in enumerate(body)]
            return 201, {"task_count": len(body)}
        return 200, self.tasks[pid]


@pytest.fixture()
def fake() -> Iterator[tuple[Fake, str]]:
    state = Fake()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(size)) if size else None
            code, data = state.answer(self.command, self.path, body, self.headers.get("Authorization", ""))
            raw = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _reply

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_prediction_score_is_a_confidence_and_entropy_stays_in_the_data() -> None:
    sure = item("d/f/1", ["Paris"], ["B-LOC"], [0.01])
    unsure = item("d/f/3", ["Bob", "Paris"], ["B-PER", "O"], [0.2, math.log(5)])
    tasks = labelstudio.make_tasks([unsure, sure], TAGS)
    scores = [t["predictions"][0]["score"] for t in tasks]
    assert scores == [0.0, pytest.approx(1 - 0.01 / math.log(5), abs=1e-4)]
    assert [t["data"]["entropy"] for t in tasks] == [round(math.log(5), 4), 0.01]
    assert labelstudio.confidence(sure, len(TAGS), base=2) == pytest.approx(1 - 0.01 / math.log2(5))


def test_config_labels_reads_xners_config_only() -> None:
    assert labelstudio.config_labels(labelstudio.label_config(["LOC", "PER"])) == ["LOC", "PER"]
    assert labelstudio.config_labels("<View><Labels name='x' toName='y'><Label value='A'/></Labels></View>") is None
    assert labelstudio.config_labels("not xml") is None


def test_tokens_from_option_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_jwt(JWT) and not is_jwt(LEGACY) and not is_jwt("a.b.c")
    monkeypatch.delenv("XNER_LABEL_STUDIO_TOKEN", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="no Label Studio token"):
        resolve_token(None)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "second")
    assert resolve_token(None) == "second"
    monkeypatch.setenv("XNER_LABEL_STUDIO_TOKEN", "first")
    assert resolve_token(None) == "first" and resolve_token(" given ") == "given"


def test_push_creates_then_reuses_and_skips_what_is_there(fake: tuple[Fake, str]) -> None:
    state, url = fake
    items = [item("d/f/1", ["Ann", "ran"], ["B-PER", "O"], [0.9, 0.1]), item("d/f/4", ["Rome"], ["B-LOC"], [0.7])]
    first = push_items(LabelStudio(url, LEGACY), items[:1], TAGS, ["LOC", "PER"], "p")
    again = push_items(LabelStudio(url, JWT), items, TAGS, ["PER", "LOC"], "p")
    assert (first.created, first.added, again.created, again.added, again.already) == (True, 1, False, 1, 1)
    assert [t["data"]["sid"] for t in state.tasks[1]] == ["d/f/1", "d/f/4"]
    assert state.auth[0] == f"Token {LEGACY}" and state.auth[-1] == "Bearer ACCESS"
    with pytest.raises(ConfigError, match="'p' has labels that do not match the model's: missing MISC, extra -"):
        push_items(LabelStudio(url, LEGACY), items, TAGS, ["LOC", "MISC", "PER"], "p")


def test_client_errors_are_one_line_without_the_token(fake: tuple[Fake, str]) -> None:
    _, url = fake
    for token, kind in (("wrong" * 8, "legacy token"), (JWT[:-2] + "xx", "personal access token")):
        with pytest.raises(ConfigError) as err:
            LabelStudio(url, token).projects()
        assert f"refused the token (HTTP 401, {kind})" in str(err.value) and token not in str(err.value)
    closed = url.rsplit(":", 1)[0] + ":1"
    with pytest.raises(ConfigError, match="connection refused"):
        LabelStudio(closed, LEGACY).projects()
    with pytest.raises(ConfigError, match="--url must be an http"):
        LabelStudio("127.0.0.1:8080", LEGACY)


def test_pull_merges_nothing_when_one_task_is_wrong(fake: tuple[Fake, str], tmp_path: Path) -> None:
    state, url = fake
    data = tmp_path / "train.txt"
    data.write_text("Ann\tO\nran\tO\n\nRome\tO\n\n", encoding="utf-8")
    items = [item("-/train.txt/1", ["Ann", "ran"], ["O", "O"], [0.9, 0.1]),
             item("-/train.txt/4", ["Rome"], ["O"], [0.7])]
    push_items(LabelStudio(url, LEGACY), items, TAGS, ["LOC", "PER"], "p")
    good = [{"type": "labels", "value": {"start": 0, "end": 3, "labels": ["PER"]}}]
    state.tasks[1][0]["annotations"] = [{"result": good}]
    state.tasks[1][1]["annotations"] = [{"result": [{"type": "labels", "value": {"start": 1, "end": 4,
                                                                                   "labels": ["LOC"]}}]}]
    with pytest.raises(DataError, match=r"/projects/1: task 101 \(-/train.txt/4\): span 1-4 'ome' is not on token"):
        pull_into(LabelStudio(url, LEGACY), "p", data)
    assert data.read_text() == "Ann\tO\nran\tO\n\nRome\tO\n\n"
    state.tasks[1][1]["annotations"] = [{"result": [], "was_cancelled": True}]  # skipped: not merged
    summary = pull_into(LabelStudio(url, LEGACY), "p", data)
    assert (summary.sentences, summary.changed_tokens) == (1, 1)
    assert data.read_text().split("\n")[:2] == ["Ann\tB-PER", "ran\tO"]
    with pytest.raises(ConfigError, match="no project titled 'q' \\(projects: 'p'\\)"):
        pull_into(LabelStudio(url, LEGACY), "q", data)
