"""lib/io's torch loader is weights-only: what checkpoints hold loads, anything that could run code is refused."""
from __future__ import annotations

import os
import pickle
import random

import numpy as np
import pytest
import torch

from slm_acl.lib.io import atomic_copy, load_torch, save_torch


class WritesAMarker:
    """A pickle payload: unpickling it would call os.system, here only to create a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_what_checkpoints_hold_round_trips_through_the_safe_loader(tmp_path):
    state = {"tensor": torch.arange(6.0).reshape(2, 3), "nested": {"list": [1, 2.5, None, "text", (3, 4)]},
             "arrays": [np.arange(4).astype(dt) for dt in (np.float32, np.float64, np.int64, np.uint32, np.bool_)],
             "empty": np.zeros((0, 3)), "scalars": [np.float64(1.5), np.int64(-2), np.float32(0.25)],
             "python_rng": random.Random(3).getstate(), "numpy_rng": np.random.RandomState(3).get_state(),
             "generator": np.random.default_rng(3).bit_generator.state, "torch_rng": torch.get_rng_state()}
    save_torch(tmp_path / "state.pt", state)
    back = load_torch(tmp_path / "state.pt")
    torch.testing.assert_close(back["tensor"], state["tensor"])
    assert back["nested"] == {"list": [1, 2.5, None, "text", (3, 4)]}
    for a, b in zip(back["arrays"], state["arrays"]):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert back["empty"].shape == (0, 3)
    assert [type(s) for s in back["scalars"]] == [np.float64, np.int64, np.float32]
    assert back["python_rng"] == state["python_rng"] and back["generator"] == state["generator"]
    assert back["numpy_rng"][0] == "MT19937" and np.array_equal(back["numpy_rng"][1], state["numpy_rng"][1])
    restored = np.random.RandomState()
    restored.set_state(back["numpy_rng"])
    assert restored.random() == np.random.RandomState(3).random()


@pytest.mark.parametrize("write", ["torch.save", "pickle.dump"])
def test_a_malicious_pickle_is_refused_before_it_runs(tmp_path, write):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    payload = {"format": 2, "weights": torch.zeros(2), "evil": WritesAMarker(marker)}
    if write == "torch.save":
        torch.save(payload, path)
        assert "posix.system" in torch.serialization.get_unsafe_globals_in_checkpoint(path)  # it is really there
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        load_torch(path)
    assert not marker.exists()


def test_an_object_array_is_refused(tmp_path):
    save_torch(tmp_path / "objects.pt", {"a": np.array([{"x": 1}, None], dtype=object)})
    with pytest.raises(pickle.UnpicklingError):
        load_torch(tmp_path / "objects.pt")


def test_atomic_copy_copies_the_bytes(tmp_path):
    (tmp_path / "a").write_bytes(b"\x00\x01" * 1000)
    atomic_copy(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b").read_bytes() == (tmp_path / "a").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no temporary file left
