"""The spec a replay validates: a session's resolved spec without what only training uses.

Enjoy and eval mode rebuild a session's policy from its resolved spec (`saved_policy.py`) and play it on the
bodies' envs, on their test sets or on tasks given with `-s`. They never ask a teacher for a task, and they
neither search nor run a campaign. So a replay must not fail on those parts: a user's teacher that this process
cannot import (a plugin module moved away, a class that a script registered only while it trained), a teacher
whose settings changed since, or a search or benchmark block, which validation expands into other specs.

Before validation, in a copy of the raw spec, every curriculum's teacher (the spec's, and each custom body's
override) becomes the lab's "Random" teacher without settings, and the `search` and `benchmark` blocks are
dropped. What a replay uses is kept as saved: agents, envs, bodies, and every curriculum's task space, test set
and success_return. An expert-knowledge level still resolves success_return, which it takes from the env,
the same for every teacher (`slm_acl.spec.expert_knowledge`).
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterator

from slm_acl.lib import logger as logging_lib
from slm_acl.spec.loader import read_resolved
from slm_acl.spec.validate import RunSpec, validate

REPLAY_TEACHER = "Random"  # a lab teacher with no required settings, which runs at every expert-knowledge level
TRAINING_ONLY_BLOCKS = ("search", "benchmark")


def for_replay(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of the resolved spec tree `raw` with its training-only parts replaced or dropped (see the module
    docstring), and a description of each part set aside (empty when there was none)."""
    out = copy.deepcopy(raw)
    set_aside = [f"the {key} block" for key in TRAINING_ONLY_BLOCKS if out.pop(key, None) is not None]
    replacement = {"name": REPLAY_TEACHER}
    for path, curriculum in _curricula(out):
        if "teacher" not in curriculum:
            continue  # an override that keeps the spec's teacher
        teacher = curriculum["teacher"]
        if teacher != replacement:
            name = teacher.get("name") if isinstance(teacher, dict) else None
            set_aside.append(f"{path}.teacher " + (repr(name) if name is not None else f"settings {teacher!r}"))
        curriculum["teacher"] = dict(replacement)
    return out, set_aside


def _curricula(raw: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The curriculum blocks of a spec tree, with their key paths: the spec's, then each custom body's."""
    if isinstance(raw.get("curriculum"), dict):
        yield "curriculum", raw["curriculum"]
    body = raw.get("body")
    bodies = body.get("bodies") if isinstance(body, dict) else None
    for i, custom in enumerate(bodies if isinstance(bodies, list) else []):
        if isinstance(custom, dict) and isinstance(custom.get("curriculum"), dict):
            yield f"body.bodies[{i}].curriculum", custom["curriculum"]


def load_for_replay(path: str | Path, mode: str) -> RunSpec:
    """The resolved spec at `path` (a run's `..._spec.json`), validated as a replay uses it; `mode` (enjoy,
    eval) names the logger that says, in one line, what was set aside.

    Raises:
        SpecError: `path` is not a resolved spec, or what the replay uses does not validate.
    """
    replay, set_aside = for_replay(read_resolved(path))
    if set_aside:
        logging_lib.get_logger(mode).info(f"{mode} replays the policy only: set aside {', '.join(set_aside)} "
                                          f"(teachers replaced by {REPLAY_TEACHER}, unused)")
    return validate(replay)
