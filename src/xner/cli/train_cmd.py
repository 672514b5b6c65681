"""``xner train``: PTF / DFT / JT on a target domain (``xner predict`` lives in predict_cmd)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from xner.errors import ConfigError, ModelError

# BiLSTM-CRF target defaults: 100 sentences at 8 a batch give 13 updates an epoch; a fresh (dft)
# model often scores 0 dev F1 for its first ~10 epochs, so patience must outlast that.
TARGET_EPOCHS, TARGET_PATIENCE, TARGET_BATCH = 100, 20, 8
SOURCE_EPOCHS, SOURCE_PATIENCE = 30, 5


# ----------------------------------------------------------------------------- train helpers

def _load_model_config(path: Path | None) -> dict[str, Any] | None:
    """A backbone config from a JSON or TOML file (keys as in the backbone's config class)."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except FileNotFoundError:
        raise ConfigError("model config file not found", path) from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ConfigError(f"cannot read model config: {err}", path) from None
    if not isinstance(data, dict):
        raise ConfigError("model config must be a table/object of settings", path)
    return data


def _train_config(make: Callable[..., Any], prefix: str, values: dict[str, Any]) -> Any:
    """``make(**values)`` (None values dropped: the maker's default applies); a bad value is a
    one-line ConfigError naming its option."""
    from pydantic import ValidationError

    try:
        return make(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as err:
        first = err.errors()[0]
        raise ConfigError(f"--{prefix}{str(first['loc'][0]).replace('_', '-')}: {first['msg']}") from None


def train_configs(backbone: str, *, epochs: int | None = None, patience: int | None = None,
                  batch_size: int | None = None, source_epochs: int | None = None,
                  source_patience: int | None = None, lr: float | None = None,
                  **common: Any) -> tuple[Any, Any]:
    """(target, source) TrainConfigs: the options given (not None) over the backbone's defaults.

    The encoder starts from ``recommended_train_config`` (AdamW, lr 5e-5, batch 16, ...) for
    every phase: TrainConfig's own defaults suit the BiLSTM and wreck a pre-trained encoder.
    ``common`` (seed, threads, o_weight, lr_schedule, warmup) applies to both; the source config serves
    pre-training (ptf) and joint training (jt).
    """
    make: Callable[..., Any]
    target_base: dict[str, Any] = {}
    source_base: dict[str, Any] = {}
    if backbone == "encoder":
        from xner.models.encoder import recommended_train_config

        make = recommended_train_config
    else:
        from xner.models.base import TrainConfig

        make = TrainConfig
        target_base = {"epochs": TARGET_EPOCHS, "patience": TARGET_PATIENCE, "batch_size": TARGET_BATCH}
        source_base = {"epochs": SOURCE_EPOCHS, "patience": SOURCE_PATIENCE}
    given = {k: v for k, v in {"lr": lr, **common}.items() if v is not None}
    target = {**target_base, **{k: v for k, v in {"epochs": epochs, "patience": patience,
                                                  "batch_size": batch_size}.items() if v is not None}}
    source = {**source_base, **{k: v for k, v in {"epochs": source_epochs,
                                                  "patience": source_patience}.items() if v is not None}}
    return (_train_config(make, "", {**target, **given}),
            _train_config(make, "source-", {**source, **given}))


def _in_hub_cache(name: str) -> bool:
    """Whether ``name`` is a hub model already in the local cache (never asks the network)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except (ImportError, ValueError):  # not a valid repo id (a path, say)
        return False


def check_encoder(name: str | None) -> None:
    """Fail fast, in one line, on an encoder that cannot be loaded offline (before data or training).
    ``None`` means the default encoder."""
    from xner.models.encoder import DEFAULT_ENCODER, resolve_encoder

    name = DEFAULT_ENCODER if name is None else name
    folder = Path(resolve_encoder(name))  # the packaged MiniLM, a local folder, or the name itself
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelError("encoder folder has no config.json (expected a Hugging Face model folder)", folder)
        return
    if name.startswith(("/", ".", "~")) or Path(name).expanduser().exists():
        raise ModelError("encoder folder not found", name)
    if not _in_hub_cache(name):
        raise ModelError(f"encoder {name!r}: no such folder, and no model of that name in the local "
                         "Hugging Face cache (xner never downloads: pass a local folder)")


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


def _guard_out(out: Path) -> None:
    """Never replace a folder that holds something other than an xner model."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "meta.json").exists())):
        raise ConfigError("--out exists and is not an xner model folder; refusing to overwrite it", out)


def _scores(tagger: Any, sentences: list[Any]) -> dict[str, Any] | None:
    from xner.evaluation.metrics import entity_scores

    if not sentences:
        return None
    pred = tagger.predict(sentences)
    return entity_scores([list(s.tags) for s in sentences], pred).to_json()


def _write_model(out: Path, tagger: Any, log: Path, metrics: dict[str, Any], label_map: Any) -> None:
    from xner.api import LABEL_MAP_FILE
    from xner.atomic import atomic_dir, write_json

    with atomic_dir(out) as tmp:
        tagger.save(tmp)
        if log.exists():
            shutil.copyfile(log, tmp / "train_log.jsonl")
        write_json(tmp / "metrics.json", metrics)
        if label_map is not None:
            write_json(tmp / LABEL_MAP_FILE, label_map.to_json())


def _check_options(mode: str, labels: str, backbone: str, label_map: Path | None,
                   source_limit: int | None, out: Path, encoder: str | None = None,
                   label_init: str = "map") -> None:
    """Reject bad option values before any data is read or anything is trained."""
    from xner.models.factory import BACKBONES
    from xner.transfer.pretrain_finetune import LABEL_INITS, MODES

    if mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if labels not in ("raw", "normalised"):
        raise ConfigError(f"--labels must be raw or normalised, not {labels!r}")
    if backbone not in BACKBONES:
        raise ConfigError(f"--backbone must be one of {', '.join(BACKBONES)}, not {backbone!r}")
    if encoder is not None and backbone != "encoder":
        raise ConfigError("--encoder needs --backbone encoder")
    if label_init not in LABEL_INITS:
        raise ConfigError(f"--label-init must be {' or '.join(LABEL_INITS)}, not {label_init!r}")
    if label_map is not None and labels != "normalised" and label_init != "map":
        raise ConfigError("--label-map needs --labels normalised or --label-init map")
    if source_limit is not None and source_limit < 1:
        raise ConfigError("--source-limit must be >= 1")
    _guard_out(out)


def _domain_list(value: str) -> list[str]:
    """``--domain a,b,c`` as a list of distinct, non-empty names."""
    names = [part.strip() for part in value.split(",")]
    if not all(names):
        raise ConfigError(f"--domain has an empty name in {value!r}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"--domain names {', '.join(repeated)} more than once")
    return names


def _pooled(parts: list[Any], name: str) -> Any:
    """One Domain whose splits are the given domains' splits one after another (sentences keep
    their own domain, so per-domain label-map overrides still apply)."""
    from xner.data.corpus import Domain

    if len(parts) == 1:
        return parts[0]
    return Domain(name, [s for d in parts for s in d.train], [s for d in parts for s in d.dev],
                  [s for d in parts for s in d.test])


def _resolve_backbone(backbone: str | None, init_model: Path | None, mode: str, encoder: str | None,
                      model_config: Path | None, source_limit: int | None) -> str:
    """The backbone to train: ``--backbone``, else the starting model's, else bilstm_crf."""
    if init_model is None:
        return backbone or "bilstm_crf"
    from xner.training.checkpoint import read_meta

    if mode != "ptf":
        raise ConfigError(f"--init-model needs --mode ptf, not {mode!r}")
    for option, value in (("--encoder", encoder), ("--model-config", model_config),
                          ("--source-limit", source_limit)):
        if value is not None:
            raise ConfigError(f"{option} does not apply with --init-model (the model is already built)")
    theirs = str(read_meta(init_model)["backbone"])
    if backbone is not None and backbone != theirs:
        raise ConfigError(f"--backbone {backbone} but the --init-model is a {theirs} model")
    return theirs


# ----------------------------------------------------------------------------- train

def train_command(
    domain: Annotated[str, typer.Option("--domain", help="Target domain (a folder under the data root); a,b,c pools several domains' train, dev and test splits.")],
    out: Annotated[Path, typer.Option("--out", help="Model folder to write.")],
    mode: Annotated[str, typer.Option("--mode", help="ptf (pre-train on source, fine-tune), dft (target only) or jt (joint).")] = "ptf",
    labels: Annotated[str, typer.Option("--labels", help="raw (domain types) or normalised (PER/ORG/LOC/MISC).")] = "raw",
    data: Annotated[Optional[Path], typer.Option("--data", help="Data root (folder of domain folders).")] = None,
    source: Annotated[str, typer.Option("--source", help="Source domain for ptf/jt.")] = "conll2003",
    backbone: Annotated[Optional[str], typer.Option("--backbone", help="bilstm_crf (default) or encoder; with --init-model, the model's own.", show_default=False)] = None,
    model_config: Annotated[Optional[Path], typer.Option("--model-config", help="Backbone settings, JSON or TOML.")] = None,
    encoder: Annotated[Optional[str], typer.Option("--encoder", help="With --backbone encoder: a local model folder or a Hugging Face name already in the local cache (default: the packaged all-MiniLM-L6-v2).")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", help=f"Max epochs on the target (ptf fine-tuning, dft); default {TARGET_EPOCHS}, encoder 10.", show_default=False)] = None,
    patience: Annotated[Optional[int], typer.Option("--patience", help=f"Target early-stopping patience in epochs; default {TARGET_PATIENCE}, encoder 3.", show_default=False)] = None,
    source_epochs: Annotated[Optional[int], typer.Option("--source-epochs", help=f"Max epochs for pre-training and for jt (which trains on the source every epoch); default {SOURCE_EPOCHS}, encoder 10.", show_default=False)] = None,
    source_patience: Annotated[Optional[int], typer.Option("--source-patience", help=f"Early-stopping patience for pre-training and jt; default {SOURCE_PATIENCE}, encoder 3.", show_default=False)] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="Learning rate of every phase; default 0.002 with Adam, encoder 5e-5 with AdamW, weight decay 0.01, clip 1.0.", show_default=False)] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help=f"Target batch size; default {TARGET_BATCH}, encoder 16 (pre-training and jt: 32, encoder 16).", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    threads: Annotated[int, typer.Option("--threads", help="torch threads (0 = torch default).")] = 0,
    o_weight: Annotated[Optional[float], typer.Option("--o-weight", help="Loss weight of the O tag (<= 1).")] = None,
    lr_schedule: Annotated[Optional[str], typer.Option("--lr-schedule", help="constant, or linear: warm up over --warmup of the steps, then decay to 0 at the last epoch (every phase).", show_default=False)] = None,
    warmup: Annotated[Optional[float], typer.Option("--warmup", help="With --lr-schedule linear: share of the steps spent warming up (default 0.1).", show_default=False)] = None,
    label_map: Annotated[Optional[Path], typer.Option("--label-map", help="TOML label map for --labels normalised or --label-init map (default: the shipped CrossNER map).")] = None,
    label_init: Annotated[str, typer.Option("--label-init", help="ptf: target-only labels start as copies of the source label of the same generic type in the label map (map; a type the map lacks starts fresh), or all fresh.")] = "map",
    init_model: Annotated[Optional[Path], typer.Option("--init-model", help="ptf: fine-tune this saved xner model instead of pre-training on --source (e.g. one trained on pooled domains); its backbone and label mode apply.")] = None,
    cache: Annotated[Optional[Path], typer.Option("--cache", help="Pre-trained model cache (default: user cache).")] = None,
    source_limit: Annotated[Optional[int], typer.Option("--source-limit", help="Use only the first N source train sentences (quick checks).")] = None,
    target_repeat: Annotated[Optional[int], typer.Option("--target-repeat", help="jt: times the target train set is repeated (default 10).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or messages; only the final scores line.")] = False,
) -> None:
    """Train a tagger for a target domain and report its dev and test entity F1."""
    from xner.data.conll import load_domain
    from xner.data.sources import find_data_root
    from xner.labels.normalise import apply_label_mode, load_label_map
    from xner.transfer.joint import DEFAULT_TARGET_REPEAT
    from xner.transfer.pretrain_finetune import train_target

    domains = _domain_list(domain)
    backbone = _resolve_backbone(backbone, init_model, mode, encoder, model_config, source_limit)
    _check_options(mode, labels, backbone, label_map, source_limit, out, encoder, label_init)
    cfg, source_cfg = train_configs(backbone, epochs=epochs, patience=patience, batch_size=batch_size,
                                    source_epochs=source_epochs, source_patience=source_patience, lr=lr,
                                    seed=seed, threads=threads, o_weight=o_weight, lr_schedule=lr_schedule,
                                    warmup=warmup)
    config = _load_model_config(model_config)
    if encoder is not None:
        config = {**(config or {}), "encoder": encoder}
    name = (config or {}).get("encoder")
    if backbone == "encoder" and init_model is None and (name is None or isinstance(name, str)):  # else EncoderConfig says why
        check_encoder(name)
    lmap = load_label_map(label_map) if labels == "normalised" or label_init == "map" else None
    root = find_data_root(data)
    target = _pooled([load_domain(root / name, name) for name in domains], domain)
    src = None
    if mode != "dft" and init_model is None:
        src = load_domain(root / source, source)
        if source_limit is not None:
            src.train = src.train[:source_limit]
    repeat = target_repeat if target_repeat is not None else DEFAULT_TARGET_REPEAT
    with tempfile.TemporaryDirectory(prefix="xner-train-") as work, _progress(_show_progress(quiet)) as make:
        log = Path(work) / "train_log.jsonl"
        tagger, result = train_target(
            mode, src, target.train, target.dev, source_cfg if mode == "jt" else cfg,
            backbone=backbone, model_config=config,
            label_mode=labels, label_map=lmap, cache_dir=cache, source_cfg=source_cfg,
            target_repeat=repeat, progress=make(f"{domain} {mode}"),
            pretrain_progress=make(f"pre-train {source}"), log_path=log, label_init=label_init,
            init_model=init_model,
        )
        dev = apply_label_mode(target.dev, labels, lmap)
        test = apply_label_mode(target.test, labels, lmap)
        metrics = {
            "domain": domain, "mode": mode, "source": source if src else None, "backbone": backbone,
            "label_mode": labels, "seed": seed, "label_init": label_init if mode == "ptf" else None,
            "init_model": str(init_model) if init_model is not None else None,
            "train_config": (source_cfg if mode == "jt" else cfg).model_dump(),
            "source_train_config": source_cfg.model_dump() if src is not None and mode == "ptf" else None,
            "model_config": config or {}, "source_limit": source_limit if src else None,
            "target_repeat": repeat if mode == "jt" else None,
            "fit": result.to_json(), "dev": _scores(tagger, dev), "test": _scores(tagger, test),
        }
        _write_model(out, tagger, log, metrics, lmap if labels == "normalised" else None)
    _report(metrics, out, quiet)


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


def _f1(scores: dict[str, Any] | None, key: str = "f1") -> str:
    return "n/a" if scores is None else f"{100 * scores[key]:.2f}"


def _report(metrics: dict[str, Any], out: Path, quiet: bool) -> None:
    dev, test = metrics["dev"], metrics["test"]
    typer.echo(f"{metrics['domain']} {metrics['mode']} ({metrics['label_mode']} labels): "
               f"dev F1 {_f1(dev)}  test F1 {_f1(test)}  (strict: dev {_f1(dev, 'strict_f1')}, "
               f"test {_f1(test, 'strict_f1')})")
    if not quiet:
        typer.echo(f"model written to {out}")


def register(app: typer.Typer) -> None:
    """Add ``train`` to the main app."""
    app.command("train")(train_command)
