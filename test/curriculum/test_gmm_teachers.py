"""ALP-GMM and Covar-GMM: the ALP rule, the bootstrap, a learnable corner, resume and robustness."""
from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest
from conftest import make_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slm_acl.curriculum.teachers import TEACHERS, Gaussian, Proposal, TeacherContext
from slm_acl.curriculum.teachers.alp_gmm import NearestNeighbourALP
from slm_acl.spec import SpecError, validate

NAMES = ["ALP-GMM", "Covar-GMM"]


def make(name, dim=2, seed=0, initial_dist=None, **overrides):
    cls = TEACHERS.get(name)
    config = dataclasses.replace(cls.Config(), **overrides)
    return cls(config, TeacherContext(dim=dim, rng=np.random.default_rng(seed), initial_dist=initial_dist))


def corner_return(task, episode):
    """A student that improves over time on [0, 0.3]^2 only; everything else stays at 0."""
    return episode / 100.0 if (task <= 0.3).all() else 0.0


# ---- the ALP rule ------------------------------------------------------------------------------
def test_alp_is_zero_until_six_episodes_then_return_gap_to_nearest_task():
    alp = NearestNeighbourALP(dim=1)
    for x, r in [(0.0, 1.0), (0.2, 5.0), (0.4, -3.0), (0.6, 2.0), (0.8, 7.0)]:
        assert alp(np.array([x]), r) == 0.0
    assert alp(np.array([1.0]), 100.0) == 0.0  # 5 stored: the original needs more than 5
    assert alp(np.array([0.43]), 4.0) == 7.0  # nearest is 0.4 (return -3): |4 - (-3)|
    assert alp(np.array([0.75]), 1.0) == 6.0  # nearest is 0.8 (return 7)
    assert alp(np.array([0.44]), 4.5) == 0.5  # the new 0.43 (return 4) is nearer than 0.4 now


def test_alp_nearest_across_kd_tree_and_buffer_and_ties_pick_the_older():
    alp = NearestNeighbourALP(dim=2, buffer_size=3)
    tasks = [(0.1, 0.1), (0.9, 0.9), (0.5, 0.5), (0.1, 0.9), (0.9, 0.1), (0.3, 0.3), (0.7, 0.7)]
    for i, t in enumerate(tasks):
        alp(np.array(t), float(i))
    assert alp.in_tree > 0 and alp.size > alp.in_tree  # both the tree and the buffer are searched
    assert alp(np.array([0.12, 0.1]), 10.0) == 10.0  # in the tree: (0.1, 0.1) has return 0
    assert alp(np.array([0.69, 0.7]), 10.0) == 4.0  # in the buffer: (0.7, 0.7) has return 6
    alp(np.array([0.5, 0.5]), 40.0)  # a duplicate of episode 2 (return 2)
    assert alp(np.array([0.5, 0.5]), 2.0) == 0.0  # equal distances: the older one wins


def test_alp_max_size_forgets_old_episodes_at_flush():
    alp = NearestNeighbourALP(dim=1, buffer_size=2, max_size=4)
    for i in range(12):
        alp(np.array([i / 20]), float(i))
    assert alp.size <= 4 + 2 and alp.returns[0] > 0.0


def test_teacher_fits_on_task_alp_rows():
    teacher = make("ALP-GMM", fit_rate=10)
    rng = np.random.default_rng(5)
    for n in range(10):
        teacher.update(Proposal(rng.uniform(size=2)), float(n * n), False)
    assert teacher.batch.shape == (10, 3) and (teacher.batch[:6, 2] == 0).all() and (teacher.batch[6:, 2] > 0).all()
    assert teacher.gmm is not None and teacher.info()["n_components"] >= 2


def test_covar_rows_hold_batch_time_and_raw_return():
    teacher = make("Covar-GMM", fit_rate=4, potential_ks=(1,))
    for n in range(6):
        teacher.update(Proposal(np.array([0.5, 0.5])), 10.0 + n, False)
    np.testing.assert_allclose(teacher.batch[:, 2:], [[0.0, 14.0], [0.25, 15.0], [0.5, 12.0], [0.75, 13.0]])


