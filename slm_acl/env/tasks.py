"""The lab's env protocol for tasks: `task_params` declares each parameter's valid range, and a task
dict is checked against it before an episode uses it (a clear error instead of odd physics)."""
from __future__ import annotations

from typing import Any

import numpy as np


def validate_task(task: Any, task_params: dict[str, tuple], env_name: str) -> dict[str, Any]:
    """Check a task dict against an env's parameter ranges: the error names the bad key and the valid ones.

    A scalar parameter is declared (low, high); a vector one (low, high, size).
    """
    if not isinstance(task, dict):
        raise ValueError(f"{env_name}: a task must be a dict with keys among {sorted(task_params)}, got {task!r}")
    out: dict[str, Any] = {}
    for key, value in task.items():
        if key not in task_params:
            raise ValueError(f"{env_name}: unknown task parameter {key!r}; valid: {sorted(task_params)}")
        low, high, *size = task_params[key]
        values = np.array([np.nan]) if isinstance(value, (str, bool)) else np.asarray(value, dtype=float)
        expected = (size[0],) if size else ()
        if values.shape != expected:
            what = f"a list of {size[0]} numbers" if size else "a number"
            raise ValueError(f"{env_name}: task parameter {key!r} must be {what}, got {value!r}")
        if not np.isfinite(values).all():
            raise ValueError(f"{env_name}: task parameter {key!r} must be finite, got {value!r}")
        if (values < low).any() or (values > high).any():
            raise ValueError(f"{env_name}: task parameter {key!r}={value!r} is outside [{low}, {high}]")
        out[key] = values.tolist() if size else float(values)
    return out
