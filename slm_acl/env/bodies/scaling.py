"""One part of a body made longer or shorter, with every field that depends on its length kept consistent.

A body file links a part's length to several other numbers: the part's offset, the anchors of the joints on
it, the offsets of every part and sensor beyond it, and the body's spawn heights and sizes. `scale_part`
changes the length and derives the rest, so a long-shin walker is one call, not four hand edits.

The rules:
- A part is held by the joint that leads to the head; its length runs from that joint through the part's
  centre: along the part-local axis, x or y, closer to that direction (a leg's y, a fish segment's x). For
  the head part, or a part held at its centre, it is the axis along which its fixtures reach furthest; an
  axis can also be given. Scaling by `factor` stretches the part along that axis away from the joint, which
  stays put (the head is stretched about its own origin).
- The joints on the part move with the stretched part, and every part, sensor and joint beyond such a joint
  (on the side away from the head) is shifted rigidly by as much as that joint moved.
- The body's numbers follow the geometry by difference, so their own conventions are kept (TeachMyAgent's
  AGENT_HEIGHT, for one, is a formula rather than the body's extent): the spawn heights and
  agent_center_height grow by as much as the body's lowest point went down (the feet still start on the
  ground), agent_height and agent_width by as much as its bounding box grew.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Literal

from slm_acl.env.bodies.model import BodyDef, FixtureDef, JointDef, PartDef, SpawnHeights
from slm_acl.lib.registry import did_you_mean

Vec2 = tuple[float, float]
DIGITS = 9  # as the catalogue stores sizes: far finer than Box2D's float32
AXES = ("x", "y")


def scale_part(body: BodyDef, part: str, factor: float, axis: Literal["x", "y"] | None = None) -> BodyDef:
    """`body` with part `part` `factor` times as long, everything linked to its length updated (module doc).

    Args:
        body: the body to change (unchanged itself: BodyDefs are immutable).
        part: a part's name (`lower_-1`), or a family of parts named `part_...` (`lower`: `lower_-1` and
            `lower_+1`), each scaled alike; an exact name wins over a family.
        factor: the length ratio, > 0 (1.5: half as long again).
        axis: the part-local axis to stretch along; None: along the part's length (module doc).

    Raises:
        ValueError: naming the unknown part and the parts and families the body has, a bad factor, or a part
            that cannot be stretched along one axis (a circle fixture, a part as wide as it is long and no axis),
            or joints that close a loop (nothing is "beyond" a joint then).
    """
    if axis is not None and axis not in AXES:
        raise ValueError(f"axis must be one of {', '.join(AXES)} (part-local), or None for the long axis; got {axis!r}")
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor) or factor <= 0:
        raise ValueError(f"factor must be a finite number > 0; got {factor!r}")
    scaled = body
    for name in parts_named(body, part):
        scaled = _scale_one(scaled, name, float(factor), axis)
    return _with_sizes(scaled, body)


def parts_named(body: BodyDef, part: str) -> list[str]:
    """The parts `part` names: the part of that name, else the family `part_...` (in creation order)."""
    names = [p.name for p in body.parts]
    if part in names:
        return [part]
    family = [n for n in names if n.startswith(part + "_")]
    if family:
        return family
    if part in {s.name for s in body.sensors}:
        raise ValueError(f"{body.name}: {part!r} is a grasp sensor, not a part; scale its hand instead")
    families = part_families(body)
    raise ValueError(f"{body.name} has no part {part!r}.{did_you_mean(part, names + families)} "
                     f"Parts: {', '.join(names)}; families: {', '.join(families) or 'none'}")


def part_families(body: BodyDef) -> list[str]:
    """Names that pick two or more parts by prefix (`leg` for `leg_-1` and `leg_+1`), sorted."""
    names = [p.name for p in body.parts]
    prefixes = {n[:i] for n in names for i, ch in enumerate(n) if ch == "_" and i > 0}
    return sorted(p for p in prefixes if p not in names and sum(n.startswith(p + "_") for n in names) >= 2)


# ---- one part --------------------------------------------------------------------------------------

def _scale_one(body: BodyDef, name: str, factor: float, axis_name: str | None) -> BodyDef:
    parts = {p.name: p for p in body.parts}
    part = parts[name]
    _check_stretchable(part)
    parent, children = _tree(body)
    up = parent.get(name)  # the joint towards the head (None for the head itself)
    fixed = part.offset if up is None else _joint_point(up, part)
    axis = _length_axis(part, None if up is None else fixed) if axis_name is None else AXES.index(axis_name)
    direction = _rotate(_unit(axis), part.angle)

    def stretch(p: Vec2) -> Vec2:
        along = (p[0] - fixed[0]) * direction[0] + (p[1] - fixed[1]) * direction[1]
        return (p[0] + (factor - 1.0) * along * direction[0], p[1] + (factor - 1.0) * along * direction[1])

    def stretch_local(q: Vec2) -> Vec2:
        return tuple(v * factor if k == axis else v for k, v in enumerate(q))

    new_part = dataclasses.replace(part, offset=_rounded(stretch(part.offset)),
                                   fixtures=tuple(_stretched_fixture(f, axis, factor) for f in part.fixtures))
    shifts: dict[str, Vec2] = {}  # part or sensor name -> how far it moves with its joint
    new_joints: dict[str, JointDef] = {}
    for joint, child in children.get(name, []):
        if joint.anchor is not None:
            moved = _rounded(stretch(joint.anchor))
            new_joints[joint.name] = dataclasses.replace(joint, anchor=moved)
            shift = (moved[0] - joint.anchor[0], moved[1] - joint.anchor[1])
        else:
            q = _own_local_anchor(joint, name)
            before = _to_spawn(part, q)
            after = _to_spawn(new_part, stretch_local(q))
            new_joints[joint.name] = _with_own_local_anchor(joint, name, _rounded(stretch_local(q)))
            shift = (after[0] - before[0], after[1] - before[1])
        for member in _subtree(child, children):
            shifts[member] = shift
    if up is not None and up.anchor is None:  # its point on this part stays where it is in the spawn frame
        new_joints[up.name] = _with_own_local_anchor(up, name, _rounded(stretch_local(_own_local_anchor(up, name))))
    for joint in body.joints:  # joints wholly beyond a moved joint move with their parts
        if joint.name not in new_joints and joint.anchor is not None and joint.body_b in shifts \
                and joint.body_a in shifts:
            new_joints[joint.name] = dataclasses.replace(joint, anchor=_moved(joint.anchor, shifts[joint.body_b]))
    return dataclasses.replace(
        body,
        parts=tuple(new_part if p.name == name else
                    dataclasses.replace(p, offset=_moved(p.offset, shifts[p.name])) if p.name in shifts else p
                    for p in body.parts),
        sensors=tuple(dataclasses.replace(s, offset=_moved(s.offset, shifts[s.name])) if s.name in shifts else s
                      for s in body.sensors),
        joints=tuple(new_joints.get(j.name, j) for j in body.joints))


def _tree(body: BodyDef) -> tuple[dict[str, JointDef], dict[str, list[tuple[JointDef, str]]]]:
    """The joints as a tree rooted at the head: each node's joint towards the head, and its (joint, child) pairs.
    A loop has no "beyond", so it is an error; parts not joined to the head are left out."""
    links: dict[str, list[tuple[JointDef, str]]] = {}
    for j in body.joints:
        links.setdefault(j.body_a, []).append((j, j.body_b))
        links.setdefault(j.body_b, []).append((j, j.body_a))
    parent: dict[str, JointDef] = {}
    children: dict[str, list[tuple[JointDef, str]]] = {}
    seen, queue = {body.head}, [body.head]
    while queue:
        node = queue.pop(0)
        for joint, other in links.get(node, []):
            if parent.get(node) is joint:
                continue
            if other in seen:
                raise ValueError(f"{body.name}: joint {joint.name!r} closes a loop; scaling a part needs the parts "
                                 "joined to the head as a tree")
            seen.add(other)
            parent[other] = joint
            children.setdefault(node, []).append((joint, other))
            queue.append(other)
    return parent, children


def _subtree(root: str, children: dict[str, list[tuple[JointDef, str]]]) -> list[str]:
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(child for _, child in children.get(node, []))
    return out


def _check_stretchable(part: PartDef) -> None:
    for f in part.fixtures:
        if f.shape == "circle":
            raise ValueError(f"part {part.name!r} has a circle fixture, which cannot be stretched along one axis")


def _length_axis(part: PartDef, held_at: Vec2 | None) -> int:
    """0 (local x) or 1 (local y): the axis closer to the direction from the holding joint to the part's centre,
    or, for the head or a part held at (or diagonally to) its centre, the axis it reaches furthest along."""
    if held_at is not None:
        q = _to_local(part, held_at)
        if not math.isclose(abs(q[0]), abs(q[1]), abs_tol=1e-9):
            return 0 if abs(q[0]) > abs(q[1]) else 1
    return _long_axis(part)


def _long_axis(part: PartDef) -> int:
    """0 (local x) or 1 (local y): the axis along which the part's fixtures reach furthest."""
    points = [q for f in part.fixtures for q in _outline(f)]
    extents = [max(q[k] for q in points) - min(q[k] for q in points) for k in (0, 1)]
    if math.isclose(extents[0], extents[1]):
        raise ValueError(f"part {part.name!r} is as wide as it is long ({extents[0]:g} m): it has no long axis "
                         "to scale along; give the axis (x or y, part-local)")
    return 0 if extents[0] > extents[1] else 1


