"""A real Label Studio for the tests: installed into its own virtual environment (it pins many
packages, so never into xner's), started on 127.0.0.1 with a temporary data folder and a preset
user and legacy token, stopped afterwards.

    python tests/integration/labelstudio_server.py install   # what the fixture does when needed

The venv lives in the user cache (``~/.cache/xner/label-studio-VERSION``, or
``$XNER_LABEL_STUDIO_VENV``), so every clone and CI run on a machine shares one install; a stamp
file names the installed version. ``Unavailable`` says why a server cannot be had (no network for
the install, a start that fails); the tests skip with that reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSION = "1.23.2"
VENV = Path(os.environ.get("XNER_LABEL_STUDIO_VENV") or Path.home() / ".cache" / "xner" / f"label-studio-{VERSION}")
STAMP = VENV / f".installed-{VERSION}"
INSTALL_TIMEOUT = 600  # seconds; a cold install downloads ~150 packages (under 4 minutes here)
START_TIMEOUT = 300  # the first start of a data folder runs every migration (about a minute)


class Unavailable(Exception):
    """Label Studio cannot be installed or started here; the message says why."""


def install(log: Path | None = None) -> Path:
    """The ``label-studio`` executable, installing it into ``VENV`` first when needed (locked)."""
    exe = VENV / "bin" / "label-studio"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / "label-studio-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.is_file() and exe.is_file():
            return exe
        log = log or VENV.parent / "label-studio-install.log"
        steps = [[sys.executable, "-m", "venv", "--clear", str(VENV)],
                 [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--retries", "1", "--timeout",
                  "30", f"label-studio=={VERSION}"]]
        started = time.monotonic()
        with open(log, "w") as out:
            for step in steps:
                left = INSTALL_TIMEOUT - (time.monotonic() - started)
                try:
                    done = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, timeout=max(left, 1))
                except subprocess.TimeoutExpired:
                    raise Unavailable(f"installing label-studio=={VERSION} took over {INSTALL_TIMEOUT} s "
                                      f"(see {log})") from None
                if done.returncode != 0:
                    raise Unavailable(f"cannot install label-studio=={VERSION} into {VENV} (no network?): "
                                      f"{_tail(log)} (see {log})")
        STAMP.write_text(VERSION + "\n")
        return exe


def _tail(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if line.strip() and not line.startswith("WARNING: Location")]
    return lines[-1][:300] if lines else "no output"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    token: str  # the preset legacy token
    username: str
    password: str
    data_dir: Path
    log: Path


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def running(data_dir: Path, token: str = "0123456789abcdef0123456789abcdef01234567") -> Iterator[Server]:
    """A Label Studio serving ``data_dir`` on a free port of 127.0.0.1, stopped on exit."""
    exe = install()
    port = free_port()
    server = Server(f"http://127.0.0.1:{port}", token, "xner@example.com", "xner-test-pw", data_dir,
                    data_dir / "label-studio.log")
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LABEL_STUDIO_USERNAME": server.username, "LABEL_STUDIO_PASSWORD": server.password,
           "LABEL_STUDIO_USER_TOKEN": token, "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
           "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true", "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir)}
    for name in ("XNER_LABEL_STUDIO_TOKEN", "LABEL_STUDIO_API_KEY", "VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)
    with open(server.log, "w") as log:
        proc = subprocess.Popen([str(exe), "start", "--no-browser", "--host", "127.0.0.1", "--port", str(port),
                                 "--data-dir", str(data_dir)], stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=data_dir, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(server.url):
            if proc.poll() is not None:
                raise Unavailable(f"label-studio exited with code {proc.returncode} while starting: "
                                  f"{_tail(server.log)} (see {server.log})")
            if time.monotonic() > deadline:
                raise Unavailable(f"label-studio did not answer /health within {START_TIMEOUT} s (see {server.log})")
            time.sleep(1)
        yield server
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group (start_new_session)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: labelstudio_server.py install")
    try:
        print(install())
    except Unavailable as err:
        sys.exit(f"label-studio unavailable: {err}")
