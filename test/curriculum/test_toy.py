"""The toy bench: teachDeepRL's competence rule, its score, and that it tells good teachers from bad."""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from slm_acl.curriculum.teachers.base import Proposal, Teacher, TeacherContext
from slm_acl.curriculum.toy import ToyStudent, play_teacher, run_teacher
from slm_acl.spec import SpecError, teacher_choice

ORIGIN = np.array([0.05, 0.05])


def cell_centre(*index: int, nb_cubes: int = 10) -> np.ndarray:
    return (np.asarray(index, dtype=np.float64) + 0.5) / nb_cubes


def master(student: ToyStudent, *index: int, times: int = 76) -> None:
    for _ in range(times):
        student.play(cell_centre(*index))


def test_origin_learns_at_once_and_far_cells_do_not():
    student = ToyStudent()
    assert student.play(ORIGIN) == pytest.approx(0.01)
    assert student.competence[0, 0] == 1
    assert student.play(np.array([0.95, 0.95])) == 0.0
    assert student.competence.sum() == 1


def test_a_cell_learns_once_a_previous_neighbour_reaches_mastery():
    student = ToyStudent()
    master(student, 0, 0, times=74)
    assert student.play(cell_centre(1, 0)) == 0.0  # origin at 74 < 75: (1, 0) still locked
    student.play(ORIGIN)  # origin at 75: unlocks (>= 75) ...
    assert student.mastered_fraction() == 0.0  # ... but is not mastered yet (> 75)
    for index in ((1, 0), (0, 1), (1, 1)):  # previous neighbours include the diagonal
        assert student.play(cell_centre(*index)) == pytest.approx(0.01), index
    for index in ((2, 0), (0, 2), (2, 2)):  # two steps away: still locked
        assert student.play(cell_centre(*index)) == 0.0, index
    student.play(ORIGIN)
    assert student.mastered_fraction() == pytest.approx(0.01)
    assert student.score() == pytest.approx(1.0)


def test_competence_is_capped_and_rewards_lie_in_the_unit_interval():
    student = ToyStudent()
    rewards = [student.play(ORIGIN) for _ in range(150)]
    assert student.competence[0, 0] == 100
    assert rewards[-1] == 1.0 and rewards[99] == 1.0
    assert not student.learnable_mask()[0, 0]  # capped: cannot gain any more
    rng = np.random.default_rng(0)
    rewards += [student.play(t) for t in rng.uniform(0, 1, (500, 2))]
    assert all(0.0 <= r <= 1.0 for r in rewards)
    noisy = ToyStudent(reward_noise=0.3, rng=np.random.default_rng(1))
    assert all(0.0 <= noisy.play(t) <= 1.0 for t in rng.uniform(0, 1, (200, 2)))


def test_extra_dims_are_ignored():
    plain, wide = ToyStudent(), ToyStudent(extra_dims=3)
    rng = np.random.default_rng(2)
    for task in rng.uniform(0, 0.3, (400, 2)):
        noise = rng.uniform(0, 1, 3)
        assert wide.play(np.concatenate([task, noise])) == plain.play(task)
    np.testing.assert_array_equal(wide.competence, plain.competence)
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        wide.play(ORIGIN)


def test_bad_tasks_are_refused():
    student = ToyStudent()
    for task in ([1.2, 0.0], [np.nan, 0.1]):
        with pytest.raises(ValueError, match="clip"):
            student.play(np.array(task))
    assert student.play(np.array([1.0, 1.0])) == 0.0  # the upper bound belongs to the last cell


def brute_force_learnable(competence: np.ndarray, mastery: float, cap: int) -> np.ndarray:
    """The rule as written in REFERENCE.md §9, one cell at a time."""
    out = np.zeros(competence.shape, dtype=bool)
    for cell in itertools.product(*map(range, competence.shape)):
        unlocked = not any(cell)
        for step in itertools.product((0, 1), repeat=len(cell)):
            prev = tuple(c - s for c, s in zip(cell, step))
            if any(step) and min(prev) >= 0 and competence[prev] >= mastery:
                unlocked = True
        out[cell] = unlocked and competence[cell] < cap
    return out


def test_learnable_mask_matches_the_rule_in_3d():
    student = ToyStudent(dim=3, nb_cubes=5)
    assert student.learnable_mask().sum() == 1 and student.learnable_mask()[0, 0, 0]
    rng = np.random.default_rng(3)
    for episode in range(6000):  # a growing box: a rich, irregular frontier
        student.play(rng.uniform(0, min(1.0, 0.2 + episode / 5000), 3))
    mask = student.learnable_mask()
    assert 1 < mask.sum() < mask.size
    np.testing.assert_array_equal(mask, brute_force_learnable(student.competence, 75, 100))


