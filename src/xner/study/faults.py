"""Fault-injection hook for the crash/resume tests.

``XNER_TEST_KILL_AFTER="POINT:N"`` makes the process SIGKILL itself the N-th time (default 1)
it reaches the named point. With ``XNER_TEST_KILL_ONCE=FILE`` it kills only if FILE does not exist
yet (and creates it), so a retried task in a fresh worker process survives. Points:
``pretrain`` (after a pre-training epoch), ``run`` (inside a run, after fine-tuning), ``stage``
(between the two fits of a staged run), ``checkpoint`` (a model is half written), ``db`` (a
database transaction is open), ``predictions`` (a predictions file is half written). The first
three are ``xner.run.execute.RunHooks`` checkpoints, so they fire inside ``run()`` itself.
Unset, it costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "XNER_TEST_KILL_AFTER"
ONCE_ENV = "XNER_TEST_KILL_ONCE"
_hits: dict[str, int] = {}


def point(name: str) -> None:
    """Kill this process here if the environment asks for it."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    wanted, _, count = spec.partition(":")
    if wanted != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(count or 1):
        once = os.environ.get(ONCE_ENV)
        if once:
            if os.path.exists(once):
                return
            with open(once, "w", encoding="utf-8") as handle:
                handle.write(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
