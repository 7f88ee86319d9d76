"""Terrain of the lab's Box2D worlds: world constants, the Parkour CPPN, the Stump Tracks and Parkour
generators (pure numpy layouts) and the Box2D builder of their static bodies."""
from slm_acl.env.terrain.box2d_build import TerrainBodies, build_parkour, build_stump_tracks
from slm_acl.env.terrain.cppn import TerrainCPPN
from slm_acl.env.terrain.parkour import Creeper, ParkourLayout, ParkourTask, generate_parkour
from slm_acl.env.terrain.stump_tracks import Obstacle, StumpTracksLayout, StumpTracksTask, generate_stump_tracks

__all__ = ["Creeper", "Obstacle", "ParkourLayout", "ParkourTask", "StumpTracksLayout", "StumpTracksTask",
           "TerrainBodies", "TerrainCPPN", "build_parkour", "build_stump_tracks", "generate_parkour",
           "generate_stump_tracks"]
