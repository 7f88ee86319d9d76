"""Rendering of Stump Tracks and Parkour: frames of the right shape showing the world (terrain, water, the
agent where its head is), the render_mode conventions of Gymnasium, and the env checker's render check."""
from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import slm_acl.env  # noqa: F401  (registers the envs)
from slm_acl.env import render as R
from slm_acl.env.parkour import Parkour
from slm_acl.env.stump_tracks import StumpTracks
from slm_acl.env.terrain import constants as C

H, W = C.RENDERING_VIEWER_H, C.RENDERING_VIEWER_W
WATER = np.array(R._rgb(C.WATER_COLOR))
CREEPERS = {"creepers_width": 0.3, "creepers_height": 3.0, "creepers_spacing": 1.0}


def rendered(env, task: dict, steps: int = 10, seed: int = 3, hold: bool = False) -> np.ndarray:
    """A frame after reset and `steps` zero actions (climbers keep holding when `hold`)."""
    env.reset(seed=seed, options={"task": task})
    action = np.zeros(env.action_space.shape, np.float32)
    if hold:
        action[len(env.body_def.motors):] = 1.0
    for _ in range(steps):
        env.step(action)
    return env.render()


def head_pixel(env) -> tuple[int, int]:
    """Where the renderer puts the head's centre: a fifth of the width from the left; in Parkour the view also
    follows the head vertically, in Stump Tracks the bottom row is y = 0."""
    x, y = env.agent.head.worldCenter
    col = W / 5 + (x - env.agent.head.position[0]) * C.SCALE
    if isinstance(env, Parkour):
        cam_y = env.agent.head.position[1] - H / C.SCALE / 5 - C.TERRAIN_HEIGHT + 1 / C.SCALE
    else:
        cam_y = 0.0
    return int(round(H - (y - cam_y) * C.SCALE)), int(round(col))


def has_color(frame: np.ndarray, color, tol: int = 2) -> np.ndarray:
    return (np.abs(frame.astype(int) - np.asarray(color)) <= tol).all(axis=-1)


CASES = [
    (StumpTracks, "classic_bipedal", {"stump_height": 1.0, "obstacle_spacing": 2.0}, False),
    (StumpTracks, "spider", {"poly_shape": [0.5] * 12}, False),
    (Parkour, "classic_bipedal", {"water_level": 0.0}, False),
    (Parkour, "fish", {"water_level": 1.0}, False),
    (Parkour, "climbing_profile_chimpanzee", CREEPERS, True),
]


