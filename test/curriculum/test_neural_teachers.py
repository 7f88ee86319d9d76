"""SPDL, GoalGAN and Setter-Solver: each learns what it should, resumes exactly and survives odd returns.

The nets are shrunk and the schedules shortened so the module runs in a few seconds; the
published sizes are the configs' defaults.
"""
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
from slm_acl.curriculum.teachers.setter_solver import SetterSolverProposal
from slm_acl.curriculum.teachers.spdl import SelfPacedProposal
from slm_acl.spec import SpecError, validate

SPACE = TaskSpace.from_spec({"mass": [0.5, 2.0], "length": [0.5, 1.5]})
TARGET = np.array([0.8, 0.7])
INITIAL = Gaussian(np.array([0.1, 0.2]), np.array([0.05, 0.05]))
TARGET_DIST = Gaussian(TARGET, np.array([0.1, 0.1]))

SMALL = {
    "Self-Paced": {"update_frequency": 10, "update_offset": 10, "alpha_offset": 2},
    "GoalGAN": {"generator_layers": (32, 32), "discriminator_layers": (32, 32), "update_size": 6,
                "gan_iterations": 5, "pretrain_iterations": 5, "pretrain_samples": 50, "p_old": 0.3,
                "p_random": 0.2},
    "Setter-Solver": {"setter_hidden_size": 16, "num_blocks": 1, "num_layers_per_block": 1,
                      "judge_layers": (16, 16), "update_frequency": 7, "train_steps": 2},
}


def near_target_value(obs: np.ndarray) -> np.ndarray:
    """A synthetic V(s0): the episode's initial observation is its task, and tasks near TARGET are worth more."""
    return 1.5 - np.linalg.norm(np.asarray(obs)[:, :2] - TARGET, axis=1)


def make(name, seed=0, **overrides):
    cls = TEACHERS.get(name)
    config = dataclasses.replace(cls.Config(), **overrides)
    context = TeacherContext(dim=2, rng=np.random.default_rng(seed), success_return=0.0,
                             value_estimator=near_target_value if name == "Self-Paced" else None,
                             initial_dist=INITIAL, target_dist=TARGET_DIST)
    return cls(config, context)


def play(teacher, n, outcome, plot_rng=None):
    """n episodes the way the lab plays them: sample, reset (the initial state shows the task played, in
    raw units and back), update with the same proposal."""
    tasks = []
    for _ in range(n):
        proposal = teacher.sample_task()
        task = proposal.task
        assert task.shape == (2,) and np.all(np.isfinite(task)) and np.all((task >= 0) & (task <= 1))
        played = SPACE.normalise(SPACE.denormalise(task))
        teacher.record_initial_state(proposal, played.copy())
        episodic_return, success = outcome(played)
        teacher.update(proposal, episodic_return, success)
        if plot_rng is not None:
            teacher.non_exploratory_sample(plot_rng)
        tasks.append(task)
    return np.array(tasks)


def gaussian_kl(m0, c0, m1, c1):
    """KL(N(m0, c0) || N(m1, c1)) in closed form."""
    inv = np.linalg.inv(c1)
    diff = m1 - m0
    return 0.5 * (np.trace(inv @ c0) + diff @ inv @ diff - len(m0)
                  + np.log(np.linalg.det(c1) / np.linalg.det(c0)))


# ---- SPDL --------------------------------------------------------------------------------------
def spdl_run(updates, **overrides):
    """SPDL on the near-target V; returns the teacher, its first and last info and each update's KL step."""
    teacher = make("Self-Paced", update_frequency=50, update_offset=50, alpha_offset=3, **overrides)
    start = teacher.info()
    history = [(teacher._mean.copy(), teacher._chol @ teacher._chol.T)]
    for _ in range(updates):
        play(teacher, 50, lambda task: (0.0, False))
        history.append((teacher._mean.copy(), teacher._chol @ teacher._chol.T))
        assert teacher.info()["value_source"] == "value"
    steps = [gaussian_kl(m0, c0, m1, c1) for (m0, c0), (m1, c1) in zip(history, history[1:])]
    return teacher, start, teacher.info(), np.array(steps)


def test_spdl_moves_from_initial_towards_target():
    teacher, start, end, steps = spdl_run(15)
    assert end["iteration"] == 15
    assert np.linalg.norm(np.array(end["mean"]) - TARGET) < np.linalg.norm(np.array(start["mean"]) - TARGET) - 0.2
    assert end["kl_to_target"] < 0.6 * start["kl_to_target"]
    assert np.all(steps <= teacher.config.max_kl + 1e-9) and np.all(steps > 0)


