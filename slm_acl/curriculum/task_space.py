"""Task spaces: the named, bounded env parameters a teacher controls.

Teachers work in the unit cube [0,1]^d; the task space converts between that and the env's raw
units, and between flat vectors and the env's task dict. A spec declares a task space as
`{name: [low, high]}` (one dim), `{name: [low, high, n]}` (n dims sharing bounds, e.g. Hexagon
Tracks' `poly_shape`) or `{name: [[low, high], ...]}` (one pair per dim, e.g. Parkour's
`input_vector`). Vector parameters get dims named `name_0, name_1, ...`. A bare number,
`{name: value}`, fixes a parameter: every task gets it, and no teacher sees it (TeachMyAgent's
Parkour boxes fix creepers_width and terrain_cppn_scale this way).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import numpy as np


class TaskError(ValueError):
    """A task that does not fit its task space or its env."""


@dataclasses.dataclass(frozen=True)
class TaskDim:
    name: str
    low: float
    high: float
    param: str  # the env parameter this dim belongs to
    index: int | None  # position inside a vector parameter, None for a scalar parameter


def parse_bounds(name: str, bounds: Any) -> list[TaskDim]:
    """Parse one task-space entry; raises TaskError with the allowed forms on bad input."""
    forms = "[low, high], [low, high, n], [[low, high], ...] or a number (a fixed value)"
    if not isinstance(bounds, (list, tuple)) or not bounds:
        raise TaskError(f"task_space.{name}: expected {forms}, got {bounds!r}")
    if all(isinstance(b, (list, tuple)) for b in bounds):
        pairs = [tuple(b) for b in bounds]
        if any(len(p) != 2 for p in pairs):
            raise TaskError(f"task_space.{name}: every pair must be [low, high], got {bounds!r}")
        dims = [TaskDim(f"{name}_{i}", float(lo), float(hi), name, i) for i, (lo, hi) in enumerate(pairs)]
    elif len(bounds) == 2 and all(_is_number(b) for b in bounds):
        dims = [TaskDim(name, float(bounds[0]), float(bounds[1]), name, None)]
    elif len(bounds) == 3 and all(_is_number(b) for b in bounds) and float(bounds[2]).is_integer() \
            and bounds[2] >= 1:
        n = int(bounds[2])
        dims = [TaskDim(f"{name}_{i}", float(bounds[0]), float(bounds[1]), name, i) for i in range(n)]
    else:
        raise TaskError(f"task_space.{name}: expected {forms}, got {bounds!r}")
    for d in dims:
        if not (np.isfinite(d.low) and np.isfinite(d.high)) or d.low >= d.high:
            hint = f"; to fix it, write {d.param!r}: {d.low}" if d.low == d.high and d.index is None else ""
            raise TaskError(f"task_space.{name}: bounds must be finite with low < high, "
                            f"got [{d.low}, {d.high}] for {d.name}{hint}")
    return dims


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class TaskSpace:
    """An ordered list of bounded task dims."""

    def __init__(self, dims: Sequence[TaskDim], fixed: Mapping[str, float] | None = None):
        self.dims = tuple(dims)
        self.fixed = dict(fixed or {})  # parameters every task gets as they are
        self.names = [d.name for d in self.dims]
        self.low = np.array([d.low for d in self.dims], dtype=np.float64)
        self.high = np.array([d.high for d in self.dims], dtype=np.float64)
        self.params = list(dict.fromkeys(d.param for d in self.dims))

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "TaskSpace":
        if not spec:
            raise TaskError("task_space is empty: name at least one env parameter")
        fixed = {name: float(v) for name, v in spec.items() if _is_number(v)}
        for name, value in fixed.items():
            if not np.isfinite(value):
                raise TaskError(f"task_space.{name}: a fixed value must be finite, got {value}")
        dims = [d for name, bounds in spec.items() if name not in fixed for d in parse_bounds(name, bounds)]
        if not dims:
            raise TaskError("task_space fixes every parameter: give at least one [low, high] for the teacher")
        return cls(dims, fixed)

    @property
    def dim(self) -> int:
        return len(self.dims)

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        return (np.asarray(raw, dtype=np.float64) - self.low) / (self.high - self.low)

    def denormalise(self, unit: np.ndarray) -> np.ndarray:
        """Unit-cube point -> raw units; values are clipped into the bounds."""
        unit = np.clip(np.asarray(unit, dtype=np.float64), 0.0, 1.0)
        return self.low + unit * (self.high - self.low)

    def contains(self, raw: np.ndarray, tol: float = 1e-9) -> bool:
        raw = np.asarray(raw, dtype=np.float64)
        return raw.shape == (self.dim,) and bool(np.all(raw >= self.low - tol) and np.all(raw <= self.high + tol))

    def to_env_task(self, raw: np.ndarray) -> dict[str, Any]:
        """Flat raw vector -> the env's task dict (vector parameters become lists)."""
        task: dict[str, Any] = dict(self.fixed)
        for d, v in zip(self.dims, np.asarray(raw, dtype=np.float64).tolist()):
            if d.index is None:
                task[d.param] = v
            else:
                task.setdefault(d.param, []).append(v)
        return task

    def unit_gaussian(self, dist: Mapping[str, Sequence[float]], name: str) -> tuple[np.ndarray, np.ndarray]:
        """A raw-unit {'mean': [...], 'std': [...]} (one entry per dim) as (mean, std) in the unit cube."""
        if not isinstance(dist, Mapping) or set(dist) != {"mean", "std"}:
            raise TaskError(f"{name}: expected {{'mean': [...], 'std': [...]}}, got {dist!r}")
        mean, std = (np.asarray(dist[k], dtype=np.float64) for k in ("mean", "std"))
        for key, values in (("mean", mean), ("std", std)):
            if values.shape != (self.dim,) or not np.isfinite(values).all():
                raise TaskError(f"{name}.{key}: expected {self.dim} finite numbers (dims {self.names}), "
                                f"got {dist[key]!r}")
        if (std <= 0).any():
            raise TaskError(f"{name}.std: every std must be > 0, got {dist['std']!r}")
        if not self.contains(mean):
            raise TaskError(f"{name}.mean: {dist['mean']!r} lies outside the task space "
                            f"[{self.low.tolist()}, {self.high.tolist()}]")
        return self.normalise(mean), std / (self.high - self.low)

    def from_values(self, values: Mapping[str, float]) -> np.ndarray:
        """Dim-name -> value mapping (e.g. a test-set row or `-s` values) -> flat raw vector."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise TaskError(f"task is missing dims {missing}; the task space has {self.names}")
        return np.array([float(values[n]) for n in self.names], dtype=np.float64)


def env_task_from_columns(columns: Sequence[str], row: Sequence[float]) -> dict[str, Any]:
    """A test-set row -> env task dict. Columns `p_0, p_1, ...` group into the vector param `p`."""
    prefixes: dict[str, int] = {}
    for c in columns:
        head, _, tail = c.rpartition("_")
        if head and tail.isdigit():
            prefixes[head] = prefixes.get(head, 0) + 1
    task: dict[str, Any] = {}
    for c, v in zip(columns, row):
        head, _, tail = c.rpartition("_")
        if head and tail.isdigit() and prefixes.get(head, 0) > 1:
            task.setdefault(head, []).append(float(v))
        else:
            task[c] = float(v)
    return task
