"""Every registered teacher on teachDeepRL's toy bench (not a test: ~10 minutes at the defaults on 2 cores).

Imports every module under `slm_acl.curriculum.teachers` (so a teacher counts as soon as its module
registers it), then runs each registered teacher with its default settings (or `--settings`) for
`--episodes` episodes on `--seeds` seeds of the toy student (`slm_acl.curriculum.toy`, REFERENCE.md §9),
two seeds at a time in spawned processes with BLAS/OpenMP pinned to one thread each.

Prints, after the git sha and the settings, a markdown table with one row per teacher: the
percentage of mastered cells (mean ± std over seeds) at the end, at 1/4 and at 1/2 of the run, the
time spent inside the teacher (sample_task + update) per episode and its share of the episode loop,
and notes (expert knowledge given, the error of a teacher that failed: a failure is reported in its
row, never fatal). Then it checks an expected ordering of the final scores (`EXPECTED_ORDERING`: RIAC
and Covar-GMM ahead of ALP-GMM, all three ahead of Random), pair by pair for the teachers present,
and prints "holds" or "does not hold".

Where the expected ordering comes from: it is an expectation this bench checks, not a published
result. teachDeepRL (Portelas et al., CoRL 2019) publishes no numbers for its toy. Running
teachDeepRL's original code on the toy (checked for this lab, 10 seeds) puts ALP-GMM behind RIAC and
Covar-GMM, as the lab's teachers do (see "The ordering check and ALP-GMM" below); the three ahead of
Random is the toy's premise (a teacher that follows the learnable frontier beats uniform sampling).
An earlier version of this script labelled the opposite order (ALP-GMM first) as teachDeepRL's
published toy results; no such results exist.

Teachers that need expert knowledge get it in toy terms: `initial_dist` centred on the origin cell
(std 0.1), `target_dist` the whole space (centre, std 0.25); `success_return` is 0.75 (the reward of
a mastered cell). Teachers whose required settings are expert knowledge get toy values
(`slm_acl.curriculum.toy.toy_preset`: ADR's reward thresholds and start, the Oracle's window step),
printed before the table; GoalGAN pretrains on `initial_dist` (the origin cell), its published
"original" expert knowledge; `--settings NAME='{"key": value}'` overrides any key. The four teachers
of teachDeepRL's toy script (ALP-GMM, Covar-GMM, RIAC, Random) run with the class defaults that
script builds them with (`slm_acl.curriculum.toy.TDRL_TOY_SETTINGS`, a setting chosen here: whether
the paper's toy figures used them is unverified), not the lab's TeachMyAgent-benchmark defaults.
Other settings keep their published defaults, which are tuned for real envs: rewards here lie in
[0,1]. The toy has no observations (a value-estimating teacher gets V(task) = the expected reward of
the task's cell; see `slm_acl.curriculum.toy.bench`).

The ordering check and ALP-GMM: with teachDeepRL's toy-script settings the lab's ALP-GMM masters
~35 % of the cells at 20,000 episodes (4 seeds: 35.0 ± 2.7), behind Covar-GMM (66 ± 4 %) and RIAC
(47 ± 4 %, 2 seeds), which is why the expected ordering puts it behind them. This is the algorithm,
not a lab bug: teachDeepRL's original code puts ALP-GMM behind both on this toy too (10 seeds), and
an independent re-statement of the teachDeepRL code (own RNG, one sklearn seed, float32 tasks)
gives 35 % on seeds 1 and 2 as well. The cause is the toy's flat cells: ALP is |r - r_nn| against
the nearest earlier task, which in the toy is a random earlier sample of the same cell (96-98 % of
the time), often one played hundreds of episodes earlier at a lower competence. Cells at competence
100, where nothing is left to learn, keep ALP ~ 1 - (a random past reward of the cell) and carry
~70 % of the ALP mass from episode 2,000 on (mean ALP 0.12-0.27 against 0.24-0.31 in the learnable
cells). Limiting the neighbour search to recent episodes (`alp_max_size` 500, not a published toy
setting) lifts ALP-GMM to 59 ± 6 %.

GoalGAN and the toy's binary success: GoalGAN trains its GAN only on goals of intermediate
difficulty (GOIDs: success rate over its 2 rollouts in [0.25, 0.75], i.e. exactly 1 of 2). On the
toy, success (reward > 0.75) is a deterministic property of a goal's cell: it fails until the cell
is mastered and succeeds from then on, so a goal is a GOID only when its two rollouts straddle
competence 75 -> 76 (0.1-0.5 % of labelled goals at 5,000 episodes on 5 seeds; GAN trained 2-11 of
~24 times). Before the preset gave it `initial_dist`, GoalGAN pretrained on a random sub-space
Gaussian (std 0.1, no expert knowledge given: TeachMyAgent's "low"), which lies in locked cells on
most seeds: every goal failed, no GOID and no success-buffer goal ever appeared, the GAN never
trained again, and it mastered 0 % (seeds 0, 1, 3, 4 at 5,000 episodes; seed 2, whose Gaussian
covered the origin, 9 %; 0 % on seeds 0-1 at 20,000). Pretrained on the origin cell, it masters
10-18 % at 5,000 episodes (seeds 0-4) and 29.5 ± 23.3 % at 20,000 (seeds 0-1), mostly through its
success-buffer replays and goal noise spilling into neighbouring cells. Reward noise (`reward_noise`
0.1) gives intermediate success rates near mastery: GOIDs rise to 3.6-5 % and the GAN trains 19-22
times, but the GOIDs are then cells about to be mastered, not the freshly unlocked frontier, so the
score barely moves (15-18 % against 10-18 %).

Cost: the student takes ~12 µs per episode, so a run costs 0.25 s plus the teacher's own time
(the table's ms per episode: Random 0.005, ADR/Oracle ~0.03, RIAC ~0.1, GoalGAN ~0.8, SPDL/ALP-GMM
~1.5, Covar-GMM ~2-3, Setter-Solver ~5.5 ms, measured at 5,000 episodes). With all nine teachers,
5 seeds × 20,000 episodes on 2 workers take about 10 minutes; `--seeds 2 --episodes 5000` about 1.

`--gif DIR` (needs --dim 2) writes DIR/<teacher>.gif for seed 0: one frame per `--eval-every`
episodes, the tasks sampled in that window over the grid coloured by competence at its end.

    .venv/bin/python bench/toy_teachers.py [--seeds 5] [--episodes 20000] [--dim 2] [--extra-dims 0]
        [--eval-every EPISODES/20] [--teachers Random ALP-GMM] [--settings NAME=JSON] [--gif DIR]
"""
from __future__ import annotations

