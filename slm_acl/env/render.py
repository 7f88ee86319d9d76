"""Pictures of a Stump Tracks or Parkour world: an RGB array per call, drawn with Pillow.

Rendering never runs in the step path: the envs create a `WorldRenderer` on the first `render()` call and
everything here reads the Box2D world as it stands. The look follows TeachMyAgent (ENV_FACTS.md section 16):
sky, clouds with half-speed parallax, the ground filled below its edges (Parkour's ceiling filled above
its), stumps and hexagons with outlines, creepers, the agent's parts (fill color1, outline color2; the head
turning red as a body nears drowning or drying out; grasp sensors yellow while they hold), red lidar rays
and the start flag. Water is drawn opaque behind the terrain, as TeachMyAgent does, and then once more as a
translucent layer over everything, so a submerged body reads as under water while open water keeps its
exact colour (the tests look for it).

Geometry comes from the Box2D fixtures (what the physics simulates, degenerate obstacles skipped), not from
the generator's layout. Static terrain is read once per terrain (per reset) into numpy arrays and culled by
x per frame; only the agent and movable creepers are read every frame. Drawing happens at `supersample`
times the size and is box-filtered down, which gives anti-aliased edges; a 600 x 400 frame takes 1.5 to 3 ms
(about 6 ms with movable creepers, whose pieces are read every frame).

Camera: the view scrolls with the agent's head so that it stays a fifth of the width from the left
(BipedalWalker's and TeachMyAgent's scroll). Stump Tracks keeps the bottom of the view at y = 0; in Parkour,
whose CPPN terrain climbs and falls by tens of metres, the view also follows the head vertically
(TeachMyAgent's y scroll: head.y - H/5 - TERRAIN_HEIGHT + 1 px).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import Box2D
import numpy as np
from PIL import Image, ImageDraw

from slm_acl.env.display import has_display
from slm_acl.env.terrain import constants as C

if TYPE_CHECKING:  # annotations only: box2d_base imports this module (lazily) to render
    from slm_acl.env.box2d_base import Box2DWorldEnv

LIDAR_COLOR = (1.0, 0.0, 0.0)
ATTACHED_SENSOR_COLOR = (1.0, 1.0, 0.0)  # a grasp sensor holding the ceiling or a creeper
FLAG_COLOR = (0.9, 0.2, 0.0)
WATER_ALPHA = 0.45  # opacity of the water layer drawn over the agent and the terrain
_CULL_MARGIN = 1.0  # metres drawn beyond each side of the view (outlines, wide polygons)
_NON_INTERACTIVE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def _rgb(color) -> tuple[int, int, int]:
    """A (0..1) float colour as 8-bit RGB; channels above 1 (outline = fill + 0.1) are clipped."""
    return tuple(int(round(255 * min(max(float(c), 0.0), 1.0))) for c in color)


class _Edges:
    """A terrain polyline (ground or ceiling) from its edge fixtures, sorted by x, with per-edge colours."""

    def __init__(self, body):
        edges, colors = [], []
        for fixture in body.fixtures:
            t = body.transform
            v1, v2 = t * fixture.shape.vertex1, t * fixture.shape.vertex2
            edges.append((v1[0], v1[1], v2[0], v2[1]))
            colors.append(_fixture_colors(fixture, body)[0])
        order = sorted(range(len(edges)), key=lambda i: (edges[i][0], edges[i][2]))
        e = np.array([edges[i] for i in order], dtype=float).reshape(-1, 4)
        self.x0, self.y0, self.x1, self.y1 = e[:, 0], e[:, 1], e[:, 2], e[:, 3]
        self.colors = [_rgb(colors[i]) for i in order]

    def visible(self, lo: float, hi: float) -> slice:
        """The edges whose x span meets [lo, hi] (the polyline is sorted and monotonic in x)."""
        start = max(int(np.searchsorted(self.x1, lo)) - 1, 0)
        stop = int(np.searchsorted(self.x0, hi, side="right"))
        return slice(start, max(stop, start))


class _Polygons:
    """Static polygon fixtures (stumps, hexagons, blocks, static creepers, water) in world coordinates."""

    def __init__(self):
        self.verts: list[np.ndarray] = []
        self.fill: list[tuple[int, int, int]] = []
        self.outline: list[tuple[int, int, int]] = []
        self.xmin = np.zeros(0)
        self.xmax = np.zeros(0)

    def add_body(self, body) -> None:
        t = body.transform
        for fixture in body.fixtures:
            verts = np.array([tuple(t * v) for v in fixture.shape.vertices], dtype=float)
            fill, outline = _fixture_colors(fixture, body)
            self.verts.append(verts)
            self.fill.append(_rgb(fill))
            self.outline.append(_rgb(outline))
        self.xmin = np.array([v[:, 0].min() for v in self.verts])
        self.xmax = np.array([v[:, 0].max() for v in self.verts])

    def visible(self, lo: float, hi: float) -> np.ndarray:
        return np.flatnonzero((self.xmax >= lo) & (self.xmin <= hi))


def _fixture_colors(fixture, body) -> tuple:
    """(fill, outline): terrain fixtures carry their own pair (one body holds many); else the body's."""
    data = fixture.userData
    if isinstance(data, tuple) and len(data) == 2:
        return data
    return body.userData.color1, body.userData.color2


