"""Search trials numbered 0, 1, 2 ... in the order they start, stable across a kill and a resume."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from slm_acl.lib.io import read_json, write_json


class TrialIndex:
    """Numbers the trials 0, 1, 2 ... in the order they start: `{predir}/info/trials/t{k}.json` = (trial id, values).

    Tune's trial ids are opaque (counters for random search, uuids for Optuna) and, after a kill, an id
    can come back with other values when Tune had not saved that trial yet. A trial keeps its index only
    when both its id and its values match a claim, so sessions never resume from another config's
    checkpoints; an index is claimed by creating its file exclusively (a hard link), safe between
    concurrent trials and on shared file systems.
    """

    def __init__(self, predir: Path):
        self.folder = predir / "info" / "trials"

    def claims(self) -> dict[int, dict[str, Any]]:
        out = {}
        for f in self.folder.glob("t*.json"):
            if f.stem[1:].isdigit():
                try:
                    out[int(f.stem[1:])] = read_json(f)
                except (OSError, ValueError):
                    continue
        return out

    def find(self, trial_id: str, values: dict[str, Any]) -> int | None:
        wanted = {"trial_id": trial_id, "values": jsonable(values)}
        return next((k for k, c in sorted(self.claims().items()) if c == wanted), None)

    def claim(self, trial_id: str, values: dict[str, Any]) -> int:
        found = self.find(trial_id, values)
        if found is not None:
            return found
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".claim_{os.getpid()}_{threading.get_ident()}.json"
        write_json(tmp, {"trial_id": trial_id, "values": jsonable(values)})
        try:
            k = 0
            while True:
                try:
                    os.link(tmp, self.folder / f"t{k}.json")
                    return k
                except FileExistsError:
                    k += 1
        finally:
            tmp.unlink(missing_ok=True)


def jsonable(config: dict[str, Any]) -> Any:
    """A Tune config as plain JSON (numpy scalars as numbers), so claims compare after a round trip to disk."""
    return json.loads(json.dumps(config, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
