"""RIAC, ADR and Oracle: their published mechanics, exact resume, and robustness to any returns."""
from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest
from conftest import make_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slm_acl.curriculum.controller import CurriculumController
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.curriculum.teachers import TEACHERS, Gaussian, Proposal, TeacherContext
from slm_acl.curriculum.teachers.adr import ADRProposal
from slm_acl.curriculum.teachers.riac import RIAC, cut_interests, split_scores, window_alp
from slm_acl.spec import SpecError, validate


def make(name, dim=2, seed=0, initial_dist=None, success_return=None, **config):
    cls = TEACHERS.get(name)
    context = TeacherContext(dim=dim, rng=np.random.default_rng(seed), initial_dist=initial_dist,
                             success_return=success_return)
    return cls(cls.Config(**config), context)


# --- RIAC ---------------------------------------------------------------------------------------

def test_riac_interest_is_absolute_alp_over_the_window():
    assert window_alp([0.0] * 10 + [1.0] * 10, 20) == 1.0
    assert window_alp([1.0] * 10 + [0.0] * 10, 20) == 1.0  # forgetting counts as much as learning
    assert window_alp([5.0] * 16 + [0.0, 0.0, 1.0, 1.0], 4) == 1.0  # only the last 4 returns
    assert window_alp([0.0, 9.0], 20) == 0.0  # too few returns
    teacher = make("RIAC", max_region_size=50, alp_window_size=8)
    for r in [3.0] * 20 + [0.0] * 4 + [2.0] * 4:
        teacher.update(Proposal(np.array([0.5, 0.5])), r, False)
    assert teacher.regions[0].interest == 2.0 and teacher.info()["regions"][0]["interest"] == 2.0


def test_riac_splits_a_full_leaf_into_valid_children():
    teacher = make("RIAC", max_region_size=40, min_dims_range_ratio=0.1)
    rng = np.random.default_rng(1)
    for k in range(40):
        teacher.update(Proposal(rng.uniform(0, 1, 2)), float(k), False)
    assert teacher.splits == 0 and len(teacher.regions) == 1
    teacher.update(Proposal(rng.uniform(0, 1, 2)), 40.0, False)  # 41 > max_region_size
    root, low, high = teacher.regions
    assert teacher.splits == 1 and root.children == (1, 2)
    dim, threshold = root.cut
    assert len(low.rewards) + len(high.rewards) == 41
    assert min(len(low.rewards), len(high.rewards)) >= 40 / 20
    assert all(t[dim] <= threshold for t in low.tasks) and all(t[dim] > threshold for t in high.tasks)
    assert threshold - 0.0 >= 0.1 and 1.0 - threshold >= 0.1
    assert low.high[dim] == threshold == high.low[dim]
    assert low.interest == window_alp(low.rewards, 40)  # the chosen cut's own interest


def test_riac_cut_interests_match_each_child_window():
    rng = np.random.default_rng(2)
    tasks, rewards = rng.uniform(0, 1, (61, 3)), rng.normal(0, 5, 61)
    dims, thresholds = rng.integers(0, 3, 30), rng.uniform(0, 1, 30)
    n_low, n_high, alp_low, alp_high = cut_interests(tasks, rewards, dims, thresholds, window=16)
    for k in range(30):
        lower = tasks[:, dims[k]] <= thresholds[k]
        assert (n_low[k], n_high[k]) == (lower.sum(), (~lower).sum())
        assert alp_low[k] == pytest.approx(window_alp(list(rewards[lower]), 16), abs=1e-9)
        assert alp_high[k] == pytest.approx(window_alp(list(rewards[~lower]), 16), abs=1e-9)


def test_riac_split_maximises_sizes_times_interest_gap_not_the_buggy_score():
    # 1-D region, 121 tasks in time order. x < 0.5: flat returns; x >= 0.5: steady learning
    # (interest ~1), twice as fast on the few tasks with x > 0.9 (interest ~2). Cut 0.9 has the
    # larger interest gap (what the original's 4*|dALP| picks); cut 0.5 the larger n1*n2*|dALP|.
    rng = np.random.default_rng(3)
    xs = rng.uniform(0, 1, 121)
    ramp = np.linspace(0, 2, 121)
    rewards = np.where(xs < 0.5, 0.0, np.where(xs > 0.9, 2 * ramp, ramp))
    teacher = make("RIAC", dim=1, max_region_size=120, min_dims_range_ratio=0.05)
    candidates = (np.array([0, 0]), np.array([0.9, 0.5]))
    teacher._draw_cuts = lambda region, tasks: candidates
    for x, r in zip(xs, rewards):
        teacher.update(Proposal(np.array([x])), float(r), False)
    n_low, n_high, alp_low, alp_high = cut_interests(xs[:, None], rewards, *candidates, window=120)
    gap = np.abs(alp_low - alp_high)
    assert np.argmax(gap) == 0  # the buggy score 4*|dALP| would cut at 0.9
    assert np.argmax(split_scores(n_low, n_high, alp_low, alp_high)) == 1
    assert teacher.regions[0].cut == (0, 0.5)