class _Scene:
    """What does not move during an episode, read once from the terrain's bodies and the layout."""

    def __init__(self, env):
        terrain, layout = env.terrain, getattr(env, "layout", None)
        self.terrain = terrain
        self.ground = _Edges(terrain.ground)
        self.ceiling = _Edges(terrain.ceiling) if getattr(terrain, "ceiling", None) is not None else None
        self.obstacles = _Polygons()
        if getattr(terrain, "obstacles", None) is not None:
            self.obstacles.add_body(terrain.obstacles)
        self.static_creepers = _Polygons()
        self.moving_creepers = []
        for body in getattr(terrain, "creepers", []):
            if body.type == Box2D.b2_staticBody:
                self.static_creepers.add_body(body)
            else:
                self.moving_creepers.append((body, _local_shapes(body)))
        self.water = _Polygons()
        if getattr(terrain, "water", None) is not None:
            self.water.add_body(terrain.water)
        self.water_color = _rgb(C.WATER_COLOR)
        self.clouds = getattr(layout, "clouds", None)
        # Fill bounds: Stump Tracks fills down to fill_bottom (0); Parkour to GROUND_LIMIT and up to CEILING_LIMIT.
        self.ground_fill_y = getattr(layout, "ground_limit", getattr(layout, "fill_bottom", None))
        self.ceiling_fill_y = getattr(layout, "ceiling_limit", None)
        self.follow_y = self.ceiling is not None


class _Agent:
    """The agent's part shapes in body coordinates, read once per embodiment."""

    def __init__(self, agent):
        self.agent = agent
        self.parts = [(b, b is agent.head, _local_shapes(b)) for b in agent.parts]
        self.sensors = [(b, _local_shapes(b)) for b in agent.sensors]


def _local_shapes(body) -> list:
    """("poly", ((x, y), ...)) or ("circle", (x, y), radius) per fixture, in body coordinates."""
    out = []
    for fixture in body.fixtures:
        shape = fixture.shape
        if hasattr(shape, "vertices"):
            out.append(("poly", tuple(tuple(v) for v in shape.vertices)))
        else:
            out.append(("circle", tuple(shape.pos), float(shape.radius)))
    return out


