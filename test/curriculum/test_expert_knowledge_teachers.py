"""The teachers' side of the expert-knowledge levels: what they declare, and the settings the levels rely on."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from slm_acl.curriculum.expert_knowledge import LEVELS, Gift
from slm_acl.curriculum.teachers import TEACHERS, Gaussian, TeacherContext

TARGET = Gaussian(np.array([0.5, 0.5]), np.array([0.25, 0.25]))


def spdl(seed: int, fallback: str, initial: Gaussian | None = None):
    cls = TEACHERS.get("Self-Paced")
    config = dataclasses.replace(cls.Config(), initial_dist_fallback=fallback)
    return cls(config, TeacherContext(dim=2, rng=np.random.default_rng(seed), initial_dist=initial,
                                      target_dist=TARGET))


def test_spdl_falls_back_to_a_random_subspace_start_only_when_told():
    with pytest.raises(ValueError, match="initial_dist"):
        spdl(0, "none")
    first, again, other = spdl(0, "random_subspace"), spdl(0, "random_subspace"), spdl(1, "random_subspace")
    mean, std = np.array(first.info()["mean"]), np.array(first.info()["std"])
    assert np.all((mean >= 0) & (mean <= 1)) and np.allclose(std, 0.1)  # TeachMyAgent: std 10% of each range
    assert first.info()["mean"] == again.info()["mean"] != other.info()["mean"]  # the teacher's own generator
    given = Gaussian(np.array([0.1, 0.9]), np.array([0.05, 0.05]))
    assert np.allclose(spdl(0, "random_subspace", given).info()["mean"], [0.1, 0.9])  # initial_dist wins


def test_needs_follow_the_settings():
    adr, spdl_cls = TEACHERS.get("ADR"), TEACHERS.get("Self-Paced")
    assert adr.needed_keys(adr.Config(max_reward_thr=1, min_reward_thr=0)) == ()
    assert adr.needed_keys(adr.Config(max_reward_thr=1, min_reward_thr=0, signal="success")) == ("success_return",)
    assert spdl_cls.needed_keys(spdl_cls.Config()) == ("initial_dist", "target_dist")
    assert spdl_cls.needed_keys(spdl_cls.Config(initial_dist_fallback="random_subspace")) == ("target_dist",)
    assert TEACHERS.get("GoalGAN").needed_keys(TEACHERS.get("GoalGAN").Config()) == ("success_return",)


@pytest.mark.parametrize("name, refused", [("ADR", {"no"}), ("GoalGAN", {"no"}), ("Setter-Solver", {"no"}),
                                           ("Oracle", {"no", "low"}), ("Random", set()), ("Self-Paced", set())])
def test_teachmyagents_refusals_are_declared(name, refused):
    grants = TEACHERS.get(name).expert_knowledge
    assert {level for level in LEVELS if grants[level].refused} == refused


def test_only_the_high_level_gives_an_initial_dist():
    """TeachMyAgent builds its initial Gaussian only for "high" (ALP-GMM, Covar-GMM, ADR, GoalGAN; SPDL intended)."""
    takers = {name for name, cls in TEACHERS.items() for level in LEVELS
              if Gift.INITIAL_DIST in cls.expert_knowledge[level].gifts}
    assert takers == {"ALP-GMM", "Covar-GMM", "ADR", "GoalGAN", "Self-Paced"}
    assert all(Gift.INITIAL_DIST not in cls.expert_knowledge[level].gifts
               for _, cls in TEACHERS.items() for level in ("no", "low"))

