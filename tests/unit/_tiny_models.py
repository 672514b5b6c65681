"""Tiny saved models of both backbones for the fuzz and untrusted-directory tests."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

import torch

from xner.data.corpus import Sentence
from xner.labels.space import LabelSpace

TRAIN = [Sentence(("Alice", "met", "Bob", "in", "Paris", "."), ("B-PER", "O", "B-PER", "O", "B-LOC", "O"))]
TINY_BILSTM = {"word_dim": 4, "casing_dim": 2, "char_dim": 4, "char_filters": 4, "hidden": 4}
BERT_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "alice", "bob", "met", "in", "paris", "."]


def save_bilstm(directory: Path) -> Path:
    """A tiny BiLSTM-CRF model directory (model.safetensors + meta.json)."""
    from xner.models.bilstm_crf import BiLSTMCRFTagger

    tagger = BiLSTMCRFTagger.create(TRAIN, LabelSpace.from_sentences(TRAIN), TINY_BILSTM, seed=0)
    tagger.label_mode = "raw"
    tagger.save(directory)
    return directory


def save_tiny_bert(folder: Path, vocab: list[str] = BERT_VOCAB, hidden: int = 8, layers: int = 1,
                   positions: int = 32) -> Path:
    """A random BERT with a WordPiece vocabulary, saved like a hub folder (seeded, so repeatable)."""
    from transformers import BertConfig, BertModel

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True}), encoding="utf-8")
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=2, intermediate_size=2 * hidden, max_position_embeddings=positions)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(str(folder))
    return folder


def save_encoder(directory: Path, bert: Path) -> Path:
    """A tiny encoder tagger directory (weights, meta.json, encoder/ tokenizer + config)."""
    from xner.models.encoder import EncoderTagger

    config = {"encoder": str(bert), "max_length": 16, "window_overlap": 4, "casing_dim": 2}
    tagger = EncoderTagger.create(TRAIN, LabelSpace.from_sentences(TRAIN), config, seed=0)
    tagger.label_mode = "raw"
    tagger.save(directory)
    return directory


@functools.lru_cache(maxsize=1)
def shared_models() -> dict[str, Path]:
    """Both tiny models, built once per test process (building the BERT and importing
    transformers is the slow part); callers copy a directory before changing anything in it."""
    root = Path(tempfile.mkdtemp(prefix="xner-tiny-models-"))
    atexit.register(shutil.rmtree, root, True)
    bert = save_tiny_bert(root / "bert")
    return {"bilstm_crf": save_bilstm(root / "bilstm"), "encoder": save_encoder(root / "encoder", bert)}


@functools.lru_cache(maxsize=1)
def shared_bilstm() -> Path:
    """The tiny BiLSTM-CRF alone (no transformers import), built once per test process."""
    root = Path(tempfile.mkdtemp(prefix="xner-tiny-bilstm-"))
    atexit.register(shutil.rmtree, root, True)
    return save_bilstm(root / "bilstm")
