"""Vectorised copies of one env for one body, without autoreset.

Gymnasium's vector envs reset a finished sub-env on the next step and hand one `options` dict to
every sub-env they reset; a curriculum needs each sub-env reset with its own task, right after the
teacher heard the outcome of that sub-env's episode. So the lab's vector envs never reset by
themselves: `step` reports terminated/truncated, and the body calls `reset_at` with a task per
sub-env. Of a step's infos, `step` keeps only `is_success` of the sub-envs whose episode ended there
(the env task protocol, `slm_acl/env/tasks.py`). Two flavours share the interface: in-process (`sync`)
and one worker process per sub-env (`subprocess`).
"""
from __future__ import annotations

import abc
import multiprocessing as mp
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from slm_acl.env.factory import EnvMaker
from slm_acl.env.tasks import reported_success


class VecEnv(abc.ABC):
    num_envs: int
    observation_space: gym.spaces.Space
    action_space: gym.spaces.Space
    task_params: dict[str, Any] | None

    @abc.abstractmethod
    def reset_at(self, indices: Sequence[int], seeds: Sequence[int | None],
                 tasks: Sequence[dict | None]) -> list[np.ndarray]:
        """Reset the given sub-envs, each with its own seed (None: keep its RNG) and task."""

    @abc.abstractmethod
    def step(self, actions: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[bool | None]]:
        """Step every sub-env; returns obs, reward, terminated, truncated as (num_envs, ...) arrays, and per
        sub-env the `info["is_success"]` of an episode that ended in this step (None: not ended, or none given)."""

    @abc.abstractmethod
    def render(self, index: int) -> np.ndarray | None:
        ...

    @abc.abstractmethod
    def close(self) -> None:
        ...


def _reset_options(task: dict | None) -> dict | None:
    return None if task is None else {"task": task}


def _env_success(terminated: bool, truncated: bool, info: dict[str, Any]) -> bool | None:
    """The env's verdict on the episode that just ended (None while it goes on, or without one)."""
    return reported_success(info) if terminated or truncated else None


class SyncVecEnv(VecEnv):
    """All sub-envs in this process: the fastest choice for cheap envs and for num_envs=1."""

    def __init__(self, maker: EnvMaker, num_envs: int):
        self.envs = [maker() for _ in range(num_envs)]
        self.num_envs = num_envs
        first = self.envs[0]
        self.observation_space, self.action_space = first.observation_space, first.action_space
        self.task_params = getattr(first.unwrapped, "task_params", None)
        self._obs_shape, self._obs_dtype = first.observation_space.shape, np.float32

    def reset_at(self, indices, seeds, tasks):
        return [np.asarray(self.envs[i].reset(seed=s, options=_reset_options(t))[0], dtype=np.float32)
                for i, s, t in zip(indices, seeds, tasks)]

    def step(self, actions):
        n = self.num_envs
        obs = np.empty((n, *self._obs_shape), dtype=self._obs_dtype)
        reward = np.empty(n, dtype=np.float64)
        terminated = np.empty(n, dtype=bool)
        truncated = np.empty(n, dtype=bool)
        success: list[bool | None] = [None] * n
        for i, env in enumerate(self.envs):
            obs[i], reward[i], terminated[i], truncated[i], info = env.step(actions[i])
            success[i] = _env_success(terminated[i], truncated[i], info)
        return obs, reward, terminated, truncated, success

    def render(self, index):
        return self.envs[index].render()

    def close(self):
        for env in self.envs:
            env.close()


def _worker(conn, maker: EnvMaker) -> None:
    """Subprocess loop: build the env, then serve step/reset/render/close commands."""
    env = None
    try:
        env = maker()
        conn.send(("ready", (env.observation_space, env.action_space,
                             getattr(env.unwrapped, "task_params", None))))
        while True:
            cmd, arg = conn.recv()
            if cmd == "step":
                obs, reward, terminated, truncated, info = env.step(arg)
                conn.send(("ok", (obs, reward, terminated, truncated, _env_success(terminated, truncated, info))))
            elif cmd == "reset":
                seed, task = arg
                conn.send(("ok", env.reset(seed=seed, options=_reset_options(task))[0]))
            elif cmd == "render":
                conn.send(("ok", env.render()))
            elif cmd == "close":
                break
    except KeyboardInterrupt:
        pass
    except BaseException as err:  # report to the parent instead of dying silently
        import traceback

        conn.send(("error", f"{type(err).__name__}: {err}\n{traceback.format_exc()}"))
    finally:
        if env is not None:
            env.close()
        conn.close()


class SubprocVecEnv(VecEnv):
    """One worker process per sub-env: pays off when one env step costs more than the IPC."""

    def __init__(self, maker: EnvMaker, num_envs: int):
        ctx = mp.get_context("spawn")
        self.num_envs = num_envs
        self.conns, self.procs = [], []
        for _ in range(num_envs):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child, maker), daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)
        spaces = [self._recv(c) for c in self.conns]
        self.observation_space, self.action_space, self.task_params = spaces[0]
        self._obs_shape = self.observation_space.shape
        self._closed = False

    @staticmethod
    def _recv(conn) -> Any:
        status, payload = conn.recv()
        if status == "error":
            raise RuntimeError(f"env worker failed: {payload}")
        return payload

    def reset_at(self, indices, seeds, tasks):
        for i, s, t in zip(indices, seeds, tasks):
            self.conns[i].send(("reset", (s, t)))
        return [np.asarray(self._recv(self.conns[i]), dtype=np.float32) for i in indices]

    def step(self, actions):
        for conn, action in zip(self.conns, actions):
            conn.send(("step", action))
        n = self.num_envs
        obs = np.empty((n, *self._obs_shape), dtype=np.float32)
        reward = np.empty(n, dtype=np.float64)
        terminated = np.empty(n, dtype=bool)
        truncated = np.empty(n, dtype=bool)
        success: list[bool | None] = [None] * n
        for i, conn in enumerate(self.conns):
            obs[i], reward[i], terminated[i], truncated[i], success[i] = self._recv(conn)
        return obs, reward, terminated, truncated, success

    def render(self, index):
        self.conns[index].send(("render", None))
        return self._recv(self.conns[index])

    def close(self):
        if self._closed:
            return
        self._closed = True
        for conn in self.conns:
            try:
                conn.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()


VECTOR_ENVS: dict[str, type[VecEnv]] = {"sync": SyncVecEnv, "subprocess": SubprocVecEnv}


def make_vec_env(maker: EnvMaker, num_envs: int, kind: str = "sync") -> VecEnv:
    return VECTOR_ENVS[kind](maker, num_envs)
