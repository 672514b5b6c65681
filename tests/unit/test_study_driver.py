"""Study-level tasks side by side: values in the order asked, a failure fails the step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xner.errors import UserError
from xner.study.executors import TaskFn, TaskResult
from xner.study.runner import _Driver


class TwoSlots:
    """An executor with two slots that finishes the later of two running tasks first."""

    slots = 2

    def __init__(self) -> None:
        self.running: list[tuple[str, Any]] = []
        self.most_at_once = 0

    def submit(self, key: str, fn: TaskFn, arg: Any) -> None:
        self.running.append((key, arg))
        self.most_at_once = max(self.most_at_once, len(self.running))

    def wait(self) -> list[tuple[str, TaskResult]]:
        key, arg = self.running.pop()  # the newest first: completion order differs from submission
        if arg == "bad":
            return [(key, TaskResult(False, None, "ValueError: bad", 0.0))]
        return [(key, TaskResult(True, {"value": arg}, None, 0.0))]


def test_each_runs_side_by_side_and_keeps_the_order(tmp_path: Path) -> None:
    executor = TwoSlots()
    driver = _Driver(None, tmp_path, executor, None)  # type: ignore[arg-type]  # no store needed
    values = driver.each(lambda arg, ctx: {}, ["a", "b", "c", "d", "e"], "target choice")
    assert [v["value"] for v in values] == ["a", "b", "c", "d", "e"]
    assert executor.most_at_once == 2
    assert driver.one(lambda arg, ctx: {}, "x", "distances") == {"value": "x"}


def test_a_failed_task_fails_the_step_after_the_others_end(tmp_path: Path) -> None:
    executor = TwoSlots()
    driver = _Driver(None, tmp_path, executor, None)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="study step failed: ValueError: bad"):
        driver.each(lambda arg, ctx: {}, ["a", "bad", "c"], "target choice")
    assert executor.running == []  # nothing left running behind the error
