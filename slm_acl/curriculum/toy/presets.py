"""Teacher settings and expert knowledge in toy units, for `bench/toy_teachers.py` and the toy-bench tests.

`TDRL_TOY_SETTINGS` holds the settings chosen here for ALP-GMM, Covar-GMM and RIAC on the toy: the
class defaults teachDeepRL's toy script builds them with (not verified to be the paper's own settings);
`toy_preset` gives every registered teacher its toy settings (those, or toy values of required
expert-knowledge settings) and says whether it gets `initial_dist`; `expert_knowledge` builds the
`initial_dist` / `target_dist` keyword arguments of `run_teacher`.
"""
from __future__ import annotations

import dataclasses

from slm_acl.curriculum.toy.bench import origin_dist, whole_space_dist

NB_CUBES = 10  # cells per relevant dimension of the toy (teachDeepRL's default)

# The toy settings of ALP-GMM, Covar-GMM and RIAC: a setting chosen here, not a verified quote of the
# paper's experiments. What is checked: flowersteam/teachDeepRL `teachDRL/toy_env/toy_env.py` (its
# `__main__`, which runs Random, RIAC, ALP-GMM and Covar-GMM for 20,000 episodes on 10 x 10 cells, and
# its `test_*` helpers) builds every teacher with `params={}`, i.e. the class defaults of teachDeepRL's
# `teachDRL/teachers/algos/{alp_gmm,covar_gmm,riac}.py` (REFERENCE.md 1.5 "TDRL default" column, 1.6
# and 1.7); those defaults are what this dict holds. Whether the CoRL 2019 paper's toy figures used the
# same settings is unverified: no script or settings of those figures was found (an "EXPE PAPIER" line
# quoted here before, attributed to rPortelas/simple-learner-simulation, could not be found in that
# repository). Rewards are in [0,1] in that code and were fitted raw, hence normalise_alp /
# normalise_return off. RIAC's mutation adds N(0, 0.1) in raw units, 0.1 of the toy's [0,1] range;
# its split score stays the lab's (riac.py, deliberate differences).
TDRL_TOY_SETTINGS: dict[str, dict] = {
    "ALP-GMM": {"fit_rate": 250, "nb_bootstrap": 250, "potential_ks": list(range(2, 11)), "random_task_ratio": 0.2,
                "gmm_fitness_func": "aic", "nb_em_init": 1, "warm_start": False, "alp_buffer_size": 500,
                "alp_max_size": None, "normalise_alp": False},
    "Covar-GMM": {"fit_rate": 250, "nb_bootstrap": 250, "potential_ks": list(range(2, 11)), "random_task_ratio": 0.2,
                  "absolute_lp": False, "normalise_return": False},
    "RIAC": {"max_region_size": 200, "alp_window_size": 200, "nb_split_attempts": 50, "min_region_size": 10,
             "min_dims_range_ratio": 1 / 15, "discard_ratio": 0.25, "sampling_in_leaves_only": False,
             "random_ratio": 0.2, "mutation_ratio": 0.1, "mutation_std": 0.1},
}


def toy_preset(name: str, cls, dim: int, extra_dims: int) -> tuple[dict, bool]:
    """Settings in toy units for teachers with required expert-knowledge settings or teachDeepRL
    toy-script settings, and whether the teacher gets `initial_dist` although it does not require it (its
    published "original" setting).

    ALP-GMM, Covar-GMM and RIAC get the class defaults teachDeepRL's toy script uses (`TDRL_TOY_SETTINGS`);
    Random has none. ADR widens a bound when the mean return of its boundary samples reaches a
    mastered cell's reward (0.75) and narrows it when none of them learnt (0); it starts at the
    origin cell, as TeachMyAgent's ADR starts at `initial_dist`. The Oracle walks diagonally from
    the origin, 1/30 of the range per relevant dim (Stump Tracks' step), not along irrelevant dims,
    each time the mean return of its window exceeds a mastered cell's reward. GoalGAN pretrains its
    GAN on `initial_dist` (the origin cell), its published "original" expert knowledge (REFERENCE.md
    1.3: as "high"); without it the GAN is pretrained on a random sub-space Gaussian, which on the
    toy almost always lies in locked cells, where no goal is ever of intermediate difficulty, so the
    GAN never trains again and nothing is learnt (see bench/toy_teachers.py). Keys the teacher's
    Config does not declare (a teacher still being written) are left out.
    """
    presets = {
        **{n: (dict(s), False) for n, s in TDRL_TOY_SETTINGS.items()},
        "ADR": ({"max_reward_thr": 0.75, "min_reward_thr": 0.0}, True),
        "GoalGAN": ({}, True),
        "Oracle": ({"window_step": [1 / 30] * dim + [0.0] * extra_dims, "reward_thr": 0.75}, False),
    }
    settings, initial_dist = presets.get(name, ({}, False))
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    return {k: v for k, v in settings.items() if k in fields}, initial_dist


def expert_knowledge(cls, task_dim: int, initial_dist: bool = False, nb_cubes: int = NB_CUBES) -> dict:
    """The toy's expert knowledge: for the teachers that require it, and `initial_dist` where asked.

    `initial_dist` is centred on the origin cell of a toy with `nb_cubes` cells per dimension.
    """
    dists = {}
    if cls.needs_initial_dist or initial_dist:
        dists["initial_dist"] = origin_dist(task_dim, nb_cubes)
    if cls.needs_target_dist:
        dists["target_dist"] = whole_space_dist(task_dim)
    return dists
