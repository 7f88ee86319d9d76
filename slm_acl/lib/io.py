"""Atomic file writes and small readers.

Everything the lab writes that a resume or an analysis will read goes through here: the data is
written to a temporary file in the same folder, flushed to disk, then renamed over the target, so
a kill at any moment leaves either the old file or the new one, never half of one.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()  # what open() would give; read once (umask is process-wide)


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], binary: bool = False) -> None:
    """Call `write(fileobj)` on a temporary file, fsync it, then rename it onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600 files; give the usual permissions
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, data: Any) -> None:
    atomic_write(path, lambda f: json.dump(data, f, indent=2, default=_json_default))


def read_json(path: str | os.PathLike) -> Any:
    with open(path) as f:
        return json.load(f)


def write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda f: f.write(text))


def atomic_copy(source: str | os.PathLike, path: str | os.PathLike) -> None:
    """Copy `source` onto `path` through a temporary file and a rename (a kept copy of a checkpoint)."""
    with open(source, "rb") as src:
        atomic_write(path, lambda f: shutil.copyfileobj(src, f, 1 << 20), binary=True)


def save_torch(path: str | os.PathLike, obj: Any) -> None:
    """torch.save through a temporary file and a rename."""
    import torch

    atomic_write(path, lambda f: torch.save(obj, f), binary=True)


def _numpy_safe_globals() -> list[Any]:
    """What pickled NumPy arrays, scalars and RNG states refer to, and nothing more.

    An array pickles as `_reconstruct(ndarray, shape, dtype)` plus its bytes (an empty one as `bytes()`), a
    scalar as `scalar(dtype, bytes)`, and each dtype by its class (`numpy.dtypes.Float64DType`). The functions
    are read off NumPy's own reductions, so the list holds for NumPy 1 (`numpy.core`) and 2 (`numpy._core`).
    Object arrays are left out: their dtype is not listed, so a checkpoint holding one is refused.
    """
    reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    dtypes = [type(np.dtype(code)) for code in np.typecodes["All"] if code not in "OSUVMm"]
    return [reconstruct, scalar, np.ndarray, np.dtype, bytes, *dtypes]


def load_torch(path: str | os.PathLike) -> Any:
    """torch.load with `weights_only=True`: tensors, plain containers, NumPy arrays and scalars only.

    The weights-only unpickler refuses any other global, so a file that would build arbitrary objects (and
    run code while doing so, as any pickle can) raises `pickle.UnpicklingError` before anything runs.
    """
    import torch

    with torch.serialization.safe_globals(_numpy_safe_globals()):
        return torch.load(path, map_location="cpu", weights_only=True)