def test_spdl_kl_step_bound_holds_when_it_binds():
    teacher, start, end, steps = spdl_run(4, max_kl=0.005)  # unbounded, the steps would be ~0.03
    assert np.all(steps <= 0.005 + 1e-12) and np.all(steps > 0.9 * 0.005)
    assert end["step_kl"] == pytest.approx(steps[-1], rel=1e-6)


def test_spdl_without_initial_states_falls_back_to_returns():
    teacher = make("Self-Paced", update_frequency=20, update_offset=20)
    for _ in range(20):  # no record_initial_state: the returns stand in for V(s0)
        proposal = teacher.sample_task()
        teacher.update(proposal, float(near_target_value(proposal.task[None])[0]), False)
    assert teacher.info()["value_source"] == "return" and teacher.info()["iteration"] == 1


# ---- GoalGAN -----------------------------------------------------------------------------------
def test_goal_gan_concentrates_on_goals_of_intermediate_difficulty():
    teacher = make("GoalGAN", seed=1, generator_layers=(64, 64), discriminator_layers=(64, 64), update_size=50,
                   gan_iterations=150, use_pretrained_samples=False)
    outcomes = np.random.default_rng(5)

    def band(task):  # easy below 0.4, a coin flip in [0.4, 0.6), impossible above
        p = 1.0 if task[0] < 0.4 else 0.5 if task[0] < 0.6 else 0.0
        return 0.0, bool(outcomes.random() < p)

    play(teacher, 500, band)
    info = teacher.info()
    assert info["trainings"] >= 3 and info["success_buffer"] > 0 and 0 < info["goid_rate"] < 1
    goals = np.array([teacher.non_exploratory_sample(np.random.default_rng(i)) for i in range(300)])
    in_band = np.mean((goals[:, 0] >= 0.4) & (goals[:, 0] < 0.6))
    assert in_band > 0.5  # uniform goals: 0.2


def test_goal_gan_pretrains_on_the_initial_distribution():
    teacher = make("GoalGAN", generator_layers=(32, 32), discriminator_layers=(32, 32), pretrain_iterations=300)
    goals = np.array([teacher.non_exploratory_sample(np.random.default_rng(i)) for i in range(200)])
    assert np.linalg.norm(np.median(goals, axis=0) - INITIAL.mean) < 0.15


# ---- Setter-Solver -----------------------------------------------------------------------------
def test_setter_solver_judge_learns_the_feasibility_map():
    teacher = make("Setter-Solver", setter_hidden_size=16, num_blocks=1, num_layers_per_block=2,
                   update_frequency=50, train_steps=30, learning_rate=1e-3)
    tasks = play(teacher, 300, lambda task: (0.0, bool(task[0] < 0.5)))
    assert np.all((tasks >= 0) & (tasks <= 1))
    grid = np.random.default_rng(1).uniform(size=(1000, 2))
    accuracy = np.mean((teacher.judge_probability(grid) > 0.5) == (grid[:, 0] < 0.5))
    assert accuracy > 0.75  # chance: 0.5
    info = teacher.info()
    assert all(np.isfinite(info[k]) for k in ("judge_loss", "validity_loss", "feasibility_loss", "coverage_loss"))


def test_setter_flow_log_density_is_exact_both_ways():
    teacher = make("Setter-Solver", setter_hidden_size=16)
    import torch

    with torch.no_grad():
        for p in teacher.setter.parameters():  # the zero-initialised output layers make it too easy
            p.add_(0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(0)))
        z, f = torch.randn(20, 2, generator=torch.Generator().manual_seed(1)), torch.rand(20, 1)
        goals, log_p = teacher.setter(z, f)
        assert torch.allclose(teacher.setter.log_prob(goals, f), log_p, atol=1e-3)


# ---- all three ---------------------------------------------------------------------------------
NAMES = list(SMALL)


def student():
    """Deterministic outcomes that vary between attempts of one goal, so some goals are GOIDs."""
    episodes = iter(range(10**6))

    def outcome(task):
        return float(near_target_value(task[None])[0]), bool(task[0] < 0.3 or next(episodes) % 3 == 0)
    return outcome


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_continues_the_same_samples(name):
    original = make(name, **SMALL[name])
    play(original, 23, student())
    state = pickle.loads(pickle.dumps(original.state_dict()))
    # plotting with its own generator must not shift the teacher's sequence
    expected = play(original, 50, student(), plot_rng=np.random.default_rng(3))
    resumed = make(name, seed=999, **SMALL[name])
    resumed.load_state_dict(state)
    np.testing.assert_array_equal(play(resumed, 50, student()), expected)
    np.testing.assert_equal(resumed.info(), original.info())
    assert original.info()[{"Self-Paced": "iteration"}.get(name, "trainings")] >= 3


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(returns=st.lists(st.one_of(st.floats(-1e300, 1e300), st.sampled_from([0.0, -5.0, 1e12])),
                        min_size=1, max_size=40),
       constant=st.booleans())
