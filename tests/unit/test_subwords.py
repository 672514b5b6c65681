"""Word -> subword alignment, windows over long sentences, and batch collation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from xner.models.subwords import (
    MAX_WORD_PIECES,
    assign_home,
    casing_class,
    collate,
    encode,
    plan_windows,
    word_pieces,
)

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "cat", "sat", "on", "mat", "paris", "##s", "."]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
VOCAB = SPECIALS + WORDS + LETTERS + ["##" + c for c in LETTERS]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory):
    from transformers import AutoTokenizer

    folder: Path = tmp_path_factory.mktemp("tok")
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True}), encoding="utf-8")
    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def test_casing_classes() -> None:
    shapes = {w: casing_class(w) for w in ["paris", "Paris", "NATO", "iPhone", "A", "1990", ".", "McDonald"]}
    assert shapes["paris"] != shapes["Paris"] != shapes["NATO"]
    assert shapes["A"] == shapes["Paris"]  # one capital letter reads as a title word
    assert shapes["iPhone"] == shapes["McDonald"]
    assert shapes["1990"] != shapes["."]
    assert len(set(shapes.values())) == 6
    assert all(v > 0 for v in shapes.values())  # 0 is padding


def test_first_subword_alignment_and_empty_words(tokenizer) -> None:
    unk = tokenizer.unk_token_id
    [pieces] = word_pieces(tokenizer, [["The", "cats", "\u200b", "\x07", "", "zz"]], unk)
    ids = tokenizer.convert_tokens_to_ids
    assert pieces[0] == (ids("the"),)
    assert pieces[1] == (ids("cat"), ids("##s"))
    # zero-width space, a control character and an empty string: nothing from the tokenizer
    assert pieces[2] == pieces[3] == pieces[4] == (unk,)
    assert pieces[5] == (ids("z"), ids("##z"))


def test_long_word_is_cut(tokenizer) -> None:
    [pieces] = word_pieces(tokenizer, [["x" * 100]], tokenizer.unk_token_id)
    assert len(pieces[0]) == MAX_WORD_PIECES


@settings(max_examples=100, deadline=None)
@given(
    counts=st.lists(st.integers(1, 6), min_size=1, max_size=60),
    capacity=st.integers(6, 20),
    overlap_share=st.floats(0, 0.9),
)
def test_windows_cover_every_word_within_capacity(counts: list[int], capacity: int, overlap_share: float) -> None:
    overlap = min(int(capacity * overlap_share), capacity - 1)
    windows = plan_windows(counts, capacity, overlap)
    assert windows[0][0] == 0 and windows[-1][1] == len(counts)
    for (a1, b1), (a2, b2) in zip(windows, windows[1:]):
        assert a2 > a1 and b2 > b1 and a2 <= b1  # moving forward, no gap between windows
    for a, b in windows:
        assert sum(counts[a:b]) <= capacity
    home = assign_home(counts, windows)
    for i, w in enumerate(home):
        a, b = windows[w]
        assert a <= i < b


def test_home_window_maximises_context() -> None:
    counts = [1] * 10
    windows = plan_windows(counts, capacity=6, overlap=4)
    home = assign_home(counts, windows)
    for i, w in enumerate(home):
        a, b = windows[w]
        best = min(i - a, b - 1 - i)
        for a2, b2 in windows:
            if a2 <= i < b2:
                assert min(i - a2, b2 - 1 - i) <= best


def test_overlap_must_be_smaller_than_capacity() -> None:
    with pytest.raises(ValueError):
        plan_windows([1, 1], capacity=4, overlap=4)


def test_collate_points_at_first_subword_of_home_window(tokenizer) -> None:
    sentences = [["the", "cats", "sat", "on", "the", "mats", "in", "paris", "."] * 3, ["cat", "\x07"]]
    encoded = encode(tokenizer, sentences, max_length=10, overlap=3, unk_id=tokenizer.unk_token_id)
    assert len(encoded[0].windows) > 1  # longer than the limit: several windows
    assert len(encoded[1].windows) == 1
    batch = collate(encoded, tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id,
                    tags=[list(range(len(s))) for s in sentences])
    assert batch.input_ids.shape[1] <= 10  # never longer than max_length
    assert batch.input_ids.shape[0] == len(encoded[0].windows) + 1
    flat = batch.input_ids.reshape(-1)
    for b, enc in enumerate(encoded):
        n = len(enc.pieces)
        assert batch.mask[b, :n].all() and not batch.mask[b, n:].any()
        assert flat[batch.gather[b, :n]].tolist() == [p[0] for p in enc.pieces]
        # each word is read from its home window's row
        rows = (batch.gather[b, :n] // batch.input_ids.shape[1]).tolist()
        first_row = sum(len(e.windows) for e in encoded[:b])
        assert rows == [first_row + w for w in enc.home]
        assert batch.tags is not None and batch.tags[b, :n].tolist() == list(range(n))
    # the shorter sentence's windows are padded only to the batch's longest row
    assert batch.attention_mask.sum(1).max() == batch.input_ids.shape[1]
    assert int(batch.attention_mask[-1].sum()) == 4  # [CLS] cat [UNK] [SEP]
    assert batch.casing.dtype == torch.long and batch.size == 2
