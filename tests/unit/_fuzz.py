"""Shared pieces of the fuzz tests: byte mutations, a time bound, and the outcome check.

Every fuzzed loader must either succeed or raise the project's UserError (one line, starting
``error: `` and naming the file); any other exception, or running past the time bound, fails.
"""

from __future__ import annotations

import copy
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from xner.errors import UserError

FUZZ = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TIME_BOUND_S = 10  # per example: generous for a loaded 2-core machine, tiny against a hang

# Byte strings that break UTF-8 in different ways: a lone continuation byte, a truncated
# two-byte sequence, an encoded surrogate, an overlong encoding, bytes never valid in UTF-8.
INVALID_UTF8 = (b"\x80", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xfe", b"\xff")


class Hang(Exception):
    """The code under test ran past TIME_BOUND_S."""


@contextmanager
def time_bound(seconds: float = TIME_BOUND_S) -> Iterator[None]:
    """Raise Hang in the main thread when the block runs longer than ``seconds``."""
    def _alarm(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def apply_mutation(data: bytes, op: str, where: float, extra: bytes, value: int) -> bytes:
    """One mutation ``op`` at relative position ``where`` (0..1) of ``data``."""
    i = int(where * len(data)) if data else 0
    if op == "flip" and data:
        i = min(i, len(data) - 1)
        return data[:i] + bytes([data[i] ^ value]) + data[i + 1:]
    if op == "truncate":
        return data[:i]
    if op == "nul":
        return data[:i] + b"\x00" + data[i:]
    if op == "utf8":
        return data[:i] + extra + data[i:]
    if op == "delete":
        return data[:i] + data[i + value % 16:]
    if op == "duplicate":
        return data[:i] + data[i:i + value % 32] + data[i:]
    if op == "insert":
        return data[:i] + bytes([value]) + data[i:]
    return data


@st.composite
def mutations(draw: st.DrawFn, seed: bytes, max_ops: int = 4) -> bytes:
    """``seed`` with 1..max_ops mutations: flipped bytes, truncation, inserted NULs,
    invalid UTF-8, deleted or duplicated runs, inserted bytes."""
    data = seed
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(["flip", "truncate", "nul", "utf8", "delete", "duplicate", "insert"]))
        where = draw(st.floats(0, 1))
        extra = draw(st.sampled_from(INVALID_UTF8))
        value = draw(st.integers(1, 255))
        data = apply_mutation(data, op, where, extra, value)
    return data


def fuzzed(seed: bytes) -> st.SearchStrategy[bytes]:
    """Mutations of ``seed`` (mostly) or arbitrary bytes."""
    return st.one_of(mutations(seed), mutations(seed), st.binary(max_size=300))


def check_outcome(load: Callable[[], Any], names: str | None) -> str:
    """Run ``load`` under the time bound: "ok", or "error" for a proper one-line UserError
    (that names ``names`` when given). Anything else propagates and fails the test."""
    try:
        with time_bound():
            load()
    except UserError as err:
        message = str(err)
        assert message == err.format()
        assert "\n" not in message and "\r" not in message, repr(message)
        assert message.startswith("error: "), message
        if names is not None:
            assert names in message, f"the message does not name {names}: {message}"
        return "error"
    return "ok"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys / indices) into a JSON tree, the root included."""
    out = [prefix]
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        out += _paths(child, (*prefix, key))
    return out


@st.composite
def json_mutations(draw: st.DrawFn, seed: Any) -> Any:
    """The seed JSON with 1-3 nodes replaced by arbitrary JSON values (or deleted)."""
    tree = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(tree)))
        if not path:
            tree = draw(json_values)
            continue
        parent = tree
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return tree
