"""Session checkpoints: everything a killed session needs to continue, in one atomic file.

A checkpoint holds the agents' state (nets, optimisers, memories where cheap, RNG), each body's
clock, curriculum controller (teacher state and the tasks its sub-envs were playing) and moving
averages, the process-wide RNG states, and how many rows each table had written. It is written to
a temporary file and renamed into place, so the file on disk is always a complete checkpoint; a
session that hits a NaN never writes one, so the last good checkpoint stays.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from slm_acl.lib.io import load_torch, save_torch
from slm_acl.lib.provenance import git_sha, package_versions

FORMAT_VERSION = 2  # 2: teachers hand out Proposal objects; in-flight ones are saved by the controller


class CheckpointError(RuntimeError):
    pass


def save(path: Path, state: dict[str, Any]) -> None:
    save_torch(path, {"format": FORMAT_VERSION, "git_sha": git_sha(), "versions": package_versions(), **state})


def load(path: Path) -> dict[str, Any]:
    try:
        state = load_torch(path)
    except Exception as err:  # a damaged file must say so, not crash deep inside torch
        raise CheckpointError(f"cannot read checkpoint {path}: {err}") from err
    if state.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {path} has format {state.get('format')}, "
                              f"this version of slm_acl reads format {FORMAT_VERSION}")
    return state
