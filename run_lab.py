#!/usr/bin/env python
"""The slm_acl command line.

    python run_lab.py                                   # runs config/experiments.json (the demo)
    python run_lab.py SPEC_FILE SPEC_NAME train         # a trial: meta.max_session seeds in parallel
    python run_lab.py SPEC_FILE SPEC_NAME dev           # one short verbose session with extra checks
    python run_lab.py SPEC_FILE SPEC_NAME train@data/RUN_DIR           # resume a killed run
    python run_lab.py SESSION_SPEC SPEC_NAME enjoy@data/RUN_DIR/SPEC_t0_s0   # replay with video
    python run_lab.py SPEC_FILE SPEC_NAME search        # Ray Tune over the spec's search block
    python run_lab.py SPEC_FILE SPEC_NAME search@data/RUN_DIR         # resume a killed search
    python run_lab.py SPEC_FILE SPEC_NAME benchmark     # a campaign over the spec's benchmark block, on Ray
    python run_lab.py SPEC_FILE SPEC_NAME benchmark@data/RUN_DIR      # resume a killed campaign
    python run_lab.py report@data/RUN_DIR [data/RUN_DIR ...]           # statistics, figures, report.md
    python run_lab.py retro@data/RUN_DIR                               # rebuild graphs and tables from info/
    -s VAR=VALUE fills ${VAR} in the spec (in enjoy mode: task dims, episodes, video_episodes)
"""
from __future__ import annotations

import argparse
import os
import sys

EXIT_SPEC_ERROR = 2
EXIT_RUN_ERROR = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_lab.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("words", nargs="*", metavar="SPEC_FILE SPEC_NAME [MODE] | report@RUN_DIR [RUN_DIR ...]",
                        help="a spec file, the spec's name in it and a mode: train | dev (default) | search | "
                             "benchmark | train@RUN_DIR | search@RUN_DIR | benchmark@RUN_DIR | enjoy@SESSION; or an "
                             "analysis of run folders: report@RUN_DIR [RUN_DIR ...] | retro@RUN_DIR [RUN_DIR ...]")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="VAR=VALUE",
                        help="fill ${VAR} placeholders (repeatable)")
    parser.add_argument("--data-dir", default=os.environ.get("SLM_ACL_DATA_DIR", "data"),
                        help="where runs are written (default: data/)")
    parser.add_argument("--ray-address", default=None,
                        help="search, benchmark: attach to this Ray cluster (default: RAY_ADDRESS, else Ray on this "
                             "machine)")
    parser.add_argument("--storage-path", default=None,
                        help="search: where Ray Tune keeps its state (default: the run folder; a path every "
                             "node can reach on a cluster)")
    parser.add_argument("--schedule", default="config/experiments.json",
                        help="the schedule run when no spec is given")
    parser.add_argument("--out", default=None, help="report: the folder to write (default: RUN_DIR/report)")
    parser.add_argument("--at-frame", type=int, default=None,
                        help="report: also compute the statistics at this frame (TeachMyAgent reads 10M too)")
    args = parser.parse_args(argv)
    words = list(args.words)

    from slm_acl.lib import logger
    from slm_acl.spec.errors import SpecError

    logger.setup_console()
    try:
        from slm_acl.experiment import control
        from slm_acl.spec import loader

        if not words:
            control.run_schedule(args.schedule, data_dir=args.data_dir, ray_address=args.ray_address)
        elif "@" in words[0]:  # an analysis of run folders: report@RUN_DIR [RUN_DIR ...]
            control.analyse(words[0], words[1:], args.out, args.at_frame, " ".join(["python run_lab.py", *sys.argv[1:]]))
        elif not 2 <= len(words) <= 3:
            parser.error("give SPEC_FILE SPEC_NAME [MODE], report@RUN_DIR [RUN_DIR ...], or nothing to run the schedule")
        else:
            spec_file, spec_name, mode_text = (*words, "dev")[:3]
            control.run(spec_file, spec_name, mode_text, loader.parse_sets(args.set), args.data_dir,
                        args.ray_address, args.storage_path)
    except SpecError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_SPEC_ERROR
    except KeyboardInterrupt:
        print("interrupted; resume with train@ the run's folder", file=sys.stderr)
        return 130
    except Exception as err:  # a failed run: one readable line, details in the session log
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        if os.environ.get("SLM_ACL_TRACEBACK"):
            for failure in getattr(err, "failures", []):  # a trial's failed sessions: their own tracebacks
                print(f"--- {failure.name}:\n{failure.traceback}", file=sys.stderr)
            raise
        return EXIT_RUN_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
