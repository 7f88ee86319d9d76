"""The task a teacher proposed is the one the episode ran, and its proposal comes back with that episode's return."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ECHO, make_raw

from slm_acl.curriculum.controller import CurriculumController, NonFiniteError
from slm_acl.curriculum.task_space import TaskError, TaskSpace, env_task_from_columns
from slm_acl.curriculum.teachers import TEACHERS, Proposal, Teacher, TeacherContext
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import Session
from slm_acl.spec import validate


class RecordingTeacher:
    """Wraps a Random teacher and records every sample and every update."""

    def __init__(self, inner):
        self.inner, self.samples, self.updates = inner, [], []

    def sample_task(self):
        proposal = self.inner.sample_task()
        self.samples.append(proposal)
        return proposal

    def update(self, proposal, episodic_return, success):
        self.updates.append((proposal, episodic_return, success))
        self.inner.update(proposal, episodic_return, success)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def echo_spec(vector, num_envs=3, max_t=None, max_frame=600):
    raw = make_raw(env=[{"name": ECHO, "num_envs": num_envs, "max_frame": max_frame, "vector": vector,
                         **({"max_t": max_t} if max_t else {})}],
                   curriculum={"teacher": {"name": "Random"}, "task_space": {"level": [1.0, 9.0]},
                               "success_return": 40.0, "test_set_size": 3},
                   meta={"seed": 11, "log_frequency": 100, "eval_frequency": 10_000})
    return validate(raw)


@pytest.mark.parametrize("vector", ["sync", "subprocess"])
def test_sampled_task_is_the_task_played_and_reported_with_its_return(tmp_path, vector):
    run = echo_spec(vector)
    session = Session(run, RunPaths.new(tmp_path, "t"), progress=False)
    session._build()
    body = session.space.bodies[0]
    recorder = RecordingTeacher(body.controller.teacher)
    body.controller.teacher = recorder
    try:
        session._train()
    finally:
        session.space.close()
    df = pd.read_csv(session.paths.table(0, 0, body.label, "session_df"))
    assert len(df) > 50
    # TaskEcho pays `level` every step: the return proves which task the episode really ran
    np.testing.assert_allclose(df["return"], df["task_level"] * df["length"], rtol=1e-9)
    # every outcome reached the teacher with the very proposal it made, in episode order, each once
    assert len(recorder.updates) == len(df)
    sampled = {id(p) for p in recorder.samples}
    assert len({id(p) for p, _, _ in recorder.updates}) == len(df)
    for (proposal, ret, success), (_, row) in zip(recorder.updates, df.iterrows()):
        assert id(proposal) in sampled
        assert ret == pytest.approx(row["return"])
        assert np.isclose(1.0 + 8.0 * proposal.task[0], row["task_level"])
        assert success == (ret > 40.0)
    # samples = finished episodes + the ones still in flight in each sub-env
    assert len(recorder.samples) == len(df) + sum(p is not None for p in body.controller.proposals)


def test_truncation_and_termination_flags_kept_apart(tmp_path):
    run = echo_spec("sync", num_envs=2, max_t=10)
    session = Session(run, RunPaths.new(tmp_path, "t"), progress=False)
    session._build()
    seen = []
    algorithm = session.space.agents[0].algorithm
    original = algorithm.update

    def record(transitions):
        seen.append((transitions[0].terminated.copy(), transitions[0].truncated.copy()))
        return original(transitions)

    algorithm.update = record
    try:
        session._train()
    finally:
        session.space.close()
    df = pd.read_csv(session.paths.table(0, 0, "a0_e0_b0", "session_df"))
    natural = df["length"] < 10  # TaskEcho ends naturally after 5, 6 or 7 steps, else runs into max_t
    assert set(df.loc[natural, "length"]) <= {5, 6, 7}
    assert not df.loc[natural, "truncated"].any()
    assert (df.loc[~natural, "length"] == 10).all() and df.loc[~natural, "truncated"].all()
    assert natural.any() and (~natural).any()
    terminated = np.array([t for t, _ in seen])
    truncated = np.array([u for _, u in seen])
    assert terminated.any() and truncated.any() and not (terminated & truncated).any()


def test_controller_rejects_nan_return():
    space = TaskSpace.from_spec({"level": [0, 1]})
    teacher = TEACHERS.get("Random")(TEACHERS.get("Random").Config(),
                                     TeacherContext(dim=1, rng=np.random.default_rng(0)))
    controller = CurriculumController(1, space, teacher, success_return=1.0)
    controller.next_task(0)
    with pytest.raises(NonFiniteError, match="not finite"):
        controller.end_episode(0, float("nan"), 10, truncated=False)


def test_task_space_forms_and_round_trip():
    space = TaskSpace.from_spec({"h": [0, 3], "poly": [0, 4, 3], "iv": [[-1, 1], [0, 2]]})
    assert space.names == ["h", "poly_0", "poly_1", "poly_2", "iv_0", "iv_1"]
    raw = space.denormalise(np.full(6, 0.5))
    np.testing.assert_allclose(space.normalise(raw), 0.5)
    assert space.to_env_task(raw) == {"h": 1.5, "poly": [2.0, 2.0, 2.0], "iv": [0.0, 1.0]}
    assert space.contains(raw) and not space.contains(raw + 10)
    with pytest.raises(TaskError, match="missing dims"):
        space.from_values({"h": 1})
    assert env_task_from_columns(["input_vector_0", "input_vector_1", "water_level"], [1, 2, 3]) == {
        "input_vector": [1.0, 2.0], "water_level": 3.0}


def test_a_bare_number_fixes_a_parameter_in_every_task_but_not_for_the_teacher():
    from slm_acl.curriculum.test_sets import uniform

    space = TaskSpace.from_spec({"creepers_width": 0.25, "creepers_height": [0, 4], "terrain_cppn_scale": 10})
    assert space.names == ["creepers_height"] and space.dim == 1
    assert space.to_env_task(np.array([2.0])) == {"creepers_width": 0.25, "terrain_cppn_scale": 10.0,
                                                  "creepers_height": 2.0}
    test_set = uniform(space, 5)
    assert all(test_set.env_task(i)["creepers_width"] == 0.25 for i in range(5))
    with pytest.raises(TaskError, match="to fix it, write 'w': 0.25"):
        TaskSpace.from_spec({"w": [0.25, 0.25], "h": [0, 1]})
    with pytest.raises(TaskError, match="fixes every parameter"):
        TaskSpace.from_spec({"w": 0.25})


def test_expert_knowledge_is_validated_and_reaches_the_teacher_in_unit_coordinates(tmp_path):
    from slm_acl.aeb.space import AEBSpace
    from slm_acl.lib.seeding import SeedTree
    from slm_acl.spec import SpecError, validate

    def spec(**curriculum):
        return {"name": "ek", "agent": [{"algorithm": {"name": "Random"}}],
                "env": [{"name": "slm_acl/ParamPendulum-v0", "num_envs": 1, "max_frame": 100}],
                "curriculum": {"teacher": {"name": "Random"}, "task_space": {"mass": [0.5, 2.5], "length": [0.5, 1.5]},
                               **curriculum}}

    space = AEBSpace.build(validate(spec(initial_dist={"mean": [0.5, 1.5], "std": [0.2, 0.1]})), SeedTree(0))
    dist = space.bodies[0].controller.teacher.context.initial_dist
    np.testing.assert_allclose(dist.mean, [0.0, 1.0])
    np.testing.assert_allclose(dist.std, [0.1, 0.1])
    space.close()
    with pytest.raises(SpecError, match=r"initial_dist.mean: expected 2 finite numbers \(dims \['mass', 'length'\]\)"):
        validate(spec(initial_dist={"mean": [0.5], "std": [0.2, 0.1]}))
    with pytest.raises(SpecError, match="lies outside the task space"):
        validate(spec(target_dist={"mean": [9.0, 1.0], "std": [0.2, 0.1]}))
    with pytest.raises(SpecError, match="expected {'mean'"):
        validate(spec(initial_dist={"mean": [0.5, 1.0], "variance": [0.2, 0.1]}))


def test_dimension_shuffler_is_a_bijection_that_moves_whole_intervals():
    from slm_acl.curriculum.shuffle import DimensionShuffler

    shuffler = DimensionShuffler(3, np.random.default_rng(5), cuttings=4)
    points = np.random.default_rng(0).uniform(0, 1, (200, 3))
    for p in points:
        real = shuffler.to_real(p)
        np.testing.assert_allclose(shuffler.to_proposal(real), p, atol=1e-12)
        # the offset inside an interval is kept: only the interval moves
        np.testing.assert_allclose((real * 4) % 1, (p * 4) % 1, atol=1e-9)
    assert sorted(shuffler.perm[0].tolist()) == [0, 1, 2, 3]
    assert np.all((shuffler.to_real(np.ones(3)) >= 0) & (shuffler.to_real(np.ones(3)) <= 1))


class _Recorder(Teacher):
    Config = None

    def __init__(self, dim):
        super().__init__(None, TeacherContext(dim=dim, rng=np.random.default_rng(0)))
        self.updates = []

    def sample_task(self):
        return Proposal(np.array([0.1, 0.9]))

    def update(self, proposal, episodic_return, success):
        self.updates.append((proposal, episodic_return, success))


def test_shuffled_controller_plays_the_mapped_task_and_updates_the_teacher_with_its_proposal():
    from slm_acl.curriculum.shuffle import DimensionShuffler

    space = TaskSpace.from_spec({"h": [0.0, 4.0], "s": [0.0, 8.0]})
    shuffler = DimensionShuffler(2, np.random.default_rng(1))
    teacher = _Recorder(2)
    controller = CurriculumController(1, space, teacher, success_return=100.0, reward_bounds=(-150.0, 350.0),
                                      shuffler=shuffler)
    task = controller.next_task(0)
    real_unit = shuffler.to_real(np.array([0.1, 0.9]))
    assert task == {"h": 4.0 * real_unit[0], "s": 8.0 * real_unit[1]}
    controller.end_episode(0, 100.0, 10, truncated=False)
    proposal, seen_return, success = teacher.updates[0]
    np.testing.assert_allclose(proposal.task, [0.1, 0.9])  # the teacher's own point, not the mapped task
    assert seen_return == pytest.approx(0.5) and not success  # (100 + 150) / 500; 100 is not > 100
    controller.next_task(0)
    controller.end_episode(0, 1e6, 10, truncated=False)
    assert teacher.updates[1][1] == 1.0 and teacher.updates[1][2]  # clipped for the teacher, raw for success
    state = controller.state_dict()
    fresh = CurriculumController(1, space, _Recorder(2), 100.0, (-150.0, 350.0),
                                 DimensionShuffler(2, np.random.default_rng(9)))
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.shuffler.perm, shuffler.perm)


class _SameTask(Teacher):
    """Proposes one task over and over (fresh proposals with equal vectors) and records what comes back."""

    Config = None

    def __init__(self):
        super().__init__(None, TeacherContext(dim=1, rng=np.random.default_rng(0)))
        self.initial_states, self.updates = [], []

    def sample_task(self):
        return Proposal(np.array([0.25]))

    def record_initial_state(self, proposal, obs):
        self.initial_states.append((proposal, float(obs[0])))

    def update(self, proposal, episodic_return, success):
        self.updates.append((proposal, episodic_return))


def test_each_sub_env_gets_its_own_proposal_back_when_equal_tasks_finish_out_of_order():
    teacher = _SameTask()
    controller = CurriculumController(2, TaskSpace.from_spec({"h": [0.0, 2.0]}), teacher)
    assert controller.next_task(0) == controller.next_task(1) == {"h": 0.5}
    first, second = controller.proposals
    assert first is not second
    controller.record_initial_state(0, np.array([10.0]))
    controller.record_initial_state(1, np.array([20.0]))
    controller.end_episode(1, 5.0, 10, truncated=False)
    controller.end_episode(0, 3.0, 10, truncated=False)
    assert [(p, obs) for p, obs in teacher.initial_states] == [(first, 10.0), (second, 20.0)]
    assert teacher.updates[0][0] is second and teacher.updates[0][1] == 5.0
    assert teacher.updates[1][0] is first and teacher.updates[1][1] == 3.0
    assert controller.proposals == [None, None]


def test_controller_checkpoint_restores_the_proposals_in_flight_and_their_raw_tasks():
    from slm_acl.curriculum.shuffle import DimensionShuffler

    space = TaskSpace.from_spec({"h": [0.0, 4.0], "s": [0.0, 8.0]})
    make = lambda seed: CurriculumController(  # noqa: E731
        3, space, TEACHERS.get("Random")(None, TeacherContext(dim=2, rng=np.random.default_rng(seed))),
        shuffler=DimensionShuffler(2, np.random.default_rng(seed)))
    controller = make(1)
    tasks = [controller.next_task(i) for i in (0, 2)]  # sub-env 1 has none yet
    state = controller.state_dict()
    assert state["proposals"][1] is None and all(isinstance(p["task"], np.ndarray) for p in state["proposals"][::2])
    resumed = make(7)
    resumed.load_state_dict(state)
    assert [resumed.next_task(i) for i in (0, 2)] == tasks  # the tasks in flight, not fresh samples
    for i in (0, 2):
        np.testing.assert_array_equal(resumed.proposals[i].task, controller.proposals[i].task)
        np.testing.assert_array_equal(resumed.raw_tasks[i], controller.raw_tasks[i])
    np.testing.assert_array_equal(resumed.next_task(1)["h"], controller.next_task(1)["h"])  # same teacher rng
    with pytest.raises(ValueError, match="proposals for 3 sub-envs, this body has 2"):
        CurriculumController(2, space, TEACHERS.get("Random")(None, TeacherContext(
            dim=2, rng=np.random.default_rng(0)))).load_state_dict(state)


def test_a_teacher_that_returns_a_bare_vector_is_told_to_return_a_proposal():
    class Bare(_SameTask):
        def sample_task(self):
            return np.array([0.25])

    controller = CurriculumController(1, TaskSpace.from_spec({"h": [0.0, 2.0]}), Bare())
    with pytest.raises(TypeError, match="Bare.sample_task returned a ndarray; it must return a Proposal"):
        controller.next_task(0)


def test_the_teacher_gets_each_episodes_initial_observation_with_its_task(tmp_path):
    from slm_acl.aeb.space import AEBSpace
    from slm_acl.lib.seeding import SeedTree

    space = AEBSpace.build(echo_spec("sync", num_envs=2, max_t=5, max_frame=60), SeedTree(0))
    teacher = space.bodies[0].controller.teacher
    seen = []
    teacher.record_initial_state = lambda proposal, obs: seen.append((proposal, np.array(obs)))
    updates = []
    original_update = teacher.update
    teacher.update = lambda proposal, ret, success: (updates.append(proposal), original_update(proposal, ret, success))
    space.reset()
    while not space.done:
        space.step()
    space.close()
    assert len(updates) > 5 and len(seen) == len(updates) + 2  # every finished episode, plus the 2 in flight
    for proposal, obs in seen:  # TaskEcho starts at (level, t=0), level = 1 + 8 * task
        assert obs[1] == 0.0 and obs[0] == pytest.approx(1.0 + 8.0 * proposal.task[0], abs=1e-5)
    # each update gets the very proposal whose initial state was recorded, and each proposal comes back once
    assert len({id(p) for p in updates}) == len(updates) and {id(p) for p in updates} <= {id(p) for p, _ in seen}


def test_generated_test_sets_grid_and_uniform_are_recorded_with_how_they_were_made(tmp_path):
    import json

    import pandas as pd
    from conftest import make_raw

    from slm_acl.curriculum.test_sets import grid, load_shipped, uniform
    from slm_acl.experiment.paths import RunPaths
    from slm_acl.experiment.session import Session
    from slm_acl.spec import SpecError, validate

    space = TaskSpace.from_spec({"stump_height": [0.0, 3.0], "obstacle_spacing": [0.0, 6.0]})
    made = grid(space, 100)
    shipped = load_shipped("stump_tracks_grid_100")  # TeachMyAgent's grid: the same 100 points
    assert sorted(map(tuple, made.tasks.round(9))) == sorted(map(tuple, shipped.tasks.round(9)))
    assert "10 evenly spaced values per dim" in made.note
    np.testing.assert_array_equal(uniform(space, 7, seed=5).tasks, uniform(space, 7, seed=5).tasks)
    assert not np.array_equal(uniform(space, 7, seed=5).tasks, uniform(space, 7, seed=6).tasks)

    curriculum = {"teacher": {"name": "Random"}, "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5]},
                  "success_return": -200, "test_set": "grid", "test_set_size": 9}
    raw = make_raw(curriculum=curriculum)
    paths = RunPaths.new(tmp_path, "t")
    Session(validate(raw), paths, progress=False).run_session()
    recorded = json.loads(paths.info("t_t0_s0_a0_e0_b0_test_set.json").read_text())
    assert recorded["name"] == "grid_9" and len(recorded["tasks"]) == 9 and "grid of 3" in recorded["note"]
    assert pd.read_csv(paths.table(0, 0, "a0_e0_b0", "eval_df"))["n_tasks"].eq(9).all()
    with pytest.raises(SpecError, match="k\\^2; 10 is not"):
        validate(make_raw(curriculum={**curriculum, "test_set_size": 10}))
    with pytest.raises(SpecError, match="generated: uniform, grid"):
        validate(make_raw(curriculum={**curriculum, "test_set": "gird"}))
    uniform_raw = make_raw(curriculum={**curriculum, "test_set": "uniform", "test_set_size": 5, "test_set_seed": 4})
    paths = RunPaths.new(tmp_path / "u", "t")
    Session(validate(uniform_raw), paths, progress=False).run_session()
    recorded = json.loads(paths.info("t_t0_s0_a0_e0_b0_test_set.json").read_text())
    assert recorded["name"] == "uniform_5_seed4" and "default_rng(4)" in recorded["note"]