import os

# Pin BLAS/OpenMP threads before numpy is imported, here and in every spawned worker (which
# re-imports this module first): GMM fits are 70x slower with default threading on 2 cores (REFERENCE §1.13).
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import pkgutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from slm_acl.curriculum.toy import NB_CUBES, ToyRun, expert_knowledge, run_teacher, toy_preset  # noqa: E402
from slm_acl.lib.provenance import git_sha  # noqa: E402
from slm_acl.spec import teacher_choice  # noqa: E402

# An expectation this bench checks, not a published result: (ahead, behind) pairs on the final score.
# teachDeepRL publishes no toy numbers; its original code on this toy (10 seeds, checked for this lab)
# puts ALP-GMM behind RIAC and Covar-GMM; every teacher ahead of Random is the toy's premise.
EXPECTED_ORDERING = (("RIAC", "ALP-GMM"), ("Covar-GMM", "ALP-GMM"), ("ALP-GMM", "Random"), ("RIAC", "Random"),
                     ("Covar-GMM", "Random"))
EXPECTED_ORDERING_SOURCE = ("ALP-GMM behind RIAC and Covar-GMM as teachDeepRL's original code gives on this toy, "
                            "10 seeds; not a published result")


def import_teachers() -> dict[str, str]:
    """Import every module under slm_acl.curriculum.teachers; module -> error for those that fail."""
    import slm_acl.curriculum.teachers as package

    errors: dict[str, str] = {}

    def failed(module: str) -> None:
        errors[module] = _one_line(sys.exc_info()[1])

    for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".", onerror=failed):
        try:
            importlib.import_module(info.name)
        except Exception as err:  # a teacher being written must not stop the bench
            errors[info.name] = _one_line(err)
    return errors


