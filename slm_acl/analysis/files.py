"""Where one body of one session keeps its tables and graphs, as plain paths.

The analysis reads tables and writes graphs from these paths alone (no run-folder layout, no
experiment code), and this module imports nothing heavy: the run folder's layout (`RunPaths`) builds
them, and it is pickled into every session job.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class BodyFiles:
    """One body of one session: the tables it wrote and where its graphs go."""

    title: str  # e.g. "t_t0_s0 a0_e0_b0"
    session_df: Path
    eval_df: Path
    curriculum_df: Path
    teacher_df: Path
    graph_stem: Path  # graphs are `{graph_stem}_session_graph.png`, `{graph_stem}_curriculum.png|.gif`
    resets_df: Path | None = None  # the agent's student resets (written only when agent[].reset_frequency is set)

    def graph(self, suffix: str) -> Path:
        return self.graph_stem.with_name(f"{self.graph_stem.name}_{suffix}")
