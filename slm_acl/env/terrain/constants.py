"""World constants of Stump Tracks and Parkour (TeachMyAgent), in metres, seconds and radians.

Source: ENV_FACTS.md section 1. "px" marks a source number before division by SCALE. The envs, the
terrain generators and the renderer import them from here, so each number lives in one place.
"""
from __future__ import annotations

FPS = 50  # physics steps per second: dt = 1/FPS = 0.02 s, one world step per env step
SCALE = 30.0  # px per metre; every px length below is divided by it

VIEWPORT_W = 600  # px, used in the observation's horizontal velocity scaling (0.3 * v_x * VIEWPORT_W/SCALE/FPS)
VIEWPORT_H = 400  # px, used in the vertical velocity scaling and in TERRAIN_HEIGHT
RENDERING_VIEWER_W = VIEWPORT_W  # px, default render width (render only)
RENDERING_VIEWER_H = VIEWPORT_H  # px, default render height (render only)

NB_LIDAR = 10  # rays cast from the head every step
LIDAR_RANGE = 160 / SCALE  # 5.3333 m, length of every lidar ray

INITIAL_RANDOM = 5  # N, bound of the horizontal spawn force U(-5, 5) applied once to the head

TERRAIN_STEP = 14 / SCALE  # 0.46667 m, horizontal distance between terrain points
TERRAIN_LENGTH = 200  # steps of terrain (Stump Tracks: start pad included; Parkour: after the start pad)
TERRAIN_HEIGHT = VIEWPORT_H / SCALE / 4  # 3.3333 m, ground height of the start pad
TERRAIN_STARTPAD = 20  # steps of flat start pad (9.3333 m) for every default body (ENV_FACTS section 1)
TERRAIN_END_STUMP_TRACKS = 10  # steps before the last point where a Stump Tracks episode ends
TERRAIN_END_PARKOUR = 5  # steps before the last point where a Parkour episode ends
FRICTION = 2.5  # friction of ground, ceiling, stumps and hexagons (creepers and water keep Box2D's 0.2)

WATER_DENSITY = 1.0  # density of the Parkour water fixture (rho of the buoyancy and drag forces)
NB_FIRST_STEPS_HANG = 5  # env steps a Parkour climber plays at reset to grasp the start-pad ceiling

CLOUD_Y = VIEWPORT_H / SCALE * 3 / 4  # 10 m, height of the clouds (render only)
N_CLOUDS = TERRAIN_LENGTH // 20  # 10 clouds per track (render only)

# Parkour terrain scale (set by the task's terrain_cppn_scale, default 10); the px values stay fixed and the
# metre values are px / terrain_cppn_scale (ENV_FACTS section 1): 100 m, -100 m, 20 m and 0 m at scale 10.
DEFAULT_TERRAIN_CPPN_SCALE = 10.0  # Parkour's default terrain scale (must be > 1)
CEILING_LIMIT_PX = 1000.0  # px; CEILING_LIMIT = CEILING_LIMIT_PX / scale, top of the ceiling's render fill
GROUND_LIMIT_PX = -1000.0  # px; GROUND_LIMIT = GROUND_LIMIT_PX / scale, bottom of the ground fill and of the water
CEILING_OFFSET_PX = 200.0  # px; ceiling height above TERRAIN_HEIGHT at the start pad, / scale (constructor default)
CEILING_CLIP_OFFSET_PX = 0.0  # px; minimum ceiling height above the ground, / scale (constructor default)

# Render colours (ENV_FACTS section 16), as (fill, outline) where a body has both.
GROUND_COLORS = ((0.3, 1.0, 0.3), (0.3, 0.8, 0.3))  # ground edges, alternating by segment index (even, odd)
GROUND_FILL_COLOR = (0.4, 0.6, 0.3)  # fill under the ground line
CEILING_COLOR = (0.0, 0.25, 0.25)  # Parkour ceiling edges
CEILING_FILL_COLOR = (0.5, 0.5, 0.5)  # fill above the ceiling line, up to CEILING_LIMIT
STUMP_COLORS = ((1.0, 1.0, 1.0), (0.6, 0.6, 0.6))  # stumps and sequence blocks: fill, outline
OBSTACLE_OUTLINE_COLOR = (0.6, 0.6, 0.6)  # outline of stumps and hexagons
CREEPER_COLOR = (0.437, 0.504, 0.375)  # creepers' fill (static creepers: outline too)
MOVABLE_CREEPER_OUTLINE_COLOR = tuple(c + 0.1 for c in CREEPER_COLOR)  # movable creeper pieces: fill + 0.1
WATER_COLOR = (0.465, 0.676, 0.898)  # water fill and outline
SKY_COLOR = (0.9, 0.9, 1.0)  # background
CLOUD_COLOR = (1.0, 1.0, 1.0)  # clouds
