"""``RunConfig``: one frozen description of one run, from data to runtime.

The CLI (``xner train``), the study (a grid of RunConfigs) and the benchmarks all build one and
hand it to ``xner.run.execute.run``. Every setting has exactly one default: the training phases
start from the backbone's defaults in ``xner.models.registry``, so a resolved config states every
number that shaped the model. Its canonical form, which leaves out what does not change the
result (runtime, the data root's location), gives the run id.

One runtime setting does change the numbers: a precision of bf16 or fp16 (autocast). It enters
the canonical form as ``runtime.precision`` only then, so every fp32 or ``auto`` run keeps the id
it had before precision existed (``auto`` is bf16 on a CUDA GPU: such a run shares its id with
the CPU one; ask for ``bf16`` to tell them apart). Likewise a phase's ``accumulate`` is written
only when it is not 1 (see ``xner.models.base.drop_neutral``), and so is ``min_epochs``: it enters
the canonical form (dumped with ``IDENTITY``) only when it is not 1, but every other dump (a
written run.toml, a study's run) spells it out, since a phase left without it takes the backbone's
default (10 for a BiLSTM-CRF target), which is not 1.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from xner.models.base import RUNTIME_FIELDS, TrainConfig, drop_neutral
from xner.selection.uncertainty import How

# Bumped whenever the meaning of a field changes: run ids (and so resumed studies) follow it.
SCHEMA_VERSION: Final = 1
Mode = Literal["ptf", "dft", "jt"]
LabelMode = Literal["raw", "normalised"]
AddedMethod = Literal["none", "random", "similar", "dissimilar", "uncertainty", "uncertainty_random", "staged",
                      "reannotate"]
# How uncertainty sampling scores a sentence: the selection module's own literal.
Score = How
# TrainConfig fields a phase does not own: the seed is the run's, the rest are [runtime]'s.
_NOT_PHASE = ("seed", "threads", "precision", *RUNTIME_FIELDS)
# The serialisation context of an identity (a run id, a study's pre-training task): settings at
# the value that means what configs meant before they existed are left out (``min_epochs`` 1).
IDENTITY: Final = {"identity": True}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Phase(TrainConfig):
    """Training settings of one phase (pre-training on the source, or the target fit)."""

    @model_validator(mode="before")
    @classmethod
    def _no_run_level_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in _NOT_PHASE:
                if key in data:
                    where = "the top-level seed" if key == "seed" else f"[runtime] {key}"
                    raise ValueError(f"{key}: set by {where}, not per phase")
        return data

    @model_serializer(mode="wrap")
    def _phase_dump(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        """Every setting, spelt out (a resolved config states them all), less the run's and
        runtime's, and ``accumulate`` at 1 (``drop_neutral``: ids made before it existed hold);
        ``min_epochs`` at 1 too, but only in an ``IDENTITY`` dump (see the module's docstring)."""
        data = handler(self)
        if isinstance(data, dict):
            data = drop_neutral(data)
            for key in _NOT_PHASE:
                data.pop(key, None)
            if not (info.context or {}).get("identity"):
                data["min_epochs"] = self.min_epochs
        return data

    def train_config(self, seed: int, threads: int, **runtime: Any) -> TrainConfig:
        """The trainer's settings for this phase of a run; ``runtime``: device, precision,
        deterministic (``RunConfig.phase_train`` fills them from [runtime])."""
        return TrainConfig(**self.model_dump(), seed=seed, threads=threads, **runtime)


class DataSection(_Strict):
    """Which data, and how its labels are read."""

    root: Path | None = Field(None, description="data root; None: --data, $XNER_DATA, ../shared, cache")
    target: tuple[str, ...] = Field(..., min_length=1, description="target domain(s); several are pooled")
    source: str = "conll2003"
    source_subset: int | None = Field(None, ge=1, description="first N source train sentences (dev: same share)")
    label_mode: LabelMode = "raw"
    label_map: Path | None = Field(None, description="TOML label map; None: the shipped CrossNER map")
    # "map": a target-only label starts from the source label of its generic type
    # (test F1 +3.40 for MiniLM, +1.96 for the BiLSTM-CRF: five targets x 3 seeds, bench/RESULTS.md).
    label_init: Literal["fresh", "map"] = "map"

    @field_validator("target", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("target")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not all(name.strip() for name in value):
            raise ValueError("a target domain name is empty")
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(f"target domains must not repeat: {', '.join(repeated)} named more than once")
        return value

    @property
    def target_name(self) -> str:
        return ",".join(self.target)


class BackboneSection(_Strict):
    """The model: a registry name, its settings, or a saved model to start from."""

    name: Literal["bilstm_crf", "encoder"] = "bilstm_crf"
    settings: dict[str, Any] = Field(default_factory=dict)
    init_model: Path | None = Field(None, description="ptf: fine-tune this saved model, no pre-training")

    @model_validator(mode="after")
    def _settings_valid(self) -> BackboneSection:
        """Settings are stored resolved (every default spelt out) so equal models get equal ids."""
        from xner.models.registry import backbone

        if self.init_model is not None:
            if self.settings:
                raise ValueError("settings do not apply with init_model (the model is already built)")
            return self
        from pydantic import ValidationError

        try:
            resolved = backbone(self.name).config_class().model_validate(self.settings)
        except ValidationError as err:
            first = err.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            msg = "unknown setting" if first["type"] == "extra_forbidden" else first["msg"]
            raise ValueError(f"settings.{key}: {msg} (for the {self.name} backbone)") from None
        object.__setattr__(self, "settings", resolved.model_dump(mode="json"))
        return self


class AddedSection(_Strict):
    """Data added to the target's training set from other domains (the study's methods), or
    (``reannotate``) the target's own training tokens re-labelled where the model is unsure."""

    method: AddedMethod = "none"
    setting: float = Field(0.0, ge=0, description="percent of the pool (random, similar), rounds (uncertainty) "
                                                  "or the entropy threshold (reannotate)")
    domains: tuple[str, ...] = ()
    pool_splits: tuple[Literal["train", "dev"], ...] = ("train", "dev")
    score: Score = "max"
    budget: int = Field(100, ge=1, description="uncertainty: sentences added per round")
    stage: Phase | None = Field(None, description="staged: the pooled stage's training settings")

    @model_validator(mode="after")
    def _consistent(self) -> AddedSection:
        if self.method in ("random", "similar", "dissimilar") and self.setting > 100:
            raise ValueError("setting is a percentage for this method (0-100)")
        if self.method.startswith("uncertainty") and (self.setting < 1 or self.setting != int(self.setting)):
            raise ValueError("setting is a whole number of rounds (>= 1) for uncertainty sampling")
        if self.method == "reannotate":
            if self.setting <= 0 or self.domains:
                raise ValueError("reannotate takes an entropy threshold (setting > 0) and no domains")
        elif self.method != "none" and self.setting > 0 and not self.domains:
            raise ValueError(f"method {self.method} needs domains to add from")
        if self.method == "staged" and self.stage is None:
            raise ValueError("method staged needs [added.stage] settings")
        return self


class Runtime(_Strict):
    """How the run executes. Only an explicit bf16/fp16 ``precision`` changes its numbers, and
    only that enters the run id (see the module's docstring)."""

    threads: int = Field(0, ge=0, description="torch threads; 0 = torch's default")
    device: str = Field("auto", description="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="autocast of forward passes; auto: bf16 on a CUDA GPU that has it, else fp32")
    deterministic: bool = Field(False, description="deterministic kernels only (slower on a GPU)")
    cache: Path | None = Field(None, description="pre-trained model cache; None: the user cache")
    fit_cache: Path | None = Field(None, description="folder of target fits to reuse (the target-alone fit, "
                                   "active-learning rounds; see xner.run.fitcache); a study keeps one")
    offline: bool = Field(False, description="never download a hub encoder (HF_HUB_OFFLINE=1 does too)")


def _with_backbone_name(data: dict[str, Any]) -> dict[str, Any]:
    """A run that starts from a saved model uses that model's backbone (read from its metadata)."""
    section = data.get("backbone")
    if not isinstance(section, dict) or not section.get("init_model"):
        return data
    from xner.models.registry import read_backbone_name

    theirs = read_backbone_name(Path(section["init_model"]))
    if section.get("name", theirs) != theirs:
        raise ValueError(f"backbone.name is {section['name']} but init_model is a {theirs} model")
    return {**data, "backbone": {**section, "name": theirs}}


class RunConfig(_Strict):
    """One run, fully described. Build it with ``xner.run.load`` (TOML, flags, overrides)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    mode: Mode = "ptf"
    seed: int = 0
    data: DataSection
    backbone: BackboneSection = BackboneSection()
    pretrain: Phase = Field(default_factory=Phase, description="pre-training on the source; jt's settings")
    finetune: Phase = Field(default_factory=Phase, description="the fit on the target (ptf, dft)")
    added: AddedSection = AddedSection()
    target_repeat: int = Field(10, ge=1, description="jt: times the target train set is repeated")
    flag_threshold: float | None = Field(None, gt=0, description="count target train tokens above this entropy")
    runtime: Runtime = Runtime()

    @model_validator(mode="before")
    @classmethod
    def _phase_defaults(cls, data: Any) -> Any:
        """Keys not given in [pretrain]/[finetune]/[added.stage] take the backbone's defaults."""
        if not isinstance(data, dict):
            return data
        from xner.models.registry import train_defaults

        data = _with_backbone_name(dict(data))
        section = data.get("backbone", {})
        name = section.get("name", "bilstm_crf") if isinstance(section, dict) else ""
        if name not in ("bilstm_crf", "encoder"):
            return data  # the Literal reports it
        phases: tuple[tuple[str, Literal["source", "target"]], ...] = (("pretrain", "source"), ("finetune", "target"))
        for key, phase in phases:
            given = data.get(key, {})
            if isinstance(given, dict):
                data[key] = {**train_defaults(name, phase), **given}
        added = data.get("added")
        if isinstance(added, dict) and isinstance(added.get("stage"), dict):
            data["added"] = {**added, "stage": {**train_defaults(name, "target"), **added["stage"]}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> RunConfig:
        d = self.data
        if self.uses_source and d.source in d.target:  # dft, or ptf from a saved model, never reads it
            raise ValueError("the source domain cannot be a target")
        if self.backbone.init_model is not None and self.mode != "ptf":
            raise ValueError(f"backbone.init_model needs mode ptf, not {self.mode}")
        if self.added.method != "none" and self.mode != "ptf":
            raise ValueError(f"added data needs mode ptf, not {self.mode}")
        if self.added.method != "none" and len(d.target) > 1:
            raise ValueError("added data needs a single target domain")
        if d.label_map is not None and not self.uses_label_map:
            raise ValueError("data.label_map is read only with label_mode normalised or (ptf) label_init map")
        if set(self.added.domains) & {d.source, *d.target}:
            raise ValueError("added.domains cannot hold the source or the target")
        return self

    # ------------------------------------------------------------------ identity

    @property
    def uses_source(self) -> bool:
        """Whether the source domain is read: ptf that pre-trains, or jt."""
        return self.mode == "jt" or (self.mode == "ptf" and self.backbone.init_model is None)

    @property
    def uses_label_map(self) -> bool:
        return self.data.label_mode == "normalised" or (self.mode == "ptf" and self.data.label_init == "map")

    def runtime_identity(self) -> dict[str, Any]:
        """The runtime's part of an identity (a run id, a study's pre-training task): an explicit
        bf16/fp16 precision, the one runtime setting that changes numbers; else nothing."""
        if self.runtime.precision in ("bf16", "fp16"):
            return {"runtime": {"precision": self.runtime.precision}}
        return {}

    def canonical(self, label_map_digest: str | None = None) -> str:
        """Sorted compact JSON of what decides the result. Left out: runtime, the data root's
        location, and settings the mode never reads (a dft run has no pre-training). The label
        map enters by the digest of its content (``label_map_digest``), not by its path."""
        data = self.model_dump(mode="json", exclude={"runtime": True, "data": {"root"}}, context=IDENTITY)
        data.update(self.runtime_identity())
        if not self.uses_source:
            data["pretrain"] = None
            data["data"]["source"] = data["data"]["source_subset"] = None
        if self.mode != "jt":
            data["target_repeat"] = None
        if self.mode != "ptf":
            data["data"]["label_init"] = None
        data["data"]["label_map"] = label_map_digest if self.uses_label_map else None
        if self.added.method == "none":
            data["added"] = None
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def run_id(self, label_map_digest: str | None = None) -> str:
        return hashlib.sha256(self.canonical(label_map_digest).encode("utf-8")).hexdigest()

    def phase_train(self, phase: Phase) -> TrainConfig:
        """The trainer's settings for ``phase``: the run's seed and [runtime] (the trainer resolves
        device and precision on the machine it runs on)."""
        rt = self.runtime
        return phase.train_config(self.seed, rt.threads, device=rt.device, precision=rt.precision,
                                  deterministic=rt.deterministic)

    def source_train(self) -> TrainConfig:
        return self.phase_train(self.pretrain)

    def target_train(self) -> TrainConfig:
        """The trainer's settings for the target fit (jt trains on the source: its pretrain phase)."""
        return self.phase_train(self.pretrain if self.mode == "jt" else self.finetune)
