"""A run keeps the body files its specs name, so its bodies travel with it.

A spec may name a body by a path to its JSON file. A run folder that only recorded the path would depend on
that file for ever: replay from another directory, or after the file moved, would fail or, worse, replay an
edited body. So every resolved spec the run writes names a copy in the run folder instead,
`RUN_DIR/bodies/NAME.json`, by its path relative to the run folder; the loader reads such a path against the
folder of the resolved spec (`spec.body_files`), so resume, enjoy, eval and retro find the same body wherever
they run. A copy is made once and never overwritten: a body file edited during a run is kept beside the
first as `NAME_<hash>.json`, and each resolved spec names the copy of what it ran.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from slm_acl.experiment.paths import RunPaths
from slm_acl.lib.io import atomic_write
from slm_acl.spec.body_files import map_body_files


def keep_bodies(raw: Any, paths: RunPaths) -> Any:
    """`raw` with every body file copied into the run folder (if not there yet) and named relative to it.

    Raises:
        FileNotFoundError: a body file the spec names is gone (no copy of it can be kept).
    """
    return map_body_files(raw, lambda path: _keep(Path(path), paths))


def _keep(source: Path, paths: RunPaths) -> str:
    source = source.resolve()
    if not source.is_file():
        raise FileNotFoundError(f"body file {str(source)!r} does not exist, so run {paths.predir} cannot keep a "
                                "copy of it")
    text = source.read_text()
    target = paths.body(source.name)
    if target.resolve() != source:  # a resumed run names its own copy
        if target.exists() and target.read_text() != text:
            digest = hashlib.sha256(text.encode()).hexdigest()[:8]
            target = paths.body(f"{source.stem}_{digest}{source.suffix}")
        if not target.exists():
            atomic_write(target, lambda f: f.write(text))
    return target.relative_to(paths.predir).as_posix()
