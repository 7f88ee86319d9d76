"""Contact bookkeeping for the two worlds (ENV_FACTS.md section 13).

Box2D calls the listener when two fixtures start or stop touching. The worlds only need a few
facts from it: which tracked parts touch something (feet, hands), whether a critical part touched
(the episode ends with -100), which agent fixtures are in the water (water forces), and what each
grasp sensor touches (climbing). Everything else, e.g. creepers brushing a leg, is ignored.
"""
from __future__ import annotations

import Box2D

from slm_acl.env.physics.userdata import Kind

GRASPABLE = (Kind.GRIP_TERRAIN, Kind.SENSOR_GRIP_TERRAIN)


class ContactListener(Box2D.b2ContactListener):
    """Stump Tracks and Parkour rules in one listener.

    climber: a climber's critical parts may touch graspable terrain (the ceiling) without dying.
    After every step the env reads `critical_contact` and `water_fixtures` (the agent fixtures
    paired with the water, as Box2D's contacts report them: a pair forms during a world step, so
    water forces start one step after a part enters, as in TeachMyAgent).
    """

    def __init__(self, climber: bool = False):
        super().__init__()
        self.climber = climber
        self.critical_contact = False
        self.water_fixtures: dict[Box2D.b2Fixture, None] = {}  # an ordered set: deterministic force order

    def reset(self) -> None:
        self.critical_contact = False
        self.water_fixtures.clear()

    # ---- Box2D callbacks ----------------------------------------------------------------------
    def BeginContact(self, contact: Box2D.b2Contact) -> None:  # noqa: N802 (Box2D's name)
        self._route(contact, begin=True)

    def EndContact(self, contact: Box2D.b2Contact) -> None:  # noqa: N802
        self._route(contact, begin=False)

    def _route(self, contact: Box2D.b2Contact, begin: bool) -> None:
        fa, fb = contact.fixtureA, contact.fixtureB
        da, db = fa.body.userData, fb.body.userData
        if da is None or db is None:
            return
        if da.kind == Kind.WATER or db.kind == Kind.WATER:
            self._water(fb if da.kind == Kind.WATER else fa, begin)
        elif da.kind == Kind.BODY_SENSOR or db.kind == Kind.BODY_SENSOR:
            self._sensor(da, db, fa, fb, begin)
        elif begin:
            if fa.sensor or fb.sensor:  # creepers: bodies pass through them
                return
            self._touch(da, db.kind)
            self._touch(db, da.kind)
        else:  # an ending contact clears the flag, sensors included (as TeachMyAgent)
            for d in (da, db):
                if d.kind == Kind.BODY_OBJECT and d.check_contact:
                    d.has_contact = False

    def _touch(self, part, other: Kind) -> None:
        if part.kind != Kind.BODY_OBJECT or not part.check_contact:
            return
        part.has_contact = True
        if part.critical and not (self.climber and other == Kind.GRIP_TERRAIN):
            self.critical_contact = True

    def _water(self, other: Box2D.b2Fixture, begin: bool) -> None:
        data = other.body.userData
        if data is None or data.kind != Kind.BODY_OBJECT:
            return
        if begin:
            self.water_fixtures[other] = None
        else:
            self.water_fixtures.pop(other, None)

    @staticmethod
    def _sensor(da, db, fa: Box2D.b2Fixture, fb: Box2D.b2Fixture, begin: bool) -> None:
        """A grasp sensor touching graspable terrain: keep the list of fixtures it may grasp.

        Fixtures rather than bodies (TeachMyAgent keeps bodies): the lab's terrain holds many edges
        on one static body, and the grasp test needs the edge actually touched.
        """
        for sensor, other, other_fixture in ((da, db, fb), (db, da, fa)):
            if sensor.kind != Kind.BODY_SENSOR or other.kind not in GRASPABLE:
                continue
            if begin:
                sensor.contacts.append(other_fixture)
                sensor.has_contact = True
            else:
                if other_fixture in sensor.contacts:
                    sensor.contacts.remove(other_fixture)
                sensor.has_contact = bool(sensor.contacts)
