"""Reading a spec file, picking a spec by name and filling its `${var}` placeholders."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Mapping

from slm_acl.lib.registry import closest
from slm_acl.spec.errors import SpecError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def read_spec_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise SpecError("", f"spec file {str(path)!r} does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SpecError("", f"{path} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise SpecError("", f"{path} must be a JSON object of named specs")
    return data


def pick(specs: Mapping[str, Any], name: str, path: str | Path = "") -> dict[str, Any]:
    if name not in specs:
        hint = closest(name, list(specs))
        did_you_mean = f" Did you mean {hint!r}?" if hint else ""
        raise SpecError("", f"no spec named {name!r} in {path or 'the spec file'}.{did_you_mean} "
                        f"Specs there: {', '.join(sorted(specs))}")
    raw = copy.deepcopy(specs[name])
    raw["name"] = name
    return raw


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
