"""Turning a JSON spec tree into typed, frozen config dataclasses, strictly.

`build(cls, raw, path)` checks every key of `raw` against the dataclass fields of `cls`: an
unknown key is an error naming its path and the closest valid key; a value of the wrong type or
out of the field's bounds is an error naming the path, the value and what is allowed; a field that
holds a sub-component (`param(registry=...)`) looks the name up in that registry and validates the
rest against the component's own `Config`. Nothing is silently dropped or defaulted over a typo.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Literal, Union

from slm_acl.lib.config import Choice
from slm_acl.lib.plugins import PluginError
from slm_acl.lib.registry import UnknownNameError, did_you_mean
from slm_acl.spec.errors import SpecError

_NONE = type(None)


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def build(cls: type, raw: Any, path: str = "") -> Any:
    """Validate `raw` against the dataclass `cls` and return an instance."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if not isinstance(raw, dict):
        raise SpecError(path, f"expected an object with keys {sorted(fields)}, got {_show(raw)}")
    for key in raw:
        if key not in fields:
            raise SpecError(join(path, key), f"unknown key {key!r}.{did_you_mean(key, fields)} "
                            f"Valid keys here: {', '.join(sorted(fields))}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, f in fields.items():
        sub = join(path, name)
        if name in raw:
            values[name] = convert(hints[name], raw[name], sub, f.metadata)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SpecError(sub, f"missing required key {name!r}"
                            + (f" ({f.metadata['doc']})" if f.metadata.get("doc") else ""))
    return cls(**values)


def convert(tp: Any, value: Any, path: str, meta: typing.Mapping[str, Any] | None = None) -> Any:
    """Check one value against a type hint and the field's metadata; return the typed value."""
    meta = meta or {}
    if meta.get("registry") is not None and value is not None:
        out = _dispatch(meta["registry"], meta.get("dispatch_key", "name"), value, path)
    else:
        out = _convert_type(tp, value, path)
    _check_bounds(out, path, meta)
    check = meta.get("check")
    if check is not None and out is not None:
        problem = check(out)
        if problem:
            raise SpecError(path, problem)
    return out


def _dispatch(registry: Any, key: str, value: Any, path: str) -> Choice:
    if not isinstance(value, dict) or key not in value:
        raise SpecError(path, f"expected an object with a {key!r} naming one of: "
                        f"{', '.join(registry.names()) or '(none registered)'}; got {_show(value)}")
    name = value[key]
    try:
        cls = registry.get(name)
    except (UnknownNameError, PluginError) as err:
        raise SpecError(join(path, key), str(err)) from None
    if not dataclasses.is_dataclass(getattr(cls, "Config", None)):
        raise SpecError(join(path, key), f"{registry.kind} {name!r} declares no settings: a {registry.kind} has a "
                        "nested dataclass `Config` (its spec keys, with defaults)")
    rest = {k: v for k, v in value.items() if k != key}
    return Choice(name=name, cls=cls, config=build(cls.Config, rest, path), key=key)


def _convert_type(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and _NONE in args:
            return None
        options = [a for a in args if a is not _NONE]
        problems = []
        for option in options:
            try:
                return _convert_type(option, value, path)
            except SpecError as err:
                problems.append(err)
        if len(options) == 1:
            raise problems[0]
        allowed = " or ".join(_type_name(o) for o in args)
        raise SpecError(path, f"got {_show(value)}; allowed: {allowed}")
    if origin is Literal:
        if value in args:
            return value
        hint = did_you_mean(value, [str(a) for a in args]) if isinstance(value, str) else ""
        raise SpecError(path, f"got {_show(value)}; allowed values: "
                        f"{', '.join(repr(a) for a in args)}.{hint}")
    if tp is _NONE:
        if value is None:
            return None
        raise SpecError(path, f"expected null, got {_show(value)}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise SpecError(path, f"expected true or false, got {_show(value)}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)  # 2e6 in JSON is a float
        raise SpecError(path, f"expected an integer, got {_show(value)}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise SpecError(path, f"expected a finite number, got {_show(value)}")
            return float(value)
        raise SpecError(path, f"expected a number, got {_show(value)}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise SpecError(path, f"expected a string, got {_show(value)}")
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, list):
            raise SpecError(path, f"expected a list, got {_show(value)}")
        item = args[0] if args else Any
        out = [_convert_type(item, v, join(path, i)) for i, v in enumerate(value)]
        return tuple(out) if (origin is tuple or tp is tuple) else out
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise SpecError(path, f"expected an object, got {_show(value)}")
        item = args[1] if len(args) == 2 else Any
        return {k: _convert_type(item, v, join(path, k)) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path)
    raise TypeError(f"schema cannot check type {tp!r} at {path}")


def _check_bounds(value: Any, path: str, meta: typing.Mapping[str, Any]) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    for key, ok, word in (("ge", value >= (meta.get("ge") or 0), ">="),
                          ("gt", value > (meta.get("gt") or 0), ">"),
                          ("le", value <= (meta.get("le") or 0), "<="),
                          ("lt", value < (meta.get("lt") or 0), "<")):
        if meta.get(key) is not None and not ok:
            raise SpecError(path, f"got {value!r}; allowed: {word} {meta[key]}")


def _type_name(tp: Any) -> str:
    if tp is _NONE:
        return "null"
    if typing.get_origin(tp) is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 80 else text[:77] + '...'}"
