"""Session checkpoints: everything a killed session needs to continue, in one atomic file.

A checkpoint holds the agents' state (nets, optimisers, memories where cheap, RNG), each body's
clock, curriculum controller (teacher state and the tasks its sub-envs were playing) and moving
averages, the process-wide RNG states, the session's best-policy record, and how many rows each table
had written. It is written to a temporary file and renamed into place, so the file on disk is always a
complete checkpoint; a session that hits a NaN never writes one, so the last good checkpoint stays.

A session keeps three kinds (file names in `RunPaths.checkpoint`): the last (`_ckpt.pt`, overwritten,
what a resume starts from), snapshots every `meta.snapshot_frequency` frames (`_ckpt_f{frame}.pt`) and
its best policy (`_ckpt_best.pt`, see `best_policy.py`). The last and the snapshots hold the complete
state, so a resume whose last checkpoint is damaged continues from a snapshot; the best holds each
algorithm's `policy_state_dict` (no replay buffer), since it is only replayed and evaluated. Eval and
enjoy modes take any of them.

Loading is safe and checked. Checkpoints hold only tensors, NumPy arrays and scalars and plain
containers (the process RNG states are a tuple of ints and a NumPy array), so they load with torch's
weights-only unpickler (`lib/io.load_torch`): a file holding any other object is refused before any
of it runs. The zip's CRCs are checked first, because torch reads tensor bytes without checking them:
a truncated or bit-flipped file is one `CheckpointError` naming it, never NaN weights.
"""
from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from typing import Any, Sequence

from slm_acl.experiment.paths import RunPaths
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.io import load_torch, save_torch
from slm_acl.lib.provenance import git_sha, package_versions

log = logging_lib.get_logger("checkpoint")

# 2: teachers hand out Proposal objects; in-flight ones are saved by the controller. The best-policy record ("best")
# came later as an optional key, read with a default, so format-2 files written before it still resume.
FORMAT_VERSION = 2
SNAPSHOT = re.compile(r"_ckpt_f(?P<frame>\d+)\.pt$")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: missing, damaged, refused as unsafe, or of another format."""


def save(path: Path, state: dict[str, Any]) -> None:
    save_torch(path, {"format": FORMAT_VERSION, "git_sha": git_sha(), "versions": package_versions(), **state})


def load(path: Path) -> dict[str, Any]:
    """The state saved at `path`; every way it can be unusable is one `CheckpointError` naming the file."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    _check_archive(path)
    try:
        state = load_torch(path)
    except pickle.UnpicklingError as err:
        if "Weights only load failed" not in str(err):
            raise CheckpointError(f"checkpoint {path} is damaged (truncated or corrupted): {err}") from err
        raise CheckpointError(
            f"refused to load checkpoint {path}: it holds objects other than tensors, NumPy arrays and plain "
            f"containers ({_refused(str(err))}). slm_acl never writes such objects, so the file was altered or not "
            "written by slm_acl; loading stopped at that object, before any of its code ran") from err
    except Exception as err:  # a damaged file must say so, not crash deep inside torch
        raise CheckpointError(f"checkpoint {path} is damaged (truncated or corrupted): "
                              f"{type(err).__name__}: {err}") from err
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        sha = state.get("git_sha") if isinstance(state, dict) else None
        raise CheckpointError(f"checkpoint {path} has format {found}, this version of slm_acl reads format "
                              f"{FORMAT_VERSION}" + (f"; it was written at git sha {sha}" if sha else ""))
    return state


def _refused(message: str) -> str:
    """What torch's weights-only unpickler refused, from its long message."""
    found = re.search(r"GLOBAL (\S+)", message)
    if found:
        return f"a reference to {found[1]}"
    detail = [line.strip() for line in message.partition("WeightsUnpickler error:")[2].splitlines() if line.strip()]
    return detail[0].split(". ")[0] if detail else "an object it does not allow"


def _check_archive(path: Path) -> None:
    """Every member of the checkpoint's zip reads back with its recorded CRC (torch itself checks none)."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise CheckpointError(f"checkpoint {path} is damaged (truncated or corrupted): not a complete torch "
                              f"archive ({err})") from err
    except Exception as err:  # zlib errors and the like, inside a damaged member
        raise CheckpointError(f"checkpoint {path} is damaged (truncated or corrupted): {type(err).__name__}: "
                              f"{err}") from err
    if bad is not None:
        raise CheckpointError(f"checkpoint {path} is damaged (corrupted): member {bad} fails its CRC check")


def snapshots(paths: RunPaths, trial: int, session: int) -> list[tuple[int, Path]]:
    """A session's snapshots as (frame, path), newest first."""
    stem = paths.prename(trial, session)
    found = []
    for path in paths.model("").glob(f"{stem}_ckpt_f*.pt"):
        match = SNAPSHOT.search(path.name)
        if match and path.name == f"{stem}_ckpt_f{match['frame']}.pt":
            found.append((int(match["frame"]), path))
    return sorted(found, reverse=True)


def load_newest_intact(paths: RunPaths, trial: int, session: int) -> tuple[Path, dict[str, Any]] | None:
    """What a resume starts from: the last checkpoint, else the newest snapshot that loads; None when the
    session has none (a fresh start).

    Raises:
        CheckpointError: the session has checkpoints but none loads; the message names each file and why.
    """
    last = paths.checkpoint(trial, session)
    candidates = ([last] if last.exists() else []) + [p for _, p in snapshots(paths, trial, session)]
    return first_intact(candidates)


def first_intact(candidates: Sequence[Path]) -> tuple[Path, dict[str, Any]] | None:
    """The first of `candidates` that loads, with its state (None for no candidates)."""
    failures = []
    for path in candidates:
        try:
            state = load(path)
        except CheckpointError as err:
            log.warning(f"{err}; trying the next checkpoint")
            failures.append(str(err))
            continue
        if failures:
            log.warning(f"using {path}, the newest checkpoint that loads")
        return path, state
    if failures:
        raise CheckpointError(f"no intact checkpoint among the {len(failures)} tried: " + "; ".join(failures))
    return None
