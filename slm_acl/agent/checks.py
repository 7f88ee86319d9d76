"""Dev-mode checks on algorithms: a training step must change the weights."""
from __future__ import annotations

from slm_acl.agent.algorithm.base import Algorithm


class DevCheckError(AssertionError):
    """A dev-mode check found the algorithm misbehaving."""


class TrainStepCheck:
    """Snapshot the weights before `update`; if the update trained, some weight must have moved."""

    def __init__(self, algorithm: Algorithm):
        self.algorithm = algorithm
        self.snapshot: dict[str, object] = {}

    def before(self) -> None:
        self.snapshot = {n: p.detach().clone() for n, p in self.algorithm.named_parameters()}

    def after(self) -> None:
        if not self.algorithm.trained_last_update or not self.snapshot:
            return
        import torch

        changed = [n for n, p in self.algorithm.named_parameters()
                   if n in self.snapshot and not torch.equal(self.snapshot[n], p.detach())]
        if not changed:
            raise DevCheckError(f"{type(self.algorithm).__name__}: a training step left every weight "
                                f"unchanged ({', '.join(self.snapshot)}); check the loss, the optimiser "
                                "and that gradients reach the nets")