@pytest.mark.parametrize("cls,body,task,hold", CASES, ids=[f"{c.__name__}-{b}" for c, b, _, _ in CASES])
def test_a_frame_shows_the_world_and_the_agent_at_its_head(cls, body, task, hold):
    env = cls(body, render_mode="rgb_array")
    frame = rendered(env, task, hold=hold)
    assert frame.shape == (H, W, 3) and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 10  # not one colour: sky, terrain, agent
    row, col = head_pixel(env)
    patch = frame[max(row - 4, 0):row + 5, max(col - 4, 0):col + 5]
    colors = [R._rgb(p.userData.color1) for p in env.agent.parts] + [R._rgb(p.userData.color2)
                                                                      for p in env.agent.parts]
    blended = [tuple(int(v) for v in (np.array(c) * (256 - 115) + WATER * 115) // 256) for c in colors]
    near = [has_color(patch, c, tol=6).any() for c in colors + blended]
    assert any(near), f"no agent colour near the head at pixel {(row, col)}"
    env.close()


def test_the_terrain_is_below_the_walker_and_parkours_ceiling_above_a_climber():
    env = StumpTracks("classic_bipedal", render_mode="rgb_array")
    frame = rendered(env, {"stump_height": 0.0, "obstacle_spacing": 6.0})
    ground_row = int(round(H - C.TERRAIN_HEIGHT * C.SCALE))
    assert has_color(frame[ground_row + 5:], R._rgb(C.GROUND_FILL_COLOR)).mean() > 0.95
    assert not has_color(frame[:ground_row - 5], R._rgb(C.GROUND_FILL_COLOR)).any()
    env = Parkour("climbing_profile_chimpanzee", render_mode="rgb_array")
    frame = rendered(env, CREEPERS, hold=True)
    assert has_color(frame[:40], R._rgb(C.CEILING_FILL_COLOR)).mean() > 0.5
    assert has_color(frame, R._rgb(C.CREEPER_COLOR)).any()
    assert has_color(frame, R._rgb(R.ATTACHED_SENSOR_COLOR), tol=40).any()  # the hands hold the ceiling


@pytest.mark.parametrize("level,present", [(1.0, True), (0.0, False)])
def test_water_shows_when_its_level_is_high_and_not_when_zero(level, present):
    env = Parkour("amphibious_bipedal", render_mode="rgb_array")
    frame = rendered(env, {"water_level": level})
    assert has_color(frame, WATER, tol=1).mean() > (0.3 if present else -1)
    assert has_color(frame, WATER, tol=1).any() == present


def test_the_head_turns_red_as_a_walker_drowns():
    env = Parkour("classic_bipedal", render_mode="rgb_array")
    rendered(env, {"water_level": 1.0}, steps=1)
    env.under_water_steps = env.body_def.survive_under_water  # as if it had been under water for the limit
    assert R._head_fill(env) == (1.0, 0.0, 0.0)
    env.under_water_steps = 0
    assert R._head_fill(env) is None


def test_lidar_rays_end_where_the_last_observation_says():
    env = StumpTracks("classic_bipedal", render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    n = env.head_entries + env.agent.state_size
    assert np.array_equal(env.lidar_fractions(), obs[n:n + 10])
    with_rays = env.render()
    without = R.WorldRenderer(lidar=False).render(env)
    def reddish(frame):
        return (frame[..., 0].astype(int) - frame[..., 1] > 80).sum()

    assert reddish(with_rays) > reddish(without) + 100  # ten rays of 1 px over dozens of pixels each


def test_render_mode_none_returns_none_and_a_bad_mode_names_the_valid_ones():
    env = StumpTracks("classic_bipedal")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="rgb_array"):
        assert env.render() is None
    with pytest.raises(ValueError, match="rgb_array"):
        Parkour("classic_bipedal", render_mode="rgb")


def test_human_mode_without_a_display_fails_at_construction_naming_rgb_array(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(RuntimeError, match="rgb_array"):
        StumpTracks("classic_bipedal", render_mode="human")


def test_human_mode_shows_every_step_and_returns_none(monkeypatch):
    shown = []
    monkeypatch.setattr(R, "check_display", lambda: None)
    monkeypatch.setattr(R.HumanWindow, "show", lambda self, frame: shown.append(frame.shape))
    env = StumpTracks("classic_bipedal", render_mode="human")
    env.reset(seed=0)
    env.step(np.zeros(env.action_space.shape, np.float32))
    assert env.render() is None
    assert shown == [(H, W, 3)] * 3
    env.close()


def test_nothing_is_rendered_unless_asked():
    env = Parkour("classic_bipedal", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(np.zeros(env.action_space.shape, np.float32))
    assert env._renderer is None
    env.render()
    assert env._renderer is not None
    env.close()
    assert env._renderer is None


@pytest.mark.parametrize("cls,body", [(StumpTracks, "classic_bipedal"), (Parkour, "climbing_profile_chimpanzee")])
def test_the_env_checker_accepts_the_render(cls, body):
    check_env(cls(body, render_mode="rgb_array"))


def test_without_a_display_the_env_offers_rgb_array_only_so_checkers_pass(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    env = gym.make("slm_acl/StumpTracks-v0", render_mode="rgb_array")
    assert env.unwrapped.metadata["render_modes"] == ["rgb_array"]
    check_env(env.unwrapped)
    check_env(env)  # builds the env once per offered render mode


def test_the_human_window_shows_and_updates_frames():
    """The matplotlib side of "human" mode, drawn off screen (Agg): a figure of the frame's size, updated in
    place, closed by close()."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    window = R.HumanWindow(fps=1000)
    frame = np.zeros((H, W, 3), np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Agg is non-interactive: plt.pause warns that it cannot show
        window.show(frame)
        figure = window._fig
        window.show(frame + 100)
    assert window._fig is figure and tuple(figure.get_size_inches() * figure.dpi) == (W, H)
    assert np.array_equal(window._image.get_array(), frame + 100)
    window.close()
    assert not plt.fignum_exists(figure.number)