# ---- the bootstrap -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fit_rate, nb_bootstrap, first_fit", [(20, None, 20), (20, 50, 60), (20, 0, 20)])
def test_bootstrap_length_and_first_fit(name, fit_rate, nb_bootstrap, first_fit):
    teacher = make(name, fit_rate=fit_rate, nb_bootstrap=nb_bootstrap, potential_ks=(1, 2))
    for n in range(first_fit):
        assert teacher.bootstrapping == (n < (fit_rate if nb_bootstrap is None else nb_bootstrap))
        assert teacher.gmm is None
        proposal = teacher.sample_task()
        teacher.update(proposal, float(n) * proposal.task[0], False)
    assert teacher.gmm is not None and teacher.n_fits == 1 and not teacher.info()["bootstrapping"]


def test_initial_dist_bootstrap_clusters_near_its_mean_then_stops():
    dist = Gaussian(mean=np.array([0.15, 0.8]), std=np.array([0.03, 0.03]))
    teacher = make("ALP-GMM", initial_dist=dist, fit_rate=50, potential_ks=(1, 2), random_task_ratio=1.0)
    boot = []
    for _ in range(50):
        proposal = teacher.sample_task()
        boot.append(proposal.task)
        teacher.update(proposal, 0.0, False)
    boot = np.array(boot)
    assert np.abs(boot.mean(0) - dist.mean).max() < 0.02 and np.abs(boot - dist.mean).max() < 0.15
    after = np.array([teacher.sample_task().task for _ in range(200)])  # ratio 1: uniform from now on
    assert after.std(0).min() > 0.2


def test_initial_dist_at_the_edge_is_clipped_into_the_cube():
    dist = Gaussian(mean=np.array([0.0]), std=np.array([0.2]))
    teacher = make("Covar-GMM", dim=1, initial_dist=dist)
    samples = np.array([teacher.sample_task().task for _ in range(200)])
    assert samples.min() == 0.0 and samples.max() <= 1.0 and (samples == 0.0).mean() > 0.3


# ---- a learnable corner ------------------------------------------------------------------------
@pytest.mark.parametrize("name, share", [("ALP-GMM", 0.5), ("Covar-GMM", 0.4)])
def test_samples_concentrate_on_the_learnable_corner(name, share):
    global_state = np.random.get_state()[1].copy()
    teacher = make(name, seed=1)  # published settings
    samples = []
    for n in range(600):
        proposal = teacher.sample_task()
        samples.append(proposal.task)
        teacher.update(proposal, corner_return(proposal.task, n), False)
    in_corner = (np.array(samples[-200:]) <= 0.3).all(axis=1).mean()
    assert in_corner > share, f"{name}: {in_corner:.0%} of the last 200 tasks in the corner (uniform: 9%)"
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)  # only the teacher's generator


# ---- resume ------------------------------------------------------------------------------------
def plain(value):
    """True when `value` is made only of numpy arrays, numbers, strings, lists and dicts."""
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, (np.ndarray, np.generic, int, float, str, bool))


def play(teacher, episodes, rng):
    out = []
    for _ in range(episodes):
        proposal = teacher.sample_task()
        task = proposal.task
        out.append(task)
        teacher.update(proposal, float(rng.normal() + 5.0 * task.sum() * (task[0] < 0.4)), bool(rng.random() < 0.5))
    return np.array(out)


@pytest.mark.parametrize("name, overrides", [
    ("ALP-GMM", {"fit_rate": 120}),
    ("ALP-GMM", {"warm_start": True, "alp_buffer_size": 64, "alp_max_size": 200, "fit_rate": 100}),
    ("Covar-GMM", {"fit_rate": 120}),
])
def test_state_dict_round_trip_continues_the_same_samples(name, overrides):
    dist = Gaussian(mean=np.array([0.2, 0.2, 0.5]), std=np.array([0.1, 0.1, 0.1]))
    teacher = make(name, dim=3, seed=3, initial_dist=dist, **overrides)
    play(teacher, 300, np.random.default_rng(0))
    state = pickle.loads(pickle.dumps(teacher.state_dict()))
    assert plain(state)
    resumed = make(name, dim=3, seed=999, initial_dist=dist, **overrides)
    resumed.load_state_dict(state)
    expected = play(teacher, 100, np.random.default_rng(1))  # crosses a refit (a seed drawn from the rng)
    np.testing.assert_array_equal(play(resumed, 100, np.random.default_rng(1)), expected)
    assert teacher.n_fits == resumed.n_fits >= 3