def _stretched_fixture(f: FixtureDef, axis: int, factor: float) -> FixtureDef:
    """Boxes are centred on the part's origin, so stretching about the origin keeps them boxes."""
    if f.shape == "box":
        return dataclasses.replace(f, half_extents=_rounded(tuple(v * factor if k == axis else v
                                                                  for k, v in enumerate(f.half_extents))))
    return dataclasses.replace(f, vertices=tuple(_rounded(tuple(v * factor if k == axis else v
                                                                for k, v in enumerate(q))) for q in f.vertices))


def _joint_point(joint: JointDef, part: PartDef) -> Vec2:
    """Where `joint` holds `part`, in the spawn frame."""
    if joint.anchor is not None:
        return joint.anchor
    return _to_spawn(part, _own_local_anchor(joint, part.name))


def _own_local_anchor(joint: JointDef, name: str) -> Vec2:
    return joint.local_anchor_a if joint.body_a == name else joint.local_anchor_b


def _with_own_local_anchor(joint: JointDef, name: str, q: Vec2) -> JointDef:
    key = "local_anchor_a" if joint.body_a == name else "local_anchor_b"
    return dataclasses.replace(joint, **{key: q})


# ---- the body's numbers ----------------------------------------------------------------------------

def _with_sizes(scaled: BodyDef, original: BodyDef) -> BodyDef:
    """The spawn heights and sizes of `original`, changed by as much as the geometry changed."""
    (x0, x1, y0, y1), (nx0, nx1, ny0, ny1) = _extent(original), _extent(scaled)
    drop = y0 - ny0  # how far the lowest point went down
    taller, wider = (ny1 - ny0) - (y1 - y0), (nx1 - nx0) - (x1 - x0)
    spawn = original.spawn_heights
    return dataclasses.replace(
        scaled,
        agent_width=round(original.agent_width + wider, DIGITS),
        agent_height=round(original.agent_height + taller, DIGITS),
        agent_center_height=round(original.agent_center_height + drop, DIGITS),
        spawn_heights=SpawnHeights(stump_tracks=round(spawn.stump_tracks + drop, DIGITS),
                                   parkour=round(spawn.parkour + drop, DIGITS)))