def test_odd_returns_never_crash_or_leave_the_cube(name, returns, constant):
    teacher = make(name, **SMALL[name])
    if name == "Self-Paced":  # V(s0) is the fuzzed return itself
        teacher.context.value_estimator = lambda obs: np.asarray(obs)[:, 2]
    for r in returns:
        r = returns[0] if constant else r
        proposal = teacher.sample_task()
        task = proposal.task
        assert np.all(np.isfinite(task)) and np.all((task >= 0) & (task <= 1))
        teacher.record_initial_state(proposal, np.array([*task, r]))
        teacher.update(proposal, r, r > 0)
    for _ in range(3):
        task = teacher.non_exploratory_sample(np.random.default_rng(0))
        assert np.all(np.isfinite(task)) and np.all((task >= 0) & (task <= 1))
    info = teacher.info()
    numbers = [v for v in info.values() if isinstance(v, float)] + info.get("mean", []) + info.get("std", [])
    assert not any(np.isnan(numbers))


@pytest.mark.parametrize("name, curriculum, path", [
    ("Self-Paced", {}, "curriculum.initial_dist"),
    ("Self-Paced", {"initial_dist": {"mean": [0.6, 0.6], "std": [0.1, 0.1]}}, "curriculum.target_dist"),
    ("GoalGAN", {"success_return": None}, "curriculum.success_return"),
    ("Setter-Solver", {"success_return": None}, "curriculum.success_return"),
])
def test_missing_expert_knowledge_is_a_spec_error(name, curriculum, path):
    base = {"teacher": {"name": name}, "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5]},
            "success_return": -200, "test_set_size": 4}
    raw = make_raw(curriculum={**base, **curriculum})
    with pytest.raises(SpecError) as info:
        validate(raw)
    assert path in str(info.value)
    complete = {**base, "initial_dist": {"mean": [0.6, 0.6], "std": [0.1, 0.1]},
                "target_dist": {"mean": [1.8, 1.2], "std": [0.3, 0.2]}}
    student = [{"name": "ppo", "algorithm": {"name": "PPO"}, "net": {"type": "MLPNet"},  # has V(s) for SPDL
                "memory": {"name": "OnPolicyBatch"}}]
    assert validate(make_raw(agent=student, curriculum=complete)).spec.curriculum.teacher.name == name


# ---- proposals: each episode's bookkeeping comes back with that episode -------------------------
# Two episodes on exactly equal task vectors that finish in the opposite order: a teacher that found
# its bookkeeping again by comparing tasks would give each episode the other's.
EDGE = np.array([1.0, 0.6])


def test_spdl_values_each_episode_with_its_own_draw_and_initial_state_on_equal_contexts():
    teacher = make("Self-Paced", update_offset=100)
    # two draws past the border clip to the same context: equal tasks, different raw draws
    first = SelfPacedProposal(EDGE.copy(), raw=np.array([1.3, 0.6]))
    second = SelfPacedProposal(EDGE.copy(), raw=np.array([1.1, 0.6]))
    teacher.record_initial_state(first, np.array([0.1, 0.1]))
    teacher.record_initial_state(second, np.array([0.9, 0.9]))
    teacher.update(second, 5.0, False)
    teacher.update(first, 7.0, False)
    (raw_a, obs_a, ret_a), (raw_b, obs_b, ret_b) = teacher._buffer
    assert (raw_a.tolist(), obs_a.tolist(), ret_a) == ([1.1, 0.6], [0.9, 0.9], 5.0)
    assert (raw_b.tolist(), obs_b.tolist(), ret_b) == ([1.3, 0.6], [0.1, 0.1], 7.0)


def test_spdl_update_sees_the_initial_states_in_episode_order():
    seen = []

    def value(obs):
        seen.append(np.array(obs))
        return np.asarray(obs)[:, 0]

    teacher = make("Self-Paced", update_frequency=2, update_offset=2)
    teacher.context.value_estimator = value
    first, second = teacher.sample_task(), teacher.sample_task()
    first.task, second.task = EDGE.copy(), EDGE.copy()  # as if both draws had clipped to one point
    teacher.record_initial_state(first, np.array([0.1, 0.0]))
    teacher.record_initial_state(second, np.array([0.9, 0.0]))
    teacher.update(second, 0.0, False)
    teacher.update(first, 0.0, False)
    assert teacher.info()["value_source"] == "value" and teacher.info()["iteration"] == 1
    np.testing.assert_array_equal(seen[0], [[0.9, 0.0], [0.1, 0.0]])


