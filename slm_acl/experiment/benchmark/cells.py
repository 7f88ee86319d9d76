"""A campaign's cells as runs: each cell validated on its own, numbered as a trial of the run folder.

Cell k's sessions are the run folder's trial k (`{spec}_t{k}_s{seed}_...`); every cell's sessions take
the seeds of trial 0, so cells differ only by their settings (as a search's trials do). A cell whose
settings do not go together is kept with the reason instead of a RunSpec. Each runnable cell is also
written as a spec file of its own, `cells/{cell name}.json`, that `run_lab.py ... train` runs alone.
"""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

from slm_acl.experiment.paths import RunPaths
from slm_acl.lib.io import write_json
from slm_acl.spec.benchmark import AXES, Cell, expand
from slm_acl.spec.errors import SpecError
from slm_acl.spec.validate import RunSpec, validate

SEED_TRIAL = 0  # every cell's sessions take trial 0's seeds


@dataclasses.dataclass(frozen=True)
class CellRun:
    """A cell and its validated spec, or why it cannot run."""

    cell: Cell
    run: RunSpec | None
    error: str = ""

    @property
    def index(self) -> int:
        return self.cell.index

    @property
    def axes(self) -> dict[str, str]:
        return self.cell.axes


def cell_runs(campaign: RunSpec) -> list[CellRun]:
    """Every cell of the campaign, validated (the spec's own name, so every cell writes into one folder)."""
    out = []
    for cell in expand(campaign.raw, campaign.spec.benchmark):
        raw = copy.deepcopy(cell.raw)
        raw.setdefault("info", {})["benchmark_cell"] = {"index": cell.index, **cell.axes}
        try:
            out.append(CellRun(cell, validate(raw)))
        except SpecError as err:
            out.append(CellRun(cell, None, str(err)))
    return out


def cell_spec_file(paths: RunPaths, cell: Cell) -> Path:
    return paths.predir / "cells" / f"{cell.name}.json"


def write_cell_specs(paths: RunPaths, cells: list[CellRun], seeds: int) -> None:
    """`cells/{name}.json` for every runnable cell: `run_lab.py cells/NAME.json NAME train` runs it alone,
    with the campaign's seeds (train mode's trial 0 is the seed trial of every cell)."""
    for c in cells:
        if c.run is None:
            continue
        raw = copy.deepcopy(c.run.raw)
        raw.pop("name", None)
        raw["meta"] = {**raw.get("meta", {}), "max_session": seeds}
        write_json(cell_spec_file(paths, c.cell), {c.cell.name: raw})


def describe(cell: CellRun) -> str:
    return ", ".join(f"{a} {cell.axes[a]}" for a in AXES)
