"""A student that forgets (TeachMyAgent's skill test 3): when an agent's student is re-initialised.

TeachMyAgent resets its SAC student every 7M of 20M frames (at 7M and 14M) to see whether a teacher notices
that the student lost its skills and goes back to easier tasks. Here `agent[].reset_frequency` sets it per agent:

- **The agent's frames** are the sum of its bodies' frames (each body's clock counts env steps summed over its
  sub-envs); with one body they are that body's frames. A multi-body agent's student is one set of nets fed by
  all its bodies, so the frames it has learnt from are the sum.
- The student resets once at each multiple k * reset_frequency of the agent's frames, right after the step (and
  the update of that step) whose frames reach or pass it; a vectorised step adds num_envs frames per body, so the
  agent's frame at the reset may lie past the multiple by less than one step's frames. A step that passes several
  multiples (a frequency below one step's frames) resets once, with the index of the last multiple passed.
- No reset after the step that finishes all of the agent's bodies: the final evaluation must see the student
  that trained, not a fresh one (with frequency 7M and a 14M budget TeachMyAgent's run also ends untouched).
- The index k of the multiple names the seed of the fresh weights (`Algorithm.reset_student`), and the index of
  the last reset is checkpointed with the AEB space, so a resumed run neither repeats nor skips one.
"""
from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class ResetEvent:
    """One student reset, as the session logs it and writes it to each of the agent's bodies' resets_df."""

    agent: int  # the agent's index in the spec
    name: str  # the agent's name
    index: int  # the multiple of reset_frequency the reset falls on (1: the first)
    agent_frame: int  # the agent's frames (its bodies' frames summed) at the reset
    body_frames: dict[str, int]  # each of the agent's bodies' own frame at the reset, by body label


class StudentResets:
    """The reset schedule of one agent: every `frequency` of the agent's frames."""

    def __init__(self, frequency: int):
        if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
            raise ValueError(f"reset_frequency must be an integer >= 1 (frames), got {frequency!r}")
        self.frequency = frequency
        self.last_index = 0  # the multiple of the latest reset (0: none yet)

    def due(self, agent_frame: int) -> int | None:
        """The index of the multiple to reset on at this frame, or None when no new multiple has been reached."""
        index = agent_frame // self.frequency
        return index if index > self.last_index else None

    def mark(self, index: int) -> None:
        """The reset on multiple `index` is done."""
        self.last_index = index

    def state_dict(self) -> dict[str, Any]:
        return {"frequency": self.frequency, "last_index": self.last_index}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["frequency"] != self.frequency:
            raise ValueError(f"reset_frequency changed since the checkpoint ({state['frequency']} -> "
                             f"{self.frequency}); a resumed run keeps its spec")
        self.last_index = int(state["last_index"])