def test_riac_no_valid_cut_drops_the_oldest_pairs():
    teacher = make("RIAC", max_region_size=20, discard_ratio=0.25)
    for k in range(21):  # every task on one point: no cut can leave 1 pair on each side
        teacher.update(Proposal(np.array([0.3, 0.3])), float(k), False)
    assert teacher.splits == 0 and list(teacher.regions[0].rewards) == [float(k) for k in range(5, 21)]


def corner_run(name, n=1600, seed=0, **config):
    """Returns improve over time only in [0, 0.3]^2; the fraction of late tasks in that corner."""
    teacher = make(name, seed=seed, **config)
    practice, late = 0, []
    for e in range(n):
        proposal = teacher.sample_task()
        in_corner = bool(np.all(proposal.task <= 0.3))
        practice += in_corner
        teacher.update(proposal, 0.002 * practice if in_corner else 0.0, False)
        if e >= n // 2:
            late.append(in_corner)
    return float(np.mean(late)), teacher


def test_riac_focuses_on_the_learnable_corner():
    uniform, _ = corner_run("Random")
    riac, teacher = corner_run("RIAC")
    assert teacher.splits >= 3
    assert uniform < 0.15 and riac > 0.4 and riac > 3 * uniform
    rng = np.random.default_rng(0)
    plotted = np.array([teacher.non_exploratory_sample(rng) for _ in range(300)])
    assert np.mean(np.all(plotted <= 0.3, axis=1)) > 0.4


# --- ADR ----------------------------------------------------------------------------------------

def _on_bound(teacher, task: list[float], side: int, dim: int) -> ADRProposal:
    """A proposal sampled on one bound of `teacher`'s box, as `sample_task` makes them."""
    return ADRProposal(np.array(task), [(side, dim, int(teacher.versions[side, dim]))])


def test_adr_box_grows_from_the_start_point_and_shrinks_under_the_low_threshold():
    teacher = make("ADR", initial_dist=Gaussian(np.array([0.5, 0.5]), np.array([0.1, 0.1])),
                   max_reward_thr=10.0, min_reward_thr=1.0, step_size=0.1, queue_len=4)
    assert teacher.low.tolist() == [0.5, 0.5] == teacher.high.tolist()
    for _ in range(4):  # the box is a point: every task sits on all bounds
        proposal = teacher.sample_task()
        assert {(side, dim) for side, dim, _ in proposal.bounds} == {(0, 0), (0, 1), (1, 0), (1, 1)}
        teacher.update(proposal, 12.0, False)
    np.testing.assert_allclose(teacher.low, [0.4, 0.4])
    np.testing.assert_allclose(teacher.high, [0.6, 0.6])
    for _ in range(4):  # tasks on dim 0's max only, failing: that bound alone narrows
        teacher.update(_on_bound(teacher, [teacher.high[0], 0.5], 1, 0), 0.5, False)
    np.testing.assert_allclose(teacher.high, [0.5, 0.6])
    np.testing.assert_allclose(teacher.low, [0.4, 0.4])
    for _ in range(4):  # in between the thresholds: nothing moves, the queue restarts
        teacher.update(_on_bound(teacher, [0.45, teacher.low[1]], 0, 1), 5.0, False)
    np.testing.assert_allclose(teacher.low, [0.4, 0.4])
    assert teacher.queues[0][1] == []
    for _ in range(4):
        teacher.update(_on_bound(teacher, [0.45, teacher.low[1]], 0, 1), 20.0, False)
    np.testing.assert_allclose(teacher.low, [0.4, 0.3])
    assert teacher.info() == {"low": teacher.low.tolist(), "high": teacher.high.tolist(), "episodes": 16,
                              "bound_moves": 6}


