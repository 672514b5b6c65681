"""Corpus statistics: sentences, tokens and entities (per type) for each domain and split."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from xner.data.corpus import SPLITS, Corpus, Sentence
from xner.data.tags import entity_spans


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
