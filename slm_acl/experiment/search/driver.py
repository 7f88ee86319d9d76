"""Starting and resuming a search: Tune's Tuner over the spec's search block, then the results."""
from __future__ import annotations

import ray
from ray import tune

from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.search.progress import SearchProgress
from slm_acl.experiment.search.results import SearchResult, finish
from slm_acl.experiment.search.scoring import SCORE
from slm_acl.experiment.search.trainable import make_trainable
from slm_acl.experiment.search.wiring import SCHEDULERS, SEARCH_ALGORITHMS, connect, prepare, storage_uri, trial_dirname
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.io import read_json, write_json
from slm_acl.lib.progress import wants_bar
from slm_acl.spec import search_space
from slm_acl.spec.errors import SpecError
from slm_acl.spec.validate import RunSpec

log = logging_lib.get_logger("search")


def run_search(run: RunSpec, paths: RunPaths, ray_address: str | None = None,
               storage_path: str | None = None, verbose: int = 1) -> SearchResult:
    keys = search_space.parse(run.spec.search, search_space.without_search(run.raw))
    meta = run.spec.meta
    storage = storage_uri(storage_path or paths.predir)
    # inside the run folder Tune's state is `tune/`; a storage shared by many searches gets one folder per run
    tune_name = "tune" if storage_path is None else paths.predir.name
    write_json(paths.info(f"{paths.prename()}_search.json"),
               {"storage_path": storage, "tune_name": tune_name, "searched": [k.name for k in keys]})
    prepare(run, ray_address)
    trials = meta.max_trial * search_space.grid_size(keys)
    log.info(f"{run.name}: searching {', '.join(k.name for k in keys)} over {trials} trial(s) of "
             f"{meta.max_session} session(s); Ray resources {ray.cluster_resources()}")
    scheduler = SCHEDULERS[meta.search_scheduler.name](run) if meta.search_scheduler else None
    # on a terminal our bar replaces Tune's status tables, which would tear it. The callback decides bar or lines
    # when it first shows, in whichever process runs the search: Tune's restore brings back this one, pickled
    bar = wants_bar()
    tuner = tune.Tuner(
        make_trainable(run, paths.predir),
        param_space=search_space.tune_space(keys),
        tune_config=tune.TuneConfig(metric=SCORE, mode="max", num_samples=meta.max_trial,
                                    search_alg=SEARCH_ALGORITHMS[meta.search_algorithm](meta), scheduler=scheduler,
                                    trial_dirname_creator=trial_dirname),
        run_config=tune.RunConfig(name=tune_name, storage_path=storage, verbose=0 if bar else verbose,
                                  callbacks=[SearchProgress(run, trials)]),
    )
    return finish(run, paths, keys, tuner.fit())


def resume_search(run: RunSpec, paths: RunPaths, ray_address: str | None = None) -> SearchResult:
    """Restore a killed search from Tune's saved state; unfinished trials rerun and their sessions resume."""
    saved = read_json(paths.info(f"{paths.prename()}_search.json"))
    keys = search_space.parse(run.spec.search, search_space.without_search(run.raw))
    experiment = f"{saved['storage_path'].rstrip('/')}/{saved['tune_name']}"
    if not tune.Tuner.can_restore(experiment):
        raise SpecError("", f"cannot resume the search: no Tune state in {experiment}")
    connect(ray_address)
    log.info(f"{run.name}: resuming the search in {experiment}")
    tuner = tune.Tuner.restore(experiment, trainable=make_trainable(run, paths.predir),
                               resume_unfinished=True, resume_errored=False, restart_errored=False)
    return finish(run, paths, keys, tuner.fit())