def test_setter_solver_keeps_each_goals_own_feasibility_on_equal_goals():
    teacher = make("Setter-Solver", **{**SMALL["Setter-Solver"], "update_frequency": 50})
    easy = SetterSolverProposal(EDGE.copy(), f=0.9)
    hard = SetterSolverProposal(EDGE.copy(), f=0.1)
    teacher.update(hard, 0.0, False)
    teacher.update(easy, 0.0, True)
    assert [(f, success) for _, f, success in teacher._window] == [(0.1, False), (0.9, True)]


def test_goal_gan_labels_each_goal_from_its_own_rollouts_on_equal_goals():
    import torch

    teacher = make("GoalGAN", n_rollouts=2, update_size=2, state_noise_level=0.0, p_old=0.0, p_random=0.0,
                   use_pretrained_samples=False, generator_layers=(8,), discriminator_layers=(8,), gan_iterations=1)
    with torch.no_grad():  # a generator whose every goal is the centre: all goals are equal
        teacher.generator[-2].weight.zero_()
        teacher.generator[-2].bias.zero_()
    a1, a2, b1, b2 = (teacher.sample_task() for _ in range(4))
    assert all(p.task.tolist() == [0.5, 0.5] for p in (a1, a2, b1, b2))
    assert a1.goal == a2.goal != b1.goal == b2.goal
    # four sub-envs finish out of order: goal a succeeds both times, goal b fails both times
    for proposal, success in ((a1, True), (b1, False), (b2, False), (a2, True)):
        teacher.update(proposal, 0.0, success)
    info = teacher.info()
    assert (info["goid_rate"], info["easy_rate"], info["hard_rate"]) == (0.0, 0.5, 0.5)
    assert info["success_buffer"] == 1 and info["goals_in_rollout"] == 0
    with pytest.raises(ValueError, match="no rollouts left"):
        teacher.update(a1, 0.0, True)  # a proposal goes back once


@pytest.mark.parametrize("name", NAMES)
def test_a_teacher_refuses_a_proposal_it_did_not_make(name):
    teacher = make(name, **SMALL[name])
    with pytest.raises(TypeError, match="takes back only the .*Proposal its own sample_task returned"):
        teacher.update(Proposal(EDGE.copy()), 0.0, False)


def plain(value):
    """True when `value` is made only of numpy arrays, numbers, strings, None, lists and dicts."""
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, (np.ndarray, int, float, str, bool))


@pytest.mark.parametrize("name", NAMES)
def test_controller_checkpoint_gives_each_in_flight_episode_its_own_proposal_back(name):
    """Three sub-envs finishing in a rotating order, checkpointed with every sub-env mid-episode:
    the resumed controller and teacher continue exactly like the uninterrupted ones."""
    unit = TaskSpace.from_spec({"x": [0.0, 1.0], "y": [0.0, 1.0]})
    order = (2, 0, 1)

    def start(controller):
        for i in range(3):
            controller.next_task(i)
            controller.record_initial_state(i, np.array([*controller.raw_tasks[i], -1.0]))

    def run(controller, first, episodes):
        played = []
        for k in range(first, first + episodes):
            i = order[k % 3]
            task = controller.raw_tasks[i]
            episodic_return = float(near_target_value(task[None])[0]) + 0.1 * (k % 5)
            controller.end_episode(i, episodic_return, 10, truncated=False)
            played.append(task)
            controller.next_task(i)
            controller.record_initial_state(i, np.array([*controller.raw_tasks[i], float(k)]))
        return np.array(played)

    teacher = make(name, **SMALL[name])
    original = CurriculumController(3, unit, teacher, success_return=1.0)
    start(original)
    run(original, 0, 23)
    state = pickle.loads(pickle.dumps(original.state_dict()))
    assert plain(state["proposals"]) and all(p is not None for p in state["proposals"])
    expected = run(original, 23, 60)
    resumed = CurriculumController(3, unit, make(name, seed=999, **SMALL[name]), success_return=1.0)
    resumed.load_state_dict(state)
    np.testing.assert_array_equal(run(resumed, 23, 60), expected)
    np.testing.assert_equal(resumed.teacher.info(), original.teacher.info())
    assert type(resumed.proposals[0]) is type(teacher).proposal_type
