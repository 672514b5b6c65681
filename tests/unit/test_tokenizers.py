"""Tokenizer families an encoder may come with, on tiny models whose tokenizers the tests build:
WordPiece uncased and cased (BERT), byte-level BPE (RoBERTa: vocab.json + merges.txt) and a
SentencePiece-style Unigram (XLM-R: tokenizer.json only). For each, one label per word however
the word is split, the casing feature follows the tokenizer, and a tagger trains, predicts, saves
and loads."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import torch
from test_encoder_tagger import LETTERS, NAMES, PLACES, SPECIALS, make_sentence

from xner.labels.space import LabelSpace
from xner.models.base import TrainConfig
from xner.models.encoder import EncoderTagger
from xner.models.encoder_files import lower_cases
from xner.models.modeldir import load_tagger
from xner.training.trainer import fit

pytestmark = pytest.mark.filterwarnings("ignore:lr .* is far above:UserWarning")
FILLER = ["the", "went", "to", "and", "met", "in", "saw", "."]
CORPUS = [" ".join(w.capitalize() if i % 2 else w for i, w in enumerate(NAMES + PLACES + FILLER))] * 4 + [
    "Alice went to Paris and met Bob in Rome .", "the backpropagation method , Oslo and Carol"] * 4
# A word every tokenizer here splits into several pieces, a word nobody's vocabulary has, an empty
# word (tokenized to nothing: it gets the unknown token) and a control character.
ODD = ["backpropagation", "Ωmega", "", "\x07", "Paris"]


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _save_model(folder: Path, kind: str) -> Path:
    """A random 1-layer encoder of ``kind`` sized to the tokenizer already in ``folder``."""
    from transformers import (
        AutoTokenizer,
        BertConfig,
        BertModel,
        RobertaConfig,
        RobertaModel,
        XLMRobertaConfig,
        XLMRobertaModel,
    )

    size = len(AutoTokenizer.from_pretrained(str(folder)))
    shape: dict[str, Any] = {"vocab_size": size, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                             "intermediate_size": 32, "max_position_embeddings": 66}
    config, model = {"bert": (BertConfig, BertModel), "roberta": (RobertaConfig, RobertaModel),
                     "xlm-roberta": (XLMRobertaConfig, XLMRobertaModel)}[kind]
    torch.manual_seed(0)
    extra = {} if kind == "bert" else {"pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}
    model(config(**shape, **extra)).save_pretrained(str(folder))
    return folder


def wordpiece(folder: Path, lower: bool) -> Path:
    """BERT with a WordPiece vocabulary; a cased one holds capitalised names too."""
    cased = [w.capitalize() for w in NAMES + PLACES] + [c.upper() for c in LETTERS] if not lower else []
    vocab = SPECIALS + NAMES + PLACES + FILLER + LETTERS + ["##" + c for c in LETTERS] + cased
    folder.mkdir()
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": lower}), encoding="utf-8")
    return _save_model(folder, "bert")


def byte_level_bpe(folder: Path) -> Path:
    """RoBERTa with a byte-level BPE (vocab.json + merges.txt) trained here on a few sentences."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS, vocab_size=300, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False)
    folder.mkdir()
    bpe.save_model(str(folder))
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "RobertaTokenizer"}))
    return _save_model(folder, "roberta")


def unigram(folder: Path) -> Path:
    """XLM-R with a SentencePiece-style Unigram model trained here, saved as tokenizer.json only."""
    from tokenizers import SentencePieceUnigramTokenizer

    sp = SentencePieceUnigramTokenizer()
    sp.train_from_iterator(CORPUS, vocab_size=80, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                           unk_token="<unk>", show_progress=False)
    folder.mkdir()
    sp.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "XLMRobertaTokenizer"}))
    return _save_model(folder, "xlm-roberta")


FAMILIES = {"wordpiece-uncased": (lambda f: wordpiece(f, True), 16),
            "wordpiece-cased": (lambda f: wordpiece(f, False), 0),
            "byte-level-bpe": (byte_level_bpe, 0), "unigram": (unigram, 0)}


@pytest.fixture(scope="module", params=list(FAMILIES))
def family(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, int]:
    """(name, model folder, the casing size auto gives)."""
    build, casing = FAMILIES[request.param]
    return request.param, build(tmp_path_factory.mktemp("tok") / request.param), casing


def create(folder: Path, **extra: Any) -> EncoderTagger:
    config = {"encoder": str(folder), "max_length": 32, "window_overlap": 8, "head_lr_multiplier": 1.0, **extra}
    return EncoderTagger.create([], LabelSpace.from_types(["location", "person"]), config, seed=0)


def test_one_piece_group_per_word_however_split(family: tuple[str, Path, int]) -> None:
    name, folder, _ = family
    tagger = create(folder)
    [enc] = tagger.encode([ODD + ["paris", "paris"]])
    assert len(enc.pieces) == len(ODD) + 2 and all(enc.pieces)
    assert len(enc.pieces[0]) > 1  # backpropagation: several pieces, one label (read at the first)
    assert enc.pieces[2] == (tagger._unk,)  # nothing from the tokenizer: the unknown token
    # a word is split the same wherever it stands: the first word too gets byte-level BPE's leading space
    assert enc.pieces[-1] == enc.pieces[-2]
    [first] = tagger.encode([["paris", "went"]])
    assert first.pieces[0] == enc.pieces[-1]
    if name == "byte-level-bpe":
        tokens = tagger.tokenizer.convert_ids_to_tokens([p[0] for p in enc.pieces if p != (tagger._unk,)])
        assert all(t.startswith("Ġ") for t in tokens), tokens


def test_casing_follows_the_tokenizer_and_an_explicit_size_wins(family: tuple[str, Path, int]) -> None:
    name, folder, casing = family
    tagger = create(folder)
    assert lower_cases(tagger.tokenizer) == (casing > 0)
    assert tagger.config.casing_dim == casing and (tagger.net.casing is None) == (casing == 0)
    assert create(folder, casing_dim=4).config.casing_dim == 4


def test_train_predict_save_load(family: tuple[str, Path, int], tmp_path: Path) -> None:
    name, folder, casing = family
    rng = random.Random(0)
    train, dev = [make_sentence(rng) for _ in range(12)], [make_sentence(rng) for _ in range(4)]
    tagger = create(folder, head="crf")
    result = fit(tagger, train, dev, TrainConfig(epochs=1, batch_size=4, optimizer="adam", lr=3e-3, patience=1, seed=0))
    assert result.epochs_run == 1
    inputs = [ODD, ["Alice", "went", "to", "Paris"] * 10, []]  # 40 words: several windows of 32 subwords
    tags = tagger.predict(inputs)
    assert [len(t) for t in tags] == [len(ODD), 40, 0] and all(t in tagger.labels for row in tags for t in row)
    tagger.label_mode = "raw"
    tagger.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["config"]["casing_dim"] == casing and meta["config"]["encoder"] == str(folder)
    loaded = load_tagger(tmp_path / "m")
    assert loaded.predict(inputs) == tags
