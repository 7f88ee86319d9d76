"""The spec's `benchmark` block: a campaign of cells, each the spec it sits in with some settings changed.

    "benchmark": {
      "seeds": 16,
      "teacher": {"Random": {"name": "Random"}, "ALP-GMM": {"name": "ALP-GMM", "fit_rate": 150}},
      "criterion": {"standard": {},
                    "mostly_unfeasible": {"curriculum": {"task_space": {"stump_height": [0.0, 9.0]}}},
                    "variety_of_students": {"students": {"spider_sac": {...}, "spider_ppo": {...}}}},
      "expert_knowledge": ["no", "low", "high"],
      "student": {"sac": {}}
    }

Every axis is optional; a cell is one value of each (the grid's product) and runs `seeds` sessions.
A cell's spec is built from the spec the block sits in (without the block), in this order:
1. the criterion's patch, then the student's patch: patches merge into the spec, objects key by key,
   lists of objects item by item (as the search block lines up with the spec's lists); any other
   value replaces the spec's (a task-space range, a list of layer widths). A key `NAME__replace`
   replaces the spec's `NAME` as a whole instead (e.g. `"bodies__replace": [...]` keeps one body);
2. the teacher: `curriculum.teacher` becomes the axis entry (a teacher's settings never mix with
   another teacher's); bodies whose own curriculum names a teacher keep theirs;
3. the expert-knowledge level: `curriculum.expert_knowledge`.
A criterion may carry its own students (`"students": {name: patch}`): its cells take those instead
of the campaign's student axis; this is how TeachMyAgent's "variety of students" (spider and
small_bipedal, each with SAC and PPO) is one criterion.

The block's structure, every teacher's settings and every patch are checked when the spec loads
(a patch must give a valid spec on its own), so a typo fails before a run. A cell whose settings do
not go together (ADR without expert knowledge) is not an error: the benchmark records it with the
reason and runs the others.
"""
from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any, Callable, Mapping

from slm_acl.lib.config import param
from slm_acl.spec.errors import SpecError

REPLACE = "__replace"
STUDENTS = "students"  # a criterion's own student axis
AXES = ("teacher", "criterion", "expert_knowledge", "student")
DEFAULT = "spec"  # an axis the block leaves out: the spec's own setting


@dataclasses.dataclass(frozen=True)
class BenchmarkSpec:
    seeds: int = param(doc="sessions (seeds) per cell", ge=1)
    teacher: dict[str, dict[str, Any]] | None = param(
        None, doc="named teachers, each {'name': registered teacher, its settings}; null: the spec's own")
    criterion: dict[str, dict[str, Any]] | None = param(
        None, doc="named spec patches (a criterion may list its own 'students'); null: the spec as it is")
    expert_knowledge: list[str] | None = param(
        None, doc="expert-knowledge levels of curriculum.expert_knowledge; null: the spec's own")
    student: dict[str, dict[str, Any]] | None = param(
        None, doc="named spec patches choosing the student or bodies; null: the spec's own")


@dataclasses.dataclass(frozen=True)
class Cell:
    """One point of the campaign's grid: its axis values and its spec (raw, not yet validated)."""

    index: int
    axes: dict[str, str]  # teacher, criterion, expert_knowledge, student
    raw: dict[str, Any]

    @property
    def name(self) -> str:
        """A file-safe name, e.g. `ALP-GMM__standard__low__sac`."""
        return "__".join(re.sub(r"[^A-Za-z0-9_.-]+", "-", self.axes[a]) for a in AXES)


def merge(spec: Any, patch: Any, path: str = "") -> Any:
    """`patch` merged into `spec` (copies): objects key by key, lists of objects item by item, anything
    else replaced; `key__replace` replaces `key` whole."""
    if isinstance(patch, dict) and isinstance(spec, dict):
        out = copy.deepcopy(spec)
        for key, value in patch.items():
            if isinstance(key, str) and key.endswith(REPLACE):
                out[key[:-len(REPLACE)]] = copy.deepcopy(value)
            else:
                out[key] = merge(spec.get(key), value, f"{path}.{key}" if path else key)
        return out
    if isinstance(patch, list) and isinstance(spec, list) and patch and all(isinstance(p, dict) for p in patch):
        if len(patch) > len(spec):
            raise SpecError(path, f"the patch lists {len(patch)} entries, the spec only {len(spec)}; use "
                            f"'{path.rsplit('.', 1)[-1]}{REPLACE}' to replace the list")
        return [merge(s, p, f"{path}[{i}]") if i < len(patch) else copy.deepcopy(s)
                for i, (s, p) in enumerate(zip(spec, patch + [None] * (len(spec) - len(patch))))]
    return copy.deepcopy(patch)