def test_adr_counts_in_flight_episodes_on_the_bound_they_were_sampled_on():
    """Several sub-envs: episodes sampled on a bound end in any order, some after the bound moved. Each
    outcome goes to its own bound while that bound stays where it was sampled (a value test against the
    bounds at update time drops them once any bound has moved), and none counts for a bound's new place."""
    teacher = make("ADR", dim=1, initial_dist=Gaussian(np.array([0.5]), np.array([0.1])),
                   max_reward_thr=10.0, min_reward_thr=1.0, step_size=0.1, queue_len=1, boundary_sampling_p=1.0)
    in_flight = [teacher.sample_task() for _ in range(4)]  # all sampled on the starting point: both bounds
    teacher.update(in_flight[2], 12.0, False)  # widens both bounds: the other three are now from old bounds
    np.testing.assert_allclose([teacher.low[0], teacher.high[0]], [0.4, 0.6])
    for proposal in (in_flight[3], in_flight[0], in_flight[1]):
        teacher.update(proposal, 12.0, False)
    np.testing.assert_allclose([teacher.low[0], teacher.high[0]], [0.4, 0.6])  # stale outcomes moved nothing
    on_max = [teacher.sample_task() for _ in range(50)]
    on_max = [p for p in on_max if p.bounds == [(1, 0, 1)]][:2]
    assert len(on_max) == 2 and np.all([p.task[0] == 0.6 for p in on_max])
    teacher.update(on_max[1], 12.0, False)  # out of order, the bound still where both were sampled: counts
    np.testing.assert_allclose(teacher.high[0], 0.7)


def test_adr_never_leaves_the_unit_cube_and_min_stays_below_max():
    teacher = make("ADR", dim=3, initial_dist=Gaussian(np.array([0.98, 0.02, 0.5]), np.full(3, 0.1)),
                   max_reward_thr=0.6, min_reward_thr=0.4, step_size=0.3, queue_len=2)
    rng = np.random.default_rng(5)
    lowest, highest = 1.0, 0.0
    for _ in range(1000):
        proposal = teacher.sample_task()
        assert np.all((proposal.task >= teacher.low) & (proposal.task <= teacher.high))
        teacher.update(proposal, float(rng.random()), False)
        assert np.all((0 <= teacher.low) & (teacher.low <= teacher.high) & (teacher.high <= 1))
        lowest, highest = min(lowest, teacher.low.min()), max(highest, teacher.high.max())
    assert teacher.moves > 20 and lowest == 0.0 and highest == 1.0  # steps clipped at the limits


def test_adr_boundary_samples_only_bounds_that_can_still_move():
    teacher = make("ADR", max_reward_thr=1.0, min_reward_thr=0.0, boundary_sampling_p=1.0)
    teacher.low, teacher.high = np.array([0.0, 0.2]), np.array([0.5, 1.0])  # dim 0 min and dim 1 max capped
    tasks = np.array([teacher.sample_task().task for _ in range(2000)])
    on_max0, on_min1 = tasks[:, 0] == 0.5, tasks[:, 1] == 0.2
    assert np.all(on_max0 ^ on_min1)  # each task tests exactly one free bound
    assert 0.4 < on_max0.mean() < 0.6
    assert not np.any(tasks[:, 0] == 0.0) and not np.any(tasks[:, 1] == 1.0)
    teacher.low, teacher.high = np.zeros(2), np.ones(2)  # whole space: plain uniform tasks
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(teacher.non_exploratory_sample(np.random.default_rng(0)), rng.uniform(0, 1, 2))


def test_adr_start_without_initial_dist_is_a_random_point():
    a, b = (make("ADR", seed=s, max_reward_thr=1.0, min_reward_thr=0.0) for s in (0, 1))
    assert np.all(a.low == a.high) and not np.array_equal(a.low, b.low)


