"""``xner select``: the data-selection methods, each usable on its own.

  xner select similarity [--method tfidf|minilm] [--out DIR]   distance tables (CSV + PNG)
  xner select random --target ai --percent 20 --seed 0 --out FILE [--pick similar|dissimilar]
  xner select uncertain --model DIR --target ai --budget N --out FILE
  xner select target --pretrained DIR                            which domain is the target
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from xner.errors import ConfigError

app = typer.Typer(help="Choose extra training data: random, similar domains, uncertainty; choose the target.",
                  no_args_is_help=True)

Data = Annotated[Optional[Path], typer.Option("--data", help="Data root (folder of domain folders).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]


def _split_list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _corpus(data: Path | None, names: list[str] | None = None) -> Any:
    from xner.data.conll import load_corpus
    from xner.data.sources import find_data_root

    return load_corpus(find_data_root(data), names)


def _pool(data: Path | None, target: str, domains: str | None, splits: str, include_source: bool,
          source: str) -> list[Any]:
    from xner.selection.random_pool import build_pool

    corpus = _corpus(data)
    return build_pool(corpus, target, _split_list(domains), tuple(_split_list(splits) or ()),
                      None if include_source else source)


@app.command("similarity")
def similarity_command(
    data: Data = None,
    method: Annotated[str, typer.Option("--method", help="tfidf or minilm (mean sentence embedding).")] = "tfidf",
    out: Annotated[Path, typer.Option("--out", help="Folder for <method>_<metric>.csv/.png.")] = Path("similarity"),
    domains: Annotated[Optional[str], typer.Option("--domains", help="Comma-separated domains (default: all).")] = None,
    target: Annotated[Optional[str], typer.Option("--target", help="Also rank the others by similarity to it.")] = None,
    max_sentences: Annotated[int, typer.Option("--max-sentences", help="minilm: sentences sampled per domain.")] = 500,
    cache: Annotated[Optional[Path], typer.Option("--cache", help="minilm: embedding cache folder.")] = None,
    quiet: Quiet = False,
) -> None:
    """Euclidean, cosine and vocabulary-overlap tables between domains (train+dev text)."""
    from xner.selection.similarity import distance_tables, format_table, rank_by_similarity, write_tables

    corpus = _corpus(data, _split_list(domains))
    kw: dict[str, Any] = {"max_sentences": max_sentences, "cache_dir": cache} if method == "minilm" else {}
    tables = distance_tables(corpus, corpus.names(), method, **kw)
    paths = write_tables(tables, out, prefix=method)
    if quiet:
        return
    console = Console()
    for table in tables.values():
        console.print(format_table(table), highlight=False, soft_wrap=True)
        if target is not None:
            ranking = rank_by_similarity(table, target)
            console.print(f"  most similar to {target}: {', '.join(ranking)} (first = most similar)\n",
                          highlight=False, soft_wrap=True)
    console.print(f"wrote {len(paths)} files to {out}", highlight=False)


@app.command("random")
def random_command(
    target: Annotated[str, typer.Option("--target", help="Target domain (never in the pool).")],
    percent: Annotated[float, typer.Option("--percent", help="Percentage of the pool to take (0-100).")],
    out: Annotated[Path, typer.Option("--out", help="CoNLL file to write.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the one permutation (nested samples).")] = 0,
    data: Data = None,
    domains: Annotated[Optional[str], typer.Option("--domains", help="Pool domains, comma-separated (default: all but target and source).")] = None,
    splits: Annotated[str, typer.Option("--splits", help="Pool splits: train,dev (test never).")] = "train,dev",
    source: Annotated[str, typer.Option("--source", help="Source domain, left out of the default pool.")] = "conll2003",
    include_source: Annotated[bool, typer.Option("--include-source", help="Put the source domain in the pool too.")] = False,
    pick: Annotated[Optional[str], typer.Option("--pick", help="similar or dissimilar: draw from the one domain most (dis)similar to the target (TF-IDF Euclidean by default).")] = None,
    method: Annotated[str, typer.Option("--method", help="With --pick: tfidf or minilm.")] = "tfidf",
    metric: Annotated[str, typer.Option("--metric", help="With --pick: euclidean, cosine or overlap.")] = "euclidean",
    quiet: Quiet = False,
) -> None:
    """Write p% of the pool (a nested seeded sample: 20% contains 10%) as CoNLL."""
    from xner.data.conll import write_conll
    from xner.selection.random_pool import nested_sample

    if pick is not None:
        domains = _picked_domain(data, target, pick, method, metric, domains, None if include_source else source)
    pool = _pool(data, target, domains, splits, include_source, source)
    sample = nested_sample(pool, percent, seed)
    write_conll(out, sample)
    if not quiet:
        Console().print(f"wrote {len(sample)} of {len(pool)} pool sentences from {domains or 'all pool domains'} "
                        f"({percent:g}%, seed {seed}) to {out}", highlight=False)


def _picked_domain(data: Path | None, target: str, pick: str, method: str, metric: str,
                   domains: str | None, source: str | None) -> str:
    """The pool domain most similar (or dissimilar) to the target."""
    from xner.selection.random_pool import pool_domains
    from xner.selection.similarity import METRICS, distance_tables, rank_by_similarity

    if pick not in ("similar", "dissimilar"):
        raise ConfigError(f"--pick must be similar or dissimilar, got {pick!r}")
    if metric not in METRICS:
        raise ConfigError(f"--metric must be one of {', '.join(METRICS)}, got {metric!r}")
    corpus = _corpus(data)
    candidates = pool_domains(corpus, target, _split_list(domains), source)
    tables = distance_tables(corpus, [target, *candidates], method)
    ranking = rank_by_similarity(tables[metric], target)
    return ranking[0] if pick == "similar" else ranking[-1]


def _load_model(model: Path) -> tuple[Any, str, Any]:
    from xner.api import load_model, model_label_map

    loaded = load_model(model)
    return loaded.tagger, loaded.label_mode or "raw", model_label_map(loaded)


@app.command("uncertain")
def uncertain_command(
    model: Annotated[Path, typer.Option("--model", help="Trained model directory.")],
    target: Annotated[str, typer.Option("--target", help="Target domain.")],
    budget: Annotated[int, typer.Option("--budget", help="How many sentences to select.")],
    out: Annotated[Path, typer.Option("--out", help="CoNLL file to write (the selected sentences, gold labels).")],
    data: Data = None,
    score: Annotated[str, typer.Option("--score", help="Sentence score from token entropies: max, mean or sum.")] = "max",
    threshold: Annotated[float, typer.Option("--threshold", help="Token entropy (nats) counted as uncertain.")] = 2.0,
    domains: Annotated[Optional[str], typer.Option("--domains", help="Pool domains (default: all but target and source).")] = None,
    source: Annotated[str, typer.Option("--source", help="Source domain, left out of the default pool.")] = "conll2003",
    quiet: Quiet = False,
) -> None:
    """The pool sentences the model is least sure about (simulated oracle: their gold labels)."""
    from xner.data.conll import write_conll
    from xner.labels.normalise import apply_label_mode
    from xner.selection.uncertainty import entropies, sentence_score, select_uncertain

    if budget < 1:
        raise ConfigError(f"--budget must be >= 1, got {budget}")
    tagger, mode, label_map = _load_model(model)
    pool = apply_label_mode(_pool(data, target, domains, "train,dev", False, source), mode, label_map)
    chosen = select_uncertain(tagger, pool, budget, score)
    write_conll(out, chosen)
    if quiet:
        return
    ents = entropies(tagger, chosen)
    flagged = sum(int((h > threshold).sum()) for h in ents)
    console = Console()
    for sent, h in list(zip(chosen, ents))[:10]:
        console.print(f"{sentence_score(h, score):7.3f}  {sent.domain}: {' '.join(sent.tokens)[:90]}", highlight=False)
    console.print(f"wrote {len(chosen)} of {len(pool)} pool sentences ({score} entropy; {flagged} tokens "
                  f"above {threshold:g}) to {out}", highlight=False)


@app.command("target")
def target_command(
    pretrained: Annotated[Path, typer.Option("--pretrained", help="Pre-trained source model directory.")],
    data: Data = None,
    candidates: Annotated[Optional[str], typer.Option("--candidates", help="Comma-separated domains (default: all but the source).")] = None,
    source: Annotated[str, typer.Option("--source", help="Source domain (not a candidate).")] = "conll2003",
    labels: Annotated[str, typer.Option("--labels", help="raw or normalised.")] = "raw",
    epochs: Annotated[int, typer.Option("--epochs", help="Fine-tuning epochs per candidate.")] = 30,
    patience: Annotated[int, typer.Option("--patience", help="Early-stopping patience.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the table as JSON.")] = None,
    quiet: Quiet = False,
) -> None:
    """Fine-tune the source model on each candidate's train split; the worst dev F1 is the target."""
    from xner.atomic import write_json
    from xner.models.base import TrainConfig
    from xner.transfer.target_choice import choose_target, format_choice

    if not Path(pretrained).is_dir():
        raise ConfigError(f"--pretrained: no model folder at {pretrained}")
    corpus = _corpus(data)
    label_map = None
    if labels == "normalised":
        from xner.labels.normalise import load_label_map

        label_map = load_label_map()
    console = Console(stderr=True)
    note = None if quiet else (lambda name: console.print(f"fine-tuning on {name} ...", highlight=False))
    choice = choose_target(pretrained, corpus, _split_list(candidates),
                           TrainConfig(epochs=epochs, patience=patience, seed=seed), labels, label_map,
                           source=source, progress=note)
    if json_path is not None:
        write_json(json_path, choice.to_json())
    Console().print(format_choice(choice), highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="select")
