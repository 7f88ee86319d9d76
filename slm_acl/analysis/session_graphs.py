"""The graphs one session draws when it ends: per body, its learning curves and its curriculum.

Drawn by the session itself, in its worker process, so a trial of many sessions does not draw them
one after another at the end. The analysis gets plain file paths (`BodyFiles`), not the run folder's
layout, so it depends on no part of experiment/ and works as well on a folder copied from a cluster.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

from slm_acl.analysis import graphs
from slm_acl.analysis.curriculum_graphs import curriculum_graphs
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.spec.validate import BodyPlan


@dataclasses.dataclass(frozen=True)
class BodyFiles:
    """One body of one session: the tables it wrote and where its graphs go."""

    title: str  # e.g. "t_t0_s0 a0_e0_b0"
    session_df: Path
    eval_df: Path
    curriculum_df: Path
    teacher_df: Path
    graph_stem: Path  # graphs are `{graph_stem}_session_graph.png`, `{graph_stem}_curriculum.png|.gif`

    def graph(self, suffix: str) -> Path:
        return self.graph_stem.with_name(f"{self.graph_stem.name}_{suffix}")


def session_graphs(bodies: Sequence[tuple[BodyPlan, BodyFiles]]) -> None:
    """Per body of one session: the session graph, and the curriculum graph (PNG + GIF) of a taught body."""
    for plan, files in bodies:
        graphs.session_graph(files.session_df, files.eval_df, files.graph("session_graph.png"), files.title)
        if plan.curriculum is not None:
            space = TaskSpace.from_spec(plan.curriculum.task_space)
            curriculum_graphs(files.session_df, files.curriculum_df, files.teacher_df, space.low, space.high,
                              files.graph("curriculum.png"), files.graph("curriculum.gif"),
                              f"{files.title} ({plan.curriculum.teacher.name})",
                              shuffled=plan.curriculum.shuffle_dimensions)
