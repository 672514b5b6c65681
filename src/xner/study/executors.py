"""Where runs execute: in-process, in a pool of spawned processes, or as Ray tasks.

Every executor runs ``fn(arg, context)`` for submitted tasks and hands back ``TaskResult``s;
workers never touch the database, the driver records what they return.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from xner.errors import UserError

TaskFn = Callable[[Any, Any], dict[str, Any]]


@dataclass
class TaskResult:
    ok: bool
    value: dict[str, Any] | None
    error: str | None
    seconds: float


def call_task(fn: TaskFn, arg: Any, context: Any) -> TaskResult:
    """Run one task, turning any exception into a failed result (so it pickles home)."""
    start = time.perf_counter()
    try:
        value = fn(arg, context)
    except UserError as err:
        return TaskResult(False, None, err.format(), time.perf_counter() - start)
    except Exception as err:  # a bug in a run must not stop the other runs
        text = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=8)}"
        return TaskResult(False, None, text, time.perf_counter() - start)
    return TaskResult(True, value, None, time.perf_counter() - start)


class LocalExecutor:
    """Sequential, in this process: the simplest and the default."""

    slots = 1

    def __init__(self, context: Any) -> None:
        self.context = context
        self._queue: list[tuple[str, TaskFn, Any]] = []

    def set_context(self, context: Any) -> None:
        self.context = context

    def submit(self, key: str, fn: TaskFn, arg: Any) -> None:
        self._queue.append((key, fn, arg))

    def wait(self) -> list[tuple[str, TaskResult]]:
        key, fn, arg = self._queue.pop(0)
        return [(key, call_task(fn, arg, self.context))]

    def close(self) -> None:
        self._queue.clear()


def _watch_parent(parent: int, interval: float) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)  # the driver is gone (killed, crashed): nobody will record this worker's result


def exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """Worker initialiser: end this process when its driver dies, instead of training on for nobody."""
    threading.Thread(target=_watch_parent, args=(parent, interval), daemon=True).start()


class PoolExecutor:
    """``--jobs N``: N spawned worker processes (spawn: no forked torch/sqlite state)."""

    def __init__(self, context: Any, jobs: int) -> None:
        self.context = context
        self.slots = jobs
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future[TaskResult], str] = {}

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.slots, mp_context=ctx,
                                             initializer=exit_with_parent, initargs=(os.getpid(),))
        return self._pool

    def set_context(self, context: Any) -> None:
        self.context = context

    def submit(self, key: str, fn: TaskFn, arg: Any) -> None:
        future = self._get_pool().submit(call_task, fn, arg, self.context)
        self._futures[future] = key

    def wait(self) -> list[tuple[str, TaskResult]]:
        done, _ = wait(list(self._futures), return_when=FIRST_COMPLETED)
        out = []
        for future in done:
            key = self._futures.pop(future)
            try:
                out.append((key, future.result()))
            except BrokenProcessPool:
                # A worker died (killed, out of memory): the pool is unusable; start a new one.
                out.append((key, TaskResult(False, None, "worker process died", 0.0)))
                self._pool = None
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def make_executor(kind: str, context: Any, jobs: int = 1, address: str | None = None,
                  max_retries: int = 3) -> Any:
    """``local`` (jobs=1 in-process, jobs>1 a process pool) or ``ray``."""
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {jobs}")
    if kind == "local":
        return LocalExecutor(context) if jobs == 1 else PoolExecutor(context, jobs)
    if kind == "ray":
        return RayExecutor(context, address=address, max_retries=max_retries, jobs=jobs)
    raise UserError(f"unknown executor {kind!r} (choose local or ray)")


class RayExecutor:
    """Each task is a Ray task (1 CPU); Ray re-runs a task whose worker died (max_retries)."""

    def __init__(self, context: Any, address: str | None = None, max_retries: int = 3,
                 jobs: int = 1) -> None:
        try:
            import ray
        except ImportError:
            raise UserError("the ray executor needs Ray: pip install 'xner[ray]'") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": address} if address else {"num_cpus": max(jobs, 1)}
            try:
                ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise UserError(f"cannot connect to Ray at {address or 'a new local instance'}: {err}") from None
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.slots = max(1, jobs if jobs > 1 else cpus)
        self._remote = ray.remote(num_cpus=1, max_retries=max_retries)(call_task)
        self._context_ref = ray.put(context)
        self._refs: dict[Any, str] = {}

    def set_context(self, context: Any) -> None:
        self._context_ref = self._ray.put(context)

    def submit(self, key: str, fn: TaskFn, arg: Any) -> None:
        self._refs[self._remote.remote(fn, arg, self._context_ref)] = key

    def wait(self) -> list[tuple[str, TaskResult]]:
        ready, _ = self._ray.wait(list(self._refs), num_returns=1)
        out = []
        for ref in ready:
            key = self._refs.pop(ref)
            try:
                out.append((key, self._ray.get(ref)))
            except self._ray.exceptions.RayError as err:  # retries used up, node lost
                out.append((key, TaskResult(False, None, f"ray: {type(err).__name__}: {err}", 0.0)))
        return out

    def close(self) -> None:
        for ref in list(self._refs):
            self._ray.cancel(ref, force=True)
        self._refs.clear()
        if self._started:
            self._ray.shutdown()
