"""The reference study's re-annotation of uncertain tokens, with a simulated oracle.

The reference study (its section 3.2 and 4.6) computes each token's entropy on the target's
*training* set, keeps the tokens above a threshold (2), has people re-annotate those words, and
trains again on the file. Its baseline is "the file before re-annotation", which scored far below
a model trained on gold labels: that file held the model's own (predicted) labels, and only the
flagged words were corrected. Re-annotating a gold file would change nothing, so this is the
only reading under which the method can do anything.

So, here: the model that was fine-tuned on the target predicts the target's training set; each
token whose entropy is above the threshold gets its gold label (the simulated oracle: what an
annotator would write), and every other token keeps the label the model predicted ("the rest as
they were": silver labels). A gold label next to predicted ones can leave a stray ``I-X``; it is
read as conlleval reads it (``repair_iob2``: it becomes ``B-X``), as a reviewed file is on import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xner.data.corpus import Sentence
from xner.data.tags import repair_iob2
from xner.models.base import Tagger
from xner.selection.uncertainty import DEFAULT_THRESHOLD, entropies


@dataclass(frozen=True)
class Reannotated:
    """The re-labelled sentences and what it took."""

    sentences: list[Sentence]
    n_tokens: int  # tokens flagged (entropy above the threshold) and given their gold label
    n_sentences: int  # sentences holding at least one of them
    n_changed: int  # flagged tokens whose gold label differs from the predicted one
    n_silver_errors: int  # tokens not flagged whose predicted label is not the gold one (left as they were)

    def counts(self) -> dict[str, int]:
        """What a run's metrics record."""
        return {"n_reannotated_tokens": self.n_tokens, "n_reannotated_sentences": self.n_sentences,
                "n_reannotated_changed": self.n_changed, "n_silver_errors": self.n_silver_errors}


def oracle_tags(predicted: Sequence[str], gold: Sequence[str], flagged: np.ndarray) -> list[str]:
    """Gold tags where ``flagged`` (a boolean per token), predicted ones elsewhere, IOB2-repaired."""
    return repair_iob2([g if f else p for p, g, f in zip(predicted, gold, flagged)])


def reannotate(tagger: Tagger, sentences: Sequence[Sentence], threshold: float = DEFAULT_THRESHOLD,
               base: float | None = None) -> Reannotated:
    """``sentences`` (with gold tags) re-labelled by the simulated oracle: the tagger's prediction,
    with the gold label on each token whose entropy is above ``threshold``."""
    tokens = [s.tokens for s in sentences]  # the model sees tokens only
    preds = tagger.predict(tokens) if sentences else []
    ents = entropies(tagger, sentences, base)
    out: list[Sentence] = []
    n_tokens = n_sentences = n_changed = n_errors = 0
    for sent, pred, h in zip(sentences, preds, ents):
        flagged = h > threshold
        gold = sent.tags
        n_tokens += int(flagged.sum())
        n_sentences += int(flagged.any())
        n_changed += sum(1 for p, g, f in zip(pred, gold, flagged) if f and p != g)
        n_errors += sum(1 for p, g, f in zip(pred, gold, flagged) if not f and p != g)
        out.append(sent.with_tags(oracle_tags(pred, gold, flagged)))
    return Reannotated(out, n_tokens, n_sentences, n_changed, n_errors)
