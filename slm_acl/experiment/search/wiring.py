"""How a search meets Ray Tune: resources of a trial, search algorithms and schedulers by name, Ray itself.

A trial is a Tune function trainable that holds no resources itself; its sessions are Ray tasks, one
placement-group bundle each (`meta.resources`: CPUs, GPUs), so Ray never puts more sessions on a node
than it has cores for, trials queue until their bundles are free, and on a cluster sessions go to any
node.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import ray
from ray import tune

from slm_acl.experiment.runner.ray_tasks import connect, session_cpus
from slm_acl.experiment.search.scoring import TIME_ATTR
from slm_acl.lib import logger as logging_lib
from slm_acl.spec.errors import SpecError
from slm_acl.spec.model import MetaSpec
from slm_acl.spec.validate import RunSpec

log = logging_lib.get_logger("search")


# ---- resources ---------------------------------------------------------------------------------------

def parallel_sessions(meta: MetaSpec) -> int:
    """Sessions of one trial at once: `meta.max_parallel`, at most `meta.max_session`."""
    return min(meta.max_session, meta.max_parallel or meta.max_session)


def trial_resources(meta: MetaSpec) -> tune.PlacementGroupFactory:
    """An empty bundle for the trainable (it only waits) and one bundle per session run at once.

    With `meta.max_parallel` below `max_session`, the trial holds that many bundles and its other
    sessions queue for them.
    """
    bundle = {"CPU": session_cpus(meta)}
    if meta.resources.gpu:
        bundle["GPU"] = meta.resources.gpu
    return tune.PlacementGroupFactory([{}] + [dict(bundle) for _ in range(parallel_sessions(meta))])


def check_fits(meta: MetaSpec, available: dict[str, float], local: bool) -> None:
    """A trial that needs more than a local Ray has would wait forever: say so, with the keys to change."""
    if session_cpus(meta) < meta.num_threads:
        log.warning(f"meta.resources.cpu {session_cpus(meta):g} < meta.num_threads {meta.num_threads}: sessions "
                    "will share cores (oversubscribed)")
    needs = {"CPU": session_cpus(meta) * parallel_sessions(meta), "GPU": meta.resources.gpu * parallel_sessions(meta)}
    short = {k: v for k, v in needs.items() if v > available.get(k, 0.0) + 1e-9}
    if not short:
        return
    message = (f"a trial needs {', '.join(f'{v:g} {k}' for k, v in short.items())} at once "
               f"({parallel_sessions(meta)} sessions x meta.resources), but Ray has "
               f"{', '.join(f'{available.get(k, 0.0):g} {k}' for k in short)}; lower meta.max_parallel "
               "(sessions at once) or meta.resources")
    if local:
        raise SpecError("meta.resources", message)
    log.warning(message + " (waiting for the cluster to grow)")


# ---- search algorithms and schedulers (registries) ------------------------------------------------------

def _random(meta: MetaSpec) -> Any:
    return None  # Tune's default: random and grid sampling


def _optuna(meta: MetaSpec) -> Any:
    try:
        from ray.tune.search.optuna import OptunaSearch
        return OptunaSearch(seed=meta.seed)
    except ImportError as err:
        raise SpecError("meta.search_algorithm", f"'optuna' needs the optuna package ({err}); "
                        "install it with `.venv/bin/pip install optuna`") from None


SEARCH_ALGORITHMS: dict[str, Callable[[MetaSpec], Any]] = {"random": _random, "optuna": _optuna}


def _asha(run: RunSpec) -> Any:
    from ray.tune.schedulers import AsyncHyperBandScheduler

    s = run.spec.meta.search_scheduler
    return AsyncHyperBandScheduler(time_attr=TIME_ATTR, max_t=max(e.max_frame for e in run.spec.env),
                                   grace_period=s.grace_period or run.spec.meta.eval_frequency,
                                   reduction_factor=s.reduction_factor, brackets=s.brackets)


SCHEDULERS: dict[str, Callable[[RunSpec], Any]] = {"ASHA": _asha}


# ---- Ray and Tune's storage ---------------------------------------------------------------------------------

def storage_uri(path: str | Path) -> str:
    """Tune's storage: a cloud URI (`s3://...`) as given, a local path made absolute."""
    text = str(path)
    return text if "://" in text else str(Path(text).resolve())


def trial_dirname(trial: Any) -> str:
    return f"trial_{trial.trial_id}"


def prepare(run: RunSpec, ray_address: str | None) -> None:
    """Everything that can refuse a search before its run folder exists: Ray reachable, a trial fits."""
    local = connect(ray_address)
    check_fits(run.spec.meta, ray.cluster_resources(), local)
