"""Pictures of the Box2D worlds: one PNG per env x body (and a few tasks), plus a captioned contact sheet.

Writes, under `--out` (default bench/gallery/):

- `{env}_{name}.png`: a 600 x 400 frame (the envs' `render()` size) of each case below, after a reset with a
  fixed seed and `--steps` steps of zero actions (climbers keep holding), so the body has settled;
- `gallery.png`: all of them as thumbnails (`--thumb` px wide) on one sheet, each with its caption.

Stump Tracks cases show each walker on low stumps, then two tasks (high stumps, Hexagon Tracks). Parkour
cases use a zoomed-out view (15 px per metre instead of 30) where noted, so that ground and ceiling both
show: the ceiling starts 20 m above the start pad, outside the default 13 m high view of a walker.

Water in Parkour: water_y = GROUND_LIMIT + level * (max ceiling - GROUND_LIMIT), with GROUND_LIMIT = -100 m
at the default terrain scale, so only levels above about 0.81 reach the start pad (3.3 m); the amphibian's
case uses 0.85.

    .venv/bin/python bench/render_gallery.py [--out bench/gallery] [--steps 40] [--thumb 300]
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from slm_acl.env.parkour import Parkour
from slm_acl.env.render import WorldRenderer
from slm_acl.env.stump_tracks import StumpTracks
from slm_acl.env.terrain import constants as C

LOW_STUMPS = {"stump_height": 1.0, "obstacle_spacing": 3.0}
CREEPERS = {"creepers_width": 0.3, "creepers_height": 3.0, "creepers_spacing": 1.0}
WIDE = C.SCALE / 2  # px per metre of the zoomed-out Parkour view


@dataclasses.dataclass(frozen=True)
class Case:
    env: str  # "stump_tracks" | "parkour"
    body: str
    task: dict
    name: str  # file name part
    caption: str
    scale: float = C.SCALE
    seed: int = 0


CASES = [
    *(Case("stump_tracks", b, LOW_STUMPS, b, f"Stump Tracks, {b}") for b in
      ("classic_bipedal", "small_bipedal", "big_quadru", "spider", "millipede", "wheel", "profile_chimpanzee")),
    Case("stump_tracks", "classic_bipedal", {"stump_height": 2.5, "obstacle_spacing": 2.0}, "high_stumps",
         "Stump Tracks, high stumps (2.5, spacing 2)"),
    Case("stump_tracks", "classic_bipedal", {"poly_shape": [0.0, 1.5, 0.0, 0.8, 0.3, 1.4, 0.0, 1.2, 0.2, 0.6, 0.0, 1.2],
                                             "obstacle_spacing": 1.0}, "hexagons", "Hexagon Tracks (poly_shape)"),
    Case("parkour", "classic_bipedal", {"water_level": 0.0}, "classic_bipedal", "Parkour, classic_bipedal (wide)",
         scale=WIDE),
    Case("parkour", "fish", {"water_level": 1.0}, "fish", "Parkour, fish, water 1.0"),
    Case("parkour", "climbing_profile_chimpanzee", CREEPERS, "climbing_profile_chimpanzee",
         "Parkour, climbing chimpanzee, creepers"),
    Case("parkour", "amphibious_bipedal", {"water_level": 0.85}, "amphibious_bipedal",
         "Parkour, amphibious_bipedal, water 0.85 (wide)", scale=WIDE),
    Case("parkour", "climbing_profile_chimpanzee", {**CREEPERS, "creepers_height": 5.0, "water_level": 0.9},
         "water_creepers", "Parkour, creepers over water 0.9 (wide)", scale=WIDE),
]


def settle(case: Case, steps: int) -> tuple[np.ndarray, float]:
    """Reset with the case's seed and task, play `steps` zero actions (grasps held), render; (frame, ms of a
    frame once the terrain is cached)."""
    env = (StumpTracks if case.env == "stump_tracks" else Parkour)(case.body)
    env.reset(seed=case.seed, options={"task": case.task})
    action = np.zeros(env.action_space.shape, np.float32)
    action[len(env.body_def.motors):] = 1.0  # climbers hold on
    for _ in range(steps):
        if env.step(action)[2]:
            print(f"  note: {case.env} {case.name}: episode ended during the settling steps")
            break
    renderer = WorldRenderer(scale=case.scale)  # env.render() draws at the default scale; this one may zoom out
    renderer.render(env)  # the first frame also reads the terrain's static geometry
    start = time.perf_counter()
    frame = renderer.render(env)
    ms = (time.perf_counter() - start) * 1e3
    env.close()
    return frame, ms


def contact_sheet(pictures: list[tuple[np.ndarray, str]], thumb_w: int, columns: int) -> Image.Image:
    """Thumbnails in a grid, each with its caption underneath."""
    h, w = pictures[0][0].shape[:2]
    thumb_h = round(thumb_w * h / w)
    caption_h, pad = 22, 6
    rows = -(-len(pictures) // columns)
    sheet = Image.new("RGB", (columns * (thumb_w + pad) + pad, rows * (thumb_h + caption_h + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    try:
        font = ImageFont.load_default(size=13)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        font = ImageFont.load_default()
    for i, (frame, caption) in enumerate(pictures):
        x = pad + (i % columns) * (thumb_w + pad)
        y = pad + (i // columns) * (thumb_h + caption_h + pad)
        sheet.paste(Image.fromarray(frame).resize((thumb_w, thumb_h), Image.Resampling.LANCZOS), (x, y))
        draw.text((x + 2, y + thumb_h + 4), caption, fill=(0, 0, 0), font=font)
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "gallery")
    parser.add_argument("--steps", type=int, default=40, help="zero-action steps after reset before the picture")
    parser.add_argument("--thumb", type=int, default=300, help="thumbnail width on the contact sheet (px)")
    parser.add_argument("--columns", type=int, default=4)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    pictures = []
    for case in CASES:
        frame, ms = settle(case, args.steps)
        path = args.out / f"{case.env}_{case.name}.png"
        Image.fromarray(frame).save(path, optimize=True)
        print(f"{path}  ({ms:.1f} ms per frame)")
        pictures.append((frame, case.caption))
    sheet_path = args.out / "gallery.png"
    contact_sheet(pictures, args.thumb, args.columns).save(sheet_path, optimize=True)
    total = sum(p.stat().st_size for p in args.out.glob("*.png"))
    print(f"{sheet_path}; {len(pictures) + 1} PNGs, {total / 1e6:.2f} MB in all")


if __name__ == "__main__":
    main()
