"""The re-annotation loop against a running Label Studio: push flagged sentences as tasks with
pre-annotations, pull the finished annotations and merge them into the data.

A project is found by its title. Pushing creates it with xner's labelling config, or reuses
it when its labels are the model's entity types (anything else is one error, before any task
is sent); sentences already in the project (same sentence id) are not sent again. Pulling
exports the annotated tasks and merges them exactly as ``xner annotate import`` merges a JSON
export: every task is checked first, and the data is written (atomically) only when all pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xner.errors import ConfigError, DataError
from xner.selection import labelstudio
from xner.selection.annotate import ImportSummary, merge_reviewed
from xner.selection.labelstudio_client import LabelStudio
from xner.selection.review import ReviewItem


@dataclass
class PushSummary:
    project_id: int
    title: str
    created: bool
    added: int  # tasks sent
    already: int  # flagged sentences the project had already
    link: str  # the project's data page, sorted by prediction score (most uncertain first)

    def message(self, n_read: int) -> str:
        return (f"{self.added + self.already} of {n_read} sentences flagged; {self.added} sent to "
                f"{'new' if self.created else 'existing'} project {self.title!r} ({self.already} were there "
                f"already); most uncertain first: {self.link}")


def find_project(client: LabelStudio, title: str) -> dict[str, Any] | None:
    """The project titled ``title`` (the oldest, if several are)."""
    matches = [p for p in client.projects() if isinstance(p, dict) and p.get("title") == title]
    return min(matches, key=lambda p: int(p.get("id", 0))) if matches else None


def check_labels(client: LabelStudio, project: dict[str, Any], types: Sequence[str]) -> None:
    """A reused project must label the model's entity types, no more, no fewer."""
    title = project.get("title")
    config = project.get("label_config")
    if not isinstance(config, str):
        config = client.project(int(project["id"])).get("label_config", "")
    have = labelstudio.config_labels(str(config))
    if have is None:
        raise ConfigError(f"project {title!r} was not made by xner: its labelling config has no <Labels "
                          f'name="{labelstudio.FROM_NAME}" toName="{labelstudio.TO_NAME}">; choose another '
                          "--project", client.url)
    if set(have) != set(types):
        missing, extra = sorted(set(types) - set(have)), sorted(set(have) - set(types))
        raise ConfigError(f"project {title!r} has labels that do not match the model's: "
                          f"missing {' '.join(missing) or '-'}, extra {' '.join(extra) or '-'}; choose another "
                          "--project (or fix its labelling config)", client.url)


def push_items(client: LabelStudio, items: Sequence[ReviewItem], tags: Sequence[str], types: Sequence[str],
               title: str, description: str = "", base: float | None = None) -> PushSummary:
    """Create or reuse the project ``title`` and add the items it does not have yet as tasks."""
    project = find_project(client, title)
    created = project is None
    if project is None:
        project = client.create_project(title, labelstudio.label_config(types), description)
        have: set[str] = set()
    else:
        check_labels(client, project, types)
        have = {task["data"]["sid"] for task in client.export(int(project["id"]), all_tasks=True)
                if isinstance(task, dict) and isinstance(task.get("data"), dict) and "sid" in task["data"]}
    todo = [item for item in items if item.sid not in have]
    pid = int(project["id"])
    added = client.import_tasks(pid, labelstudio.make_tasks(todo, tags, base)) if todo else 0
    link = f"{client.url}/projects/{pid}/data?ordering=tasks:predictions_score"
    return PushSummary(pid, title, created, added, len(items) - len(todo), link)


def _finished(task: Any) -> bool:
    annotations = task.get("annotations") if isinstance(task, dict) else None
    return isinstance(annotations, list) and any(isinstance(a, dict) and not a.get("was_cancelled")
                                                 for a in annotations)


def pull_into(client: LabelStudio, title: str, into: Path, out: Path | None = None) -> ImportSummary:
    """Merge the annotated tasks of project ``title`` into the data (nothing written on any error)."""
    project = find_project(client, title)
    if project is None:
        titles = ", ".join(repr(p.get("title")) for p in client.projects()) or "none"
        raise ConfigError(f"no project titled {title!r} (projects: {titles})", client.url)
    pid = int(project["id"])
    tasks = [task for task in client.export(pid) if _finished(task)]
    where = f"{client.url}/projects/{pid}"
    if not tasks:
        raise DataError(f"project {title!r} has no finished annotations yet: label some tasks and pull again", where)
    items, labels = labelstudio.read_tasks(tasks, where)
    return merge_reviewed(items, labels, into, out)
