"""One generic Box2D builder for every `BodyDef`, and the per-step motor and state plumbing.

Envs rebuild the agent at every reset and read its state at every step, so the Box2D definition
objects (fixture, body and joint defs) are prepared once per BodyDef (`_Blueprint`, cached) and only
positions are filled in at build time; `state()` walks precomputed lists.
"""
from __future__ import annotations

import dataclasses

import Box2D
import numpy as np

from slm_acl.env.bodies.model import BodyDef, FixtureDef, JointDef
from slm_acl.env.physics.userdata import Kind, UserData

_SHAPES = {
    "box": lambda f: Box2D.b2PolygonShape(box=f.half_extents),
    "polygon": lambda f: Box2D.b2PolygonShape(vertices=list(f.vertices)),
    "circle": lambda f: Box2D.b2CircleShape(radius=f.radius),
}


def _fixture_def(f: FixtureDef) -> Box2D.b2FixtureDef:
    return Box2D.b2FixtureDef(shape=_SHAPES[f.shape](f), density=f.density, friction=f.friction,
                              restitution=f.restitution, categoryBits=f.category_bits, maskBits=f.mask_bits,
                              isSensor=f.is_sensor)


@dataclasses.dataclass
class _BodySpec:
    """One Box2D body to create: a part, or a grasp sensor (created right after its hand)."""

    name: str
    offset: tuple[float, float]
    angle: float
    fixtures: list[Box2D.b2FixtureDef]
    kind: Kind
    check_contact: bool
    critical: str              # "never" | "always" | "hull"
    pushed: bool               # receives the spawn force
    color1: tuple
    color2: tuple


@dataclasses.dataclass
class _JointSpec:
    joint: JointDef
    b2def: Box2D.b2JointDef    # limits and motor preset; bodies and anchors filled in at build
    a: int                     # index of body_a in creation order
    b: int


class _Blueprint:
    """Box2D definitions of one BodyDef, reusable across builds (Box2D copies them at creation)."""

    def __init__(self, body: BodyDef):
        sensors_of = {s.hand: s for s in body.sensors}
        self.specs: list[_BodySpec] = []
        for p in body.parts:
            self.specs.append(_BodySpec(p.name, p.offset, p.angle, [_fixture_def(f) for f in p.fixtures],
                                        Kind.BODY_OBJECT, p.check_contact, p.critical, p.receives_spawn_force,
                                        p.color1, p.color2))
            s = sensors_of.get(p.name)
            if s is not None:  # the grasp sensor: a sensor circle; its contacts are always tracked
                circle = FixtureDef(shape="circle", radius=s.radius, density=s.density, friction=0.2,
                                    restitution=0.0, category_bits=s.category_bits, mask_bits=s.mask_bits,
                                    is_sensor=True)
                self.specs.append(_BodySpec(s.name, s.offset, 0.0, [_fixture_def(circle)], Kind.BODY_SENSOR,
                                            True, "never", False, s.color1, s.color2))
        index = {spec.name: i for i, spec in enumerate(self.specs)}
        self.joints = [_JointSpec(j, _joint_def(j, body.motors_torque), index[j.body_a], index[j.body_b])
                       for j in body.joints]
        self.motor_joints = sorted((k for k, js in enumerate(self.joints) if js.joint.is_motor),
                                   key=lambda k: self.joints[k].joint.motor_index)
        self.body_def = Box2D.b2BodyDef()
        self.body_def.type = Box2D.b2_dynamicBody


def _joint_def(j: JointDef, motors_torque: float) -> Box2D.b2JointDef:
    if j.kind == "weld":
        return Box2D.b2WeldJointDef()
    jd = Box2D.b2RevoluteJointDef()
    jd.enableLimit = j.enable_limit
    if j.enable_limit:
        jd.lowerAngle, jd.upperAngle = j.lower, j.upper
    jd.enableMotor = j.is_motor
    if j.is_motor:
        jd.motorSpeed = j.initial_motor_speed
        jd.maxMotorTorque = motors_torque
    return jd


_BLUEPRINTS: dict[int, tuple[BodyDef, _Blueprint]] = {}
_MAX_BLUEPRINTS = 64


def _blueprint(body: BodyDef) -> _Blueprint:
    """Cached by identity (the entry keeps the BodyDef alive, so the id cannot be reused)."""
    hit = _BLUEPRINTS.get(id(body))
    if hit is None:
        if len(_BLUEPRINTS) >= _MAX_BLUEPRINTS:
            _BLUEPRINTS.clear()
        hit = _BLUEPRINTS[id(body)] = (body, _Blueprint(body))
    return hit[1]


