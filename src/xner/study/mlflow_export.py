"""Export a study to an MLflow tracking store: one parent run for the study, one nested run per
study run (pre-training tasks included).

A child run holds the run's RunConfig flattened to dotted params (``finetune.lr``, ``data.target``),
tags naming it (``xner.run_id``, method, setting, label mode, seed, backbone, status), every number
of the store's metrics (``test_f1``, ``test_precision``, ``test_recall``, ``test_strict_f1``,
``dev_f1``, ...) and the whole config as ``run_config.json``. The parent holds the study config as
params and the report (``DIR/report/``) and ``config.toml`` as artifacts.

Exporting again updates instead of duplicating: the parent is found by its ``xner.study_dir`` tag
in the experiment, each child by its ``xner.run_id`` tag under the parent; only metrics whose value
changed are logged again (MLflow shows the latest), params are logged once (a run id is the hash
of its config, so they cannot change). mlflow is imported inside functions: it is an extra.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from xner.errors import UserError
from xner.study.store import RunRow, Store

INSTALL = "MLflow export needs the mlflow extra: pip install 'xner[mlflow]'"
STUDY_TAG = "xner.study_dir"
RUN_TAG = "xner.run_id"
PARENT_TAG = "mlflow.parentRunId"
# The store's status -> MLflow's run status.
STATUS = {"pending": "SCHEDULED", "running": "RUNNING", "done": "FINISHED", "failed": "FAILED"}
_KEY_CHARS = re.compile(r"[^\w\-. /]")


@dataclass(frozen=True)
class ExportResult:
    experiment: str
    experiment_id: str
    parent_id: str
    created: int
    updated: int
    unchanged: int
    artifacts: list[str]

    def summary(self) -> str:
        return (f"MLflow experiment {self.experiment!r} (id {self.experiment_id}), study run {self.parent_id}: "
                f"{self.created} runs created, {self.updated} updated, {self.unchanged} unchanged; "
                f"{len(self.artifacts)} report files")


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested dicts -> ``{"a.b": "value"}``; lists, numbers, booleans and None as JSON, strings as is."""
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{_KEY_CHARS.sub('_', str(key))}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = _value(value)
    return out


def _param_limit() -> int:
    try:
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH
        return int(MAX_PARAM_VAL_LENGTH)
    except ImportError:  # an mlflow that moved it: the smallest limit MLflow ever had
        return 500


def params_of(data: dict[str, Any], limit: int) -> dict[str, str]:
    """Flattened params, values cut to MLflow's length limit (the whole config is an artifact too)."""
    return {k: v if len(v) <= limit else v[:limit - 3] + "..." for k, v in flatten(data).items()}