def _one_line(err: BaseException | None) -> str:
    return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}".rstrip(": ")


def teacher_classes() -> dict:
    from slm_acl.curriculum.teachers import TEACHERS

    return dict(TEACHERS.items())


def run_one(job: dict) -> tuple[str, int, ToyRun | str]:
    """One (teacher, seed) run in a worker: the ToyRun, or the error as text."""
    import_teachers()
    name, seed = job["teacher"], job["seed"]
    try:
        cls = teacher_classes()[name]
        dists = expert_knowledge(cls, job["dim"] + job["extra_dims"], job["initial_dist"])
        run = run_teacher(teacher_choice(name, job["settings"]), job["episodes"], seed, dim=job["dim"], nb_cubes=NB_CUBES,
                          extra_dims=job["extra_dims"], eval_every=job["eval_every"],
                          record_samples=job["record"], **dists)
    except Exception as err:
        frame = traceback.extract_tb(err.__traceback__)[-1]
        return name, seed, f"{_one_line(err)} ({Path(frame.filename).name}:{frame.lineno})"
    return name, seed, run


def mean_std(values: list[float]) -> str:
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return f"{np.mean(values):.1f} ± {std:.1f}"


def table(names: list[str], results: dict, classes: dict, initial: dict[str, bool], episodes: int) -> list[str]:
    quarter, half = episodes // 4, episodes // 2
    lines = [f"| teacher | final % | % at {quarter} | % at {half} | teacher ms/ep | teacher share | notes |",
             "|---|---|---|---|---|---|---|"]
    for name in names:
        runs = [r for r in results[name].values() if isinstance(r, ToyRun)]
        errors = sorted({r for r in results[name].values() if isinstance(r, str)})
        notes = ["initial_dist: origin cell" if classes[name].needs_initial_dist or initial[name] else "",
                 "target_dist: whole space" if classes[name].needs_target_dist else "",
                 *(f"failed: {e}" for e in errors)]
        if len(runs) < len(results[name]):
            notes.insert(0, f"{len(runs)}/{len(results[name])} seeds ran")
        note = "; ".join(n for n in notes if n)
        if not runs:
            lines.append(f"| {name} | – | – | – | – | – | {note} |")
            continue
        ms = np.mean([r.teacher_ms_per_episode for r in runs])
        share = 100 * sum(r.teacher_s for r in runs) / sum(r.total_s for r in runs)
        scores = [mean_std([r.score_at(at) for r in runs]) for at in (episodes, quarter, half)]
        lines.append(f"| {name} | {' | '.join(scores)} | {ms:.3f} | {share:.0f} % | {note} |")
    return lines


def ordering(results: dict) -> list[str]:
    finals = {name: np.mean([r.final for r in by_seed.values() if isinstance(r, ToyRun)])
              for name, by_seed in results.items() if any(isinstance(r, ToyRun) for r in by_seed.values())}
    pairs = [(a, b) for a, b in EXPECTED_ORDERING if a in finals and b in finals]
    if not pairs:
        present = sorted(set(finals) & {n for pair in EXPECTED_ORDERING for n in pair})
        return [f"expected ordering ({EXPECTED_ORDERING_SOURCE}): not checked (present: "
                f"{', '.join(present) or 'none'} of ALP-GMM, RIAC, Covar-GMM, Random; needs two)"]
    lines = []
    for a, b in pairs:
        verdict = "holds" if finals[a] > finals[b] else "does not hold"
        lines.append(f"- {a} ({finals[a]:.1f} %) ahead of {b} ({finals[b]:.1f} %): {verdict}")
    overall = "holds" if all(finals[a] > finals[b] for a, b in pairs) else "does not hold"
    return [f"expected ordering ({EXPECTED_ORDERING_SOURCE}; final score, {len(pairs)} of "
            f"{len(EXPECTED_ORDERING)} pairs present): {overall}", *lines]


