"""Walking a body net stage by stage (per-body MLPs, shared MLPs), for the fast paths' own passes.

Every body net describes itself as stages (`BodyNet.stages()`): in a per-body stage each body's rows
go through that body's MLP; in a shared stage the rows of all bodies go through one MLP at once,
concatenated in body order and split again after. The NumPy acting forward and the hand-written
torch passes both walk nets this way, so the structure of a net is read in one place.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from slm_acl.agent.net.base import Stage

Array = Any  # a torch.Tensor or a NumPy array: the walk only concatenates and splits rows
RunMLP = Callable[[Any, Array], tuple[Array, Any]]  # (mlp, x) -> (output, what the caller keeps of the pass)


def concat_rows(parts: Sequence[Array]) -> Array:
    """Rows of several bodies as one batch (rows are the second-to-last axis, after any copy axis)."""
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(list(parts), dim=-2)
    return np.concatenate(parts, axis=-2)


def split_rows(x: Array, sizes: Sequence[int]) -> list[Array]:
    if len(sizes) == 1:
        return [x]
    if isinstance(x, torch.Tensor):
        return list(torch.split(x, list(sizes), dim=-2))
    return np.split(x, np.cumsum(sizes)[:-1], axis=-2)


def walk_forward(stages: Sequence[Stage], xs: Sequence[Array | None],
                 run_mlp: RunMLP) -> tuple[list[Array | None], list[Any]]:
    """Each body's output, and per stage what `run_mlp` kept: a dict {body: kept} for per-body
    stages, the kept value of the one call for shared stages."""
    active = [b for b, x in enumerate(xs) if x is not None]
    rows = [xs[b].shape[-2] for b in active]
    hidden = {b: xs[b] for b in active}
    kept: list[Any] = []
    for stage in stages:
        if stage.shared:
            out, record = run_mlp(stage.mlps[0], concat_rows([hidden[b] for b in active]))
            hidden = dict(zip(active, split_rows(out, rows)))
            kept.append(record)
        else:
            records = {}
            for b in active:
                hidden[b], records[b] = run_mlp(stage.mlps[b], hidden[b])
            kept.append(records)
    return [hidden.get(b) for b in range(len(xs))], kept
