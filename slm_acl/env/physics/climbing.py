"""Grasping for climbers (ENV_FACTS.md section 14): grasp actions create and destroy joints.

Each hand carries a small sensor circle. The contact listener lists the graspable fixtures
(ceiling edges, creepers) a sensor touches. Before the world step, a positive grasp action makes
the hand ready to attach and any other value releases its grip (the grasp joint is destroyed);
after the step, a ready hand that touches something and holds nothing passes a coarse overlap test
with the first listed fixture and is pinned to it by a free revolute joint at the sensor's centre.

One deliberate fix: TeachMyAgent tests the overlap against the *body-local* vertices of the
touched body's first fixture, which are wrong for movable creepers once they swing; the lab uses
the touched fixture's world vertices (identical for everything static).
"""
from __future__ import annotations

from typing import Sequence

import Box2D
import numpy as np

OVERLAP_MARGIN = 0.01  # metres added to the sensor radius for the coarse test


def _world_box(fixture: Box2D.b2Fixture) -> tuple[float, float, float, float]:
    shape, transform = fixture.shape, fixture.body.transform
    if isinstance(shape, Box2D.b2EdgeShape):
        points = [transform * shape.vertex1, transform * shape.vertex2]
    else:
        points = [transform * v for v in shape.vertices]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


class Grasping:
    """The grasp state of a climber's sensors within one world."""

    def __init__(self, world: Box2D.b2World, sensors: Sequence[Box2D.b2Body], radius: float):
        self.world = world
        self.sensors = list(sensors)
        self.reach = radius + OVERLAP_MARGIN
        self.joints: list[Box2D.b2Joint | None] = [None] * len(self.sensors)

    def before_step(self, grasp_actions: np.ndarray) -> None:
        """Positive action: ready to attach; otherwise let go."""
        for k, (sensor, action) in enumerate(zip(self.sensors, grasp_actions)):
            data = sensor.userData
            if action > 0:
                data.ready_to_attach = True
                continue
            data.ready_to_attach = False
            if data.has_joint:
                data.has_joint = False
                if self.joints[k] is not None:
                    self.world.DestroyJoint(self.joints[k])
                    self.joints[k] = None

    def after_step(self) -> None:
        """Attach every ready, free hand that touches something graspable and passes the overlap test."""
        for k, sensor in enumerate(self.sensors):
            data = sensor.userData
            if not data.contacts or not data.ready_to_attach or data.has_joint:
                continue
            fixture = data.contacts[0]
            x, y = sensor.worldCenter
            lo_x, lo_y, hi_x, hi_y = _world_box(fixture)
            r = self.reach
            if x - r < hi_x and x + r > lo_x and y - r < hi_y and y + r > lo_y:
                self.joints[k] = self.world.CreateRevoluteJoint(bodyA=sensor, bodyB=fixture.body,
                                                                anchor=(x, y), enableLimit=False,
                                                                enableMotor=False)
                data.has_joint = True
            else:
                data.contacts.pop(0)
                data.has_contact = bool(data.contacts)

    def forget(self) -> None:
        """Drop references to joints (call before the bodies are destroyed at reset)."""
        self.joints = [None] * len(self.sensors)
