"""Writing rendered frames to a video file (mp4 through imageio-ffmpeg, gif otherwise)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np


def write_video(path: Path, frames: Sequence[np.ndarray], fps: int = 30) -> Path:
    """Write frames (H, W, 3 uint8) to `path`; an .mp4 falls back to .gif when ffmpeg is missing."""
    import imageio.v2 as imageio

    if not frames:
        raise ValueError(f"no frames to write to {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [np.asarray(f, dtype=np.uint8) for f in frames]
    if path.suffix == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401

            # macro_block_size=1 keeps odd frame sizes instead of resizing them with a warning
            imageio.mimwrite(path, frames, fps=fps, macro_block_size=1)
            return path
        except ImportError:
            path = path.with_suffix(".gif")
    imageio.mimwrite(path, frames, duration=1000 / fps, loop=0)
    return path
