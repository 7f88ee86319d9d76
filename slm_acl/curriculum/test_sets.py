"""Fixed test sets: the tasks every evaluation runs, identical across runs and teachers.

The shipped sets (TeachMyAgent's and teachDeepRL's) live as JSON next to this module. Sets can
also be generated (a grid, or uniform draws with a fixed seed); a generated set records how it was
made.
"""
from __future__ import annotations

import dataclasses
import json
from importlib import resources
from typing import Any

import numpy as np

from slm_acl.curriculum.task_space import TaskSpace, env_task_from_columns


@dataclasses.dataclass(frozen=True)
class TestSet:
    name: str
    columns: tuple[str, ...]
    tasks: np.ndarray  # (n, len(columns)) raw units
    note: str = ""

    __test__ = False  # not a pytest class

    def __len__(self) -> int:
        return len(self.tasks)

    def env_task(self, index: int) -> dict[str, Any]:
        return env_task_from_columns(self.columns, self.tasks[index])


def shipped_names() -> list[str]:
    folder = resources.files("slm_acl.curriculum") / "test_sets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_shipped(name: str) -> TestSet:
    path = resources.files("slm_acl.curriculum") / "test_sets" / f"{name}.json"
    data = json.loads(path.read_text())
    return TestSet(data["name"], tuple(data["columns"]), np.asarray(data["tasks"], dtype=np.float64),
                   data.get("note", ""))


def uniform(task_space: TaskSpace, n: int, seed: int = 31) -> TestSet:
    """n tasks uniform over the task space from a fixed seed (TeachMyAgent's default uses 31)."""
    rng = np.random.default_rng(seed)
    tasks = rng.uniform(task_space.low, task_space.high, size=(n, task_space.dim))
    fixed = list(task_space.fixed.items())
    if fixed:  # fixed parameters are columns too, so every test task is the full env task
        tasks = np.hstack([tasks, np.tile([v for _, v in fixed], (n, 1))])
    return TestSet(f"uniform_{n}_seed{seed}", tuple(task_space.names) + tuple(k for k, _ in fixed), tasks,
                   f"generated: {n} tasks uniform over the task space, numpy default_rng({seed})")
