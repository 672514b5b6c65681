"""--jobs N workers end when the driver is killed, instead of training on for nobody."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

DRIVER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {here!r})
    from slow_task import slow
    from xner.study.executors import PoolExecutor

    if __name__ == "__main__":
        pool = PoolExecutor(context=None, jobs=1)
        pool.submit("a", slow, {pidfile!r})
        time.sleep(600)
""")

TASK = textwrap.dedent("""
    import os, time

    def slow(pidfile, context):
        with open(pidfile, "w") as handle:
            handle.write(str(os.getpid()))
        time.sleep(600)
        return {}
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_worker_exits_when_the_driver_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "worker.pid"
    (tmp_path / "slow_task.py").write_text(TASK)
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(here=str(tmp_path), pidfile=str(pidfile)))
    driver = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 60
        while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = int(pidfile.read_text())
        assert _alive(worker)
        driver.send_signal(signal.SIGKILL)
        driver.wait(10)
        deadline = time.monotonic() + 15
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker), "the worker outlived its driver"
    finally:
        driver.kill()
        if pidfile.exists() and pidfile.read_text() and _alive(int(pidfile.read_text())):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)