def test_value_estimate_is_the_cells_expected_reward():
    student = ToyStudent(extra_dims=1)
    master(student, 0, 0, 0, times=30)
    estimate = student.expected_reward(np.array([[0.01, 0.02, 0.9], [0.5, 0.5, 0.1]]))
    np.testing.assert_allclose(estimate, [0.3, 0.0])


def test_run_teacher_random_curve_and_determinism():
    first = run_teacher(teacher_choice("Random", {}), episodes=400, seed=5, eval_every=100, record_samples=True)
    again = run_teacher(teacher_choice("Random", {}), episodes=400, seed=5, eval_every=100, record_samples=True)
    other = run_teacher(teacher_choice("Random", {}), episodes=400, seed=6, eval_every=100, record_samples=True)
    assert len(first.mastered) == 4 and first.eval_episodes.tolist() == [100, 200, 300, 400]
    assert first.samples.shape == (400, 2) and first.competence.shape == (4, 10, 10)
    np.testing.assert_array_equal(first.samples, again.samples)
    np.testing.assert_array_equal(first.mastered, again.mastered)
    assert first.final == again.final
    assert not np.array_equal(first.samples, other.samples)
    assert 0 < first.teacher_s < first.total_s


def test_teachers_for_the_toy_are_validated_like_a_spec():
    with pytest.raises(SpecError, match="Random"):
        teacher_choice("Randmo", {})
    with pytest.raises(SpecError, match="unknown key"):
        teacher_choice("Random", {"bogus": 1})


@dataclasses.dataclass(frozen=True)
class NoSettings:
    pass


class FarCorner(Teacher):
    """The wrong way round: only the cell farthest from the origin."""

    Config = NoSettings

    def sample_task(self) -> Proposal:
        return Proposal(self.rng.uniform(0.9, 1.0, self.dim))


class OutwardWalker(Teacher):
    """A blind curriculum: uniform in the box [0, k/10]^dim, k growing by one every `period` episodes."""

    Config = NoSettings
    period = 400

    def __init__(self, config, context):
        super().__init__(config, context)
        self.episodes = 0

    def sample_task(self) -> Proposal:
        side = min(1.0, (1 + self.episodes // self.period) / 10)
        return Proposal(self.rng.uniform(0.0, side, self.dim))

    def update(self, proposal, episodic_return, success):
        self.episodes += 1


def test_the_bench_tells_a_curriculum_from_the_wrong_way_round():
    def score(cls, seed=0):
        context = TeacherContext(dim=2, rng=np.random.default_rng(seed), success_return=0.75)
        return play_teacher(cls(NoSettings(), context), ToyStudent(), 3000, eval_every=1000).final

    far, walker = score(FarCorner), score(OutwardWalker)
    uniform = run_teacher(teacher_choice("Random", {}), episodes=3000, seed=0).final
    assert far == 0.0
    assert walker >= 5.0
    assert walker > uniform >= far


class ValueProbe(FarCorner):
    """Records what a value-estimating teacher (SPDL) is given on the toy."""

    needs_value_estimate = True

    def __init__(self, config, context):
        super().__init__(config, context)
        self.initial_states, self.values, self.updated = [], [], []

    def sample_task(self) -> Proposal:
        return Proposal(self.rng.uniform(0.0, 0.1, self.dim))  # the origin cell

    def record_initial_state(self, proposal, obs):
        self.initial_states.append((proposal, np.array(obs)))

    def update(self, proposal, episodic_return, success):
        self.updated.append(proposal)
        self.values.append((float(self.context.value_estimator(proposal.task[None])[0]), episodic_return))


def test_a_value_estimating_teacher_gets_the_cells_expected_reward_and_its_own_proposals_back():
    probe = ValueProbe(NoSettings(), TeacherContext(dim=2, rng=np.random.default_rng(0)))
    play_teacher(probe, ToyStudent(), 20, eval_every=10)
    assert len(probe.initial_states) == 20
    assert all(np.array_equal(proposal.task, obs) for proposal, obs in probe.initial_states)
    assert [p for p, _ in probe.initial_states] == probe.updated  # the very objects sample_task returned
    assert probe.values == [pytest.approx((k / 100, k / 100)) for k in range(1, 21)]


def test_a_teacher_that_returns_a_bare_vector_is_told_to_return_a_proposal():
    class BareVector(FarCorner):
        def sample_task(self):
            return np.full(self.dim, 0.5)

    teacher = BareVector(NoSettings(), TeacherContext(dim=2, rng=np.random.default_rng(0)))
    with pytest.raises(TypeError, match="BareVector.sample_task returned a ndarray; it must return a Proposal"):
        play_teacher(teacher, ToyStudent(), 5, eval_every=5)
