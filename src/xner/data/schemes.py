"""Moved to :mod:`xner.data.tags`; this re-export is kept until data/augment.py goes
(it is being deleted in another change and must not be edited meanwhile)."""

from xner.data.tags import entity_spans

__all__ = ["entity_spans"]
