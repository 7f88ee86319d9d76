"""Writing rendered frames to a video file (mp4 through imageio-ffmpeg, gif otherwise)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

VIDEO_SUFFIXES = (".mp4", ".gif")  # write_video's .mp4 becomes a .gif without ffmpeg


def next_free(path: Path) -> Path:
    """`path` with the first index `_000`, `_001`, ... whose video (.mp4 or .gif) does not exist yet.

    Replays of one session keep their own files (a second enjoy must not overwrite the first one's video).
    The index, not a timestamp, keeps two replays started in the same second apart; it is not a lock, so two
    replays of the same session started at the same moment may still pick the same index.
    """
    k = 0
    while any(path.with_name(f"{path.stem}_{k:03d}{suffix}").exists() for suffix in VIDEO_SUFFIXES):
        k += 1
    return path.with_name(f"{path.stem}_{k:03d}{path.suffix}")


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
