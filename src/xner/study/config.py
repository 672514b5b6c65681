"""A study config: one TOML file that fully describes a study, validated with pydantic.

Relative paths in the file (data root, label map) are resolved against the file's folder so a
config means the same thing whatever the working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from xner.errors import ConfigError
from xner.models.registry import backbone, train_defaults
from xner.run.config import Phase, Score
from xner.tomlfile import error_message, key_line, parse_toml, read_toml, resolve_paths

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
    # Sentence score: max / mean / sum of token entropies, mnlp, least_confidence (selection.uncertainty).
    score: Score = "max"
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


class ReannotateMethod(_Strict):
    """The reference study's own re-annotation: the model fine-tuned on the target re-labels the
    target's training set, the tokens whose entropy is above ``threshold`` get their gold labels
    (the simulated oracle; the rest keep the predicted ones), and PTF runs again on that
    (``xner.selection.reannotate``). Off unless enabled."""

    enabled: bool = False
    threshold: float = Field(2.0, gt=0, description="token entropy (natural log) above which a token is re-annotated")


class OWeightMethod(_Strict):
    """PTF with the O class down-weighted in the fine-tuning loss (``finetune.o_weight``), one run
    per value; the value [finetune] already has is the baseline run itself. Off unless enabled."""

    enabled: bool = False
    values: tuple[float, ...] = (1.0, 0.5, 0.2)

    @field_validator("values")
    @classmethod
    def _weights(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < v <= 1 for v in values):
            raise ValueError("o_weight values must lie in (0, 1]")
        if len(set(values)) != len(values):
            raise ValueError("values must not repeat")
        return values


class Baselines(_Strict):
    """dft: train on the target only; jt: train jointly on source + target (no pre-training)."""

    dft: bool = True
    jt: bool = True


class Methods(_Strict):
    random: RandomMethod = RandomMethod()
    similarity: SimilarityMethod = SimilarityMethod()
    uncertainty: UncertaintyMethod = UncertaintyMethod()
    staged: StagedMethod = StagedMethod()
    reannotate: ReannotateMethod = ReannotateMethod()
    o_weight: OWeightMethod = OWeightMethod()
    baselines: Baselines = Baselines()


class StudyRuntime(_Strict):
    """How the study's runs execute, passed into every run's [runtime]. Nothing here changes a
    result nor a run id, except an explicit bf16/fp16 ``precision`` (as in a run config)."""

    threads: int = Field(0, ge=0, description="torch threads per run; 0 = torch's default")
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$",
                        description="every run's device: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="autocast of forward passes; auto: bf16 on a CUDA GPU that has it, else fp32")
    deterministic: bool = Field(False, description="deterministic kernels only (slower on a GPU)")
    gpus_per_worker: float = Field(1.0, ge=0, description="CUDA: GPUs of each --jobs worker (worker i gets GPU "
                                   "i mod N) or Ray task (num_gpus, may be a fraction); 0: workers share")


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
    # Keys not given take the backbone's defaults (xner.models.registry): source / target phase.
    pretrain: Phase = Field(default_factory=Phase)
    finetune: Phase = Field(default_factory=Phase)
    source_subset: int | None = Field(None, ge=1, description="use the first N source sentences")
    label_modes: tuple[LabelMode, ...] = ("raw", "normalised")
    label_map: Path | None = None
    # "map": PTF's target-only labels start from the source label of their generic type
    # (test F1 +3.40 for MiniLM, +1.96 for the BiLSTM-CRF: five targets x 3 seeds, bench/RESULTS.md).
    label_init: Literal["fresh", "map"] = "map"
    seeds: tuple[int, ...] = (1, 2, 3)
    keep_models: bool = False
    methods: Methods = Methods()
    runtime: StudyRuntime = StudyRuntime()

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
    def _phase_defaults(cls, data: Any) -> Any:
        """Keys not given in [pretrain]/[finetune] take the backbone's defaults from the registry
        (an encoder wants lr 5e-5 where the BiLSTM wants 2e-3)."""
        if not isinstance(data, dict):
            return data
        name = data.get("backbone", "bilstm_crf")
        if name not in ("bilstm_crf", "encoder"):
            return data  # the Literal reports it
        data = dict(data)
        for section, phase in (("pretrain", "source"), ("finetune", "target")):
            given = data.get(section, {})
            if isinstance(given, dict):
                data[section] = {**train_defaults(name, phase), **given}  # type: ignore[arg-type]
        return data

    @model_validator(mode="after")
    def _domains_consistent(self) -> StudyConfig:
        if self.source in self.candidates or self.source in self.pool_domains:
            raise ValueError(f"the source domain {self.source!r} cannot be a candidate or pool domain")
        if self.target not in ("auto", "") and self.target == self.source:
            raise ValueError("the target cannot be the source domain")
        return self


def _phase_threads(data: dict[str, Any], text: str, path: Path) -> None:
    """``threads`` left in [pretrain]/[finetune] (where studies before the run config put it)."""
    for section in ("pretrain", "finetune"):
        given = data.get(section)
        if isinstance(given, dict) and "threads" in given:
            raise ConfigError(f"{section}.threads: threads are set once for the study, as [runtime] threads "
                              f"(move it there)", path, key_line(text, f"{section}.threads"))


def parse_config(text: str, path: Path) -> StudyConfig:
    """Parse TOML text; every problem becomes a one-line ConfigError naming ``path``."""
    data = resolve_paths(parse_toml(text, path), ("data_root", "label_map"), path.parent, path, text)
    _phase_threads(data, text, path)
    try:
        cfg = StudyConfig.model_validate(data)
        if cfg.model:  # importing a backbone's config pulls in torch: only when there is something to check
            backbone(cfg.backbone).config_class().model_validate(cfg.model)
    except ValidationError as err:
        loc, msg = error_message(err)
        if err.title != StudyConfig.__name__:  # the backbone's own config: keys live under [model]
            loc = "model." + loc if loc != "(top level)" else "model"
        raise ConfigError(f"{loc}: {msg}", path, key_line(text, loc)) from None
    return cfg


def load_config(path: str | Path) -> StudyConfig:
    """Read and validate a study config file."""
    path = Path(path)
    _, text = read_toml(path)
    return parse_config(text, path)


def with_runtime(cfg: StudyConfig, **given: Any) -> StudyConfig:
    """``cfg`` with [runtime] keys overridden by the command line (``xner study run --device``);
    None leaves the config's value. A bad value is one ConfigError line naming the option."""
    given = {k: v for k, v in given.items() if v is not None}
    try:
        runtime = StudyRuntime.model_validate({**cfg.runtime.model_dump(), **given})
    except ValidationError as err:
        loc, msg = error_message(err)
        raise ConfigError(f"--{loc.replace('_', '-')}: {msg}") from None
    return cfg.model_copy(update={"runtime": runtime})
