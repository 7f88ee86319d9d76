"""`import slm_acl` registers the lab's Gymnasium ids lazily: making a world loads Box2D then, and never torch."""
from __future__ import annotations

import subprocess
import sys

import gymnasium as gym

from slm_acl.registration import GYM_IDS, register_envs


def test_import_registers_the_ids_without_torch_or_box2d():
    code = ("import sys, slm_acl, gymnasium\n"
            "assert 'Box2D' not in sys.modules and 'slm_acl.env' not in sys.modules, 'the import loaded the worlds'\n"
            "env = gymnasium.make('slm_acl/StumpTracks-v0', body='spider')\n"
            "env.reset(seed=0)\n"
            "env.step(env.action_space.sample())\n"
            "assert 'torch' not in sys.modules, 'making a lab env imported torch'\n")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_every_id_names_its_class_by_a_string_and_registering_again_is_harmless():
    register_envs()
    for env_id, (entry_point, max_episode_steps) in GYM_IDS.items():
        spec = gym.spec(env_id)
        assert spec.entry_point == entry_point and isinstance(entry_point, str)
        assert spec.max_episode_steps == max_episode_steps
