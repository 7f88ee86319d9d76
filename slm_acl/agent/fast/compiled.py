"""A reference loss run under torch.compile (TorchInductor), for the fast paths that measured faster so.

Why: bench/compile_vs_manual.py timed PPO's minibatch update on this CPU (one thread, [64, 64] tanh,
minibatch 64): the reference loss eager 1.62 ms, hand-written gradients 1.66 ms, the same loss under
torch.compile 1.08 ms; over whole training runs (BipedalWalker-v3, SB3's settings) compiled PPO
trained as fast as the hand-written gradients or faster (1497 against 1472 steps/s at 1 env, 2134
against 1980 at 4). So PPO's hand-written gradients were deleted: its fast path is its own loss,
compiled. (SAC's hand-written step stays: compiled, its update took 1.30x as long.)

Costs, and how they are kept in bounds:
- compiling takes seconds per graph (8-20 s on this CPU with a cold cache, ~2 s from Inductor's
  on-disk cache), once per process and per input structure (the bodies present, a new minibatch
  size). A path built on it therefore states how many loss evaluations repay that
  (`MIN_LOSS_CALLS`), and the selector keeps the reference for shorter runs (tests, dev mode);
- Inductor compiles C++ and needs a compiler: without one the path is refused up front;
- compilation runs in this process (`compile_threads = 1`): sessions are already one pinned process
  each, and a pool of compile workers per session would oversubscribe the cores;
- should compiling fail at run time anyway, the loss falls back to the eager reference for the rest
  of the process, with a warning.
"""
from __future__ import annotations

import functools
import logging
import shutil
from typing import Any, Callable, Sequence

import torch

log = logging.getLogger("slm_acl.agent.fast")

# Loss evaluations a session must make for compiling to pay: ~2 x 9 s of cold compiles (the full
# minibatch and the ragged last one) against ~0.4 ms saved per evaluation is ~45,000; with a warm
# cache far fewer. 20,000 is ~130k frames of PPO at SB3's settings.
MIN_LOSS_CALLS = 20_000


@functools.lru_cache(maxsize=1)
def compiler_problem() -> str | None:
    """Why torch.compile cannot build CPU kernels here, or None when it can."""
    if not any(shutil.which(cc) for cc in ("g++", "c++", "clang++")):
        return "no C++ compiler (g++, c++ or clang++) for torch.compile"
    return None


class CompiledLoss:
    """`loss` under torch.compile, with its backward pass; falls back to `loss` itself if compiling fails.

    `backward(*args)` computes `loss(*args)` and back-propagates `terms[key]`, the way the reference
    path does. Both halves sit in the guard: AOTAutograd compiles the backward graph lazily, at the
    first `.backward()`, so a compiler failure can surface there too. After a failure every gradient
    of `params` is cleared and the step is taken again eagerly, and so are all later ones.
    """

    def __init__(self, loss: Callable[..., dict], name: str, params: Sequence[torch.Tensor], key: str = "loss"):
        import torch._inductor.config as inductor_config

        inductor_config.compile_threads = 1
        self.loss, self.name, self.params, self.key = loss, name, list(params), key
        self._compiled: Callable[..., dict] | None = torch.compile(loss)

    @property
    def compiled(self) -> bool:
        """Whether the compiled loss is still in use (False after a fallback)."""
        return self._compiled is not None

    def backward(self, *args: Any) -> dict:
        if self._compiled is not None:
            try:
                terms = self._compiled(*args)
                terms[self.key].backward()
                return terms
            except Exception as err:  # noqa: BLE001 - a compiler failure must not end a training run
                log.warning(f"{self.name}: torch.compile failed ({type(err).__name__}: "
                            f"{str(err).splitlines()[0][:200]}); running the reference loss eagerly from now on")
                self._compiled = None
                for p in self.params:
                    p.grad = None
        terms = self.loss(*args)
        terms[self.key].backward()
        return terms
