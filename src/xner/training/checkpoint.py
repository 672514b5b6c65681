"""Moved: model folders are read and written by ``xner.models.modeldir`` (persistence lives with
the models). This re-export keeps old imports working until their modules switch."""

from __future__ import annotations

from xner.models.modeldir import (
    META,
    REQUIRED_META,
    WEIGHTS,
    load_checkpoint,
    load_state,
    load_tagger,
    read_meta,
    save_checkpoint,
)

__all__ = ["META", "REQUIRED_META", "WEIGHTS", "load_checkpoint", "load_state", "load_tagger", "read_meta",
           "save_checkpoint"]
