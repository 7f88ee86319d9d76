"""The slm_acl command line: `python run_lab.py ...` and the `slm-acl` console script run this `main`.

    slm-acl                                             # runs config/experiments.json (the demo)
    slm-acl --schedule FILE -s frames=2e5               # a schedule; -s fills ${frames} in its specs
    slm-acl SPEC_FILE SPEC_NAME train                   # a trial: meta.max_session seeds in parallel
    slm-acl SPEC_FILE SPEC_NAME dev                     # one short verbose session with extra checks
    slm-acl SPEC_FILE SPEC_NAME train@data/RUN_DIR      # resume a killed run
    slm-acl SPEC_FILE SPEC_NAME enjoy@data/RUN_DIR/SPEC_t0_s0     # replay with a new video
    slm-acl SPEC_FILE SPEC_NAME eval@data/RUN_DIR/SPEC_t0_s0_ckpt_best -s test_set=uniform -s test_set_size=50
                                                        # a saved policy on any test set: tables, picture in eval/
    slm-acl SPEC_FILE SPEC_NAME search -s frames=1e6    # Ray Tune over the spec's search block
    slm-acl SPEC_FILE SPEC_NAME search@data/RUN_DIR -s frames=1e6 # resume a killed search
    slm-acl SPEC_FILE SPEC_NAME benchmark               # a campaign over the spec's benchmark block, on Ray
    slm-acl SPEC_FILE SPEC_NAME benchmark@data/RUN_DIR  # resume a killed campaign
    slm-acl report@data/RUN_DIR [data/RUN_DIR ...]      # statistics, figures, report.md
    slm-acl retro@data/RUN_DIR                          # rebuild graphs and tables from info/
    -s VAR=VALUE fills ${VAR} in the spec (in enjoy mode: task dims, episodes, video_episodes; in eval mode:
                 test_set, test_set_size, test_set_seed, deterministic, num_envs)

`python run_lab.py` takes the same arguments (run_lab.py stays at the top level: it is the lab's entry
point by convention, and runs from a checkout without installing the package).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_SPEC_ERROR = 2
EXIT_RUN_ERROR = 1


def _invocation() -> str:
    """How the lab was started, for the command a report records: `python run_lab.py` or `slm-acl`."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "slm-acl"
    return f"python {name}" if name.endswith(".py") else name


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run it; returns the exit code (0, 1 a failed run, 2 a bad spec, 130).

    A failed run is one that raised, or whose result says that every trial or session of it failed
    (`experiment.verdict`: a search returns its table even then).
    """
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("words", nargs="*", metavar="SPEC_FILE SPEC_NAME [MODE] | report@RUN_DIR [RUN_DIR ...]",
                        help="a spec file, the spec's name in it and a mode: train | dev (default) | search | "
                             "benchmark | train@RUN_DIR | search@RUN_DIR | benchmark@RUN_DIR | enjoy@SESSION | "
                             "eval@SESSION[_ckpt_best|_ckpt_fN]; or an "
                             "analysis of run folders: report@RUN_DIR [RUN_DIR ...] | retro@RUN_DIR [RUN_DIR ...]")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="VAR=VALUE",
                        help="fill ${VAR} placeholders (repeatable; with --schedule, in every scheduled spec "
                             "that has ${VAR})")
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
    parser.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                        help="a plugin module to import first (repeatable): it registers teachers, algorithms, "
                             "nets or memories; a run records it in its spec's meta.plugins")
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
        from slm_acl.experiment.verdict import total_failure
        from slm_acl.lib import plugins
        from slm_acl.spec import loader

        try:  # here too, for the modes that start from a run folder and never read a spec file
            plugins.activate(args.imports, [Path.cwd()])
        except plugins.PluginError as err:
            raise SpecError("--import", str(err)) from None

        if not words:
            control.run_schedule(args.schedule, loader.parse_sets(args.set), data_dir=args.data_dir,
                                 ray_address=args.ray_address, imports=args.imports)
        elif "@" in words[0]:  # an analysis of run folders: report@RUN_DIR [RUN_DIR ...]
            command = " ".join([_invocation(), *(sys.argv[1:] if argv is None else argv)])
            control.analyse(words[0], words[1:], args.out, args.at_frame, command)
        elif not 2 <= len(words) <= 3:
            parser.error("give SPEC_FILE SPEC_NAME [MODE], report@RUN_DIR [RUN_DIR ...], "
                         "or nothing to run the schedule")
        else:
            spec_file, spec_name, mode_text = (*words, "dev")[:3]
            result = control.run(spec_file, spec_name, mode_text, loader.parse_sets(args.set), args.data_dir,
                                 args.ray_address, args.storage_path, args.imports)
            failure = total_failure(result)
            if failure is not None:
                print(f"error: {failure}", file=sys.stderr)
                return EXIT_RUN_ERROR
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