class WorldRenderer:
    """Draws a `Box2DWorldEnv` (Stump Tracks or Parkour) into an RGB uint8 array of shape (height, width, 3).

    Args:
        width, height: picture size in pixels (default TeachMyAgent's 600 x 400 viewer).
        scale: pixels per metre (default SCALE = 30; smaller shows more of the world).
        supersample: draw at this many times the size and downscale (1 turns anti-aliasing off).
        clouds, lidar, flag: draw the clouds, the lidar rays, the start flag.
    """

    def __init__(self, width: int = C.RENDERING_VIEWER_W, height: int = C.RENDERING_VIEWER_H, scale: float = C.SCALE,
                 supersample: int = 2, clouds: bool = True, lidar: bool = True, flag: bool = True):
        if width < 1 or height < 1 or scale <= 0 or supersample < 1:
            raise ValueError(f"need width, height, supersample >= 1 and scale > 0; got {width}, {height}, "
                             f"{supersample}, {scale}")
        self.width, self.height, self.scale, self.supersample = int(width), int(height), float(scale), int(supersample)
        self.clouds, self.lidar, self.flag = clouds, lidar, flag
        self._scene: _Scene | None = None
        self._agent: _Agent | None = None

    def close(self) -> None:
        """Drop the cached geometry (it references Box2D bodies)."""
        self._scene = self._agent = None

    # ---- the frame ------------------------------------------------------------------------------------------
    def render(self, env: Box2DWorldEnv) -> np.ndarray:
        """The current state of `env`'s world as a (height, width, 3) uint8 array."""
        if env.agent is None or env.terrain is None:
            raise RuntimeError("nothing to render: call reset() before render()")
        if self._scene is None or self._scene.terrain is not env.terrain:
            self._scene = _Scene(env)
        if self._agent is None or self._agent.agent is not env.agent:
            self._agent = _Agent(env.agent)
        scene = self._scene
        s = self.supersample
        k = self.scale * s  # pixels per metre at the drawing size
        W, H = self.width * s, self.height * s
        view_w, view_h = self.width / self.scale, self.height / self.scale
        head = env.agent.head.position
        cam_x = head[0] - view_w / 5
        cam_y = head[1] - view_h / 5 - C.TERRAIN_HEIGHT + 1 / C.SCALE if scene.follow_y else 0.0
        lo, hi = cam_x - _CULL_MARGIN, cam_x + view_w + _CULL_MARGIN

        def px(x: float, y: float) -> tuple[float, float]:
            return (x - cam_x) * k, H - (y - cam_y) * k

        def py_clamped(y: float | None, default: float) -> float:
            """A fill bound's pixel row, kept just outside the picture (None: the picture's edge)."""
            if y is None:
                return default
            return min(max(H - (y - cam_y) * k, -2.0 * s), H + 2.0 * s)

        img = Image.new("RGB", (W, H), _rgb(C.SKY_COLOR))
        draw = ImageDraw.Draw(img)
        if self.clouds and scene.clouds is not None:
            self._draw_clouds(draw, scene.clouds, cam_x, cam_y, k, H, view_w)
        polys = scene.water
        for i in polys.visible(lo, hi):
            draw.polygon([px(x, y) for x, y in polys.verts[i]], fill=polys.fill[i])
        self._draw_static_polygons(draw, scene.static_creepers, lo, hi, px, outline_width=s)
        for body, shapes in scene.moving_creepers:
            self._draw_body(draw, body, shapes, px, k, s, x_range=(lo, hi))
        line_w = max(1, round(1.5 * s))
        self._draw_edges(draw, scene.ground, lo, hi, px, py_clamped(scene.ground_fill_y, H + 2.0 * s),
                         _rgb(C.GROUND_FILL_COLOR), line_w)
        if scene.ceiling is not None:
            self._draw_edges(draw, scene.ceiling, lo, hi, px, py_clamped(scene.ceiling_fill_y, -2.0 * s),
                             _rgb(C.CEILING_FILL_COLOR), line_w)
        self._draw_static_polygons(draw, scene.obstacles, lo, hi, px, outline_width=s)
        if self.flag:
            self._draw_flag(draw, px, s)
        if self.lidar:
            self._draw_lidar(draw, env, px, s)
        self._draw_agent(draw, env, px, k, s)
        if s > 1:
            img = img.reduce(s)
        frame = np.array(img, dtype=np.uint8)
        self._tint_water(frame, scene, cam_x, cam_y)
        return frame

    # ---- pieces ---------------------------------------------------------------------------------------------
    @staticmethod
    def _draw_clouds(draw, clouds: np.ndarray, cam_x: float, cam_y: float, k: float, H: int, view_w: float) -> None:
        """Half-speed parallax in x (BipedalWalker): a cloud at x shows at x - cam_x / 2 in the view. In y they
        stay at their height above the bottom of the view (TeachMyAgent's Parkour draws them at their world
        y, where a climber high under the ceiling sees them below it and they read as ground). Stump Tracks'
        camera stays at y = 0, so there nothing changes."""
        shift_x, shift_y = cam_x / 2, cam_y
        color = _rgb(C.CLOUD_COLOR)
        for poly in clouds:
            if poly[:, 0].max() < shift_x or poly[:, 0].min() > shift_x + view_w:
                continue
            draw.polygon([((x - shift_x) * k, H - (y - shift_y) * k) for x, y in poly], fill=color)

    @staticmethod
    def _draw_static_polygons(draw, polys: _Polygons, lo: float, hi: float, px, outline_width: int) -> None:
        for i in polys.visible(lo, hi):
            draw.polygon([px(x, y) for x, y in polys.verts[i]], fill=polys.fill[i], outline=polys.outline[i],
                         width=outline_width)

    @staticmethod
    def _draw_edges(draw, edges: _Edges, lo: float, hi: float, px, fill_row: float, fill_color, line_w: int) -> None:
        """The area between the visible polyline and `fill_row` (below the ground, above the ceiling), then the
        edges in their alternating colours on top."""
        sl = edges.visible(lo, hi)
        x0, y0, x1, y1 = edges.x0[sl], edges.y0[sl], edges.x1[sl], edges.y1[sl]
        if len(x0) == 0:
            return
        line = [px(x0[0], y0[0])] + [px(x, y) for x, y in zip(x1, y1)]
        draw.polygon(line + [(line[-1][0], fill_row), (line[0][0], fill_row)], fill=fill_color)
        colors = edges.colors[sl]
        for i in range(len(line) - 1):
            draw.line([line[i], line[i + 1]], fill=colors[i], width=line_w)

    @staticmethod
    def _draw_flag(draw, px, s: int) -> None:
        """TeachMyAgent's start flag: a pole 50 px high at x = 3 terrain steps, a triangular pennant."""
        x, y1 = C.TERRAIN_STEP * 3, C.TERRAIN_HEIGHT
        y2 = y1 + 50 / C.SCALE
        draw.line([px(x, y1), px(x, y2)], fill=(0, 0, 0), width=s)
        draw.polygon([px(x, y2), px(x, y2 - 10 / C.SCALE), px(x + 25 / C.SCALE, y2 - 5 / C.SCALE)],
                     fill=_rgb(FLAG_COLOR), outline=(0, 0, 0), width=s)

    @staticmethod
    def _draw_lidar(draw, env, px, s: int) -> None:
        """Each ray from the head to where the last step's cast stopped (the lidar fractions of the last
        observation): nothing is cast again."""
        fractions = env.lidar_fractions()
        rays = env.lidar.rays
        hx, hy = env.agent.head.position
        color = _rgb(LIDAR_COLOR)
        start = px(hx, hy)
        for f, (dx, dy) in zip(fractions, rays):
            draw.line([start, px(hx + f * dx, hy + f * dy)], fill=color, width=s)

    def _draw_agent(self, draw, env, px, k: float, s: int) -> None:
        head_fill = _head_fill(env)
        for body, is_head, shapes in self._agent.parts:
            fill = head_fill if is_head and head_fill is not None else body.userData.color1
            self._draw_body(draw, body, shapes, px, k, s, fill=fill)
        for body, shapes in self._agent.sensors:
            data = body.userData
            color = ATTACHED_SENSOR_COLOR if data.has_joint else None
            self._draw_body(draw, body, shapes, px, k, s, fill=color or data.color1, outline=color or data.color2)

    @staticmethod
    def _draw_body(draw, body, shapes, px, k: float, s: int, fill=None, outline=None,
                   x_range: tuple[float, float] | None = None) -> None:
        """One body's fixtures; with `x_range`, polygons wholly outside it are skipped (movable creepers)."""
        data = body.userData
        fill = _rgb(fill if fill is not None else data.color1)
        outline = _rgb(outline if outline is not None else data.color2)
        (bx, by), angle = body.position, body.angle
        c, sn = math.cos(angle), math.sin(angle)
        for shape in shapes:
            if shape[0] == "poly":
                world = [(bx + c * x - sn * y, by + sn * x + c * y) for x, y in shape[1]]
                if x_range is not None and (max(w[0] for w in world) < x_range[0]
                                            or min(w[0] for w in world) > x_range[1]):
                    continue
                pts = [px(x, y) for x, y in world]
                draw.polygon(pts, fill=fill, outline=outline, width=s)
            else:
                (x, y), r = shape[1], shape[2] * k
                cx, cy = px(bx + c * x - sn * y, by + sn * x + c * y)
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill, outline=outline, width=s)

    def _tint_water(self, frame: np.ndarray, scene: _Scene, cam_x: float, cam_y: float) -> None:
        """Blend the water colour over its rectangle(s) at WATER_ALPHA (integer arithmetic: pixels that
        already show water keep its exact colour)."""
        if not scene.water.verts:
            return
        a = int(round(WATER_ALPHA * 256))
        k, H, W = self.scale, self.height, self.width
        water = np.array(scene.water_color, dtype=np.uint16) * a
        for verts in scene.water.verts:
            c0 = max(int(round((verts[:, 0].min() - cam_x) * k)), 0)
            c1 = min(int(round((verts[:, 0].max() - cam_x) * k)), W)
            r0 = max(int(round(H - (verts[:, 1].max() - cam_y) * k)), 0)
            r1 = min(int(round(H - (verts[:, 1].min() - cam_y) * k)), H)
            if r0 >= r1 or c0 >= c1:
                continue
            region = frame[r0:r1, c0:c1]
            region[...] = ((region.astype(np.uint16) * (256 - a) + water) >> 8).astype(np.uint8)


