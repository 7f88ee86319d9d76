"""Expert-knowledge levels, the teacher's side: what each teacher takes at TeachMyAgent's levels "no", "low", "high".

A spec's `curriculum.expert_knowledge` names one level; the spec layer (`slm_acl.spec.expert_knowledge`) turns it
into explicit curriculum keys for each body's env. What a level gives depends on two kinds of facts:

- facts about the teacher, declared here and on each teacher class (`Teacher.expert_knowledge`, one `Grant` per
  level): which gifts it takes at that level, or why it cannot run at it. They come from TeachMyAgent's
  `run_utils/teacher_args_handler.py` (REFERENCE.md 1.3), and sit on the teacher as its Config does, so a new
  teacher declares its own levels and the resolver needs no list of teachers;
- facts about the env (its success threshold, ADR's reward thresholds, where its easy tasks are), which live with
  the resolver, keyed by the lab's env names, since the curriculum layer knows no env.

A gift is a name, not a value: "initial_dist" means "the env's easy Gaussian over this body's task space", which
only the resolver can compute. Every gift is documented where it is turned into keys.
"""
from __future__ import annotations

import dataclasses
import enum
from typing import Literal, Mapping

Level = Literal["no", "low", "high"]
LEVELS: tuple[Level, ...] = ("no", "low", "high")


class Gift(str, enum.Enum):
    """What a level can give a teacher (the curriculum or teacher keys each one sets are the resolver's business)."""

    INITIAL_DIST = "initial_dist"  # curriculum.initial_dist: the env's easy Gaussian
    TARGET_DIST = "target_dist"  # curriculum.target_dist: the whole task space (SPDL's own default target)
    REWARD_THRESHOLDS = "reward_thresholds"  # teacher.max_reward_thr / min_reward_thr: the env's ADR thresholds
    PRETRAINING = "pretraining"  # teacher.use_pretrained_samples: true
    RANDOM_INITIAL_DIST = "random_initial_dist"  # teacher.initial_dist_fallback "random_subspace" if no initial_dist


@dataclasses.dataclass(frozen=True)
class Grant:
    """One teacher at one level: the gifts it takes (in order), or why it cannot run (`refused`)."""

    gifts: tuple[Gift, ...] = ()
    refused: str | None = None


def gives(*gifts: Gift) -> Grant:
    return Grant(gifts=tuple(gifts))


def refuses(reason: str) -> Grant:
    return Grant(refused=reason)


def levels(no: Grant, low: Grant, high: Grant) -> Mapping[str, Grant]:
    """A teacher's declaration: one grant for each level (all three, so none is forgotten)."""
    return {"no": no, "low": low, "high": high}


NOTHING: Mapping[str, Grant] = levels(gives(), gives(), gives())  # a teacher no level gives anything (Random, RIAC)
