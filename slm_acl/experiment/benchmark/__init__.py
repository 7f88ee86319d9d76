"""Benchmark mode: a spec's `benchmark` block (spec/benchmark.py) run as a campaign of Ray sessions.

- `cells`: the campaign's cells, each validated on its own, or recorded with why it cannot run;
- `driver`: running and resuming every session on the session runner's Ray executor;
- `tables`: benchmark_df (one row per session and body) and benchmark_curves_df (one row per evaluation);
- `progress`: sessions done / total, frames per second, ETA.
"""
from slm_acl.experiment.benchmark.driver import BenchmarkError, BenchmarkResult, run_benchmark

__all__ = ["BenchmarkError", "BenchmarkResult", "run_benchmark"]
