"""`python -m slm_acl.env.bodies scale BODY PART FACTOR [--axis x|y] [--out FILE] [--name NAME]`: a body file
with one part (or a family of parts) scaled by `scale_part`, so a variant body is one command, not hand edits.

BODY is a catalogue name or a body .json file. Without --out the body's JSON goes to stdout.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from slm_acl.env.bodies import load_body
from slm_acl.env.bodies.scaling import AXES, parts_named, scale_part


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a bad request, with the reason on stderr)."""
    parser = argparse.ArgumentParser(prog="python -m slm_acl.env.bodies", description="Tools for body files.")
    commands = parser.add_subparsers(dest="command", required=True)
    scale = commands.add_parser("scale", help="write a body with one part (or family of parts) longer or shorter",
                                description="A body with PART FACTOR times as long; the joints on it, the parts "
                                            "beyond it, the spawn heights and sizes follow.")
    scale.add_argument("body", help="a catalogue body (classic_bipedal) or a body .json file")
    scale.add_argument("part", help="a part (lower_-1) or a family of parts (lower: lower_-1 and lower_+1)")
    scale.add_argument("factor", type=float, help="length ratio, > 0 (1.5: half as long again)")
    scale.add_argument("--axis", choices=AXES, help="the part-local axis to stretch (default: the part's long axis)")
    scale.add_argument("--out", help="the body file to write (.json); default: print the JSON")
    scale.add_argument("--name", help="the new body's name (default: the --out file's name without .json, "
                                      "else the body's own)")
    args = parser.parse_args(argv)
    try:
        if args.out is not None and not args.out.endswith(".json"):
            raise ValueError(f"--out must name a .json file (a body path ends in .json); got {args.out!r}")
        body = load_body(args.body)
        scaled = scale_part(body, args.part, args.factor, args.axis)
        name = args.name or (Path(args.out).stem if args.out else body.name)
        scaled = dataclasses.replace(scaled, name=name)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.out is None:
        sys.stdout.write(scaled.to_json())
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(scaled.to_json())
    print(f"wrote {out}: {body.name} with {', '.join(parts_named(body, args.part))} x{args.factor:g}; spawn height "
          f"{body.spawn_heights.stump_tracks:g} -> {scaled.spawn_heights.stump_tracks:g} m (Stump Tracks), "
          f"{body.spawn_heights.parkour:g} -> {scaled.spawn_heights.parkour:g} m (Parkour)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