def write_gif(run: ToyRun, path: Path, eval_every: int) -> None:
    """One frame per evaluation window: its sampled tasks over the competence grid at the window's end."""
    import imageio.v3 as iio
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = []
    fig, ax = plt.subplots(figsize=(4, 4), dpi=80)
    for k, end in enumerate(run.eval_episodes):
        ax.clear()
        ax.imshow(run.competence[k].T, origin="lower", extent=(0, 1, 0, 1), cmap="Greens", vmin=0, vmax=100)
        window = run.samples[end - eval_every:end]
        ax.scatter(window[:, 0], window[:, 1], s=2, c="tab:red", alpha=0.4, linewidths=0)
        ax.set_xticks(np.linspace(0, 1, NB_CUBES + 1), labels=[])
        ax.set_yticks(np.linspace(0, 1, NB_CUBES + 1), labels=[])
        ax.grid(color="0.7", linewidth=0.5)
        ax.set_xlim(0, 1), ax.set_ylim(0, 1)
        ax.set_title(f"{run.teacher}: episodes {end - eval_every}-{end}, {run.mastered[k]:.0f} % mastered",
                     fontsize=8)
        fig.canvas.draw()
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    iio.imwrite(path, np.stack(frames), duration=300, loop=0)


def parse_settings(items: list[str]) -> dict[str, dict]:
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep:
            raise SystemExit(f"--settings takes NAME=JSON, e.g. ADR='{{\"step_size\": 0.05}}'; got {item!r}")
        try:
            out[name] = json.loads(text)
        except json.JSONDecodeError as err:
            raise SystemExit(f"--settings {name}: not JSON ({err}): {text!r}") from None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=20000)
    parser.add_argument("--dim", type=int, default=2, help="relevant dimensions (10 cells each)")
    parser.add_argument("--extra-dims", type=int, default=0, help="irrelevant dimensions appended to each task")
    parser.add_argument("--eval-every", type=int, default=None, help="default: episodes / 20 (1000 at 20000)")
    parser.add_argument("--teachers", nargs="+", default=None, help="default: every registered teacher")
    parser.add_argument("--settings", nargs="*", default=[], metavar="NAME=JSON", help="a teacher's settings")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gif", type=Path, default=None, metavar="DIR", help="write seed 0's sampling GIFs here")
    args = parser.parse_args()
    eval_every = args.eval_every or max(1, args.episodes // 20)
    if args.gif is not None and args.dim != 2:
        raise SystemExit("--gif draws the 2-D grid: use it with --dim 2")

    import_errors = import_teachers()
    classes = teacher_classes()
    names = args.teachers or list(classes)
    unknown = [n for n in names if n not in classes]
    if unknown:
        raise SystemExit(f"unknown teachers {unknown}; registered: {', '.join(classes)}")
    cli_settings = parse_settings(args.settings)

    print(f"git sha   {git_sha()}")
    print(f"toy       dim {args.dim} + {args.extra_dims} irrelevant, {NB_CUBES} cells per dim, "
          f"{args.episodes} episodes, score every {eval_every}, seeds 0..{args.seeds - 1}, {args.workers} workers")
    for module, error in import_errors.items():
        print(f"import failed: {module}: {error}")
    presets = {n: toy_preset(n, classes[n], args.dim, args.extra_dims) for n in names}
    settings = {n: {**presets[n][0], **cli_settings.get(n, {})} for n in names}
    for n in names:
        if settings[n]:
            print(f"settings  {n}: {json.dumps(settings[n])}")
    jobs = [{"teacher": n, "seed": s, "settings": settings[n], "initial_dist": presets[n][1],
             "episodes": args.episodes, "dim": args.dim, "extra_dims": args.extra_dims, "eval_every": eval_every,
             "record": args.gif is not None and s == 0}
            for n in names for s in range(args.seeds)]
    results: dict[str, dict[int, ToyRun | str]] = {n: {} for n in names}
    start = time.perf_counter()
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for name, seed, result in pool.imap_unordered(run_one, jobs):
            results[name][seed] = result
    print(f"wall      {time.perf_counter() - start:.1f} s\n")
    print("\n".join(table(names, results, classes, {n: presets[n][1] for n in names}, args.episodes)))
    print()
    print("\n".join(ordering(results)))
    if args.gif is not None:
        args.gif.mkdir(parents=True, exist_ok=True)
        for name in names:
            run = results[name].get(0)
            if isinstance(run, ToyRun):
                path = args.gif / f"{name}.gif"
                write_gif(run, path, eval_every)
                print(f"gif       {path}")


if __name__ == "__main__":
    main()
