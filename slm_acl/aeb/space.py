"""The AEB space: agents, envs and the bodies that join them, built from a validated spec.

`AEBSpace.build` makes one `Body` per BodyPlan (with its vector env, task space, teacher and
clock), then one algorithm per agent over that agent's bodies. `EnvSpace` and `AgentSpace` are
thin views that step all bodies and let each agent act with one batched call over its bodies.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from slm_acl.agent.algorithm.base import Algorithm, Transition
from slm_acl.aeb.body import Body
from slm_acl.aeb.student_reset import ResetEvent, StudentResets
from slm_acl.curriculum.controller import CurriculumController, NonFiniteError, build_controller
from slm_acl.env.factory import EnvMaker
from slm_acl.env.vector import make_vec_env
from slm_acl.lib.seeding import SeedTree
from slm_acl.spec.run_spec import BodyPlan, RunSpec


def env_maker(run: RunSpec, plan: BodyPlan, render_mode: str | None = None) -> EnvMaker:
    """The recipe of one env copy of a body (training and evaluation envs alike)."""
    env_spec = run.spec.env[plan.e]
    return EnvMaker(env_spec.name, plan.embodiment, env_spec.max_t, render_mode,
                    tuple(sorted(env_spec.kwargs.items())))


def make_body(run: RunSpec, plan: BodyPlan, seeds: SeedTree, render_mode: str | None = None,
              vector: str | None = None, num_envs: int | None = None) -> Body:
    env_spec = run.spec.env[plan.e]
    vec = make_vec_env(env_maker(run, plan, render_mode), num_envs or env_spec.num_envs,
                       vector or env_spec.vector)
    try:
        controller = make_controller(plan, vec, seeds)
    except Exception:
        vec.close()
        raise
    return Body(plan, vec, controller, env_spec.max_frame, seeds)


def make_controller(plan: BodyPlan, vec: Any, seeds: SeedTree) -> CurriculumController:
    """The body's curriculum: task space, teacher and shuffler (the spec validator has already checked the
    task space against the env, so this only builds)."""
    if plan.curriculum is None:
        return CurriculumController(vec.num_envs)
    return build_controller(plan.curriculum, vec.num_envs, seeds)


def _student_resets(agent_spec: Any, algorithm: Algorithm) -> StudentResets | None:
    """The agent's reset schedule, for an algorithm that can reset its student (all the lab's can)."""
    if agent_spec.reset_frequency is None:
        return None
    if not type(algorithm).resets_student:
        raise ValueError(f"agent {agent_spec.name!r}: {type(algorithm).__name__} cannot reset its student; remove "
                         "reset_frequency or give the algorithm reset_student()")
    return StudentResets(agent_spec.reset_frequency)


def connect_value_estimator(body: Body, algorithm: Algorithm, slot: int) -> None:
    """Give a teacher that needs V(s) (SPDL) the student's estimate for this body's observations (the spec
    validator has checked that the algorithm `provides_value_estimate`)."""
    teacher = body.controller.teacher
    if teacher is None or not type(teacher).needs_value_estimate:
        return
    teacher.context.value_estimator = functools.partial(algorithm.value_estimate, slot)


@dataclasses.dataclass
class Agent:
    """One algorithm acting for several bodies; `resets` is its student-reset schedule (None: never)."""

    index: int
    name: str
    algorithm: Algorithm
    bodies: list[Body]
    resets: StudentResets | None = None

    @property
    def frame(self) -> int:
        """The agent's frames: its bodies' frames summed (what `reset_frequency` counts; aeb/student_reset.py)."""
        return sum(b.clock.frame for b in self.bodies)

    def maybe_reset_student(self) -> ResetEvent | None:
        """Re-initialise the student when the agent's frames reached a new multiple of its reset_frequency.

        The one place a reset is triggered (after each step's update, by `AEBSpace.step`). Only the algorithm is
        reset: the bodies (their teachers, controllers and clocks) are not touched.
        """
        if self.resets is None or all(b.done for b in self.bodies):
            return None
        frame = self.frame
        index = self.resets.due(frame)
        if index is None:
            return None
        self.algorithm.reset_student(index)
        self.resets.mark(index)
        return ResetEvent(self.index, self.name, index, frame, {b.label: b.clock.frame for b in self.bodies})

    def act(self, deterministic: bool = False) -> list[np.ndarray | None]:
        obs = [None if b.done else b.obs for b in self.bodies]
        actions = self.algorithm.act(obs, deterministic=deterministic)
        for body, action in zip(self.bodies, actions):
            if action is not None and not np.isfinite(action).all():
                raise NonFiniteError(f"agent {self.name!r} produced a non-finite action for body "
                                     f"{body.label} at frame {body.clock.frame}: {action!r}")
        return actions


class AEBSpace:
    def __init__(self, run: RunSpec, bodies: list[Body], agents: list[Agent]):
        self.run, self.bodies, self.agents = run, bodies, agents
        self.reset_events: list[ResetEvent] = []  # student resets not yet recorded; the session drains them

    @classmethod
    def build(cls, run: RunSpec, seeds: SeedTree, render_mode: str | None = None,
              vector: str | None = None, num_envs: int | None = None, device: str = "cpu") -> "AEBSpace":
        bodies: list[Body] = []
        try:
            for plan in run.bodies:
                bodies.append(make_body(run, plan, seeds.child(plan.index), render_mode, vector, num_envs))
            agents = []
            for a, agent_spec in enumerate(run.spec.agent):
                mine = [b for b in bodies if b.plan.a == a]
                algorithm = agent_spec.algorithm.build(
                    [b.interface for b in mine], seeds.child(1000 + a), net=agent_spec.net,
                    memory=agent_spec.memory, device=device)
                agents.append(Agent(a, agent_spec.name, algorithm, mine, _student_resets(agent_spec, algorithm)))
                for slot, body in enumerate(mine):
                    connect_value_estimator(body, algorithm, slot)
        except Exception:
            for b in bodies:
                b.close()
            raise
        return cls(run, bodies, agents)

    def reset(self) -> None:
        for body in self.bodies:
            body.reset()

    @property
    def done(self) -> bool:
        return all(b.done for b in self.bodies)

    def step(self) -> list[dict[str, float]]:
        """One step of every active body; each agent acts once over all its bodies."""
        metrics = []
        for agent in self.agents:
            actions = agent.act()
            transitions: list[Transition | None] = [
                None if action is None else body.step(action) for body, action in zip(agent.bodies, actions)]
            metrics.append(agent.algorithm.update(transitions))
            for body in agent.bodies:
                body.clock.opt_step = agent.algorithm.opt_steps
            event = agent.maybe_reset_student()
            if event is not None:
                self.reset_events.append(event)
        return metrics

    def drain_reset_events(self) -> list[ResetEvent]:
        """The student resets since the last call (the session logs them and writes them to resets_df)."""
        events, self.reset_events = self.reset_events, []
        return events

    def state_dict(self, policy_only: bool = False) -> dict[str, Any]:
        """The space's state; `policy_only`: each algorithm's `policy_state_dict` (a kept best policy, which is
        replayed and evaluated but never resumed, so large memories stay out of it)."""
        return {"bodies": [b.state_dict() for b in self.bodies],
                "agents": [a.algorithm.policy_state_dict() if policy_only else a.algorithm.state_dict()
                           for a in self.agents],
                "student_resets": [None if a.resets is None else a.resets.state_dict() for a in self.agents]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for body, s in zip(self.bodies, state["bodies"]):
            body.load_state_dict(s)
        for agent, s in zip(self.agents, state["agents"]):
            agent.algorithm.load_state_dict(s)
        # a checkpoint written before students could reset has no schedule: no reset had happened
        for agent, s in zip(self.agents, state.get("student_resets", [None] * len(self.agents))):
            if agent.resets is not None and s is not None:
                agent.resets.load_state_dict(s)

    def close(self) -> None:
        for body in self.bodies:
            body.close()
