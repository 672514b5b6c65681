"""A study config: one TOML file that fully describes a study, validated with pydantic.

Relative paths in the file (data root, label map) are resolved against the file's folder so a
config means the same thing whatever the working directory.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from xner.errors import ConfigError
from xner.models.base import TrainConfig

LabelMode = Literal["raw", "normalised"]
DEFAULT_PERCENTAGES = (0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_percentages(values: tuple[float, ...]) -> tuple[float, ...]:
    if any(p < 0 or p > 100 for p in values):
        raise ValueError("percentages must lie in [0, 100]")
    if len(set(values)) != len(values):
        raise ValueError("percentages must not repeat")
    return tuple(sorted(values))


class RandomMethod(_Strict):
    """Add p% of the pool (other domains' train+dev), nested samples drawn with the run's seed."""

    enabled: bool = True
    percentages: tuple[float, ...] = DEFAULT_PERCENTAGES

    _check = field_validator("percentages")(_check_percentages)


class SimilarityMethod(_Strict):
    """Add p% of the most similar / most dissimilar pool domain (by a distance table)."""

    enabled: bool = True
    percentages: tuple[float, ...] = DEFAULT_PERCENTAGES
    method: Literal["tfidf", "minilm"] = "tfidf"
    metric: Literal["euclidean", "cosine", "overlap"] = "euclidean"
    which: tuple[Literal["similar", "dissimilar"], ...] = ("similar", "dissimilar")

    _check = field_validator("percentages")(_check_percentages)


class UncertaintyMethod(_Strict):
    """Active learning from the pool in rounds; compared with random picks of the same size."""

    enabled: bool = True
    threshold: float = Field(2.0, gt=0, description="entropy above which a token is flagged")
    score: Literal["max", "mean", "sum"] = "max"
    rounds: int = Field(3, ge=1, le=50)
    budget: int = Field(100, ge=1, description="sentences added per round")
    compare_random: bool = True


class StagedMethod(_Strict):
    """PTF with a stage in between: the pre-trained model is fine-tuned on the train splits of the
    pool domains and the target together (early-stopped on their dev splits together), then on
    the target alone. It uses the other domains' labelled data, so it is a way of adding data,
    not PTF. Off unless enabled."""

    enabled: bool = False
    epochs: int | None = Field(None, ge=1, description="max epochs of the pooled stage (default: finetune's)")
    patience: int | None = Field(None, ge=1, description="its early-stopping patience (default: finetune's)")


class Baselines(_Strict):
    """dft: train on the target only; jt: train jointly on source + target (no pre-training)."""

    dft: bool = True
    jt: bool = True


class Methods(_Strict):
    random: RandomMethod = RandomMethod()
    similarity: SimilarityMethod = SimilarityMethod()
    uncertainty: UncertaintyMethod = UncertaintyMethod()
    staged: StagedMethod = StagedMethod()
    baselines: Baselines = Baselines()


class StudyConfig(_Strict):
    """Everything a study needs. ``target = "auto"`` lets the target-choice step pick it."""

    name: str = Field("study", pattern=r"^[A-Za-z0-9_.-]+$")
    data_root: Path | None = None
    source: str = "conll2003"
    target: str = "auto"
    candidates: tuple[str, ...] = ()
    pool_domains: tuple[str, ...] = ()
    pool_splits: tuple[Literal["train", "dev"], ...] = ("train", "dev")
    backbone: Literal["bilstm_crf", "encoder"] = "bilstm_crf"
    model: dict[str, Any] = Field(default_factory=dict)
    pretrain: TrainConfig = TrainConfig()
    finetune: TrainConfig = TrainConfig()
    source_subset: int | None = Field(None, ge=1, description="use the first N source sentences")
    label_modes: tuple[LabelMode, ...] = ("raw", "normalised")
    label_map: Path | None = None
    # "map": PTF's target-only labels start from the source label of their generic type
    # (test F1 +3.40 for MiniLM, +1.96 for the BiLSTM-CRF: five targets x 3 seeds, bench/RESULTS.md).
    label_init: Literal["fresh", "map"] = "map"
    seeds: tuple[int, ...] = (1, 2, 3)
    keep_models: bool = False
    methods: Methods = Methods()

    @field_validator("label_modes", "seeds", "candidates", "pool_domains", "pool_splits")
    @classmethod
    def _unique(cls, values: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(set(values)) != len(values):
            raise ValueError("values must not repeat")
        return values

    @field_validator("label_modes", "seeds", "pool_splits")
    @classmethod
    def _non_empty(cls, values: tuple[Any, ...]) -> tuple[Any, ...]:
        if not values:
            raise ValueError("at least one value is needed")
        return values

    @model_validator(mode="before")
    @classmethod
    def _encoder_training_defaults(cls, data: Any) -> Any:
        """An encoder wants very different training settings from the BiLSTM (lr 5e-5 vs 2e-3):
        with ``backbone = "encoder"``, keys not given in [pretrain]/[finetune] take the
        encoder's recommended values instead of TrainConfig's."""
        if not isinstance(data, dict) or data.get("backbone") != "encoder":
            return data
        from xner.models.encoder import recommended_train_config

        recommended = recommended_train_config().model_dump(exclude_unset=True)
        data = dict(data)
        for section in ("pretrain", "finetune"):
            given = data.get(section, {})
            if isinstance(given, dict):
                data[section] = {**recommended, **given}
        return data

    @model_validator(mode="after")
    def _domains_consistent(self) -> StudyConfig:
        if self.source in self.candidates or self.source in self.pool_domains:
            raise ValueError(f"the source domain {self.source!r} cannot be a candidate or pool domain")
        if self.target not in ("auto", "") and self.target == self.source:
            raise ValueError("the target cannot be the source domain")
        return self


def _loc(error: dict[str, Any]) -> str:
    return ".".join(str(p) for p in error["loc"]) or "(top level)"


def _toml_line(err: tomllib.TOMLDecodeError) -> int | None:
    lineno = getattr(err, "lineno", None)
    if lineno:
        return int(lineno)
    match = re.search(r"line (\d+)", str(err))
    return int(match.group(1)) if match else None


def _key_line(text: str, loc: str) -> int | None:
    """Best-effort line of the key a validation error names (the last part of its loc)."""
    parts = [p for p in loc.split(".") if not p.isdigit()]
    if not parts:
        return None
    pattern = re.compile(rf"^\s*(\[+\s*)?{re.escape(parts[-1])}\s*(=|\]|\.)")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line):
            return number
    return None


def _resolve_paths(data: dict[str, Any], base: Path, path: Path, text: str) -> dict[str, Any]:
    for key in ("data_root", "label_map"):
        value = data.get(key)
        if isinstance(value, str):
            try:
                data[key] = None if not value else (base / Path(value).expanduser()).resolve()
            except (RuntimeError, ValueError, OSError) as err:  # unknown ~user, NUL byte, ...
                raise ConfigError(f"{key}: not a usable path ({err})", path, _key_line(text, key)) from None
    return data


def parse_config(text: str, path: Path) -> StudyConfig:
    """Parse TOML text; every problem becomes a one-line ConfigError naming ``path``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = getattr(err, "msg", None) or re.sub(r"\s*\(at line.*\)$", "", str(err))
        raise ConfigError(f"TOML syntax error: {msg}", path, _toml_line(err)) from None
    data = _resolve_paths(data, path.parent, path, text)
    try:
        cfg = StudyConfig.model_validate(data)
        if cfg.model:  # importing a backbone's config pulls in torch: only when there is something to check
            _model_class(cfg.backbone).model_validate(cfg.model)
    except ValidationError as err:
        first = err.errors()[0]
        loc = _loc(first)
        if err.title != StudyConfig.__name__:  # the backbone's own config: keys live under [model]
            loc = "model." + loc if loc != "(top level)" else "model"
        more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise ConfigError(f"{loc}: {first['msg']}{more}", path, _key_line(text, loc)) from None
    return cfg


def _model_class(backbone: str) -> type[BaseModel]:
    """The backbone's config model, imported only when a config is checked (it pulls in torch)."""
    if backbone == "encoder":
        from xner.models.encoder import EncoderConfig

        return EncoderConfig
    from xner.models.bilstm_net import BiLSTMConfig

    return BiLSTMConfig


def load_config(path: str | Path) -> StudyConfig:
    """Read and validate a study config file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read config: {err.strerror or err}", path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"not UTF-8 text (byte {err.start})", path) from None
    return parse_config(text, path)
