"""Loading a spec: the one path from a spec file (or a saved resolved spec) to a validated `RunSpec`.

`load_spec(spec_file, spec_name, sets, dev=...)` serves every mode that starts from a spec file: read the
file, pick the named spec, fill its `${var}` placeholders from `-s`, apply dev mode's caps when asked, and
`validate`. `load_resolved(path)` reads back the resolved spec a run saved (resume, enjoy, retro) and
validates it the same way (its body files are the run folder's copies, named relative to the run folder).
Nothing here writes a file: a bad spec stops before any run folder exists.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from slm_acl.lib.registry import did_you_mean
from slm_acl.spec.body_files import anchor_body_files
from slm_acl.spec.errors import SpecError
from slm_acl.spec.run_spec import RunSpec
from slm_acl.spec.validate import validate

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")
DEV_MAX_SESSION = 1
DEV_MAX_FRAME = 20_000  # dev mode: one short session that still reaches a training step and an evaluation


def load_spec(spec_file: str | Path, spec_name: str, sets: Mapping[str, str] | None = None, *,
              dev: bool = False, imports: Sequence[str] = ()) -> RunSpec:
    """The spec `spec_name` of `spec_file`, with `sets` filled in, validated. Relative body file paths resolve
    against the spec file's folder, not the current directory (`spec.body_files`).

    Args:
        spec_file: a JSON file of named specs.
        spec_name: the spec to run.
        sets: `${var}` values from `-s var=value`; every placeholder must be filled and every value used.
        dev: apply `dev_caps` (one session, at most DEV_MAX_FRAME frames per env) before validating, so the
            resolved spec a dev run saves shows what actually ran.
        imports: plugin modules given on the command line (`--import`), added to `meta.plugins`.

    Raises:
        SpecError: naming the key path and the valid choices, for anything a spec gets wrong.
    """
    picked = pick(read_spec_file(spec_file), spec_name, spec_file)
    raw = substitute(anchor_body_files(picked, Path(spec_file).resolve().parent), sets or {})
    raw = anchor_plugins(raw, Path(spec_file).resolve().parent, imports)
    return validate(dev_caps(raw) if dev else raw)


def anchor_plugins(raw: dict[str, Any], folder: Path, imports: Sequence[str] = ()) -> dict[str, Any]:
    """`meta.plugin_paths` made absolute against the spec file's `folder`, with that folder and the current
    directory added, and `imports` added to `meta.plugins`: so every process of the run, whatever its working
    directory, finds the same modules, and the resolved spec records where they came from (`lib/plugins.py`).
    A spec with no plugins at all is left as it is."""
    meta = raw.get("meta") if isinstance(raw.get("meta"), dict) else {}
    given_paths, given_modules = meta.get("plugin_paths", []), meta.get("plugins", [])
    if not isinstance(given_paths, list) or not isinstance(given_modules, list):
        return raw  # validate names the bad key
    modules = list(dict.fromkeys([*given_modules, *imports]))
    if not modules and not given_paths and not _references_a_module(raw):
        return raw
    paths = [str((folder / p).resolve()) if isinstance(p, str) else p for p in given_paths]
    paths = list(dict.fromkeys([*paths, str(folder), str(Path.cwd().resolve())]))
    return {**raw, "meta": {**meta, "plugins": modules, "plugin_paths": paths}}


def _references_a_module(tree: Any) -> bool:
    """Whether a component anywhere in the spec is named by module path (`"name": "pkg.module:Name"`)."""
    if isinstance(tree, dict):
        return any((k in ("name", "type") and isinstance(v, str) and ":" in v) or _references_a_module(v)
                   for k, v in tree.items())
    if isinstance(tree, list):
        return any(_references_a_module(v) for v in tree)
    return False


def load_resolved(path: str | Path) -> RunSpec:
    """A resolved spec saved by a run (`{spec}_spec.json`, `{spec}_t0_s0_spec.json`), validated again.

    Its `info` block (git sha, versions, paths recorded by the run that wrote it) is commentary, not part of
    the run, and is dropped: a run started from it records its own.
    """
    return validate(read_resolved(path))


def read_resolved(path: str | Path) -> dict[str, Any]:
    """The tree of a resolved spec saved by a run, not validated: without its `info` block, its body files
    named by absolute path (the run folder's copies). `load_resolved` validates it; a replay first sets aside
    what it does not use (`experiment/replay_spec.py`)."""
    path = Path(path)
    raw = _read_json(path)
    if not is_resolved(raw):
        raise SpecError("", f"{path} is not a resolved spec (one spec object with its 'name'); a spec file of "
                        "named specs is loaded with SPEC_FILE SPEC_NAME instead")
    raw.pop("info", None)
    return anchor_body_files(raw, path.resolve().parent)


def is_resolved(raw: Any) -> bool:
    """Whether parsed JSON is one resolved spec (an object with its own 'name'), not a file of named specs."""
    return isinstance(raw, dict) and isinstance(raw.get("name"), str)


def dev_caps(raw: dict[str, Any]) -> dict[str, Any]:
    """Dev mode's patch of a spec tree: meta.max_session 1 and every env's max_frame at most DEV_MAX_FRAME."""
    raw = copy.deepcopy(raw)
    meta = raw.setdefault("meta", {})
    if isinstance(meta, dict):
        meta["max_session"] = DEV_MAX_SESSION
    envs = raw.get("env")
    for env in envs if isinstance(envs, list) else []:
        if isinstance(env, dict) and isinstance(env.get("max_frame"), (int, float)):
            env["max_frame"] = min(env["max_frame"], DEV_MAX_FRAME)
    return raw


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise SpecError("", f"spec file {str(path)!r} does not exist")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SpecError("", f"{path} is not valid JSON: {err}") from None


def read_spec_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    data = _read_json(path)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise SpecError("", f"{path} must be a JSON object of named specs")
    return data


def pick(specs: Mapping[str, Any], name: str, path: str | Path = "") -> dict[str, Any]:
    if name not in specs:
        raise SpecError("", f"no spec named {name!r} in {path or 'the spec file'}.{did_you_mean(name, specs)} "
                        f"Specs there: {', '.join(sorted(specs))}")
    raw = copy.deepcopy(specs[name])
    raw["name"] = name
    return raw


def placeholders(spec_file: str | Path, spec_name: str) -> set[str]:
    """The `${var}` names in spec `spec_name` of `spec_file`: the `-s` values it takes (a schedule gives each
    spec the ones it has)."""
    def strings(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            for item in node:
                yield from strings(item)
        elif isinstance(node, str):
            yield node

    raw = pick(read_spec_file(spec_file), spec_name, spec_file)
    return {name for text in strings(raw) for name in PLACEHOLDER.findall(text)}


def parse_sets(pairs: list[str]) -> dict[str, str]:
    """`["var=value", ...]` from `-s` options -> dict; values stay text until substituted."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SpecError("", f"-s expects VAR=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def _typed(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def substitute(raw: Any, variables: Mapping[str, str]) -> Any:
    """Fill `${var}` placeholders; a string that is exactly one placeholder takes the value's JSON type.

    Raises SpecError for placeholders left unfilled and for `-s` variables the spec never uses.
    """
    used: set[str] = set()
    unfilled: list[str] = []

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, f"{path}.{k}" if path else k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, str) and "${" in node:
            whole = PLACEHOLDER.fullmatch(node)
            if whole and whole.group(1) in variables:
                used.add(whole.group(1))
                return _typed(variables[whole.group(1)])

            def fill(match: re.Match) -> str:
                var = match.group(1)
                if var in variables:
                    used.add(var)
                    return variables[var]
                unfilled.append(f"${{{var}}} at {path}")
                return match.group(0)

            return PLACEHOLDER.sub(fill, node)
        return node

    out = walk(raw, "")
    if unfilled:
        names = sorted({u.split(" at ")[0] for u in unfilled})
        raise SpecError(unfilled[0].split(" at ")[1], f"unfilled placeholder(s) {', '.join(names)} "
                        f"({'; '.join(unfilled)}); give them with -s VAR=VALUE")
    unused = sorted(set(variables) - used)
    if unused:
        raise SpecError("", f"-s {', '.join(unused)} given, but the spec has no such placeholder")
    return out
