"""The graphs one session draws when it ends: per body, its learning curves and its curriculum.

Drawn by the session itself, in its worker process, so a trial of many sessions does not draw them
one after another at the end. The analysis gets plain file paths (`BodyFiles`), not the run folder's
layout, so it depends on no part of experiment/ and works as well on a folder copied from a cluster.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from slm_acl.analysis import graphs
from slm_acl.analysis.curriculum_graphs import curriculum_graphs
from slm_acl.analysis.files import BodyFiles
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.spec.validate import BodyPlan


def session_graphs(bodies: Sequence[tuple[BodyPlan, BodyFiles]]) -> list[Path]:
    """Per body of one session: the session graph, and the curriculum graph (PNG + GIF) of a taught body.

    Returns:
        The graph files written (a graph with no data to draw is not written).
    """
    written: list[Path] = []
    for plan, files in bodies:
        drawn = graphs.session_graph(files.session_df, files.eval_df, files.graph("session_graph.png"), files.title,
                                     files.resets_df)
        written += [drawn] if drawn is not None else []
        if plan.curriculum is not None:
            space = TaskSpace.from_spec(plan.curriculum.task_space)
            written += curriculum_graphs(files.session_df, files.curriculum_df, files.teacher_df, space.low,
                                         space.high, files.graph("curriculum.png"), files.graph("curriculum.gif"),
                                         f"{files.title} ({plan.curriculum.teacher.name})",
                                         shuffled=plan.curriculum.shuffle_dimensions)
    return written