def test_adr_thresholds_are_required_by_spec_validation():
    curriculum = {"teacher": {"name": "ADR"}, "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5]}}
    with pytest.raises(SpecError) as info:
        validate(make_raw(curriculum=curriculum))
    message = str(info.value)
    assert "curriculum.teacher.max_reward_thr" in message and "missing required key" in message
    assert "min_reward_thr" in message
    curriculum["teacher"]["max_reward_thr"] = -150.0
    with pytest.raises(SpecError, match=r"curriculum\.teacher\.min_reward_thr.*missing required key"):
        validate(make_raw(curriculum=curriculum))
    curriculum["teacher"]["min_reward_thr"] = -800.0
    run = validate(make_raw(curriculum=curriculum))
    teacher = run.spec.curriculum.teacher
    assert teacher.name == "ADR" and teacher.config.step_size == pytest.approx(1 / 30)
    assert teacher.config.boundary_sampling_p == 0.7 and teacher.config.queue_len == 10


def test_adr_through_the_controller_grows_from_the_initial_dist_mean():
    curriculum = {"teacher": {"name": "ADR", "max_reward_thr": 100.0, "min_reward_thr": 0.0, "queue_len": 2},
                  "task_space": {"mass": [0.5, 2.0], "length": [0.3, 1.7]},
                  "initial_dist": {"mean": [0.7, 0.5], "std": [0.1, 0.1]}}
    spec = validate(make_raw(curriculum=curriculum)).spec.curriculum
    space = TaskSpace.from_spec(spec.task_space)
    initial = Gaussian(*space.unit_gaussian(spec.initial_dist, "initial_dist"))
    teacher, direct = (spec.teacher.build(TeacherContext(dim=2, rng=np.random.default_rng(0), initial_dist=initial))
                       for _ in range(2))
    controller = CurriculumController(1, space, teacher)
    np.testing.assert_allclose(space.denormalise(teacher.low), [0.7, 0.5])
    for k in range(80):  # the lab's path (proposal -> raw task -> update) matches feeding the teacher directly
        controller.next_task(0)
        controller.end_episode(0, 150.0 if k % 7 else -5.0, 10, False)
        direct.update(direct.sample_task(), 150.0 if k % 7 else -5.0, False)
    assert teacher.moves > 10 and teacher.info() == direct.info()


def test_adr_success_signal_needs_a_success_definition():
    with pytest.raises(ValueError, match="success_return"):
        make("ADR", max_reward_thr=0.8, min_reward_thr=0.2, signal="success")
    teacher = make("ADR", max_reward_thr=0.8, min_reward_thr=0.2, signal="success", success_return=1.0,
                   queue_len=2, initial_dist=Gaussian(np.array([0.5, 0.5]), np.ones(2)))
    for _ in range(2):
        teacher.update(teacher.sample_task(), -1e9, True)  # successes widen, whatever the return
    assert teacher.high[0] > 0.5


# --- Oracle -------------------------------------------------------------------------------------

def test_oracle_window_moves_when_the_student_masters_it():
    teacher = make("Oracle", window_step=[0.1, -0.2], reward_thr=230.0, step_rate=5)
    size = 1 / 6
    np.testing.assert_allclose(teacher.position, [0.0, 1 - size])  # the easy corner
    for _ in range(5):
        proposal = teacher.sample_task()
        assert np.all((proposal.task >= teacher.position) & (proposal.task <= teacher.position + size))
        teacher.update(proposal, 200.0, False)
    np.testing.assert_allclose(teacher.position, [0.0, 1 - size])  # not mastered: stays
    for _ in range(5):
        teacher.update(teacher.sample_task(), 240.0, False)
    np.testing.assert_allclose(teacher.position, [0.1, 1 - size - 0.2])
    for _ in range(50):  # mastered again and again: it stops at the hard corner
        teacher.update(teacher.sample_task(), 240.0, False)
    np.testing.assert_allclose(teacher.position, [1 - size, 0.0])
    assert teacher.info()["masteries"] == 11 and teacher.info()["high"] == pytest.approx([1.0, size])


def test_oracle_needs_its_difficulty_structure():
    curriculum = {"teacher": {"name": "Oracle"}, "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5]}}
    with pytest.raises(SpecError, match=r"curriculum\.teacher\.window_step.*missing required key"):
        validate(make_raw(curriculum=curriculum))
    curriculum["teacher"]["window_step"] = [0.1, -0.1]
    with pytest.raises(SpecError, match=r"curriculum\.teacher\.reward_thr.*missing required key"):
        validate(make_raw(curriculum=curriculum))
    curriculum["teacher"]["window_step"] = [0.1, -2.0]
    with pytest.raises(SpecError, match=r"window_step.*\[-1, 1\]"):
        validate(make_raw(curriculum=curriculum))
    with pytest.raises(ValueError, match="one signed step per task dim"):
        make("Oracle", window_step=[0.5], dim=2, reward_thr=0.0)
    teacher = make("Oracle", window_step=[0.5], dim=1, reward_thr=1.0, step_rate=1)
    teacher.update(teacher.sample_task(), 2.0, True)
    assert teacher.position.tolist() == [0.5]


# --- all three ----------------------------------------------------------------------------------

CONFIGS = {
    "RIAC": {"max_region_size": 20},
    "ADR": {"max_reward_thr": 0.6, "min_reward_thr": 0.2, "queue_len": 3, "step_size": 0.1},
    "Oracle": {"window_step": [0.1, -0.1], "reward_thr": 0.3, "step_rate": 5},
}


def outcome(task, k):
    """A return that depends on the task and improves with time, so every teacher's state moves."""
    return float(np.cos(4 * task[0]) * min(1.0, k / 80) + 0.1 * np.sin(7 * k) + 0.2), bool(k % 3)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_dict_round_trip_continues_the_same_samples(name):
    teacher = make(name, seed=0, **CONFIGS[name])
    for k in range(60):
        proposal = teacher.sample_task()
        teacher.update(proposal, *outcome(proposal.task, k))
    saved = pickle.dumps(teacher.state_dict())
    resumed = make(name, seed=123, **CONFIGS[name])
    resumed.load_state_dict(pickle.loads(saved))
    assert resumed.info() == teacher.info()
    for k in range(60, 160):
        a, b = teacher.sample_task(), resumed.sample_task()
        np.testing.assert_array_equal(a.task, b.task)
        teacher.update(a, *outcome(a.task, k))
        resumed.update(b, *outcome(b.task, k))
    assert resumed.info() == teacher.info()
    np.testing.assert_array_equal(teacher.non_exploratory_sample(np.random.default_rng(4)),
                                  resumed.non_exploratory_sample(np.random.default_rng(4)))
    if name == "RIAC":
        assert teacher.splits > 3


def test_non_exploratory_sample_leaves_the_teacher_sequence_alone():
    for name in CONFIGS:
        a, b = make(name, seed=7, **CONFIGS[name]), make(name, seed=7, **CONFIGS[name])
        for k in range(40):
            a.non_exploratory_sample(np.random.default_rng(k))
            ta, tb = a.sample_task(), b.sample_task()
            np.testing.assert_array_equal(ta.task, tb.task)
            a.update(ta, *outcome(ta.task, k))
            b.update(tb, *outcome(tb.task, k))


def test_riac_info_is_bounded():
    teacher = make("RIAC", max_region_size=4, min_region_size=1, min_dims_range_ratio=0.0)
    rng = np.random.default_rng(0)
    for k in range(600):
        teacher.update(teacher.sample_task(), float(rng.normal()), False)
    info = teacher.info()
    assert info["n_leaves"] > 32 and len(info["regions"]) == 32
    interests = [r["interest"] for r in info["regions"]]
    assert interests == sorted(interests, reverse=True)


values = st.floats(-1e12, 1e12, allow_nan=False)
returns = st.one_of(st.lists(values, min_size=1, max_size=80),
                    st.builds(lambda v, n: [v] * n, values, st.integers(1, 80)),
                    st.lists(st.sampled_from([-1e12, 1e12, 0.0, -5.0]), min_size=1, max_size=80))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dim=st.integers(1, 12), rewards=returns, seed=st.integers(0, 2**16),
       thresholds=st.lists(values, min_size=2, max_size=2).map(sorted))
def test_fuzz_any_returns_any_dim_tasks_stay_in_the_unit_cube(dim, rewards, seed, thresholds):
    teachers = [
        make("RIAC", dim=dim, seed=seed, max_region_size=8, min_region_size=1, nb_split_attempts=5),
        make("ADR", dim=dim, seed=seed, max_reward_thr=thresholds[1], min_reward_thr=thresholds[0],
             queue_len=2, step_size=0.3),
        make("Oracle", dim=dim, seed=seed, window_step=[0.3] * dim, reward_thr=thresholds[0], step_rate=2),
    ]
    plot_rng = np.random.default_rng(seed)
    for teacher in teachers:
        for k, r in enumerate(rewards * 2):
            proposal = teacher.sample_task()
            task = proposal.task
            assert task.shape == (dim,) and np.all((task >= 0) & (task <= 1))
            noisy = dataclasses.replace(proposal, task=task + 1e-13 * (-1) ** k)  # rounding, even just outside [0, 1]
            teacher.update(noisy, r, r > 0)
        assert np.all((teacher.non_exploratory_sample(plot_rng) >= 0) & (teacher.non_exploratory_sample(plot_rng) <= 1))
        pickle.dumps(teacher.state_dict())
        teacher.info()
    assert isinstance(teachers[0], RIAC)
