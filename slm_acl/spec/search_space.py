"""The spec's `search` block: parsing, checking, and turning it into a Ray Tune search space.

The block mirrors the spec tree; a leaf is `key__kind: args`, e.g.

    "search": {"curriculum": {"teacher": {"fit_rate__choice": [50, 150, 250]}},
               "agent": [{"algorithm": {"gamma__uniform": [0.95, 0.999]}}]}

A list of dicts in the block lines up with the list at the same place in the spec (agent 0, env 1 ...),
so a searched key is a path such as `agent.0.algorithm.gamma`. Every distribution is a registry entry
(`DISTRIBUTIONS`) that checks its arguments when the spec is loaded, so a typo or a bad range fails
before Ray starts, with the valid choices named. Ray is imported only when the Tune space is built.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, Callable, Mapping

import pydash

from slm_acl.lib.registry import did_you_mean
from slm_acl.spec.errors import SpecError

SEPARATOR = "__"


def _numbers(args: Any, n: int) -> bool:
    return (isinstance(args, list) and len(args) == n
            and all(isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a) for a in args))


def _check_list(args: Any) -> str | None:
    if not isinstance(args, list) or not args:
        return "expects a non-empty list of values"
    return None


def _check_range(args: Any) -> str | None:
    if not _numbers(args, 2) or not args[0] < args[1]:
        return "expects [low, high] with low < high"
    return None


def _check_log_range(args: Any) -> str | None:
    if not _numbers(args, 2) or not 0 < args[0] < args[1]:
        return "expects [low, high] with 0 < low < high"
    return None


def _check_int_range(args: Any) -> str | None:
    if not _numbers(args, 2) or not all(float(a).is_integer() for a in args) or not args[0] < args[1]:
        return "expects integers [low, high] with low < high (high excluded)"
    return None


def _check_normal(args: Any) -> str | None:
    if not _numbers(args, 2) or not args[1] > 0:
        return "expects [mean, sd] with sd > 0"
    return None


@dataclasses.dataclass(frozen=True)
class Distribution:
    """One search suffix: how its arguments are checked, how Tune samples it, a value to pre-validate with."""

    check: Callable[[Any], str | None]
    tune: Callable[[Any, Any], Any]  # (ray.tune module, args) -> Tune domain
    examples: Callable[[Any], list[Any]]  # values the spec is validated with before the search starts
    exhaustive: bool = False  # grid_search: every value is a trial (times max_trial)
    optuna: bool = True  # Optuna can sample it


INTERIOR = 0.37  # where inside a range an extra example is taken: rarely a whole number


def _floats(low: float, high: float, log: bool = False) -> list[float]:
    """Both ends and an interior point: a continuous distribution samples floats such as 47.3, which an
    integer setting refuses, so the spec must refuse them up front rather than in every trial."""
    if log:
        inner = math.exp(math.log(low) + INTERIOR * (math.log(high) - math.log(low)))
    else:
        inner = low + INTERIOR * (high - low)
    return [float(low), float(high), inner]


DISTRIBUTIONS: dict[str, Distribution] = {
    "choice": Distribution(_check_list, lambda tune, a: tune.choice(a), lambda a: list(a)),
    "grid_search": Distribution(_check_list, lambda tune, a: tune.grid_search(a), lambda a: list(a),
                                exhaustive=True, optuna=False),
    "uniform": Distribution(_check_range, lambda tune, a: tune.uniform(*a), lambda a: _floats(*a)),
    "loguniform": Distribution(_check_log_range, lambda tune, a: tune.loguniform(*a),
                               lambda a: _floats(*a, log=True)),
    "randint": Distribution(_check_int_range, lambda tune, a: tune.randint(int(a[0]), int(a[1])),
                            lambda a: [int(a[0]), int(a[1]) - 1]),
    "normal": Distribution(_check_normal, lambda tune, a: tune.randn(*a), lambda a: [a[0] + INTERIOR * a[1]],
                           optuna=False),
}

# Settings of the search itself, the same for every trial: a trial's resources and ASHA's horizon are fixed
# when the search starts, so a trial that sampled other values would wait forever or be cut wrongly.
NOT_SEARCHABLE = ("meta.max_session", "meta.max_trial", "meta.num_threads", "meta.max_parallel", "meta.resources",
                  "meta.search_algorithm", "meta.search_scheduler")


@dataclasses.dataclass(frozen=True)
class SearchedKey:
    """One leaf of the search block: the spec path it sets and the distribution it is drawn from."""

    path: tuple[str | int, ...]
    kind: str
    args: Any

    @property
    def name(self) -> str:
        """The dotted path: the Tune config key and the experiment_df column, e.g. `agent.0.algorithm.gamma`."""
        return ".".join(str(p) for p in self.path)

    @property
    def distribution(self) -> Distribution:
        return DISTRIBUTIONS[self.kind]


def _split_leaf(key: str, where: str) -> tuple[str, str]:
    name, sep, kind = key.rpartition(SEPARATOR)
    if not sep or not name:
        raise SpecError(where, f"search leaf {key!r} needs a suffix: {key}__KIND with KIND one of "
                        f"{', '.join(DISTRIBUTIONS)}")
    if kind not in DISTRIBUTIONS:
        hint = did_you_mean(kind, DISTRIBUTIONS, show=lambda h: f"__{h}")
        raise SpecError(where, f"unknown search suffix __{kind} in {key!r}.{hint} "
                        f"Valid suffixes: {', '.join('__' + k for k in DISTRIBUTIONS)}")
    return name, kind


def parse(search: Mapping[str, Any], spec: Mapping[str, Any]) -> list[SearchedKey]:
    """The searched keys of `search`, checked against the spec tree `spec` (the spec without its search block).

    Raises SpecError naming the bad key for: a leaf without a suffix or with an unknown one, bad
    arguments, a path whose parent is not in the spec (a searched key may be absent itself: a
    teacher hyperparameter left at its default), and a search with no leaves.
    """
    keys: list[SearchedKey] = []

    def walk(block: Any, node: Any, path: tuple[str | int, ...]) -> None:
        where = "search" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        if isinstance(block, list):
            if not isinstance(node, list):
                raise SpecError(where, f"the search block has a list here, but the spec has {type(node).__name__}")
            if len(block) > len(node):
                raise SpecError(where, f"the search block lists {len(block)} entries, the spec only {len(node)}")
            for i, sub in enumerate(block):
                walk(sub, node[i], path + (i,))
            return
        if not isinstance(block, dict):
            raise SpecError(where, "expected an object mirroring the spec tree")
        if not isinstance(node, dict):
            raise SpecError(where, f"the spec has no object at {'.'.join(map(str, path)) or 'the top'} to search in")
        for key, value in block.items():
            if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)
                                           and SEPARATOR not in key):
                # a section the spec leaves at its defaults is searched as an empty one; a misspelt key is
                # caught when the spec is validated with the searched values
                walk(value, node.get(key, [] if isinstance(value, list) else {}), path + (key,))
                continue
            name, kind = _split_leaf(key, f"{where}.{key}")
            problem = DISTRIBUTIONS[kind].check(value)
            if problem:
                raise SpecError(f"{where}.{key}", f"__{kind} {problem}; got {value!r}")
            searched = SearchedKey(path + (name,), kind, copy.deepcopy(value))
            reserved = next((r for r in NOT_SEARCHABLE if searched.name == r or searched.name.startswith(r + ".")),
                            None)
            if reserved:
                raise SpecError(f"{where}.{key}", f"{reserved} sets up the search itself (the same for every "
                                f"trial) and cannot be searched; not searchable: {', '.join(NOT_SEARCHABLE)}")
            keys.append(searched)

    walk(search, spec, ())
    if not keys:
        raise SpecError("search", "the search block has no searched key (a leaf such as 'lr__loguniform')")
    return keys


def without_search(raw: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(raw))
    out.pop("search", None)
    return out


def apply(raw: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `raw` without its search block and with each dotted key of `values` set."""
    out = without_search(raw)
    for name, value in values.items():
        pydash.set_(out, [int(p) if p.isdigit() else p for p in name.split(".")], copy.deepcopy(value))
    return out


def tune_space(keys: list[SearchedKey]) -> dict[str, Any]:
    """{dotted key: Tune domain}: the `param_space` of the Tuner."""
    from ray import tune

    return {k.name: k.distribution.tune(tune, k.args) for k in keys}


def example_values(keys: list[SearchedKey]) -> list[dict[str, Any]]:
    """Configs that together try every grid value and both ends of every range (for validating up front)."""
    width = max(len(k.distribution.examples(k.args)) for k in keys)
    out = []
    for i in range(width):
        out.append({k.name: _pick(k.distribution.examples(k.args), i) for k in keys})
    return out


def _pick(values: list[Any], i: int) -> Any:
    return values[min(i, len(values) - 1)]


def grid_size(keys: list[SearchedKey]) -> int:
    size = 1
    for k in keys:
        if k.distribution.exhaustive:
            size *= len(k.args)
    return size
