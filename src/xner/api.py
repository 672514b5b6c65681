"""The Python API: load a trained model, tag raw text or tokens, evaluate on a domain split;
and what the model-using commands (predict, select uncertain, annotate export) do.

    model = xner.load_model("models/ai-ptf")
    for entity in model.predict("Geoffrey Hinton works on deep learning.")[0]:
        print(entity.type, entity.text, entity.start, entity.end)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xner.data.corpus import SPLITS, Sentence
from xner.errors import ConfigError, DataError, ModelError
from xner.models.base import Tagger
from xner.models.modeldir import LABEL_MAP, META, read_label_map
from xner.text import TokenSpan, split_text

if TYPE_CHECKING:
    import numpy as np

    from xner.selection.annotate import ExportSummary, ImportSummary
    from xner.selection.labelstudio_sync import PushSummary

LABEL_MAP_FILE = LABEL_MAP  # label_map.json: the label map a normalised model was trained with


@dataclass(frozen=True, slots=True)
class Entity:
    """An entity in a text: ``text == source[start:end]`` (character offsets)."""

    text: str
    type: str
    start: int
    end: int
    score: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.score is None:
            del data["score"]
        return data


@dataclass(frozen=True, slots=True)
class Analysis:
    """One text, split into sentences of tokens, with the predicted tags and entities."""

    text: str
    sentences: list[list[TokenSpan]]
    tags: list[list[str]]
    entities: list[Entity]


def load_tagger(directory: Path) -> Tagger:
    """The model-folder loader, imported late so that ``import xner.api`` stays light."""
    from xner.models.modeldir import load_tagger as _load

    return _load(directory)


def token_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """``(type, first, last)`` token spans (last inclusive) of IOB2 tags, read as conlleval does."""
    from xner.data.tags import entity_spans

    return [(typ, start, end - 1) for typ, start, end in entity_spans(tags)]


class Model:
    """A trained tagger plus what is needed to use it on text."""

    def __init__(self, tagger: Tagger, directory: Path, label_mode: str | None, label_map: Any = None) -> None:
        self.tagger = tagger
        self.directory = directory
        self.label_mode = label_mode
        self.label_map = label_map  # the LabelMap of a normalised model, from its folder

    @property
    def labels(self) -> list[str]:
        """Output tags in id order (``O``, ``B-x``, ``I-x``, ...)."""
        return list(self.tagger.labels.tags)

    @property
    def entity_types(self) -> list[str]:
        return list(self.tagger.labels.types)

    def predict_tokens(self, token_lists: Sequence[Sequence[str]]) -> list[list[str]]:
        """IOB2 tags for pre-tokenised sentences (an empty sentence gets no tags)."""
        batch = [list(tokens) for tokens in token_lists]
        todo = [i for i, tokens in enumerate(batch) if tokens]
        out: list[list[str]] = [[] for _ in batch]
        if todo:
            for i, tags in zip(todo, self.tagger.predict([batch[i] for i in todo])):
                out[i] = list(tags)
        return out

    def analyze(self, texts: str | Sequence[str], scores: bool = False) -> list[Analysis]:
        """Split, tokenise and tag each text; all sentences go to the tagger as one batch."""
        items = [texts] if isinstance(texts, str) else list(texts)
        split = [split_text(text) for text in items]
        flat = [[tok.text for tok in sentence] for sentences in split for sentence in sentences]
        tags = self.predict_tokens(flat)
        probs = self._tag_probabilities(flat, tags) if scores and flat else None
        out, k = [], 0
        for text, sentences in zip(items, split):
            n = len(sentences)
            entities = [
                entity
                for j, sentence in enumerate(sentences)
                for entity in _entities(text, sentence, tags[k + j], probs[k + j] if probs else None)
            ]
            out.append(Analysis(text, sentences, tags[k:k + n], entities))
            k += n
        return out

    def predict(self, texts: str | Sequence[str], scores: bool = False) -> list[list[Entity]]:
        """Entities of each raw text, with character offsets into that text.

        A single string is treated as a list of one text. With ``scores`` each entity carries
        the mean marginal probability of its predicted tags.
        """
        return [analysis.entities for analysis in self.analyze(texts, scores)]

    def _tag_probabilities(self, flat: list[list[str]], tags: list[list[str]]) -> list[list[float]]:
        marginals = self.tagger.marginals(flat)
        ids = self.tagger.labels
        return [[float(m[i, ids.id(t)]) for i, t in enumerate(seq)] for m, seq in zip(marginals, tags)]


def _entities(text: str, sentence: list[TokenSpan], tags: list[str],
              probs: list[float] | None) -> list[Entity]:
    out = []
    for typ, first, last in token_entities(tags):
        start, end = sentence[first].start, sentence[last].end
        score = sum(probs[first:last + 1]) / (last - first + 1) if probs is not None else None
        out.append(Entity(text[start:end], typ, start, end, score))
    return out


def _read_meta(directory: Path, key: str) -> Any:
    try:
        meta = json.loads((directory / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta.get(key) if isinstance(meta, dict) else None


def resolve_runtime(device: str = "auto", precision: str = "auto", quantize: bool = False) -> tuple[str, str]:
    """``(device, precision)`` as this machine will use them, e.g. ``("cpu", "fp32")``: ``auto``
    picks CUDA, then MPS, then the CPU (the CPU with ``quantize``, which runs there only). A device
    that is not here is one ConfigError line; every function below checks it before reading anything."""
    from xner.models.device import resolve_device, resolve_precision

    where = resolve_device("cpu" if quantize and str(device).strip().lower() == "auto" else device)
    return str(where), resolve_precision(precision, where)


def load_model(directory: str | Path, quantize: bool = False, device: str = "cpu",
               precision: str = "auto") -> Model:
    """Load a model directory written by ``xner train`` (or any ``Tagger.save``).

    ``quantize``: predict with dynamic int8 weights (encoder models only, on the CPU, which ``auto``
    then means; see ``EncoderTagger.quantize`` for the F1 cost). The folder itself is not changed.
    ``device``: where it predicts (auto, cpu, cuda, cuda:N, mps), whatever device trained it: the
    weights are read to the CPU, then moved. ``precision``: auto (bf16 on a CUDA GPU, else fp32),
    fp32, bf16 or fp16 autocast of the forward passes.
    """
    import torch

    name, mode = resolve_runtime(device, precision, quantize)  # a missing device fails before any reading
    where = torch.device(name)
    if quantize and where.type != "cpu":
        raise ConfigError(f"quantize runs on the CPU only, not on {where}")
    path = Path(directory)
    if not path.exists():
        raise ModelError("model folder not found", path)
    if not path.is_dir():
        raise ModelError("expected a model folder (meta.json + weights), got a file", path)
    try:
        tagger = load_tagger(path)
    except (ModelError, DataError, ConfigError):
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        # A damaged folder must stay a one-line user error, whatever layer noticed it.
        raise ModelError(f"cannot load model: {type(err).__name__}: {err}", path) from None
    if quantize:
        _quantize(tagger, path)
    if where.type != "cpu":
        tagger.to(where)  # type: ignore[attr-defined]
    tagger.precision = mode  # type: ignore[attr-defined]
    label_mode = getattr(tagger, "label_mode", None) or _read_meta(path, "label_mode")
    label_map = getattr(tagger, "label_map", None) or read_label_map(path)
    return Model(tagger, path, label_mode, label_map)


def _quantize(tagger: Tagger, path: Path) -> None:
    # Only the encoder has a measured int8 path; a BiLSTM-CRF is small and fast already, and
    # quantising it silently would be an untested change to its predictions.
    method = getattr(tagger, "quantize", None)
    if not callable(method):
        backbone = getattr(tagger, "backbone", None) or _read_meta(path, "backbone") or type(tagger).__name__
        raise ModelError(f"quantize works for encoder models only, not a {backbone} model", path)
    method()


def model_label_map(model: Model) -> Any:
    """The label map a normalised model was trained with, saved in its folder (None: an old model
    or a raw one; evaluation then falls back to the shipped map)."""
    return model.label_map if model.label_map is not None else read_label_map(model.directory)


def evaluate_model(
    model_dir: str | Path,
    domain: str,
    split: str,
    data_root: Path | None = None,
    label_map: Any = None,
    quantize: bool = False,
    device: str = "cpu",
    precision: str = "auto",
) -> tuple[list[Sentence], list[list[str]]]:
    """Gold sentences of ``domain``/``split`` in the model's label mode, and the model's tags
    (``quantize``, ``device``, ``precision``: as ``load_model``; int8 measures what it costs)."""
    from xner.data.conll import discover_domains, read_conll
    from xner.data.sources import find_data_root
    from xner.labels.normalise import apply_label_mode

    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    model = load_model(model_dir, quantize=quantize, device=device, precision=precision)
    root = find_data_root(data_root)
    if not (root / domain).is_dir():
        found = ", ".join(discover_domains(root)) or "none"
        raise DataError(f"unknown domain {domain!r} (found: {found})", root)
    sentences = read_conll(root / domain / f"{split}.txt", domain)
    mode = model.label_mode or "raw"
    gold = apply_label_mode(sentences, mode, label_map if label_map is not None else model_label_map(model))
    return gold, model.predict_tokens([s.tokens for s in gold])


def _predict_conll(model: Model, path: Path, text: str, fmt: str) -> str:
    """Tags for a CoNLL input: its lines with a tag column appended, or JSON documents."""
    from xner.data.columns import TEXT, ColumnSpec, read_columns
    from xner.data.tags import entity_spans

    # Only the token column is read; the original line is kept so the output appends a tag column.
    sentences = read_columns(path, ColumnSpec({0: TEXT}, min_width=1, same_width=False, keep_rows=True), text)
    if not sentences:
        raise DataError("input has no sentences", path)
    tags = model.predict_tokens([s.columns[TEXT] for s in sentences])
    if fmt == "conll":
        return "".join("".join(f"{row.text}\t{tag}\n" for row, tag in zip(s.rows, t)) + "\n"
                       for s, t in zip(sentences, tags))
    docs = [{"tokens": s.columns[TEXT], "tags": t,
             "entities": [{"text": " ".join(s.columns[TEXT][a:b]), "type": k, "token_start": a, "token_end": b}
                          for k, a, b in entity_spans(t)]}
            for s, t in zip(sentences, tags)]
    return json.dumps(docs, ensure_ascii=False, indent=2) + "\n"


def _predict_text(model: Model, text: str, fmt: str, scores: bool) -> str:
    (analysis,) = model.analyze([text], scores=scores and fmt == "json")
    if fmt == "conll":
        return "".join("".join(f"{tok.text}\t{tag}\n" for tok, tag in zip(s, t)) + "\n"
                       for s, t in zip(analysis.sentences, analysis.tags))
    doc = {"text": text, "entities": [e.to_json() for e in analysis.entities]}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def predict_input(model_dir: str | Path, file: Path | None = None, text: str | None = None,
                  fmt: str | None = None, input_kind: str = "auto", scores: bool = False,
                  quantize: bool = False, device: str = "cpu", precision: str = "auto") -> str:
    """``xner predict``: the tags of ``file`` (CoNLL or raw text) or of ``text``, as text.

    ``fmt``: conll or json (default: conll for CoNLL input, json for text). ``input_kind``:
    auto, conll or text (auto: CoNLL by suffix, or when every line ends in a tag). ``device``,
    ``precision``: as ``load_model`` (checked before the input is read).
    """
    from xner.data.columns import looks_like_conll, read_utf8_text

    if (file is None) == (text is None):
        raise ConfigError("give exactly one of FILE or --text")
    if fmt not in (None, "conll", "json"):
        raise ConfigError(f"--format must be conll or json, not {fmt!r}")
    if input_kind not in ("auto", "conll", "text"):
        raise ConfigError(f"--input must be auto, conll or text, not {input_kind!r}")
    device, precision = resolve_runtime(device, precision, quantize)
    if file is not None:
        content = read_utf8_text(file, kind="text or CoNLL file", allow_empty=True)
        is_conll = input_kind == "conll" or (input_kind == "auto" and looks_like_conll(file, content))
    else:
        content, is_conll = text or "", False
    model = load_model(model_dir, quantize=quantize, device=device, precision=precision)
    if file is not None and is_conll:
        return _predict_conll(model, file, content, fmt or "conll")
    return _predict_text(model, content, fmt or "json", scores)


def select_uncertain_pool(model_dir: str | Path, target: str, budget: int, out: Path,
                          data_root: Path | None = None, score: str = "max", domains: Sequence[str] | None = None,
                          source: str = "conll2003", with_entropies: bool = False, device: str = "cpu",
                          precision: str = "auto") -> tuple[list[Sentence], int, list[np.ndarray]]:
    """``xner select uncertain``: the ``budget`` train/dev pool sentences (all domains but
    ``target`` and ``source``, or ``domains``) the model (on ``device``, in ``precision``) is least
    sure about, written with their gold labels to ``out``; (chosen, pool size, token entropies of the
    chosen if asked for)."""
    from xner.data.conll import write_conll
    from xner.labels.normalise import apply_label_mode
    from xner.selection.random_pool import data_pool
    from xner.selection.uncertainty import entropies, select_uncertain

    if budget < 1:
        raise ConfigError(f"--budget must be >= 1, got {budget}")
    model = load_model(model_dir, device=device, precision=precision)
    mode, label_map = model.label_mode or "raw", model_label_map(model)
    pool = apply_label_mode(data_pool(data_root, target, domains, ("train", "dev"), source), mode, label_map)
    chosen = select_uncertain(model.tagger, pool, budget, score)
    write_conll(out, chosen)
    return chosen, len(pool), entropies(model.tagger, chosen) if with_entropies else []


def _review_input(model_dir: str | Path, domain: str, data_root: Path | None, split: str, budget: int | None,
                  device: str, precision: str) -> tuple[Model, Path, list[Sentence]]:
    """What ``annotate export`` and ``push`` read: the model (on ``device``) and the split's sentences."""
    from xner.data.conll import read_conll
    from xner.data.sources import find_data_root

    if split not in SPLITS:
        raise ConfigError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    if budget is not None and budget < 1:
        raise ConfigError(f"--budget must be >= 1, got {budget}")
    model = load_model(model_dir, device=device, precision=precision)
    file = find_data_root(data_root) / domain / f"{split}.txt"
    if not file.is_file():
        raise DataError(f"no {split} split for domain {domain!r}", file)
    return model, file, read_conll(file, domain)


