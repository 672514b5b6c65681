"""The SQLite store: statuses, transactions that roll back, clear errors for bad disks."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from xner.errors import UserError
from xner.study.store import Store


def _rows(n: int) -> list[tuple[str, str, float, str, int, str, str]]:
    return [(f"id{i}", "random", float(i), "raw", 1, "bilstm_crf", "{}") for i in range(n)]


def test_lifecycle_and_idempotent_insert(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        assert store.add_runs(_rows(3)) == 3
        assert store.add_runs(_rows(4)) == 1  # existing rows are left alone
        store.mark_running("id0")
        store.mark_done("id0", {"test_f1": 0.5}, 1.5, None, "runs/id0.json")
        store.mark_running("id1")
        store.mark_failed("id1", "boom\ntrace", 0.1)
        store.mark_running("id1")
        assert store.counts() == {"pending": 2, "running": 1, "done": 1, "failed": 0}
        done = store.get("id0")
        assert done is not None and done.metrics == {"test_f1": 0.5} and done.seconds == 1.5
        again = store.get("id1")
        assert again is not None and again.attempts == 2 and again.error is None
        store.put_artefact("grid", {"runs": ["id0"]})
        assert store.artefact("grid") == {"runs": ["id0"]} and store.artefact("nope") is None
    with Store(tmp_path, readonly=True) as ro:
        assert [r.id for r in ro.runs(status="done")] == ["id0"]


def test_wal_mode(tmp_path: Path) -> None:
    Store(tmp_path).close()
    with sqlite3.connect(tmp_path / "study.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_failed_transaction_rolls_back(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.add_runs(_rows(2))
        with pytest.raises(sqlite3.IntegrityError):
            # The second row breaks the CHECK constraint: the first must not stay inserted either.
            with store._tx() as db:  # noqa: SLF001 - the transaction helper is what is tested
                db.execute("UPDATE runs SET status='done' WHERE id='id0'")
                db.execute("UPDATE runs SET status='weird' WHERE id='id1'")
        assert store.counts()["done"] == 0


def test_disk_full_is_a_clear_error_and_db_still_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(tmp_path) as store:
        store.add_runs(_rows(1))

        def full(*args: object, **kw: object) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(store, "_db", _Failing(store._db, full))  # noqa: SLF001
        with pytest.raises(UserError, match=r"study.db: cannot write the study database: database or disk is full"):
            store.mark_running("id0")
    monkeypatch.undo()
    with Store(tmp_path, readonly=True) as ro:
        assert ro.counts()["pending"] == 1


class _Failing:
    """A connection whose UPDATE statements fail (as on a full disk); BEGIN/ROLLBACK work."""

    def __init__(self, db: sqlite3.Connection, fail: object) -> None:
        self._db, self._fail = db, fail

    def execute(self, sql: str, *args: object) -> object:
        if sql.startswith("UPDATE"):
            self._fail()  # type: ignore[operator]
        return self._db.execute(sql, *args)

    def close(self) -> None:
        self._db.close()


def test_unwritable_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kw: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(UserError, match="cannot write the study database: Read-only file system"):
        Store(tmp_path / "new")


def test_corrupt_and_missing_db(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no study database here"):
        Store(tmp_path, readonly=True)
    (tmp_path / "study.db").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(UserError, match="corrupt"):
        Store(tmp_path)
