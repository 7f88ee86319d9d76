"""Resolved specs: the spec a run, a trial or a session ran, with what the lab records about it.

`{spec}_spec.json`, `{spec}_t{i}_spec.json` and `{spec}_t{i}_s{j}_spec.json` are all written here,
so every mode (train, dev, search, and the benchmark to come) records the same keys under `info`:
git sha, package versions, run folder, trial and session, the session's seed, and whatever the
session adds once its AEB space is built (`fast_path`). Body files are named by the copies the run folder
keeps (`run_bodies.py`), so a resolved spec replays the same bodies from anywhere.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.run_bodies import keep_bodies
from slm_acl.lib.io import write_json
from slm_acl.lib.provenance import git_sha, package_versions
from slm_acl.lib.seeding import session_seed
from slm_acl.spec.validate import RunSpec, expert_knowledge_record


def resolved_raw(run: RunSpec, paths: RunPaths, trial: int | None = None, session: int | None = None,
                 seed_trial: int | None = None, info: Mapping[str, Any] | None = None) -> dict:
    """The JSON of `run` with `info` filled in. `seed_trial`: the trial index a session's seeds derive
    from (default `trial`; a search gives every trial the seeds of trial 0)."""
    raw = keep_bodies(copy.deepcopy(run.raw), paths)  # body files named by the run folder's copies
    recorded = raw.setdefault("info", {})
    recorded.update({"git_sha": git_sha(), "versions": package_versions(), "predir": str(paths.predir),
                     "trial": trial, "session": session})
    if trial is not None and session is not None:
        recorded["random_seed"] = session_seed(run.spec.meta.seed, trial if seed_trial is None else seed_trial,
                                               session)
    levels = expert_knowledge_record(run)
    if levels:  # what each body's expert-knowledge level resolved to (the tree keeps the level itself)
        recorded["expert_knowledge"] = levels
    recorded.update(info or {})
    return raw


def write_resolved_spec(run: RunSpec, paths: RunPaths, trial: int | None = None, session: int | None = None,
                        seed_trial: int | None = None, info: Mapping[str, Any] | None = None) -> Path:
    """Write (atomically) the resolved spec of the run, one of its trials or one of its sessions."""
    path = paths.spec_file(trial, session)
    write_json(path, resolved_raw(run, paths, trial, session, seed_trial, info))
    return path
