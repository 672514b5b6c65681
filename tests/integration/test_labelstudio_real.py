"""``xner annotate push/pull`` against a real Label Studio (its own venv, see labelstudio_server):
push a tiny model's flagged sentences, annotate them as a person would through the REST API,
pull, and check the merged data token by token; then the one-line errors, and a personal access
token. Skipped, with the reason, when label-studio cannot be installed or started here (set
XNER_SKIP_LABEL_STUDIO=1 to skip on purpose)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import labelstudio_server as ls
import pytest

from xner.data.conll import read_conll
from xner.data.corpus import Sentence

pytestmark = pytest.mark.slow

SENTENCES = [("Alan Turing worked in Manchester .", "B-person I-person O O B-location O"),
             ("Deep learning uses GPUs .", "B-field I-field O B-product O"),
             ("Ada Lovelace wrote notes in London .", "B-person I-person O O O B-location O"),
             ("The Turing test is famous .", "O B-misc I-misc O O O"),
             ("Google built TensorFlow in California .", "B-organisation O B-product O B-location O"),
             ("Geoffrey Hinton studied neural networks .", "B-person I-person O B-field I-field O")]
PROJECT = "xner toy/train"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ls.Server]:
    if os.environ.get("XNER_SKIP_LABEL_STUDIO"):
        pytest.skip("XNER_SKIP_LABEL_STUDIO is set")
    try:
        with ls.running(tmp_path_factory.mktemp("label-studio")) as srv:
            yield srv
    except ls.Unavailable as err:
        pytest.skip(f"no real Label Studio: {err}")


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with domain ``toy`` and a tiny BiLSTM-CRF that fits its six sentences exactly."""
    import torch

    from xner.data.conll import write_conll
    from xner.labels.space import LabelSpace
    from xner.models.base import TrainConfig
    from xner.models.bilstm_crf import BiLSTMCRFTagger
    from xner.training.trainer import fit

    root = tmp_path_factory.mktemp("toy")
    sentences = [Sentence(tuple(t.split()), tuple(g.split())) for t, g in SENTENCES]
    for split in ("train", "dev", "test"):
        write_conll(root / "data" / "toy" / f"{split}.txt", sentences)
    train = read_conll(root / "data" / "toy" / "train.txt", "toy")
    torch.set_num_threads(1)
    tagger = BiLSTMCRFTagger.create(train, LabelSpace.from_sentences(train), {
        "word_dim": 16, "casing_dim": 2, "char_dim": 4, "char_filters": 8, "hidden": 16}, seed=0)
    fit(tagger, train, [], TrainConfig(epochs=60, batch_size=2, lr=0.02, unk_replace=0.0))
    assert [list(p) for p in tagger.predict([s.tokens for s in train])] == [list(s.tags) for s in train]
    tagger.save(root / "model")
    return root


