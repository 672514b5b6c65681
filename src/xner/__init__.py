"""xner: cross-domain named entity recognition for low-resource target domains."""

__version__ = "0.1.0"

__all__ = ["__version__", "load_model"]


def load_model(path, quantize=False):  # noqa: ANN001, ANN201 - thin re-export, typed in xner.api
    """Load a trained xner model directory for prediction (see ``xner.api.load_model``)."""
    from xner.api import load_model as _load

    return _load(path, quantize=quantize)
