"""Probe: bench/encoder_ptf_probe.py with one change patched in at run time (not built into xner).

VARIANT picks the change; every other setting is the PTF probe's (same environment variables):

- ``dropout``: the head's dropout set to DROPOUT (0.3) for fine-tuning (pre-training: 0.1).
- ``ema``: the dev set scores, and the kept model is, an exponential moving average of the
  weights (decay EMA_DECAY, 0.9 per optimiser step) instead of the weights themselves.
- ``mix``: each word is read from a learned softmax-weighted mix of all of the encoder's hidden
  states (embeddings + every layer) times a learned scale, instead of the last layer alone. The
  network changes, so it needs its own pre-training: set CACHE to a folder of its own.

    VARIANT=ema DOMAIN=ai SEED=0 THREADS=1 .venv/bin/python bench/encoder_variant_probe.py
    VARIANT=mix CACHE=/tmp/mix_cache DOMAIN=ai SEED=0 THREADS=1 .venv/bin/python bench/encoder_variant_probe.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import xner.models.encoder as encoder_module  # noqa: E402
import xner.training.trainer as trainer  # noqa: E402
import xner.transfer.pretrain_finetune as pf  # noqa: E402


def use_dropout(p: float) -> None:
    load = pf.load_tagger

    def load_with_dropout(folder: Path) -> Any:
        tagger = load(folder)
        tagger.net.dropout.p = p
        return tagger

    pf.load_tagger = load_with_dropout


def use_ema(decay: float) -> None:
    """Shadow weights updated after every optimiser step; swapped in to score dev (so the best
    epoch's snapshot is of them) and swapped out again before the next epoch trains."""
    state: dict[str, Any] = {"params": [], "shadow": [], "raw": None}
    make, score, run = trainer.make_optimizer, trainer.dev_f1, trainer._run_epoch

    def make_with_ema(params: list[nn.Parameter], cfg: Any) -> torch.optim.Optimizer:
        optimizer = make(params, cfg)
        state["params"], state["shadow"] = params, [p.detach().clone() for p in params]
        step = optimizer.step

        def step_and_average(*args: Any, **kwargs: Any) -> Any:
            out = step(*args, **kwargs)
            with torch.no_grad():
                for shadow, p in zip(state["shadow"], state["params"]):
                    shadow.mul_(decay).add_(p.detach(), alpha=1 - decay)
            return out

        optimizer.step = step_and_average  # type: ignore[method-assign]
        return optimizer

    def score_averaged(tagger: Any, dev: Any) -> float:
        with torch.no_grad():
            state["raw"] = [p.detach().clone() for p in state["params"]]
            for shadow, p in zip(state["shadow"], state["params"]):
                p.copy_(shadow)
        return score(tagger, dev)

    def run_raw(*args: Any, **kwargs: Any) -> Any:
        if state["raw"] is not None:
            with torch.no_grad():
                for raw, p in zip(state["raw"], state["params"]):
                    p.copy_(raw)
            state["raw"] = None
        return run(*args, **kwargs)

    trainer.make_optimizer, trainer.dev_f1, trainer._run_epoch = make_with_ema, score_averaged, run_raw


class ScalarMix(nn.Module):
    """softmax(weights) · hidden states, times gamma (ELMo-style layer mix)."""

    def __init__(self, layers: int) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(layers))
        self.gamma = nn.Parameter(torch.ones(1))

    def forward(self, states: tuple[torch.Tensor, ...]) -> torch.Tensor:
        w = torch.softmax(self.weights, dim=0)
        return self.gamma * sum(wi * h for wi, h in zip(w, states))


def use_mix() -> None:
    net_class = encoder_module.EncoderNet
    init, heads = net_class.__init__, net_class.head_parameters

    def init_with_mix(self: Any, encoder: nn.Module, num_labels: int, config: Any) -> None:
        init(self, encoder, num_labels, config)
        self.mixer = ScalarMix(int(encoder.config.num_hidden_layers) + 1)

    def forward_mixed(self: Any, batch: Any) -> torch.Tensor:
        out = self.encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                           output_hidden_states=True).hidden_states
        mixed = self.mixer(out)
        words = mixed.reshape(-1, mixed.shape[-1])[batch.gather]
        if self.casing is not None:
            words = torch.cat([words, self.casing(batch.casing)], dim=-1)
        return self.proj(self.dropout(words))

    def heads_with_mix(self: Any) -> list[tuple[nn.Module, str]]:  # the mix learns at the head's rate
        return heads(self) + [(self.mixer, "weights"), (self.mixer, "gamma")]

    net_class.__init__, net_class.forward, net_class.head_parameters = init_with_mix, forward_mixed, heads_with_mix


if __name__ == "__main__":
    variant = os.environ.get("VARIANT", "")
    if variant == "dropout":
        use_dropout(float(os.environ.get("DROPOUT", "0.3")))
    elif variant == "ema":
        use_ema(float(os.environ.get("EMA_DECAY", "0.9")))
    elif variant == "mix":
        if not os.environ.get("CACHE"):
            raise SystemExit("VARIANT=mix needs CACHE=<folder of its own>: its network differs")
        use_mix()
    else:
        raise SystemExit("set VARIANT to dropout, ema or mix")
    import encoder_ptf_probe

    raise SystemExit(encoder_ptf_probe.main())
