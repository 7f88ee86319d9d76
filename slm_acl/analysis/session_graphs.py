"""The graphs one session draws when it ends: per body, its learning curves and its curriculum.

Drawn by the session itself, in its worker process, so a trial of many sessions does not draw them
one after another at the end.
"""
from __future__ import annotations

from slm_acl.analysis import graphs
from slm_acl.analysis.curriculum_graphs import curriculum_graphs
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.experiment.paths import RunPaths
from slm_acl.spec.validate import RunSpec


def session_graphs(run: RunSpec, paths: RunPaths, trial: int, session: int) -> None:
    """Per body of one session: the session graph, and the curriculum graph (PNG + GIF) of a taught body."""
    for plan in run.bodies:
        label, prename = plan.label, f"{paths.prename(trial, session)}_{plan.label}"
        graphs.session_graph(paths.table(trial, session, label, "session_df"),
                             paths.table(trial, session, label, "eval_df"),
                             paths.graph(f"{prename}_session_graph.png"), f"{paths.prename(trial, session)} {label}")
        if plan.curriculum is not None:
            space = TaskSpace.from_spec(plan.curriculum.task_space)
            curriculum_graphs(paths.table(trial, session, label, "session_df"),
                              paths.table(trial, session, label, "curriculum_df"),
                              paths.table(trial, session, label, "teacher_df"), space.low, space.high,
                              paths.graph(f"{prename}_curriculum.png"), paths.graph(f"{prename}_curriculum.gif"),
                              f"{paths.prename(trial, session)} {label} ({plan.curriculum.teacher.name})",
                              shuffled=plan.curriculum.shuffle_dimensions)
