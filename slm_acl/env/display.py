"""Whether a window can open here: asked by the worlds when they list their render modes and by the
"human" renderer before it opens one (a module of its own so that neither imports the other)."""
from __future__ import annotations

import os
import sys


def has_display() -> bool:
    """Whether a window could open here (macOS, Windows, or an X11 / Wayland display)."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