def xner(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XNER_LABEL_STUDIO_TOKEN", "LABEL_STUDIO_API_KEY")}
    if token is not None:
        env["XNER_LABEL_STUDIO_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "xner", "annotate", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def rest(server: ls.Server, method: str, path: str, body: Any = None) -> Any:
    """Label Studio's REST API as a person's browser uses it (legacy token)."""
    request = urllib.request.Request(server.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Authorization", f"Token {server.token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
    return json.loads(raw) if raw.strip() else None


def project_tasks(server: ls.Server, title: str) -> dict[str, dict[str, Any]]:
    """The tasks of project ``title``, with their predictions, by sentence id."""
    projects = rest(server, "GET", "/api/projects/?page_size=100")["results"]
    pid = next(p["id"] for p in projects if p["title"] == title)
    tasks = rest(server, "GET", f"/api/tasks/?project={pid}&fields=all&page_size=100")["tasks"]
    return {t["data"]["sid"]: t for t in tasks}


def annotate(server: ls.Server, task: dict[str, Any], result: list[dict[str, Any]], cancelled: bool = False) -> None:
    rest(server, "POST", f"/api/tasks/{task['id']}/annotations/", {"result": result, "was_cancelled": cancelled})


def region(text: str, start_token: int, end_token: int, label: str) -> dict[str, Any]:
    """A labels region over tokens [start_token, end_token) of a space-joined sentence."""
    words = text.split(" ")
    start = sum(len(w) + 1 for w in words[:start_token])
    end = start + len(" ".join(words[start_token:end_token]))
    return {"id": f"r{start}", "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def tags_of(text: str, result: list[dict[str, Any]]) -> list[str]:
    """What a person's regions mean token by token (computed here, independently of xner)."""
    words = text.split(" ")
    starts = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
    tags = ["O"] * len(words)
    for r in result:
        first = starts.index(r["value"]["start"])
        last = max(i for i, s in enumerate(starts) if s < r["value"]["end"])
        kind = r["value"]["labels"][0]
        tags[first:last + 1] = [f"B-{kind}"] + [f"I-{kind}"] * (last - first)
    return tags


def no_secret(token: str, *places: Path, outputs: tuple[str, ...] = ()) -> None:
    assert all(token not in text for text in outputs)
    for place in places:
        for path in (p for p in place.rglob("*") if p.is_file()):
            assert token.encode() not in path.read_bytes(), f"token written to {path}"


def test_push_annotate_pull_token_by_token(server: ls.Server, toy: Path) -> None:
    data, model = toy / "data", toy / "model"
    before = read_conll(data / "toy" / "train.txt", "toy")
    push = xner("push", "--model", str(model), "--data", str(data), "--domain", "toy", "--threshold", "0",
                "--url", server.url, token=server.token)
    assert push.returncode == 0, push.stderr
    assert f"6 of 6 sentences flagged; 6 sent to new project '{PROJECT}'" in push.stdout
    tasks = project_tasks(server, PROJECT)
    by_line = {s.line: s for s in before}
    assert len(tasks) == 6
    # The prediction score is a confidence: 1 - highest token entropy / ln(13 tags), so Label
    # Studio's ascending sort by prediction score shows the most uncertain sentence first.
    for task in tasks.values():
        highest = max(u["entropy"] for u in task["data"]["uncertain"])
        assert task["predictions_score"] == pytest.approx(1 - highest / math.log(13), abs=1e-3)
    ordered = sorted(tasks.values(), key=lambda t: t["predictions_score"])
    assert [t["data"]["entropy"] for t in ordered] == sorted((t["data"]["entropy"] for t in tasks.values()),
                                                            reverse=True)
    # A person: accepts one pre-annotation as it is, fixes a type, fixes a boundary, adds a
    # missed entity, skips one task and leaves one untouched.
    sid = {s.tokens[0]: f"toy/train.txt/{s.line}" for s in before}
    results: dict[str, list[dict[str, Any]]] = {}
    for first, edit in (("Alan", "accept"), ("The", "type"), ("Geoffrey", "boundary"), ("Ada", "add")):
        task = tasks[sid[first]]
        text, result = task["data"]["text"], [dict(r) for r in task["predictions"][0]["result"]]
        if edit == "type":
            result = [region(text, 1, 3, "product")]  # "Turing test": misc -> product
        elif edit == "boundary":
            result = [region(text, 1, 2, "person"), region(text, 3, 5, "field")]  # "Hinton" alone
        elif edit == "add":
            result.append(region(text, 3, 4, "misc"))  # "notes"
        annotate(server, task, result)
        results[sid[first]] = result
    annotate(server, tasks[sid["Google"]], [], cancelled=True)
    pull = xner("pull", "--url", server.url, "--project", PROJECT, "--into", str(data / "toy"),
                "--token", server.token)
    assert pull.returncode == 0, pull.stderr
    after = read_conll(data / "toy" / "train.txt", "toy")
    expected = {key: tags_of(tasks[key]["data"]["text"], result) for key, result in results.items()}
    changed = sum(a != b for key, tags in expected.items()
                  for a, b in zip(tags, by_line[int(key.rsplit("/", 1)[1])].tags))
    assert f"merged 4 sentences ({changed} labels changed)" in pull.stdout and changed == 5
    assert [s.tokens for s in after] == [s.tokens for s in before]
    for old, new in zip(before, after):
        want = expected.get(f"toy/train.txt/{old.line}", list(old.tags))
        for token, got, tag in zip(new.tokens, new.tags, want):
            assert got == tag, f"{old.line}: {token}: {got} != {tag}"
    assert list(after[0].tags) == list(before[0].tags)  # accepted as predicted (= the data)
    no_secret(server.token, toy, outputs=(push.stdout, push.stderr, pull.stdout, pull.stderr))


def one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: "), proc.stderr
    assert all(n in proc.stderr for n in needles), proc.stderr


def test_errors_are_one_line_and_merge_nothing(server: ls.Server, toy: Path) -> None:
    data, model = toy / "data", toy / "model"
    common = ["--model", str(model), "--data", str(data), "--domain", "toy", "--threshold", "0"]
    down = f"http://127.0.0.1:{ls.free_port()}"
    one_line_error(xner("push", *common, "--url", down, token=server.token), "connection refused", down)
    one_line_error(xner("pull", "--url", down, "--project", PROJECT, "--into", str(data), token=server.token),
                   "connection refused")
    one_line_error(xner("pull", "--url", server.url, "--project", PROJECT, "--into", str(data)),
                   "no Label Studio token")
    wrong = xner("push", *common, "--url", server.url, "--token", "f" * 40)
    one_line_error(wrong, "refused the token (HTTP 401")
    assert "f" * 40 not in wrong.stderr
    config = "<View><Labels name='label' toName='text'><Label value='person'/><Label value='city'/></Labels>" \
             "<Text name='text' value='$text'/></View>"
    rest(server, "POST", "/api/projects/", {"title": "other labels", "label_config": config})
    one_line_error(xner("push", *common, "--url", server.url, "--project", "other labels", token=server.token),
                   "'other labels' has labels that do not match", "missing field location misc organisation product",
                   "extra city")
    assert not project_tasks(server, "other labels")
    for title in ("edited", "broken"):
        assert xner("push", *common, "--url", server.url, "--project", title, "--budget", "2",
                    token=server.token).returncode == 0
        first, second = project_tasks(server, title).values()
        annotate(server, first, first["predictions"][0]["result"])
        annotate(server, second, second["predictions"][0]["result"])
    edited = project_tasks(server, "edited")[second["data"]["sid"]]
    rest(server, "PATCH", f"/api/tasks/{edited['id']}/", {"data": {**edited["data"], "text": "Edited in LS ."}})
    wrong_span = region(first["data"]["text"], 0, 1, "person")
    wrong_span["value"]["start"] += 1  # starts inside the first token
    annotate(server, first, [wrong_span])  # the latest annotation of 'broken''s first task
    snapshot = {p: p.read_bytes() for p in (data / "toy").iterdir()}
    one_line_error(xner("pull", "--url", server.url, "--project", "edited", "--into", str(data / "toy"),
                        token=server.token), "the task text was changed", edited["data"]["sid"])
    one_line_error(xner("pull", "--url", server.url, "--project", "broken", "--into", str(data / "toy"),
                        token=server.token), "is not on token boundaries", first["data"]["sid"])
    one_line_error(xner("pull", "--url", server.url, "--project", "missing", "--into", str(data / "toy"),
                        token=server.token), "no project titled 'missing'")
    assert {p: p.read_bytes() for p in (data / "toy").iterdir()} == snapshot  # nothing merged half-way


def test_personal_access_token(server: ls.Server, toy: Path) -> None:
    try:
        refresh = rest(server, "POST", "/api/token/")["token"]
    except (OSError, KeyError) as err:
        pytest.skip(f"this Label Studio cannot create a personal access token through the API: {err}")
    data, model = toy / "data", toy / "model"
    env_token = {**os.environ, "LABEL_STUDIO_API_KEY": refresh}
    env_token.pop("XNER_LABEL_STUDIO_TOKEN", None)
    push = subprocess.run([sys.executable, "-m", "xner", "annotate", "push", "--model", str(model), "--data",
                           str(data), "--domain", "toy", "--threshold", "0", "--budget", "1", "--url", server.url,
                           "--project", "pat"], capture_output=True, text=True, env=env_token, timeout=300)
    assert push.returncode == 0, push.stderr
    assert "1 sent to new project 'pat'" in push.stdout
    (task,) = project_tasks(server, "pat").values()
    annotate(server, task, task["predictions"][0]["result"])
    out = toy / "pat-merged.txt"
    pull = xner("pull", "--url", server.url, "--project", "pat", "--into", str(data / "toy" / "train.txt"),
                "--out", str(out), token=refresh)
    assert pull.returncode == 0, pull.stderr
    want = {f"toy/train.txt/{s.line}": list(s.tags) for s in read_conll(data / "toy" / "train.txt", "toy")}
    want[task["data"]["sid"]] = tags_of(task["data"]["text"], task["predictions"][0]["result"])
    assert {f"toy/train.txt/{s.line}": list(s.tags) for s in read_conll(out, "toy")} == want
    bad = refresh[:-4] + ("AAAA" if not refresh.endswith("AAAA") else "BBBB")
    one_line_error(xner("pull", "--url", server.url, "--project", "pat", "--into", str(data), token=bad),
                   "refused the token (HTTP 401, personal access token)")
    no_secret(refresh, toy, outputs=(push.stdout, push.stderr, pull.stdout, pull.stderr))
