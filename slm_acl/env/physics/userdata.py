"""What a Box2D body is to the lab's worlds, stored in its `userData`.

The contact listener, lidars, water and climbing rules only need to know what kind of object a
body is (part of an agent, a grasp sensor, ground, graspable ceiling, creeper, water) and a few
flags; the renderer reads the colours. One small slotted class for all of them keeps lookups cheap
in the per-step hot paths.
"""
from __future__ import annotations

import enum


class Kind(enum.IntEnum):
    """Object types (TeachMyAgent's numbering, ENV_FACTS.md section 13)."""

    BODY_OBJECT = 0          # a part of an agent
    WATER = 1
    TERRAIN = 2              # ground edges and stumps ("grass")
    GRIP_TERRAIN = 3         # the ceiling ("rock"): graspable
    MOTOR = 4
    BODY_SENSOR = 5          # a climber's grasp sensor
    SENSOR_GRIP_TERRAIN = 6  # a creeper: graspable, passed through


class UserData:
    """Per-body flags. `has_contact` is written by the contact listener; sensors also track grasping.

    check_contact: the listener tracks this part's contacts (feet, hands, heads).
    critical: a contact of this part ends the episode (-100), e.g. a biped's hull in Stump Tracks.
    contacts: for grasp sensors, the graspable bodies currently touched, oldest first.
    """

    __slots__ = ("kind", "name", "check_contact", "critical", "has_contact", "has_joint", "ready_to_attach",
                 "contacts", "color1", "color2")

    def __init__(self, kind: Kind, name: str = "", check_contact: bool = False, critical: bool = False,
                 color1: tuple[float, float, float] = (1.0, 1.0, 1.0),
                 color2: tuple[float, float, float] = (0.6, 0.6, 0.6)):
        self.kind = kind
        self.name = name
        self.check_contact = check_contact
        self.critical = critical
        self.has_contact = False
        self.has_joint = False
        self.ready_to_attach = False
        self.contacts: list = []
        self.color1 = color1
        self.color2 = color2

    def __repr__(self) -> str:
        return f"UserData({self.kind.name}, {self.name!r})"
