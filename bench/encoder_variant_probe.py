"""Probe: bench/encoder_ptf_probe.py with one change patched in at run time (not built into xner).

VARIANT picks the change; every other setting is the PTF probe's (same environment variables):

- ``dropout``: the head's dropout set to DROPOUT (0.3) for fine-tuning (pre-training: 0.1).
- ``ema``: the dev set scores, and the kept model is, an exponential moving average of the
  weights (decay EMA_DECAY, 0.9 per optimiser step) instead of the weights themselves.
- ``mix``: each word is read from a learned softmax-weighted mix of all of the encoder's hidden
  states (embeddings + every layer) times a learned scale, instead of the last layer alone. The
  network changes, so it needs its own pre-training: set CACHE to a folder of its own.
- ``llrd``: layer-wise learning-rate decay when fine-tuning: the top encoder layer learns at the
  optimiser's rate, each layer below at LLRD_DECAY (0.8) times the one above, the embeddings
  at the lowest layer's rate times LLRD_DECAY again (the head keeps its multiplier).

    VARIANT=ema DOMAIN=ai SEED=0 THREADS=1 .venv/bin/python bench/encoder_variant_probe.py
    VARIANT=llrd LLRD_DECAY=0.8 DOMAIN=ai SEED=0 THREADS=2 .venv/bin/python bench/encoder_variant_probe.py
    VARIANT=mix CACHE=/tmp/mix_cache DOMAIN=ai SEED=0 THREADS=1 .venv/bin/python bench/encoder_variant_probe.py
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils import parametrize  # noqa: E402

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


def use_llrd(decay: float) -> None:
    """Scale each encoder layer's steps by decay ** (depth below the top) during fine-tuning only."""
    load, original = pf.load_tagger, encoder_module.head_learning_rate

    def load_marked(folder: Path) -> Any:
        tagger = load(folder)
        tagger.net.llrd = True  # pre-training (not loaded from a folder) keeps one encoder rate
        return tagger

    @contextmanager
    def rates_by_depth(net: Any, factor: float) -> Iterator[None]:
        targets: list[tuple[nn.Module, str, float]] = []
        if getattr(net, "llrd", False):
            layers = list(net.encoder.encoder.layer)
            groups = [(net.encoder.embeddings, decay ** len(layers))]
            groups += [(layer, decay ** (len(layers) - 1 - i)) for i, layer in enumerate(layers)]
            for block, scale in groups:
                for module in block.modules():
                    for name, _ in list(module.named_parameters(recurse=False)):
                        if scale != 1.0:
                            targets.append((module, name, scale))
        for module, name, scale in targets:
            parametrize.register_parametrization(module, name, encoder_module._Scale(scale))
        try:
            with original(net, factor):
                yield
        finally:
            for module, name, _ in targets:
                parametrize.remove_parametrizations(module, name, leave_parametrized=True)

    pf.load_tagger, encoder_module.head_learning_rate = load_marked, rates_by_depth


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
    elif variant == "llrd":
        use_llrd(float(os.environ.get("LLRD_DECAY", "0.8")))
    else:
        raise SystemExit("set VARIANT to dropout, ema, mix or llrd")
    import encoder_ptf_probe

    raise SystemExit(encoder_ptf_probe.main())
