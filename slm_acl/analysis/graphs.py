"""PNG graphs of a run: per-body learning curves, % mastered, and trial mean +- std over sessions."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

MA_WINDOW = 100
TITLE_CHARS_PER_INCH = 9  # the figure title's characters per inch of figure width at its 12 pt size


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def read_table(path: Path) -> pd.DataFrame | None:
    """A CSV table, or None when it is missing or empty."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    df = pd.read_csv(path)
    return df if len(df) else None


def _figure(title: str, two_panels: bool):
    """One or two panels side by side, under one figure title wrapped to the figure's width.

    The title (`alp_gmm_ppo_stump_tracks_t0_s0 a0_e0_b0`) is written once over the whole figure, not in each
    panel's title, where a long spec name ran past the right edge of the figure and was cut.
    """
    plt = pyplot()
    width = 12 if two_panels else 7
    fig, axes = plt.subplots(1, 2 if two_panels else 1, figsize=(width, 4.5), squeeze=False)
    fig.suptitle(textwrap.fill(title, width * TITLE_CHARS_PER_INCH, break_on_hyphens=False), fontsize=12)
    return fig, axes


def session_graph(episodes_csv: Path, evals_csv: Path, out: Path, title: str,
                  resets_csv: Path | None = None) -> Path | None:
    """Episode returns (dots), their moving average, eval returns and % mastered against frames, with a dashed
    vertical line at each student reset read from `resets_csv` (a resets_df; none when missing or empty), so a
    drop in the curves can be told from a student that was made to forget."""
    episodes, evals = read_table(episodes_csv), read_table(evals_csv)
    resets = None if resets_csv is None else read_table(resets_csv)
    if episodes is None and evals is None:
        return None
    has_mastered = evals is not None and evals["mastered"].notna().any()
    fig, axes = _figure(title, has_mastered)
    ax = axes[0, 0]
    if episodes is not None:
        ax.scatter(episodes["frame"], episodes["return"], s=3, alpha=0.25, color="tab:blue", label="episode return")
        ma = episodes["return"].rolling(MA_WINDOW, min_periods=1).mean()
        ax.plot(episodes["frame"], ma, color="tab:blue", lw=2, label=f"moving average ({MA_WINDOW} episodes)")
    if evals is not None:
        ax.plot(evals["frame"], evals["mean_return"], "o-", color="tab:orange", label="eval mean return")
    ax.set(xlabel="frames", ylabel="return", title="returns")
    ax.grid(alpha=0.3)
    if has_mastered:
        ax2 = axes[0, 1]
        ax2.plot(evals["frame"], evals["mastered"], "o-", color="tab:green")
        ax2.set(xlabel="frames", ylabel="% mastered", ylim=(-2, 102), title="% of test set mastered")
        ax2.grid(alpha=0.3)
    if resets is not None:
        for axis in axes[0]:
            for k, frame in enumerate(resets["frame"]):
                axis.axvline(frame, color="tab:red", ls="--", lw=1, label="student reset" if k == 0 else None)
    ax.legend(loc="best", fontsize=8)
    return save_figure(fig, out)


def _on_grid(frames: Sequence[np.ndarray], values: Sequence[np.ndarray], n: int = 200):
    top = min(f.max() for f in frames)
    grid = np.linspace(0, top, n)
    stacked = np.stack([np.interp(grid, f, v) for f, v in zip(frames, values)])
    return grid, stacked.mean(axis=0), stacked.std(axis=0)


def trial_graph(episode_csvs: Sequence[Path], eval_csvs: Sequence[Path], out: Path, title: str) -> Path | None:
    """Mean +- std over sessions of the return moving average and of % mastered."""
    episodes = [d for d in (read_table(p) for p in episode_csvs) if d is not None]
    evals = [d for d in (read_table(p) for p in eval_csvs) if d is not None]
    if not episodes:
        return None
    has_mastered = bool(evals) and all(e["mastered"].notna().any() for e in evals)
    fig, axes = _figure(title, has_mastered)
    frames = [d["frame"].to_numpy(float) for d in episodes]
    mas = [d["return"].rolling(MA_WINDOW, min_periods=1).mean().to_numpy() for d in episodes]
    grid, mean, std = _on_grid(frames, mas)
    ax = axes[0, 0]
    ax.plot(grid, mean, color="tab:blue", lw=2, label=f"mean over {len(episodes)} sessions")
    ax.fill_between(grid, mean - std, mean + std, color="tab:blue", alpha=0.2, label="+- 1 std")
    ax.set(xlabel="frames", ylabel=f"return (moving average, {MA_WINDOW} episodes)", title="returns")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    if has_mastered:
        ax2 = axes[0, 1]
        if all(len(e) > 1 for e in evals):
            grid, mean, std = _on_grid([e["frame"].to_numpy(float) for e in evals],
                                       [e["mastered"].to_numpy(float) for e in evals])
            ax2.plot(grid, mean, color="tab:green", lw=2)
            ax2.fill_between(grid, mean - std, mean + std, color="tab:green", alpha=0.2)
        else:
            for e in evals:
                ax2.plot(e["frame"], e["mastered"], "o", color="tab:green")
        ax2.set(xlabel="frames", ylabel="% mastered", ylim=(-2, 102), title="% of test set mastered")
        ax2.grid(alpha=0.3)
    return save_figure(fig, out)


def save_figure(fig, out: Path, tight: bool = True) -> Path:
    """Write a figure as PNG atomically and close it."""
    from slm_acl.lib.io import atomic_write

    if tight:
        fig.tight_layout()
    atomic_write(out, lambda f: fig.savefig(f, format="png", dpi=100), binary=True)
    pyplot().close(fig)
    return out
