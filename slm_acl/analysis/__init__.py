"""Analysis: tables into metrics, graphs and videos (matplotlib's Agg backend, no display needed)."""