def _extent(body: BodyDef) -> tuple[float, float, float, float]:
    """xmin, xmax, ymin, ymax of the parts' solid fixtures in the spawn frame (sensors never touch the ground)."""
    points = []
    for p in body.parts:
        for f in p.fixtures:
            if f.is_sensor:
                continue
            if f.shape == "circle":
                x, y = p.offset
                points += [(x - f.radius, y - f.radius), (x + f.radius, y + f.radius)]
            else:
                points += [_to_spawn(p, q) for q in _outline(f)]
    xs, ys = [q[0] for q in points], [q[1] for q in points]
    return min(xs), max(xs), min(ys), max(ys)


# ---- plane geometry --------------------------------------------------------------------------------

def _outline(f: FixtureDef) -> list[Vec2]:
    """Part-local corner points of a box or polygon; a circle's bounding square."""
    if f.shape == "box":
        hx, hy = f.half_extents
        return [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
    if f.shape == "polygon":
        return list(f.vertices)
    return [(-f.radius, -f.radius), (f.radius, f.radius)]


def _unit(axis: int) -> Vec2:
    return (1.0, 0.0) if axis == 0 else (0.0, 1.0)


def _rotate(v: Vec2, angle: float) -> Vec2:
    c, s = math.cos(angle), math.sin(angle)
    return (c * v[0] - s * v[1], s * v[0] + c * v[1])


def _to_spawn(part: PartDef, q: Vec2) -> Vec2:
    r = _rotate(q, part.angle)
    return (part.offset[0] + r[0], part.offset[1] + r[1])


def _to_local(part: PartDef, p: Vec2) -> Vec2:
    return _rotate((p[0] - part.offset[0], p[1] - part.offset[1]), -part.angle)


def _moved(p: Vec2, shift: Vec2) -> Vec2:
    return _rounded((p[0] + shift[0], p[1] + shift[1]))


def _rounded(v: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(round(x, DIGITS) + 0.0 for x in v)  # + 0.0: no -0.0 in the JSON