def numbers(metrics: dict[str, Any] | None) -> dict[str, float]:
    """The numeric metrics of a store row (booleans, None and text left out)."""
    return {k: float(v) for k, v in (metrics or {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def _client(uri: str) -> Any:
    """An MlflowClient on ``uri``, checked to answer (one line if it does not)."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UserError(INSTALL) from None
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https"):  # fail fast instead of MLflow's minutes of retries
        try:
            urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=10).close()
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise UserError(f"cannot reach the MLflow tracking server {uri}: {reason}") from None
    try:
        client = MlflowClient(tracking_uri=uri)
        client.search_experiments(max_results=1)
    except Exception as err:  # any backend's failure is one line
        raise UserError(f"cannot use the MLflow tracking store {uri}: {_first_line(err)}") from None
    return client


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]


def _default_artifacts(uri: str) -> str | None:
    """For ``sqlite:///PATH/x.db``, artifacts go to ``PATH/mlartifacts`` (MLflow's default is the
    working directory); other stores choose their own."""
    if not uri.startswith("sqlite:///"):
        return None
    db = Path(uri[len("sqlite:///"):])
    return (db.parent / "mlartifacts").resolve().as_uri()


def _experiment(client: Any, name: str, uri: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return str(client.create_experiment(name, artifact_location=_default_artifacts(uri)))
    if found.lifecycle_stage != "active":
        raise UserError(f"the MLflow experiment {name!r} is deleted: restore it or export under another name")
    return str(found.experiment_id)


def _search(client: Any, experiment_id: str, filter_string: str) -> Iterator[Any]:
    token = None
    while True:
        page = client.search_runs([experiment_id], filter_string=filter_string, max_results=1000,
                                  page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _sync(client: Any, run: Any, params: dict[str, str], tags: dict[str, str],
          metrics: dict[str, float]) -> bool:
    """Log what the run lacks or has with another value (params: only what it lacks); True if
    anything was logged."""
    from mlflow.entities import Metric, Param, RunTag

    data = run.data
    now = int(time.time() * 1000)
    new_params = [Param(k, v) for k, v in params.items() if k not in data.params]
    new_tags = [RunTag(k, v) for k, v in tags.items() if data.tags.get(k) != v]
    new_metrics = [Metric(k, v, now, 0) for k, v in metrics.items() if data.metrics.get(k) != v]
    for start in range(0, max(len(new_params), len(new_tags), len(new_metrics)), 100):
        # log_batch takes at most 100 params and 1000 entries a call.
        client.log_batch(run.info.run_id, metrics=new_metrics[start:start + 100],
                         params=new_params[start:start + 100], tags=new_tags[start:start + 100])
    return bool(new_params or new_tags or new_metrics)


def _set_status(client: Any, run: Any, status: str, finished: float | None = None) -> bool:
    """Set the MLflow status of a run (the end time is the store's when it ends); True if it changed."""
    if run.info.status == status:
        return False
    if status in ("FINISHED", "FAILED"):
        end = int((finished or time.time()) * 1000)
        client.set_terminated(run.info.run_id, status=status, end_time=end)
    else:
        client.update_run(run.info.run_id, status=status)
    return True


def _study_status(rows: list[RunRow]) -> str:
    """The parent's status: finished when every run is done, failed if one failed, else running."""
    if all(r.status == "done" for r in rows):
        return "FINISHED"
    return "FAILED" if any(r.status == "failed" for r in rows) else "RUNNING"


def _child_tags(row: RunRow, parent_id: str) -> dict[str, str]:
    return {RUN_TAG: row.id, "xner.method": row.method, "xner.setting": f"{row.setting:g}",
            "xner.label_mode": row.label_mode, "xner.seed": str(row.seed), "xner.backbone": row.backbone,
            "xner.status": row.status, PARENT_TAG: parent_id,
            "mlflow.runName": f"{row.method} {row.setting:g} {row.label_mode} seed={row.seed}"}


def _export_row(client: Any, experiment_id: str, parent_id: str, row: RunRow, existing: Any | None,
                limit: int) -> str:
    """Create or update the child run of one store row: "created", "updated" or "unchanged"."""
    tags = _child_tags(row, parent_id)
    metrics = numbers(row.metrics)
    if row.seconds is not None:
        metrics["seconds"] = float(row.seconds)
    run = existing
    if run is None:
        start = int(row.started * 1000) if row.started else None
        run = client.create_run(experiment_id, start_time=start, tags={RUN_TAG: row.id, PARENT_TAG: parent_id},
                                run_name=tags["mlflow.runName"])
        client.log_text(run.info.run_id, json.dumps(row.config, indent=2, sort_keys=True), "run_config.json")
    logged = _sync(client, run, params_of(row.config, limit), tags, metrics)
    changed = _set_status(client, run, STATUS[row.status], row.finished)
    return "created" if existing is None else "updated" if logged or changed else "unchanged"


def _study_info(study_dir: Path) -> tuple[list[RunRow], dict[str, Any], dict[str, Any]]:
    """(rows of the current grid, study config, grid) from the store; the store must be of today's schema."""
    with Store(study_dir, readonly=True) as store:
        store.check_schema()
        cfg = store.artefact("config") or {}
        grid = store.artefact("grid") or {}
        ids = list(grid.get("pretrain", [])) + list(grid.get("runs", [])) or None
        return store.runs(ids), cfg, grid


def _report(study_dir: Path) -> Path:
    """``DIR/report``, written first if the study has none yet."""
    folder = study_dir / "report"
    if not (folder / "README.md").exists():
        from xner.study.report import write_report
        write_report(study_dir)
    return folder


def _parent(client: Any, experiment_id: str, study_dir: Path, name: str) -> Any:
    key = str(study_dir)
    for run in _search(client, experiment_id, "tags.`xner.kind` = 'study'"):
        if run.data.tags.get(STUDY_TAG) == key:
            return run
    return client.create_run(experiment_id, tags={"xner.kind": "study", STUDY_TAG: key}, run_name=name)


def export_study(study_dir: str | Path, uri: str, experiment: str | None = None) -> ExportResult:
    """Export (or update) a study in the MLflow tracking store ``uri``; experiment: the study's name
    unless given."""
    study_dir = Path(study_dir).resolve()
    rows, cfg, grid = _study_info(study_dir)
    client = _client(uri)
    name = str(cfg.get("name") or study_dir.name)
    try:
        experiment_id = _experiment(client, experiment or name, uri)
        parent = _parent(client, experiment_id, study_dir, name)
        parent_id = parent.info.run_id
        limit = _param_limit()
        existing = {r.data.tags.get(RUN_TAG): r for r in
                    _search(client, experiment_id, f"tags.`{PARENT_TAG}` = '{parent_id}'")}
        outcomes = [_export_row(client, experiment_id, parent_id, row, existing.get(row.id), limit)
                    for row in rows]
        tags = {"xner.kind": "study", STUDY_TAG: str(study_dir), "xner.study": name,
                "xner.target": str(grid.get("target", "")), "xner.pool": ",".join(grid.get("pool", [])),
                "xner.runs": str(len(rows))}
        _sync(client, parent, params_of(cfg, limit), tags, {})
        artifacts = _log_report(client, parent_id, study_dir)
        _set_status(client, parent, _study_status(rows))
    except UserError:
        raise
    except Exception as err:  # MLflow's and its store's errors are one line
        raise UserError(f"MLflow export to {uri} failed: {_first_line(err)}", study_dir) from None
    return ExportResult(experiment or name, experiment_id, parent_id, outcomes.count("created"),
                        outcomes.count("updated"), outcomes.count("unchanged"), artifacts)


def _log_report(client: Any, parent_id: str, study_dir: Path) -> list[str]:
    folder = _report(study_dir)
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    client.log_artifacts(parent_id, str(folder), "report")
    if (study_dir / "config.toml").is_file():
        client.log_artifact(parent_id, str(study_dir / "config.toml"))
    return files
