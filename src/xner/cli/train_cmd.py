"""``xner train``: build a RunConfig (``--config``, shorthand flags, ``--set``), run it, save it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from xner.errors import ConfigError
from xner.models.registry import Phase, train_defaults

# Each shorthand flag fills one or more dotted RunConfig keys; `--set KEY=VALUE` reaches any key.
SHORTHANDS: dict[str, tuple[str, ...]] = {
    "mode": ("mode",), "labels": ("data.label_mode",), "data": ("data.root",), "source": ("data.source",),
    "backbone": ("backbone.name",), "epochs": ("finetune.epochs",), "patience": ("finetune.patience",),
    "batch_size": ("finetune.batch_size",), "source_epochs": ("pretrain.epochs",),
    "source_patience": ("pretrain.patience",), "lr": ("pretrain.lr", "finetune.lr"), "seed": ("seed",),
    "threads": ("runtime.threads",), "o_weight": ("pretrain.o_weight", "finetune.o_weight"),
    "lr_schedule": ("pretrain.lr_schedule", "finetune.lr_schedule"),
    "warmup": ("pretrain.warmup", "finetune.warmup"), "label_map": ("data.label_map",),
    "label_init": ("data.label_init",), "init_model": ("backbone.init_model",), "cache": ("runtime.cache",),
    "source_limit": ("data.source_subset",), "target_repeat": ("target_repeat",), "offline": ("runtime.offline",),
    "device": ("runtime.device",), "precision": ("runtime.precision",), "deterministic": ("runtime.deterministic",),
    "accumulate": ("pretrain.accumulate", "finetune.accumulate"),
}


def _defaults(phase: Phase, key: str) -> str:
    """``default 60, encoder 10``: the registry's value of a phase setting, for a flag's help."""
    return f"default {train_defaults('bilstm_crf', phase)[key]}, encoder {train_defaults('encoder', phase)[key]}"


def shorthand_settings(flags: dict[str, Any]) -> list[tuple[str, Any]]:
    """The (dotted key, value) pairs the given flags stand for (``xner.run.load.shorthand_settings``)."""
    from xner.run.load import shorthand_settings as settings

    return settings(flags, SHORTHANDS)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], Any]]:
    """Yields ``make(description) -> ProgressFn``: one rich bar per training phase, on stderr."""
    if not enabled:
        yield lambda description: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]}  dev F1 {task.fields[f1]}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        def make(description: str) -> Callable[[int, int, float, float | None], None]:
            tasks: list[Any] = []  # added on the first epoch: a cached pre-training shows no bar

            def update(epoch: int, total: int, loss: float, dev_f1: float | None) -> None:
                if not tasks:
                    tasks.append(bar.add_task(description, total=total, loss="-", f1="-"))
                f1 = f"{100 * dev_f1:.2f}" if dev_f1 is not None else "-"
                bar.update(tasks[0], completed=epoch, total=total, loss=f"{loss:.3f}", f1=f1)

            return update

        yield make


def _f1(scores: dict[str, Any] | None, key: str = "f1") -> str:
    return "n/a" if scores is None else f"{100 * scores[key]:.2f}"


def _report(result: Any, out: Path, quiet: bool) -> None:
    cfg, dev, test = result.config, result.dev, result.test
    typer.echo(f"{cfg.data.target_name} {cfg.mode} ({cfg.data.label_mode} labels): "
               f"dev F1 {_f1(dev)}  test F1 {_f1(test)}  (strict: dev {_f1(dev, 'strict_f1')}, "
               f"test {_f1(test, 'strict_f1')})")
    if not quiet:
        typer.echo(f"model written to {out} (trained on {result.device}, {result.precision})")


Opt = typer.Option


def train_command(
    out: Annotated[Optional[Path], Opt("--out", help="Model folder to write (not needed with --dry-run).")] = None,
    config: Annotated[Optional[Path], Opt(
        "--config", help="Run config (TOML), e.g. the run.toml of a saved model or --dry-run's output.")] = None,
    set_: Annotated[Optional[list[str]], Opt(
        "--set", metavar="<key=value>",
        help="Override any config key: --set finetune.lr=5e-5 (repeatable; applied last).")] = None,
    dry_run: Annotated[bool, Opt(
        "--dry-run", help="Print the resolved config as TOML and its run id; train and write nothing.")] = False,
    domain: Annotated[Optional[str], Opt(
        "--domain", help="data.target: target domain (a folder under the data root); a,b,c pools several.")] = None,
    mode: Annotated[Optional[str], Opt(
        "--mode", help="mode: ptf (pre-train on source, fine-tune; default), dft (target only) or jt (joint).")] = None,
    labels: Annotated[Optional[str], Opt(
        "--labels", help="data.label_mode: raw (default) or normalised (PER/ORG/LOC/MISC).")] = None,
    data: Annotated[Optional[Path], Opt("--data", help="data.root: folder of domain folders.")] = None,
    source: Annotated[Optional[str], Opt(
        "--source", help="data.source: source domain for ptf/jt (default conll2003).")] = None,
    backbone: Annotated[Optional[str], Opt(
        "--backbone",
        help="backbone.name: bilstm_crf (default) or encoder; with --init-model, the model's own.")] = None,
    model_config: Annotated[Optional[Path], Opt(
        "--model-config", help="backbone.settings from a JSON or TOML file.")] = None,
    encoder: Annotated[Optional[str], Opt(
        "--encoder", help="backbone.settings.encoder: a local model folder or a Hugging Face hub name, downloaded once "
                          "into the Hugging Face cache (default: the packaged all-MiniLM-L6-v2).")] = None,
    offline: Annotated[Optional[bool], Opt("--offline", help="runtime.offline: never download (a hub --encoder "
                                           "must be in the Hugging Face cache), as HF_HUB_OFFLINE=1.")] = None,
    epochs: Annotated[Optional[int], Opt(
        "--epochs", help=f"finetune.epochs: max epochs on the target ({_defaults('target', 'epochs')}).")] = None,
    patience: Annotated[Optional[int], Opt(
        "--patience",
        help=f"finetune.patience: target early-stopping patience ({_defaults('target', 'patience')}).")] = None,
    source_epochs: Annotated[Optional[int], Opt(
        "--source-epochs",
        help=f"pretrain.epochs: max epochs of pre-training and of jt ({_defaults('source', 'epochs')}).")] = None,
    source_patience: Annotated[Optional[int], Opt(
        "--source-patience", help=f"pretrain.patience ({_defaults('source', 'patience')}).")] = None,
    lr: Annotated[Optional[float], Opt(
        "--lr", help="pretrain.lr and finetune.lr (default 0.002 Adam; encoder 5e-5 AdamW).")] = None,
    batch_size: Annotated[Optional[int], Opt(
        "--batch-size", help=f"finetune.batch_size ({_defaults('target', 'batch_size')}); pre-training and jt use "
                              f"pretrain.batch_size ({_defaults('source', 'batch_size')}).")] = None,
    seed: Annotated[Optional[int], Opt("--seed", help="seed (default 0).")] = None,
    threads: Annotated[Optional[int], Opt(
        "--threads", help="runtime.threads: torch threads (0 = torch default).")] = None,
    device: Annotated[Optional[str], Opt(
        "--device", help="runtime.device: auto (CUDA, then MPS, then CPU; default), cpu, cuda, cuda:N or mps.")] = None,
    precision: Annotated[Optional[str], Opt(
        "--precision", help="runtime.precision: auto (bf16 on a CUDA GPU that has it, else fp32), fp32, bf16 or "
                            "fp16 (autocast; the CRF stays fp32).")] = None,
    accumulate: Annotated[Optional[int], Opt(
        "--accumulate", help="pretrain/finetune.accumulate: batches per optimiser step (default 1).")] = None,
    deterministic: Annotated[Optional[bool], Opt(
        "--deterministic", help="runtime.deterministic: deterministic GPU kernels only (slower).")] = None,
    o_weight: Annotated[Optional[float], Opt(
        "--o-weight", help="pretrain/finetune.o_weight: loss weight of the O tag (<= 1).")] = None,
    lr_schedule: Annotated[Optional[str], Opt(
        "--lr-schedule", help="pretrain/finetune.lr_schedule: constant, or linear warm-up then decay to 0.")] = None,
    warmup: Annotated[Optional[float], Opt(
        "--warmup", help="pretrain/finetune.warmup: share of the steps spent warming up (linear; 0.1).")] = None,
    label_map: Annotated[Optional[Path], Opt(
        "--label-map", help="data.label_map: TOML label map (default: the shipped CrossNER map).")] = None,
    label_init: Annotated[Optional[str], Opt(
        "--label-init", help="data.label_init: map (default; target-only labels start from the source label of their "
                             "generic type) or fresh.")] = None,
    init_model: Annotated[Optional[Path], Opt(
        "--init-model",
        help="backbone.init_model: ptf from this saved model instead of pre-training on the source; its backbone "
             "and label mode apply.")] = None,
    cache: Annotated[Optional[Path], Opt(
        "--cache", help="runtime.cache: pre-trained model cache (default: user cache).")] = None,
    source_limit: Annotated[Optional[int], Opt(
        "--source-limit",
        help="data.source_subset: first N source train sentences (and the same share of dev).")] = None,
    target_repeat: Annotated[Optional[int], Opt(
        "--target-repeat", help="target_repeat: jt repeats the target train set (default 10).")] = None,
    quiet: Annotated[bool, Opt(
        "--quiet", "-q", help="No progress bar or messages; only the final scores line.")] = False,
) -> None:
    """Train a tagger for a target domain and report its dev and test entity F1.

    The settings are one run config: --config FILE (TOML), then the flags (shorthands for its keys,
    named in each flag's help), then --set KEY=VALUE. The model folder gets run.toml, the resolved
    config: xner train --config DIR/run.toml repeats the run, with the same run id.
    """
    from xner.run.execute import RunHooks
    from xner.run.load import build_config, run_id, to_toml
    from xner.run.output import guard_out, train_to_folder

    flags = {k: v for k, v in locals().items() if k not in ("out", "config", "set_", "dry_run", "quiet")}
    _check_init_model_flags(flags)
    if config is None and domain is None and not any(i.partition("=")[0].strip() == "data.target" for i in set_ or ()):
        raise ConfigError("--domain is needed (or --config FILE with [data] target, or --set data.target=NAME)")
    cfg = build_config(config, shorthand_settings(flags), set_ or (), flag_names=_flag_names(flags))
    if dry_run:
        sys.stdout.write(to_toml(cfg) + f"\n# run id: {run_id(cfg)}\n")
        return
    if out is None:
        raise ConfigError("--out is needed (or --dry-run)")
    guard_out(out)
    with _progress(not quiet and sys.stderr.isatty()) as make:
        result = train_to_folder(cfg, out, RunHooks(progress=make))
    _report(result, out, quiet)


def _flag_names(flags: dict[str, Any]) -> dict[str, str]:
    """Dotted key -> the shorthand flag that sets it, to name the flag in an error."""
    names = {key: "--" + flag.replace("_", "-") for flag, keys in SHORTHANDS.items() for key in keys}
    settings = "/".join(f"--{name.replace('_', '-')}" for name in ("model_config", "encoder")
                        if flags.get(name) is not None)
    return {**names, "data.target": "--domain", "backbone.settings": settings or "--model-config/--encoder"}


def _check_init_model_flags(flags: dict[str, Any]) -> None:
    """Flags that shape a new model or its pre-training mean nothing when ``--init-model`` starts
    from a saved one: say so by flag name rather than ignore them."""
    if flags.get("init_model") is None:
        return
    for name in ("encoder", "model_config", "source_limit"):
        if flags.get(name) is not None:
            raise ConfigError(f"--{name.replace('_', '-')} does not apply with --init-model "
                              "(the model is already built and nothing is pre-trained)")


def register(app: typer.Typer) -> None:
    """Add ``train`` to the main app."""
    app.command("train")(train_command)