@pytest.mark.parametrize("name", NAMES)
def test_non_exploratory_sample_uses_only_the_given_generator(name):
    teacher = make(name, fit_rate=30, potential_ks=(2, 3))
    play(teacher, 60, np.random.default_rng(0))
    before = teacher.state_dict()["rng"]
    samples = np.array([teacher.non_exploratory_sample(np.random.default_rng(4)) for _ in range(2)])
    assert teacher.state_dict()["rng"] == before and (samples[0] == samples[1]).all()
    info = teacher.info()
    assert len(info["means"]) == len(info["weights"]) == info["n_components"] and not info["bootstrapping"]
    assert len(info["alp" if name == "ALP-GMM" else "lp"]) == info["n_components"]


# ---- robustness --------------------------------------------------------------------------------
returns = st.one_of(
    st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=1, max_size=40),
    st.lists(st.sampled_from([-1e12, 1e12, 0.0, -3.0, 1e-300, -5e-324]), min_size=1, max_size=40),
    st.tuples(st.floats(-1e12, 1e12, allow_nan=False), st.integers(1, 40)).map(lambda c: [c[0]] * c[1]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), dim=st.integers(1, 12), rets=returns, fit_rate=st.integers(2, 8),
       duplicate=st.booleans(), seed=st.integers(0, 2**16))
def test_fuzz_returns_and_dims_never_crash_and_stay_in_the_cube(name, dim, rets, fit_rate, duplicate, seed):
    teacher = make(name, dim=dim, seed=seed, fit_rate=fit_rate, nb_bootstrap=fit_rate // 2,
                   potential_ks=(1, 2, 3, 9), random_task_ratio=0.0)
    rng = np.random.default_rng(seed)
    for r in rets:
        proposal = teacher.sample_task()
        task = proposal.task
        assert task.shape == (dim,) and np.isfinite(task).all() and (task >= 0).all() and (task <= 1).all()
        teacher.update(Proposal(np.full(dim, 0.5)) if duplicate else proposal, r, False)
        extra = teacher.non_exploratory_sample(rng)
        assert (extra >= 0).all() and (extra <= 1).all()
    teacher.info()


# ---- the spec ----------------------------------------------------------------------------------
def spec_with(teacher):
    return make_raw(curriculum={"teacher": teacher, "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5]}})


@pytest.mark.parametrize("name, key", [("ALP-GMM", "fit_rat"), ("Covar-GMM", "gmm_fitness_func")])
def test_unknown_hyperparameter_lists_the_valid_ones(name, key):
    with pytest.raises(SpecError) as info:
        validate(spec_with({"name": name, key: 3}))
    msg = str(info.value)
    assert f"curriculum.teacher.{key}" in msg and "fit_rate" in msg and "random_task_ratio" in msg


def test_spec_defaults_are_the_published_values_and_ks_are_checked():
    alp = validate(spec_with({"name": "ALP-GMM"})).spec.curriculum.teacher.config
    assert (alp.fit_rate, alp.potential_ks, alp.random_task_ratio, alp.gmm_fitness_func) == (
        150, tuple(range(2, 10)), 0.05, "aic")
    covar = validate(spec_with({"name": "Covar-GMM", "potential_ks": [2, 3]})).spec.curriculum.teacher.config
    assert (covar.fit_rate, covar.potential_ks, covar.random_task_ratio) == (150, (2, 3), 0.1)
    with pytest.raises(SpecError, match="potential_ks"):
        validate(spec_with({"name": "ALP-GMM", "potential_ks": []}))
