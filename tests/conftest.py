"""Session-wide guards for the test suite."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_hugging_face_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the Hugging Face Hub: a hub encoder name resolves from the cache only.
    The fake hub's tests (tests/unit/test_hub_encoder.py) lift this and point HF_ENDPOINT at 127.0.0.1."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