class Embodiment:
    """A BodyDef built in a Box2D world.

    parts: the part bodies in creation order (sensors excluded); sensors: the grasp sensors;
    head: the reference part of the observation and reward; motors: the motorised revolute joints in
    motor (= action) order; joints: every joint in creation order.
    """

    def __init__(self, world: Box2D.b2World, body: BodyDef, parts: list, sensors: list, joints: list,
                 motors: list, head: Box2D.b2Body):
        self.world, self.body = world, body
        self.parts, self.sensors, self.joints, self.motors, self.head = parts, sensors, joints, motors, head
        self.action_size = body.action_size
        self.state_size = body.state_size
        defs = body.motors
        by_name = {b.userData.name: b for b in parts}
        # Per motor: (joint, angle correction, speed control, contact part user data or None).
        self._motor_reads = [(joint, d.angle_correction, d.speed_control,
                              by_name[d.contact_part].userData if d.contact_part is not None else None)
                             for joint, d in zip(motors, defs)]
        self._sensor_data = [s.userData for s in sensors]
        self._speed_controls = [d.speed_control for d in defs]
        self._motors_torque = body.motors_torque
        self._n_motors = len(motors)
        self._values = [0.0] * self.state_size
        self._alive = True

    @classmethod
    def build(cls, world: Box2D.b2World, body: BodyDef, x: float, y: float, spawn_force: float,
              hull_critical: bool) -> Embodiment:
        """Create every part at (x, y) + offset, the joints, and push the parts that receive the spawn
        force with (spawn_force, 0). hull_critical resolves the parts whose `critical` is "hull"."""
        bp = _blueprint(body)
        critical = {"never": False, "always": True, "hull": bool(hull_critical)}
        bd = bp.body_def
        created = []
        for spec in bp.specs:
            bd.position = (x + spec.offset[0], y + spec.offset[1])
            bd.angle = spec.angle
            b2body = world.CreateBody(bd)
            for fd in spec.fixtures:
                b2body.CreateFixture(fd)
            b2body.userData = UserData(spec.kind, spec.name, spec.check_contact, critical[spec.critical],
                                       spec.color1, spec.color2)
            if spec.pushed:
                b2body.ApplyForceToCenter((spawn_force, 0.0), True)
            created.append(b2body)
        joints = []
        for js in bp.joints:
            joints.append(world.CreateJoint(_place(js, created[js.a], created[js.b], x, y)))
        parts = [b for b in created if b.userData.kind == Kind.BODY_OBJECT]
        sensors = [b for b in created if b.userData.kind == Kind.BODY_SENSOR]
        head = next(b for b in parts if b.userData.name == body.head)
        return cls(world, body, parts, sensors, joints, [joints[k] for k in bp.motor_joints], head)

    def apply_action(self, action: np.ndarray) -> None:
        """Motor k: speed = speed_control * sign(a_k), torque = motors_torque * clip(|a_k|, 0, 1).

        Only the motor entries; a climber's grasp entries (after them) are the env's business."""
        self._check_alive()
        values = np.asarray(action)[: self._n_motors].tolist()
        if len(values) != self._n_motors:
            raise ValueError(f"{self.body.name}: action has {len(values)} entries for {self._n_motors} motors")
        torque = self._motors_torque
        # Plain Python floats are faster than numpy here; for a float32 action and an integer torque the
        # double product is exact, so Box2D stores the same float32 as TeachMyAgent's numpy product.
        for joint, speed_control, a in zip(self.motors, self._speed_controls, values):
            joint.motorSpeed = speed_control * ((a > 0) - (a < 0))
            joint.maxMotorTorque = torque * min(abs(a), 1.0)

    def state(self) -> np.ndarray:
        """Per motor: angle + angle_correction, speed / speed_control, then its contact flag if it has
        one; then per grasp sensor: has_contact, has_joint. float32, length state_size."""
        self._check_alive()
        values = self._values
        i = 0
        for joint, correction, speed_control, contact in self._motor_reads:
            values[i] = joint.angle + correction
            values[i + 1] = joint.speed / speed_control
            i += 2
            if contact is not None:
                values[i] = 1.0 if contact.has_contact else 0.0
                i += 1
        for data in self._sensor_data:
            values[i] = 1.0 if data.has_contact else 0.0
            values[i + 1] = 1.0 if data.has_joint else 0.0
            i += 2
        return np.array(values, dtype=np.float32)

    def destroy(self) -> None:
        """Destroy the parts and sensors (Box2D destroys their joints with them). Safe to call twice."""
        if not self._alive:
            return
        for b in self.parts + self.sensors:
            self.world.DestroyBody(b)
        self._alive = False
        self.parts, self.sensors, self.joints, self.motors = [], [], [], []
        self._motor_reads, self._sensor_data = [], []

    def _check_alive(self) -> None:
        if not self._alive:
            raise RuntimeError(f"{self.body.name}: the embodiment was destroyed")


def _place(js: _JointSpec, a: Box2D.b2Body, b: Box2D.b2Body, x: float, y: float) -> Box2D.b2JointDef:
    """Fill bodies and anchors into the prepared joint def. A world anchor goes through Box2D's
    Initialize (local anchors + referenceAngle = angle(B) - angle(A)); explicit local anchors get the
    same referenceAngle, as pybox2d sets it."""
    jd, j = js.b2def, js.joint
    if j.anchor is not None:
        jd.Initialize(a, b, (x + j.anchor[0], y + j.anchor[1]))
    else:
        jd.bodyA, jd.bodyB = a, b
        jd.localAnchorA, jd.localAnchorB = j.local_anchor_a, j.local_anchor_b
        jd.referenceAngle = b.angle - a.angle
    return jd
