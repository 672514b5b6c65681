"""Which domain is the target: the one the transferred model does worst on.

The pre-trained source model is fine-tuned on each candidate's train split and scored on that
candidate's dev split (entity F1); the lowest dev F1 is the target. Test splits are not read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xner.data.corpus import Corpus, Sentence
from xner.errors import ConfigError
from xner.models.base import FitResult, Tagger, TrainConfig

FinetuneFn = Callable[[Path, Sequence[Sentence], Sequence[Sentence], TrainConfig], tuple[Tagger, FitResult]]
DEFAULT_SOURCE = "conll2003"


@dataclass(frozen=True)
class TargetRow:
    domain: str
    train_size: int
    dev_size: int
    dev_f1: float


@dataclass
class TargetChoice:
    rows: list[TargetRow]  # in candidate order
    target: str  # the worst candidate on dev F1

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "rows": [vars(r) for r in self.rows]}

    def ranked(self) -> list[TargetRow]:
        """Worst first (ties by name), the order the table is printed in."""
        return sorted(self.rows, key=lambda r: (r.dev_f1, r.domain))


def _default_finetune() -> FinetuneFn:
    from xner.transfer.pretrain_finetune import finetune

    def run(pretrained: Path, train: Sequence[Sentence], dev: Sequence[Sentence],
            cfg: TrainConfig) -> tuple[Tagger, FitResult]:
        return finetune(pretrained, train, dev, cfg)

    return run


def candidate_domains(corpus: Corpus, candidates: Sequence[str] | None, source: str | None) -> list[str]:
    names = list(candidates) if candidates else [n for n in corpus.names() if n != source]
    unknown = [n for n in names if n not in corpus]
    if unknown:
        raise ConfigError(f"unknown candidate domain(s) {', '.join(unknown)}; known: {', '.join(corpus.names())}")
    if not names:
        raise ConfigError("no candidate domains to choose a target from")
    return names


def choose_target(pretrained_dir: Path, corpus: Corpus, candidates: Sequence[str] | None = None,
                  train_cfg: TrainConfig | None = None, label_mode: str = "raw", label_map: Any = None,
                  finetune_fn: FinetuneFn | None = None, source: str | None = DEFAULT_SOURCE,
                  progress: Callable[[str], None] | None = None) -> TargetChoice:
    """Fine-tune on each candidate's train, score on its dev; the worst dev F1 is the target."""
    from xner.evaluation.metrics import entity_f1
    from xner.labels.normalise import apply_label_mode

    fit = finetune_fn or _default_finetune()
    cfg = train_cfg or TrainConfig()
    rows = []
    for name in candidate_domains(corpus, candidates, source):
        if progress is not None:
            progress(name)
        domain = corpus[name]
        train = apply_label_mode(domain.train, label_mode, label_map)
        dev = apply_label_mode(domain.dev, label_mode, label_map)
        if not train or not dev:
            raise ConfigError(f"candidate domain {name!r} needs train and dev sentences")
        tagger, _ = fit(Path(pretrained_dir), train, dev, cfg)
        pred = [list(p) for p in tagger.predict(dev)]
        rows.append(TargetRow(name, len(train), len(dev), float(entity_f1([list(s.tags) for s in dev], pred))))
    return TargetChoice(rows, worst(rows).domain)


def worst(rows: Sequence[TargetRow]) -> TargetRow:
    """The row with the lowest dev F1 (ties: the first name): the target."""
    return min(rows, key=lambda r: (r.dev_f1, r.domain))


def choose_target_in(pretrained_dir: Path, data_root: Path | None, candidates: Sequence[str] | None = None,
                     train_cfg: TrainConfig | None = None, label_mode: str = "raw", source: str | None = DEFAULT_SOURCE,
                     progress: Callable[[str], None] | None = None) -> TargetChoice:
    """:func:`choose_target` on the corpus in the data root (see ``find_data_root``); a
    ``normalised`` label mode uses the shipped label map."""
    from xner.data.conll import load_corpus
    from xner.data.sources import find_data_root

    if not Path(pretrained_dir).is_dir():
        raise ConfigError(f"--pretrained: no model folder at {pretrained_dir}")
    corpus = load_corpus(find_data_root(data_root))
    label_map = None
    if label_mode == "normalised":
        from xner.labels.normalise import load_label_map

        label_map = load_label_map()
    return choose_target(pretrained_dir, corpus, candidates, train_cfg, label_mode, label_map, source=source,
                         progress=progress)


def format_choice(choice: TargetChoice) -> str:
    """Plain-text table, worst first, with the chosen target marked."""
    width = max(8, *(len(r.domain) for r in choice.rows)) + 2
    lines = [f"{'domain':<{width}}{'train':>8}{'dev':>8}{'dev F1':>10}"]
    for row in choice.ranked():
        mark = "  <- target" if row.domain == choice.target else ""
        lines.append(f"{row.domain:<{width}}{row.train_size:>8}{row.dev_size:>8}{row.dev_f1:>10.4f}{mark}")
    return "\n".join(lines)
