"""Search on a Ray cluster started as the README says (`ray start --head`), with Ray's token authentication.

Ray >= 2.52 authenticates drivers with a token; `ray start` turns it on when a token exists, and Ray 2.61
turns it on for every cluster. The cluster here is started with RAY_AUTH_MODE=token and a token file of its
own (RAY_AUTH_TOKEN_PATH), so the test never reads or writes ~/.ray/auth_token. It has its own ports and temp
dir, and only its own processes are stopped: another Ray on the machine (a campaign) is never touched.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, make_raw, write_spec

from slm_acl.experiment.runner import ray_tasks

RAY_CLI = str(Path(sys.executable).with_name("ray")) if Path(sys.executable).with_name("ray").exists() \
    else shutil.which("ray")
needs_ray_cli = pytest.mark.skipif(RAY_CLI is None, reason="the `ray` command line is not installed "
                                   "(it comes with `pip install ray`); a cluster is started with `ray start --head`")
STOP_GRACE_S = 20
WORKER_PORTS = 200  # ports Ray may give its workers


def free_ports(n: int) -> list[int]:
    """n ports free right now (held open together, so they are distinct)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def ray_ports(worker_range: int = WORKER_PORTS) -> tuple[list[int], int]:
    """Eight free ports for Ray's components, and the first of `worker_range` worker ports, a range that holds
    none of them: Ray refuses a worker range overlapping a component's port, and free ports drawn one by one
    lie close together."""
    components = free_ports(8)
    for start in free_ports(32):
        if not any(start <= port <= start + worker_range for port in components):
            return components, start
    raise RuntimeError(f"no free worker port range clear of the components' ports {components}")


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process, from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        out[int(entry.name)] = (ppid, cmdline)
    return out


def cluster_pids(temp_dir: str) -> set[int]:
    """The processes of the cluster whose session lives in `temp_dir`, and everything they started (workers
    rename themselves `ray::...`, so they are found as children), never this test's own process chain."""
    table = _processes()
    own, pid = set(), os.getpid()
    while pid in table and pid not in own:
        own.add(pid)
        pid = table[pid][0]
    pids = {p for p, (_, cmd) in table.items() if temp_dir in cmd} - own
    while True:
        children = {p for p, (parent, _) in table.items() if parent in pids} - pids - own
        if not children:
            return pids
        pids |= children


def stop_cluster(temp_dir: str) -> None:
    """Stop only this cluster (a global `ray stop` would stop every Ray on the machine): SIGTERM, then SIGKILL."""
    def signal_all(pids: set[int], sig: int) -> None:
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass

    pids = cluster_pids(temp_dir)
    signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
        time.sleep(0.5)
    signal_all({p for p in pids | cluster_pids(temp_dir) if Path(f"/proc/{p}").exists()}, signal.SIGKILL)


@pytest.fixture
def token_cluster(tmp_path):
    """A one-node cluster from `ray start --head` with token authentication; yields (address, driver env)."""
    token = tmp_path / "auth_token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN")}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    temp_dir = tempfile.mkdtemp(prefix="slmray_", dir="/tmp")  # short: Ray's socket paths must stay < 108 chars
    (gcs, node_manager, object_manager, agent_http, agent_grpc, runtime_env, metrics, dashboard), workers = ray_ports()
    cmd = [RAY_CLI, "start", "--head", f"--port={gcs}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
           "--include-dashboard=false", f"--dashboard-port={dashboard}", f"--node-manager-port={node_manager}",
           f"--object-manager-port={object_manager}", f"--dashboard-agent-listen-port={agent_http}",
           f"--dashboard-agent-grpc-port={agent_grpc}", f"--runtime-env-agent-port={runtime_env}",
           f"--metrics-export-port={metrics}", f"--min-worker-port={workers}",
           f"--max-worker-port={workers + WORKER_PORTS}",
           f"--temp-dir={temp_dir}", "--disable-usage-stats"]
    # no --ray-client-server-port: Ray starts no client server without `ray[client]`, and refuses the flag then
    try:
        started = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        yield f"127.0.0.1:{gcs}", env
    finally:
        stop_cluster(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


@needs_ray_cli
def test_a_search_runs_on_a_cluster_with_token_authentication(tmp_path, token_cluster):
    address, env = token_cluster
    raw = make_raw(curriculum={"teacher": {"name": "ALP-GMM", "fit_rate": 20},
                               "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5]},
                               "success_return": -200, "test_set_size": 2},
                   meta={"seed": 3, "log_frequency": 500, "eval_frequency": 1000, "max_session": 1, "max_trial": 1})
    raw["env"][0].update(num_envs=1, max_frame=1000)
    raw["search"] = {"curriculum": {"teacher": {"fit_rate__grid_search": [20, 40]}}}
    spec, data = write_spec(tmp_path, raw), tmp_path / "data"
    done = subprocess.run([sys.executable, str(ROOT / "run_lab.py"), str(spec), "t", "search", "--ray-address", address,
                           "--data-dir", str(data)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    (table_file,) = data.glob("t_*/info/t_experiment_df.csv")
    table = pd.read_csv(table_file)
    assert sorted(table["curriculum.teacher.fit_rate"]) == [20, 40]
    assert list(table["status"]) == ["TERMINATED", "TERMINATED"] and (table["frame"] == 1000).all()


def test_a_refused_token_is_one_line_that_names_the_fix(monkeypatch):
    """What Ray raises when a token cluster refuses the driver (its AuthenticationError, wrapped twice)."""
    class AuthenticationError(Exception):
        pass

    def refused(**_):
        try:
            try:
                raise AuthenticationError("RPC error: InvalidAuthToken: Authentication token is missing or incorrect")
            except AuthenticationError as err:
                raise RuntimeError("Failed to connect to GCS.") from err
        except RuntimeError as err:
            raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.1:6379") from err

    monkeypatch.setattr(ray_tasks.ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray_tasks.ray, "init", refused)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    with pytest.raises(ray_tasks.RayAuthError, match="10.0.0.1:6379 uses token authentication .*RAY_AUTH_MODE is "
                       "unset here.*export RAY_AUTH_MODE=token"):
        ray_tasks.connect("10.0.0.1:6379")

    def unreachable(**_):
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.1:6379")

    monkeypatch.setattr(ray_tasks.ray, "init", unreachable)
    with pytest.raises(ConnectionError) as other:
        ray_tasks.connect("10.0.0.1:6379")
    assert not isinstance(other.value, ray_tasks.RayAuthError)  # any other failure is Ray's own
