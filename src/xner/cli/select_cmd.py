"""``xner select``: the data-selection methods (similarity, random, uncertain, target), each usable on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from xner.cli.options import Device, Precision, Quiet, say

app = typer.Typer(help="Choose extra training data: random, similar domains, uncertainty; choose the target.",
                  no_args_is_help=True)

Data = Annotated[Optional[Path], typer.Option("--data", help="Data root (folder of domain folders).")]
PoolSource = Annotated[str, typer.Option("--source", help="Source domain, left out of the default pool.")]


def _split_list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


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
    from xner.selection.similarity import format_tables, similarity_tables

    tables, paths = similarity_tables(data, _split_list(domains), method, out, max_sentences, cache)
    console = Console(quiet=quiet)
    for text in format_tables(tables, target):
        console.print(text, highlight=False, soft_wrap=True)
    console.print(f"wrote {len(paths)} files to {out}", highlight=False)


@app.command("random")
def random_command(
    target: Annotated[str, typer.Option("--target", help="Target domain (never in the pool).")],
    percent: Annotated[float, typer.Option("--percent", help="Percentage of the pool to take (0-100).")],
    out: Annotated[Path, typer.Option("--out", help="CoNLL file to write.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the one permutation (nested samples).")] = 0,
    data: Data = None,
    domains: Annotated[Optional[str], typer.Option(
        "--domains", help="Pool domains, comma-separated (default: all but target and source).")] = None,
    splits: Annotated[str, typer.Option("--splits", help="Pool splits: train,dev (test never).")] = "train,dev",
    source: PoolSource = "conll2003",
    include_source: Annotated[bool, typer.Option(
        "--include-source", help="Put the source domain in the pool too.")] = False,
    pick: Annotated[Optional[str], typer.Option("--pick", help="similar or dissimilar: draw from the one domain most "
                                                "(dis)similar to the target (TF-IDF Euclidean by default).")] = None,
    method: Annotated[str, typer.Option("--method", help="With --pick: tfidf or minilm.")] = "tfidf",
    metric: Annotated[str, typer.Option("--metric", help="With --pick: euclidean, cosine or overlap.")] = "euclidean",
    quiet: Quiet = False,
) -> None:
    """Write p% of the pool (a nested seeded sample: 20% contains 10%) as CoNLL."""
    from xner.selection.random_pool import sample_to_file

    sample, pool_size, picked = sample_to_file(out, data, target, percent, seed, _split_list(domains),
                                               tuple(_split_list(splits) or ()), None if include_source else source,
                                               pick, method, metric)
    Console(quiet=quiet).print(f"wrote {len(sample)} of {pool_size} pool sentences from "
                               f"{picked or domains or 'all pool domains'} ({percent:g}%, seed {seed}) to {out}",
                               highlight=False)


@app.command("uncertain")
def uncertain_command(
    model: Annotated[Path, typer.Option("--model", help="Trained model directory.")],
    target: Annotated[str, typer.Option("--target", help="Target domain.")],
    budget: Annotated[int, typer.Option("--budget", help="How many sentences to select.")],
    out: Annotated[Path, typer.Option("--out", help="CoNLL file to write (the selected sentences, gold labels).")],
    data: Data = None,
    score: Annotated[str, typer.Option(
        "--score", help="Sentence score: max, mean or sum of token entropies, mnlp or least_confidence.")] = "max",
    threshold: Annotated[float, typer.Option("--threshold", help="Token entropy (nats) counted as uncertain.")] = 2.0,
    domains: Annotated[Optional[str], typer.Option(
        "--domains", help="Pool domains (default: all but target and source).")] = None,
    source: PoolSource = "conll2003", device: Device = "auto", precision: Precision = "auto",
    quiet: Quiet = False,
) -> None:
    """The pool sentences the model is least sure about (simulated oracle: their gold labels)."""
    from xner.api import select_uncertain_pool
    from xner.selection.uncertainty import sentence_score

    chosen, pool_size, ents = select_uncertain_pool(model, target, budget, out, data, score, _split_list(domains),
                                                    source, not quiet, device, precision)
    console = Console(quiet=quiet)
    for sent, h in list(zip(chosen, ents))[:10]:
        console.print(f"{sentence_score(h, score):7.3f}  {sent.domain}: {' '.join(sent.tokens)[:90]}", highlight=False)
    flagged = sum(int((h > threshold).sum()) for h in ents)
    console.print(f"wrote {len(chosen)} of {pool_size} pool sentences ({score} entropy; {flagged} tokens "
                  f"above {threshold:g}) to {out}", highlight=False)
    say(device, precision, quiet)


@app.command("target")
def target_command(
    pretrained: Annotated[Path, typer.Option("--pretrained", help="Pre-trained source model directory.")],
    data: Data = None,
    candidates: Annotated[Optional[str], typer.Option(
        "--candidates", help="Comma-separated domains (default: all but the source).")] = None,
    source: Annotated[str, typer.Option("--source", help="Source domain (not a candidate).")] = "conll2003",
    labels: Annotated[str, typer.Option("--labels", help="raw or normalised.")] = "raw",
    epochs: Annotated[int, typer.Option("--epochs", help="Fine-tuning epochs per candidate.")] = 30,
    patience: Annotated[int, typer.Option("--patience", help="Early-stopping patience.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the table as JSON.")] = None,
    quiet: Quiet = False, device: Device = "auto", precision: Precision = "auto",
) -> None:
    """Fine-tune the source model on each candidate's train split; the worst dev F1 is the target."""
    from xner.api import resolve_runtime
    from xner.atomic import write_json
    from xner.models.base import TrainConfig
    from xner.transfer.target_choice import choose_target_in, format_choice

    resolve_runtime(device, precision)  # a device that is not here: one line, before any data is read
    note = None if quiet else (lambda name: Console(stderr=True).print(f"fine-tuning on {name} ...", highlight=False))
    cfg = TrainConfig(epochs=epochs, patience=patience, seed=seed, device=device, precision=precision)
    choice = choose_target_in(pretrained, data, _split_list(candidates), cfg, labels, source, note)
    if json_path is not None:
        write_json(json_path, choice.to_json())
    Console().print(format_choice(choice), highlight=False)
    say(device, precision, quiet)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="select")
