"""Where runs execute: in-process, in a pool of spawned processes, or as Ray tasks, and on which GPUs.

Every executor runs ``fn(arg, context)`` for submitted tasks and hands back ``TaskResult``s;
workers never touch the database, the driver records what they return. With a CUDA device
(``auto`` on a machine with GPUs, or ``cuda``) each pool worker gets its own GPU(s) through
``CUDA_VISIBLE_DEVICES``, set before torch starts CUDA (``worker_gpus``), and each Ray task asks
for ``num_gpus`` (``ray_gpus``); ``gpus_per_worker = 0`` lets the workers share what they see.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Sequence
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


def visible_gpus() -> list[str]:
    """The GPUs this process may use: the entries of ``$CUDA_VISIBLE_DEVICES``, else every CUDA device."""
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        return [g.strip() for g in given.split(",") if g.strip() and not g.strip().startswith("-")]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def worker_gpus(index: int, visible: Sequence[str], per_worker: float) -> str | None:
    """``CUDA_VISIBLE_DEVICES`` of pool worker ``index``: ``ceil(per_worker)`` of the ``visible`` GPUs,
    round robin (one each: worker i gets GPU i % N, and workers share a GPU when there are more
    workers than GPUs). None (``per_worker`` 0, or no GPU): the worker sees what the driver sees."""
    if per_worker <= 0 or not visible:
        return None
    k = min(len(visible), math.ceil(per_worker))
    return ",".join(visible[(index * k + j) % len(visible)] for j in range(k))


def ray_gpus(device: str, per_task: float, cluster_gpus: float) -> float:
    """``num_gpus`` each Ray task asks for. A CUDA device asks for ``per_task``; ``auto`` does so only
    when the cluster has GPUs (else the runs use the CPU). Ray would wait for ever for GPUs the
    cluster lacks, so ``cuda`` there is one line (exit 2), as a missing device is everywhere."""
    if device in ("cpu", "mps") or per_task <= 0 or (device == "auto" and cluster_gpus <= 0):
        return 0.0
    if device.startswith("cuda:"):
        raise UserError(f"device {device}: Ray gives each run its own GPU (cuda:0 in the task); name cuda or auto")
    if per_task > cluster_gpus:
        raise UserError(f"device {device}: each run asks for {per_task:g} GPU(s) but the Ray cluster has "
                        f"{cluster_gpus:g}; use --device cpu, or fewer --gpus-per-worker")
    return per_task


def _start_worker(parent: int, gpus: Any) -> None:
    """Pool worker initialiser: take this worker's GPUs (before torch starts CUDA), watch the driver."""
    if gpus is not None:
        try:
            assigned = gpus.get(timeout=5)
        except Exception:  # queue.Empty: a replacement worker shares what the driver sees
            assigned = None
        if assigned is not None:
            os.environ["CUDA_VISIBLE_DEVICES"] = assigned
    exit_with_parent(parent)


class PoolExecutor:
    """``--jobs N``: N spawned worker processes (spawn: no forked torch/sqlite state). ``gpus``:
    each worker's ``CUDA_VISIBLE_DEVICES`` (``worker_gpus``), or None to leave it."""

    def __init__(self, context: Any, jobs: int, gpus: Sequence[str | None] | None = None) -> None:
        self.context = context
        self.slots = jobs
        self.gpus = list(gpus) if gpus and any(g is not None for g in gpus) else None
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future[TaskResult], str] = {}

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            queue = None
            if self.gpus is not None:
                queue = ctx.Queue()
                for assigned in self.gpus:
                    queue.put(assigned)
            self._pool = ProcessPoolExecutor(max_workers=self.slots, mp_context=ctx,
                                             initializer=_start_worker, initargs=(os.getpid(), queue))
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


def local_gpus(runtime: Any, jobs: int) -> tuple[str, list[str | None] | None]:
    """This machine's device for the study's ``runtime`` (a missing one is one ConfigError line,
    before any data is read), as a line to show, and each pool worker's GPUs (None: no pinning;
    an explicit ``cuda:N`` is shared by all workers)."""
    from xner.models.device import resolve_device, resolve_precision

    where = resolve_device(runtime.device)
    line = f"runs on {where}, {resolve_precision(runtime.precision, where)}"
    if jobs == 1 or where.type != "cuda" or runtime.device.strip().lower() not in ("auto", "cuda"):
        return line, None
    visible = visible_gpus()
    gpus = [worker_gpus(i, visible, runtime.gpus_per_worker) for i in range(jobs)]
    if all(g is None for g in gpus):
        return f"{line}; {jobs} workers share the GPU", None
    return f"{line}; worker GPUs (CUDA_VISIBLE_DEVICES): {' | '.join(g or '' for g in gpus)}", gpus


def make_executor(kind: str, context: Any, jobs: int = 1, address: str | None = None,
                  max_retries: int = 3, runtime: Any = None) -> Any:
    """``local`` (jobs=1 in-process, jobs>1 a process pool) or ``ray``. ``runtime``: the study's
    [runtime] (device, precision, gpus_per_worker); the executor's ``where`` says what it chose."""
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {jobs}")
    if kind == "local":
        where, gpus = local_gpus(runtime, jobs) if runtime is not None else ("", None)
        executor: Any = LocalExecutor(context) if jobs == 1 else PoolExecutor(context, jobs, gpus)
        executor.where = where
        return executor
    if kind == "ray":
        return RayExecutor(context, address=address, max_retries=max_retries, jobs=jobs, runtime=runtime)
    raise UserError(f"unknown executor {kind!r} (choose local or ray)")


class RayExecutor:
    """Each task is a Ray task (1 CPU, and ``ray_gpus`` GPUs for a CUDA device); Ray re-runs a
    task whose worker died (max_retries)."""

    def __init__(self, context: Any, address: str | None = None, max_retries: int = 3,
                 jobs: int = 1, runtime: Any = None) -> None:
        try:
            import ray
        except ImportError:
            raise UserError("the ray executor needs Ray: pip install 'xner[ray]'") from None
        self._ray = ray
        self._started = False
        self._refs: dict[Any, str] = {}
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": address} if address else {"num_cpus": max(jobs, 1)}
            try:
                ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise UserError(f"cannot connect to Ray at {address or 'a new local instance'}: {err}") from None
            self._started = True
        resources = ray.cluster_resources()
        self.slots = max(1, jobs if jobs > 1 else int(resources.get("CPU", 1)))
        try:
            self.num_gpus = ray_gpus(runtime.device, runtime.gpus_per_worker, float(resources.get("GPU", 0))) \
                if runtime is not None else 0.0
        except UserError:
            self.close()
            raise
        self.where = f"Ray: each run asks for {self.num_gpus:g} GPU(s)" if self.num_gpus else \
            "Ray: runs on the CPU" + (" (the cluster has no GPU)" if runtime and runtime.device == "auto" else "")
        self._remote = ray.remote(num_cpus=1, num_gpus=self.num_gpus, max_retries=max_retries)(call_task)
        self._context_ref = ray.put(context)

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
