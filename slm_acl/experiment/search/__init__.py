"""Search mode: Ray Tune samples the spec's `search` block; each sample is a trial of `meta.max_session` seeds.

One job per module:
- `trial_index`: trials numbered 0, 1, 2 ... as they start; a trial's files in the run folder are
  `{spec}_t{index}_...`, as in train mode, and survive a kill and a resume.
- `scoring`: the sessions' evaluations lined up by frame into the trial's reports and score (% mastered
  on the test set, or the return moving average for specs without a curriculum).
- `trainable`: a trial as a Tune function trainable; its sessions run on the session runner's Ray
  executor and stream every evaluation back, so a scheduler (ASHA) can stop a bad trial early.
- `wiring`: the trial's placement group, search algorithms and schedulers by name, connecting to Ray.
- `results`: experiment_df, the experiment graph and `{spec}_best_spec.json` from Tune's results in memory.
- `driver`: `run_search`, and `resume_search` for `search@RUN_DIR` (Tune's restore; the sessions of an
  interrupted trial continue from their checkpoints).

A trial that raises is recorded with its error and the others go on.
"""
from slm_acl.experiment.search.driver import resume_search, run_search
from slm_acl.experiment.search.results import SearchResult
from slm_acl.experiment.search.wiring import prepare

__all__ = ["SearchResult", "prepare", "resume_search", "run_search"]
