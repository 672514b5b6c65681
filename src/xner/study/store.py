"""The study's SQLite store: one row per run plus study-level artefacts.

Only the driver process writes it. Every change is one transaction, so a process killed at any
moment leaves either the old row or the new one. WAL mode lets ``xner study status`` read while
a study runs.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xner.errors import UserError
from xner.study import faults

DB_NAME = "study.db"
STATUSES = ("pending", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    setting REAL NOT NULL,
    label_mode TEXT NOT NULL,
    seed INTEGER NOT NULL,
    backbone TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    seconds REAL,
    metrics TEXT,
    model_path TEXT,
    predictions_path TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS artefacts (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created REAL NOT NULL
);
"""


@dataclass(frozen=True)
class RunRow:
    id: str
    method: str
    setting: float
    label_mode: str
    seed: int
    backbone: str
    config: dict[str, Any]
    status: str
    attempts: int
    started: float | None
    finished: float | None
    seconds: float | None
    metrics: dict[str, Any] | None
    model_path: str | None
    predictions_path: str | None
    error: str | None


def _row(r: sqlite3.Row) -> RunRow:
    data = dict(r)
    data["config"] = json.loads(data["config"])
    data["metrics"] = json.loads(data["metrics"]) if data["metrics"] else None
    return RunRow(**data)


def _open_readonly(path: Path) -> sqlite3.Connection:
    """Read-only; on a read-only folder (no -shm file can be made) fall back to immutable mode."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        db.execute("SELECT count(*) FROM runs").fetchone()
        return db
    except sqlite3.OperationalError as err:
        if "no such table" in str(err):
            raise
        db.close()
        return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, timeout=30)


def _io_error(path: Path, err: Exception) -> UserError:
    text = getattr(err, "strerror", None) or str(err)
    return UserError(f"cannot write the study database: {text}", path)


class Store:
    """Open (and create) ``DIR/study.db``."""

    def __init__(self, study_dir: str | Path, readonly: bool = False) -> None:
        self.path = Path(study_dir) / DB_NAME
        if readonly and not self.path.exists():
            raise UserError("no study database here (run `xner study run` first)", self.path)
        try:
            if readonly:
                self._db = _open_readonly(self.path)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as err:
            if isinstance(err, sqlite3.DatabaseError) and "not a database" in str(err):
                raise UserError("the study database is corrupt (not an SQLite file)", self.path) from None
            raise _io_error(self.path, err) from None
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; any failure rolls it back and names the database."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                faults.point("db")  # test hook: die with the transaction open
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except (sqlite3.OperationalError, OSError) as err:
            raise _io_error(self.path, err) from None

    # --- runs -------------------------------------------------------------------------------

    def add_runs(self, runs: list[tuple[str, str, float, str, int, str, str]]) -> int:
        """Insert (id, method, setting, label_mode, seed, backbone, config_json) rows not yet
        present; returns how many were new."""
        with self._tx() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO runs (id, method, setting, label_mode, seed, backbone, config, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                runs,
            )
            return db.total_changes - before

    def mark_running(self, run_id: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status='running', started=?, finished=NULL, error=NULL,"
                " attempts=attempts+1 WHERE id=?",
                (time.time(), run_id),
            )

    def mark_done(self, run_id: str, metrics: dict[str, Any], seconds: float,
                  model_path: str | None, predictions_path: str | None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status='done', finished=?, seconds=?, metrics=?, model_path=?,"
                " predictions_path=?, error=NULL WHERE id=?",
                (time.time(), seconds, json.dumps(metrics, sort_keys=True), model_path,
                 predictions_path, run_id),
            )

    def mark_failed(self, run_id: str, error: str, seconds: float | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status='failed', finished=?, seconds=?, error=? WHERE id=?",
                (time.time(), seconds, error, run_id),
            )

    def runs(self, ids: list[str] | None = None, status: str | None = None) -> list[RunRow]:
        """Rows in a stable order (method, label mode, setting, seed)."""
        sql = "SELECT * FROM runs"
        where, args = [], []
        if status is not None:
            where.append("status=?")
            args.append(status)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY method, label_mode, setting, seed, id"
        rows = [_row(r) for r in self._db.execute(sql, args)]
        if ids is not None:
            wanted = set(ids)
            rows = [r for r in rows if r.id in wanted]
        return rows

    def get(self, run_id: str) -> RunRow | None:
        found = self._db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return _row(found) if found else None

    def counts(self, ids: list[str] | None = None) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for row in self.runs(ids):
            counts[row.status] += 1
        return counts

    def check_schema(self) -> None:
        """Refuse a study whose runs were made before runs were RunConfigs: their ids mean other
        settings, and mixing them with today's would be silent nonsense."""
        sql = "SELECT count(*) FROM runs WHERE instr(config, ?) = 0"
        old = self._db.execute(sql, ('"schema_version"',)).fetchone()[0]
        if old:
            raise UserError(f"this study was made by an older xner run schema ({old} runs without a schema "
                            "version) and cannot be resumed or reported by this xner; rerun its config into "
                            "a new directory: xner study run CONFIG --out NEW_DIR", self.path.parent)

    # --- artefacts ----------------------------------------------------------------------------

    def put_artefact(self, name: str, value: Any) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO artefacts (name, value, created) VALUES (?, ?, ?)",
                (name, json.dumps(value, sort_keys=True), time.time()),
            )

    def artefact(self, name: str) -> Any | None:
        found = self._db.execute("SELECT value FROM artefacts WHERE name=?", (name,)).fetchone()
        return json.loads(found[0]) if found else None

    def artefact_names(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM artefacts ORDER BY name")]