def export_review(model_dir: str | Path, domain: str, out: Path, data_root: Path | None = None,
                  split: str = "train", threshold: float = 2.0, budget: int | None = None,
                  score: str = "max", device: str = "cpu", precision: str = "auto") -> tuple[ExportSummary, int]:
    """``xner annotate export``: the sentences of ``domain``/``split`` with uncertain tokens, with
    the model's labels, written to ``out`` for people to check; (summary, sentences read)."""
    from xner.selection.annotate import export_for_review

    model, file, sentences = _review_input(model_dir, domain, data_root, split, budget, device, precision)
    meta = {"model": str(model_dir), "data_file": str(file), "domain": domain, "split": split,
            "label_mode": model.label_mode}
    return export_for_review(model.tagger, sentences, out, threshold, budget, score, meta=meta), len(sentences)


def push_review(model_dir: str | Path, domain: str, url: str, token: str | None = None, project: str | None = None,
                data_root: Path | None = None, split: str = "train", threshold: float = 2.0,
                budget: int | None = None, score: str = "max", device: str = "cpu",
                precision: str = "auto") -> tuple[PushSummary, int]:
    """``xner annotate push``: what ``export_review`` selects, sent to the Label Studio at ``url`` as
    tasks of project ``project`` (default ``xner DOMAIN/SPLIT``); (summary, sentences read).
    ``token``: a personal access or legacy token, else ``$XNER_LABEL_STUDIO_TOKEN`` or
    ``$LABEL_STUDIO_API_KEY``."""
    from xner.selection.annotate import review_items
    from xner.selection.labelstudio_client import LabelStudio, resolve_token
    from xner.selection.labelstudio_sync import push_items

    device, precision = resolve_runtime(device, precision)
    client = LabelStudio(url, resolve_token(token))
    model, _, sentences = _review_input(model_dir, domain, data_root, split, budget, device, precision)
    items = review_items(model.tagger, sentences, threshold, budget, score)
    description = f"xner: {domain}/{split} sentences with a token entropy above {threshold:g}, model {model_dir}"
    summary = push_items(client, items, model.labels, model.entity_types, project or f"xner {domain}/{split}",
                         description)
    return summary, len(sentences)


def pull_review(url: str, project: str, into: Path, token: str | None = None,
                out: Path | None = None) -> ImportSummary:
    """``xner annotate pull``: the finished annotations of Label Studio project ``project``, checked
    and merged into the data at ``into`` (or written to ``out``) as ``xner annotate import`` does."""
    from xner.selection.labelstudio_client import LabelStudio, resolve_token
    from xner.selection.labelstudio_sync import pull_into

    return pull_into(LabelStudio(url, resolve_token(token)), project, into, out)
