"""Append-only CSV tables that survive a kill and can be cut back to a checkpoint.

Rows are buffered in memory and appended to the CSV on `flush()`. A checkpoint records how many
rows each table had flushed; on resume `truncate(n)` rewrites the file (atomically) with its first
n rows, dropping rows written after the checkpoint and any half-written last line, so a resumed
run has neither duplicated nor missing rows.

A table's columns are fixed when it is made: a row with a column the table does not know is an
error when it is appended (naming the file, the unknown columns and the known ones), never a value
dropped in silence. A known column a row leaves out is written as an empty cell.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, Sequence

from slm_acl.lib.io import atomic_write


class UnknownColumnError(ValueError):
    """A row holds a column its table was not declared with."""


class CsvTable:
    def __init__(self, path: str | Path, columns: Sequence[str]):
        self.path = Path(path)
        self.columns = list(columns)
        if len(set(self.columns)) != len(self.columns):
            repeated = sorted({c for c in self.columns if self.columns.count(c) > 1})
            raise ValueError(f"table {self.path} declares column(s) {repeated} more than once")
        self._known = frozenset(self.columns)
        self.buffer: list[dict[str, Any]] = []
        self.flushed = 0

    def append(self, row: dict[str, Any]) -> None:
        self._check(row)
        self.buffer.append(row)

    def extend(self, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            self._check(row)
        self.buffer.extend(rows)

    def _check(self, row: dict[str, Any]) -> None:
        if not row.keys() <= self._known:
            unknown = sorted(set(row) - self._known)
            raise UnknownColumnError(f"table {self.path}: unknown column(s) {unknown}; "
                                     f"its columns are {self.columns}")

    @property
    def rows(self) -> int:
        return self.flushed + len(self.buffer)

    def flush(self) -> None:
        if not self.buffer and self.path.exists():
            return
        new_file = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns, extrasaction="raise")
            if new_file:
                writer.writeheader()
            writer.writerows(self.buffer)
            f.flush()
            os.fsync(f.fileno())
        self.flushed += len(self.buffer)
        self.buffer.clear()

    def truncate(self, n_rows: int) -> None:
        """Keep the header and the first `n_rows` complete rows of the file on disk."""
        self.buffer.clear()
        if not self.path.exists():
            self.flushed = 0
            if n_rows:
                raise FileNotFoundError(f"{self.path} is missing but the checkpoint counts {n_rows} rows")
            return
        with open(self.path, newline="") as f:
            lines = f.read().split("\n")
        header, body = lines[0], [line for line in lines[1:] if line]
        complete = [line for line in body if _is_complete(line, len(self.columns))]
        if len(complete) < n_rows:
            raise ValueError(f"{self.path} has {len(complete)} rows, fewer than the {n_rows} the checkpoint counts")
        text = "\n".join([header, *complete[:n_rows]]) + "\n"
        atomic_write(self.path, lambda f: f.write(text))
        self.flushed = n_rows


def _is_complete(line: str, n_columns: int) -> bool:
    try:
        row = next(csv.reader(io.StringIO(line)))
    except (csv.Error, StopIteration):
        return False
    return len(row) == n_columns