def _head_fill(env) -> tuple | None:
    """The head's fill turned towards red by counter / limit (TeachMyAgent): a swimmer by its steps out of
    water, any other body by its steps under water; None where the env keeps no such counters."""
    body_def = env.body_def
    head = env.agent.head.userData.color1
    if body_def.survive_outside_water is not None:
        counter, limit = getattr(env, "outside_water_steps", None), body_def.survive_outside_water
    elif body_def.survive_under_water is not None:
        counter, limit = getattr(env, "under_water_steps", None), body_def.survive_under_water
    else:
        return None
    if counter is None or limit <= 0:
        return None
    ratio = min(counter / limit, 1.0)
    if ratio <= 0:
        return None
    return tuple(c + ratio * (r - c) for c, r in zip(head, (1.0, 0.0, 0.0)))


# ---- "human" mode ------------------------------------------------------------------------------------------------
def check_display() -> None:
    """Raise unless a window can be shown: a display (X11 / Wayland, or macOS / Windows) and an interactive
    matplotlib backend. Called when an env is built with render_mode="human", so a headless run fails at once
    rather than at its first frame."""
    if not has_display():
        raise RuntimeError('render_mode="human" needs a display (DISPLAY is not set); use render_mode="rgb_array" '
                           "to get frames as arrays (e.g. for a video)")
    import matplotlib

    backend = matplotlib.get_backend().lower()
    if backend in _NON_INTERACTIVE_BACKENDS:
        raise RuntimeError(f'render_mode="human" needs an interactive matplotlib backend, not {backend!r} '
                           '(set MPLBACKEND, e.g. TkAgg); or use render_mode="rgb_array"')


class HumanWindow:
    """Shows frames in a matplotlib window at `fps` (matplotlib is imported on the first frame)."""

    def __init__(self, fps: float, title: str = "slm_acl"):
        self.fps, self.title = fps, title
        self._fig: Any = None
        self._image: Any = None

    def show(self, frame: np.ndarray) -> None:
        import matplotlib.pyplot as plt

        if self._fig is None or not plt.fignum_exists(self._fig.number):
            plt.ion()
            h, w = frame.shape[:2]
            self._fig = plt.figure(self.title, figsize=(w / 100, h / 100), dpi=100)
            ax = self._fig.add_axes((0, 0, 1, 1))
            ax.set_axis_off()
            self._image = ax.imshow(frame, interpolation="nearest")
        else:
            self._image.set_data(frame)
        self._fig.canvas.draw_idle()
        plt.pause(1.0 / self.fps)

    def close(self) -> None:
        if self._fig is not None:
            import matplotlib.pyplot as plt

            plt.close(self._fig)
            self._fig = self._image = None
