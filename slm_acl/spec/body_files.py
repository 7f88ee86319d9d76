"""Body files a spec names: where they are in the spec tree, and what a relative path means.

A spec gives an embodiment under the key `embodiment` (`body.embodiment`, `body.bodies[i].embodiment`, and
the same keys inside a benchmark patch such as `bodies__replace`), or as searched values under
`embodiment__<kind>` in a search block. A value ending in `.json` there is a body file. `map_body_files`
visits exactly those values, so the loader (which anchors relative paths), the run folder (which keeps a
copy of every body file) and resume (which compares bodies, not paths) agree on what a body file is.

A relative body path is relative to the folder of the file that names it, never to the directory the lab
happens to run in: a spec file's path and a run folder's copy then work from anywhere.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from slm_acl.env.bodies import is_body_path, load_body

KEY = "embodiment"


def map_body_files(raw: Any, fn: Callable[[str], Any]) -> Any:
    """A copy of the spec tree `raw` with every body file path `p` under an embodiment key replaced by `fn(p)`."""
    def values(node: Any) -> Any:
        if isinstance(node, list):
            return [values(v) for v in node]
        return fn(node) if is_body_path(node) else walk(node)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: values(v) if _is_embodiment_key(k) else walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(raw)


def anchor_body_files(raw: Any, folder: str | Path) -> Any:
    """`raw` with its relative body paths made absolute against `folder` (the folder of the spec file).

    A path that starts with a `${var}` placeholder is left as it is: the `-s` value supplies its start, and
    a path typed on the command line means what it means in the current directory."""
    folder = Path(folder)

    def anchored(path: str) -> str:
        if path.startswith("${") or Path(path).is_absolute():
            return path
        return str((folder / path).resolve())

    return map_body_files(raw, anchored)


def inline_bodies(raw: Any) -> Any:
    """`raw` with each body file replaced by the body it holds (its JSON object), to compare two specs by the
    bodies they run rather than by where the files are. A path that does not load is kept as it is."""
    def body(path: str) -> Any:
        try:
            return load_body(path).to_dict()
        except ValueError:
            return path

    return map_body_files(raw, body)


def _is_embodiment_key(key: Any) -> bool:
    return isinstance(key, str) and (key == KEY or key.startswith(KEY + "__"))