def _named(block: Mapping[str, Any] | None, path: str) -> dict[str, Any]:
    if block is None:
        return {DEFAULT: None}
    if not block:
        raise SpecError(path, "give at least one entry, or leave the axis out to keep the spec's own")
    return dict(block)


def expand(raw: Mapping[str, Any], block: BenchmarkSpec) -> list[Cell]:
    """The campaign's cells, in a fixed order (teacher, criterion, expert knowledge, student)."""
    base = {k: copy.deepcopy(v) for k, v in raw.items() if k != "benchmark"}
    teachers = _named(block.teacher, "benchmark.teacher")
    criteria = _named(block.criterion, "benchmark.criterion")
    levels = {DEFAULT: None} if block.expert_knowledge is None else {lv: lv for lv in block.expert_knowledge}
    students = _named(block.student, "benchmark.student")
    cells: list[Cell] = []
    for teacher_name, teacher in teachers.items():
        for criterion_name, criterion in criteria.items():
            patch = {k: v for k, v in (criterion or {}).items() if k != STUDENTS}
            own_students = (criterion or {}).get(STUDENTS)
            for level_name, level in levels.items():
                for student_name, student in (own_students or students).items():
                    spec = merge(merge(base, patch, "benchmark.criterion"), student or {}, "benchmark.student")
                    if teacher is not None:
                        spec.setdefault("curriculum", {})["teacher"] = copy.deepcopy(teacher)
                    if level is not None:
                        spec.setdefault("curriculum", {})["expert_knowledge"] = level
                    axes = {"teacher": teacher_name, "criterion": criterion_name, "expert_knowledge": level_name,
                            "student": student_name}
                    cells.append(Cell(len(cells), axes, spec))
    return cells


def check(raw: Mapping[str, Any], block: BenchmarkSpec, validate: Callable[[dict], Any],
          teacher_choice: Callable[[str, dict], Any]) -> None:
    """Structure, teachers and patches of the block, before any run: each teacher's settings as a spec's
    teacher, each patch applied alone to the spec, each level as `curriculum.expert_knowledge`."""
    base = {k: copy.deepcopy(v) for k, v in raw.items() if k != "benchmark"}
    for axis in ("teacher", "criterion", "student"):
        _named(getattr(block, axis), f"benchmark.{axis}")
    if block.expert_knowledge is not None and not block.expert_knowledge:
        raise SpecError("benchmark.expert_knowledge", "give at least one level, or leave the axis out")
    for name, teacher in (block.teacher or {}).items():
        path = f"benchmark.teacher.{name}"
        if not isinstance(teacher, dict) or "name" not in teacher:
            raise SpecError(path, "expected {'name': a registered teacher, its settings...}")
        try:
            teacher_choice(teacher["name"], {k: v for k, v in teacher.items() if k != "name"})
        except SpecError as err:
            if err.message.startswith("missing required key"):
                continue  # a setting an expert-knowledge level may give (ADR's thresholds): the cells decide
            raise SpecError(path + err.path.removeprefix("curriculum.teacher"), err.message) from None
    patches = [(f"benchmark.criterion.{n}", {k: v for k, v in (c or {}).items() if k != STUDENTS})
               for n, c in (block.criterion or {}).items()]
    patches += [(f"benchmark.student.{n}", s) for n, s in (block.student or {}).items()]
    for name, criterion in (block.criterion or {}).items():
        own = (criterion or {}).get(STUDENTS)
        if own is not None and (not isinstance(own, dict) or not own):
            raise SpecError(f"benchmark.criterion.{name}.{STUDENTS}", "expected {student name: spec patch, ...}")
        patches += [(f"benchmark.criterion.{name}.{STUDENTS}.{n}", s) for n, s in (own or {}).items()]
    for path, patch in patches:
        if not isinstance(patch, dict):
            raise SpecError(path, f"expected a spec patch (an object mirroring the spec), got {patch!r}")
        try:
            validate(merge(base, patch, path))
        except SpecError as err:
            raise SpecError(err.path, f"{err.message} (in the patch {path})") from None
    for level in block.expert_knowledge or []:
        try:
            validate(merge(base, {"curriculum": {"expert_knowledge": level}}))
        except SpecError as err:
            if err.path.endswith("expert_knowledge") and "allowed values" in err.message:
                raise SpecError("benchmark.expert_knowledge", err.message) from None
            # any other refusal (a teacher that cannot run at this level) is a cell's, recorded at run time
