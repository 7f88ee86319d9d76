"""The env task protocol: how an env (the lab's own, or a user's) receives tasks from the lab.

This docstring is the protocol's one description; `slm_acl/env/vector.py` (the lab's vector envs),
`slm_acl/spec/env_fit.py` (the checks before a run) and `slm_acl/teaching/` (wrappers for other trainers)
follow it.

Task parameters. An env that takes tasks declares them in a `task_params` attribute of its unwrapped env
(a class attribute, as `slm_acl/env/param_pendulum.py` does): `{param: (low, high)}` for a scalar parameter,
`{param: (low, high, size)}` for a vector of `size` values. A spec's `curriculum.task_space` may only name
declared parameters, within their ranges, checked before the run starts; an env without `task_params`
cannot have a curriculum in a spec (slm_acl.teaching's wrappers trust it to take the task space's names). A
parameter the task space leaves out keeps the env's own default.

How a task arrives. Only through reset: `env.reset(seed=..., options={"task": {param: value}})`, the
values in raw units (a float, or a list of floats for a vector parameter), the parameters fixed by the task
space included. It applies to the episode that this reset starts. A body with a curriculum passes a task at
every reset, so an env need not remember one; a body without curriculum passes `options=None`. The lab never
calls `set_task` (the lab's envs have one for users' own loops: it applies at the next reset).
`validate_task` below checks a task against `task_params` with clear errors. The lab's vector envs never
autoreset: when an episode ends (terminated, or truncated, e.g. at `max_t`) the lab resets that sub-env with
its next task; `seed` is an int at a fresh start and None between episodes (keep the env's generator).

How success is judged (`slm_acl.curriculum.controller.episode_success`). When the env reports
`info["is_success"]` on an episode's last step (the Gymnasium / Stable-Baselines3 convention), the episode
succeeded iff `bool(info["is_success"])`; otherwise iff its return exceeds the curriculum's `success_return`
(no success without one). The same rule gives what the teacher is told, the `success` column of session_df,
and a test task's "mastered" in evaluations (and enjoy's).

Rendering. Training and evaluation build the env without a `render_mode` keyword (its `__init__` need not
take one). Enjoy mode builds it with `render_mode="rgb_array"` (through `gym.make`) and calls `render()`
before every step of the episodes it films, expecting an (H, W, 3) uint8 frame; an env whose
`metadata["render_modes"]` lacks "rgb_array", or whose `render()` raises NotImplementedError, is replayed
without a video.
"""
from __future__ import annotations

from typing import Any, Mapping

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


def reported_success(info: Mapping[str, Any]) -> bool | None:
    """The env's own verdict on an episode, `info["is_success"]` of its last step (None: the env gives none)."""
    value = info.get("is_success")
    return None if value is None else bool(value)
