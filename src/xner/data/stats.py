"""Corpus statistics: sentences, tokens and entities (per type) for each domain and split, and
the same counts for each file that ``xner data check`` validates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from xner.data.conll import discover_domains, domain_files, load_corpus, read_conll_info
from xner.data.corpus import SPLITS, Corpus, Sentence
from xner.data.sources import find_data_root
from xner.data.tags import check_scheme_name, entity_spans
from xner.errors import DataError


def split_stats(sentences: Sequence[Sentence]) -> dict[str, Any]:
    """Counts for one list of IOB2 sentences; ``types`` maps entity type to entity count."""
    types: Counter[str] = Counter()
    for sentence in sentences:
        types.update(kind for kind, _, _ in entity_spans(sentence.tags))
    return {
        "sentences": len(sentences),
        "tokens": sum(len(sentence) for sentence in sentences),
        "entities": sum(types.values()),
        "types": dict(sorted(types.items())),
    }


def corpus_stats(corpus: Corpus) -> dict[str, dict[str, dict[str, Any]]]:
    """``{domain: {split: split_stats}}`` for every domain of ``corpus``."""
    return {
        name: {split: split_stats(sentences) for split, sentences in corpus[name].splits()}
        for name in corpus.names()
    }


def _overview(stats: dict[str, dict[str, dict[str, Any]]]) -> Table:
    table = Table(title="Sentences per domain and split", title_justify="left")
    table.add_column("domain")
    for split in SPLITS:
        table.add_column(split, justify="right")
    table.add_column("types", justify="right")
    for name, splits in stats.items():
        kinds = {kind for split in splits.values() for kind in split["types"]}
        table.add_row(name, *(f"{splits[s]['sentences']:,}" for s in SPLITS), str(len(kinds)))
    return table


def _domain_table(name: str, splits: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=f"{name}", title_justify="left")
    table.add_column("")
    for split in SPLITS:
        table.add_column(split, justify="right")
    for key in ("sentences", "tokens", "entities"):
        table.add_row(key, *(f"{splits[s][key]:,}" for s in SPLITS), style="bold")
    kinds = sorted({kind for split in splits.values() for kind in split["types"]})
    for kind in kinds:
        table.add_row(f"  {kind}", *(f"{splits[s]['types'].get(kind, 0):,}" for s in SPLITS))
    return table


def render_stats(stats: dict[str, dict[str, dict[str, Any]]], console: Console) -> None:
    """Print an overview table, then one table per domain with entities per type."""
    console.print(_overview(stats))
    for name, splits in stats.items():
        console.print(_domain_table(name, splits))


def data_stats(data: Path | None, domains: Sequence[str] | None = None, scheme: str = "auto",
               repair: bool = False) -> dict[str, dict[str, dict[str, Any]]]:
    """:func:`corpus_stats` of the data root (see ``find_data_root``), all domains or ``domains``."""
    check_scheme_name(scheme)
    return corpus_stats(load_corpus(find_data_root(data), list(domains) if domains else None, scheme, repair))


@dataclass(frozen=True, slots=True)
class FileCheck:
    """One validated file: its domain, the scheme read and its counts."""

    file: Path
    domain: str
    scheme: str
    counts: tuple[int, int, int, int]  # sentences, tokens, entities, tags repaired


def _domain_targets(folder: Path) -> list[tuple[str, Path]]:
    return [(folder.resolve().name, file) for file in domain_files(folder).values()]


def _check_targets(paths: list[Path], data: Path | None) -> list[tuple[str, Path]]:
    """(domain, file) pairs to validate: files, domain folders, data roots; default the root."""
    if not paths:
        paths = [find_data_root(data)]
    targets: list[tuple[str, Path]] = []
    for path in paths:
        if not path.is_dir():
            targets.append(("", path))
        elif any((path / f"{split}.txt").exists() for split in ("train", "dev", "test")):
            targets.extend(_domain_targets(path))
        elif names := discover_domains(path):
            for name in names:
                targets.extend(_domain_targets(path / name))
        else:
            raise DataError("folder has no train/dev/test files and no domain folders", path)
    return targets


def check_files(paths: Sequence[Path], data: Path | None, scheme: str = "auto",
                repair: bool = False) -> list[FileCheck]:
    """Read every CoNLL file under ``paths`` (files, domain folders, data roots; default the data
    root); the first error is raised as a DataError."""
    check_scheme_name(scheme)
    checks = []
    for domain, file in _check_targets(list(paths), data):
        result = read_conll_info(file, domain, scheme, repair)
        counts = (
            len(result.sentences),
            sum(len(s) for s in result.sentences),
            sum(len(entity_spans(s.tags)) for s in result.sentences),
            result.repaired,
        )
        checks.append(FileCheck(file, domain, result.scheme, counts))
    return checks


def render_checks(checks: Sequence[FileCheck], console: Console) -> None:
    """A table of the checked files, then one ``ok:`` line with the totals."""
    table = Table(title="Checked files", title_justify="left")
    table.add_column("file", overflow="fold")
    for column in ("domain", "scheme"):
        table.add_column(column)
    for column in ("sentences", "tokens", "entities", "repaired"):
        table.add_column(column, justify="right")
    for check in checks:
        table.add_row(str(check.file), check.domain, check.scheme, *(f"{n:,}" for n in check.counts))
    totals = [sum(check.counts[i] for check in checks) for i in range(4)]
    console.print(table)
    console.print(
        f"ok: {len(checks)} file(s), {totals[0]:,} sentences, {totals[1]:,} tokens, "
        f"{totals[2]:,} entities, {totals[3]:,} tag(s) repaired",
        soft_wrap=True,
    )
