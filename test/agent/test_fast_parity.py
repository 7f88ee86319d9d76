"""The fast paths (agent/fast/) against the reference implementations, generated from the configs.

For every field of an algorithm's config (and of the net configs) the tests below take values other
than the base one and either check that the fast path gives what the reference gives, or that the
selector refuses the value and runs the reference. A field added to a config and not to a fast
path's allow-list makes `test_every_field_is_on_the_allow_list` fail; a field on the allow-list that
the fast path ignores makes the parity tests fail.
"""
from __future__ import annotations

import copy
import dataclasses
import typing
from typing import Any, Literal

import numpy as np
import pytest
import torch
from helpers import SIZES, SyntheticSteps, build

from slm_acl.agent.algorithm.base import Transition

from slm_acl.agent.algorithm.ppo import PPOConfig
from slm_acl.agent.algorithm.sac import SACConfig
from slm_acl.agent.fast import numpy_acting, passes, selector
from slm_acl.agent.fast import compiled
from slm_acl.agent.fast import ppo as fast_ppo
from slm_acl.agent.fast import sac as fast_sac
from slm_acl.agent.fast.selector import EVERY_FIELD, FAST_PATHS
from slm_acl.agent.net.base import OptimConfig
from slm_acl.agent.net.hydra import HydraMLPConfig, HydraMLPNet
from slm_acl.agent.net.layers import ACTIVATIONS, EnsembleLinear
from slm_acl.agent.net.mlp import MLPConfig, MLPNet

ONE_BODY = [(24, 4)]
# small base settings, so that a few synthetic steps train several times
BASE = {"PPO": {"time_horizon": 8, "minibatch_size": 4, "training_epoch": 2},
        "SAC": {"batch_size": 16, "start_steps": 10, "learning_starts": 10}}
CONFIGS = {"PPO": PPOConfig, "SAC": SACConfig}
# values the generic rule below would not pick well: a clamp that bites, a tuned alpha's own optimiser
SPECIAL = {("SAC", "log_std_min"): [-1.0], ("SAC", "log_std_max"): [0.5],
           ("SAC", "alpha_optim"): [OptimConfig(lr=1e-2)], ("SAC", "ent_coef"): [0.2],
           ("PPO", "clip_vloss"): [0.2], ("PPO", "target_kl"): [0.001]}


# ---- generating the values ----------------------------------------------------------------------
def _other_number(value: float, meta: dict, integer: bool) -> Any:
    candidates = [value + 1, value * 2, value - 1] if integer else [value * 0.5, value * 1.5 + 0.1, value - 0.1]
    for c in candidates:
        if all(meta.get(k) is None or ok for k, ok in (("ge", c >= (meta.get("ge") or 0)),
                                                       ("gt", c > (meta.get("gt") or 0)),
                                                       ("le", c <= (meta.get("le") or 0)),
                                                       ("lt", c < (meta.get("lt") or 0)))) and c != value:
            return int(c) if integer else float(c)
    raise AssertionError(f"no other value for {value} within {meta}")


def _values_of_type(tp: Any, base: Any, meta: dict) -> list[Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return [a for a in args if a != base]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType")):
        out = []
        for option in args:
            if option is type(None):
                out += [] if base is None else [None]
            elif typing.get_origin(option) is Literal or option is not type(base):
                out += [v for v in _values_of_type(option, None, meta)[:1] if v != base]
            else:
                out += _values_of_type(option, base, meta)
        return out
    if tp is bool:
        return [not base]
    if tp is int:
        return [_other_number(base if base is not None else 1, meta, integer=True)]
    if tp is float:
        return [_other_number(base if base is not None else 0.3, meta, integer=False)]
    if dataclasses.is_dataclass(tp):
        return [tp(lr=1e-2)] if base is None else []
    raise AssertionError(f"no value generator for type {tp}")


def field_values(algorithm: str) -> list[tuple[str, Any]]:
    """(field, value) for every field of the algorithm's config, each value other than the base one."""
    cls = CONFIGS[algorithm]
    hints = typing.get_type_hints(cls)
    out = []
    for field in dataclasses.fields(cls):
        base = BASE[algorithm].get(field.name, getattr(cls(), field.name))
        values = SPECIAL.get((algorithm, field.name)) or _values_of_type(hints[field.name], base, dict(field.metadata))
        assert values, f"{algorithm}.{field.name}: no value to test"
        out += [(field.name, v) for v in values]
    return out


CASES = [(algorithm, name, value) for algorithm in CONFIGS for name, value in field_values(algorithm)]


# ---- the allow-lists ----------------------------------------------------------------------------
@pytest.mark.parametrize("key", FAST_PATHS.names())
def test_every_field_is_on_the_allow_list(key):
    path = FAST_PATHS.get(key)
    config_fields = {f.name for f in dataclasses.fields(CONFIGS[path.algorithm])}
    net_fields = {f.name for cfg in NET_CONFIGS.values() for f in dataclasses.fields(cfg)}
    for section, allowed, fields in (("config", path.config, config_fields), ("net", path.net, net_fields)):
        if allowed is EVERY_FIELD:  # the path runs the reference code itself (a compiled reference loss)
            continue
        assert set(allowed) == fields, f"{key}.{section}: decide for {fields ^ set(allowed)}"


def test_a_setting_off_the_allow_list_runs_the_reference_and_says_why():
    @dataclasses.dataclass(frozen=True)
    class Extended(PPOConfig):
        new_trick: bool = False

    choice = selector.choose("PPO", "acting", Extended(), "MLPNet", MLPConfig(), "cpu")
    assert not choice.fast and choice.name == "torch" and "new_trick" in choice.reason
    @dataclasses.dataclass(frozen=True)
    class ExtendedSAC(SACConfig):
        new_trick: bool = False

    choice = selector.choose("SAC", "gradients", ExtendedSAC(), "MLPNet", MLPConfig(), "cpu")
    assert not choice.fast and choice.name == "autograd" and "new_trick" in choice.reason
    off = selector.choose("PPO", "gradients", PPOConfig(), "MLPNet", MLPConfig(fast_path="off"), "cpu")
    assert not off.fast and "fast_path" in str(off)
    on_gpu = selector.choose("PPO", "acting", PPOConfig(), "MLPNet", MLPConfig(), "cuda")
    assert not on_gpu.fast and on_gpu.name == "torch" and "device cuda" in on_gpu.reason
    assert selector.choose("SAC", "gradients", SACConfig(), "HydraMLPNet", HydraMLPConfig(), "cpu").fast


def test_the_chosen_paths_are_reported_by_the_algorithm():
    short = build("PPO", BASE["PPO"]).fast_path_info()
    assert short["acting"] == "numpy" and short["gradients"].startswith("autograd (a run of")
    assert build("SAC", BASE["SAC"]).fast_path_info() == {"gradients": "hand-written"}
    off = build("SAC", BASE["SAC"], fast_path="off").fast_path_info()
    assert off == {"gradients": "autograd (net.fast_path is 'off')"}


def test_ppo_compiles_its_loss_only_for_runs_long_enough_to_repay_it(monkeypatch):
    from slm_acl.agent.algorithm.base import BodyInterface

    def bodies(max_frame: int) -> list:
        return [BodyInterface("b", None, None, num_envs=1, max_frame=max_frame)]

    config = PPOConfig()  # 2048-step rollouts, 32 minibatches, 10 epochs: 320 minibatch updates per rollout
    assert fast_ppo.planned_loss_calls(config, bodies(2048 * 100)) == 32_000
    path = FAST_PATHS.get("PPO.gradients")
    assert path.choose(config, "MLPNet", MLPConfig(), "cpu", bodies(2048 * 100)).name == "compiled"
    short = path.choose(config, "MLPNet", MLPConfig(), "cpu", bodies(2048 * 10))
    assert short.name == "autograd" and "3,200 minibatch updates" in short.reason
    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    compiled.compiler_problem.cache_clear()
    try:
        no_compiler = path.choose(config, "MLPNet", MLPConfig(), "cpu", bodies(2048 * 100))
        assert no_compiler.name == "autograd" and "C++ compiler" in no_compiler.reason
    finally:
        compiled.compiler_problem.cache_clear()


# ---- training with every setting: the fast paths against the reference ---------------------------
def _train(algorithm: str, config: dict, steps: int, sizes=ONE_BODY, hydra=False, **net_kw):
    torch.manual_seed(0)  # weight initialisation
    algo = build(algorithm, config, sizes=sizes, hydra=hydra, **net_kw)
    stream = SyntheticSteps(sizes)
    for t in range(steps):
        stream.step(algo, t)
    return algo


def _assert_same_training(algorithm: str, config: dict, sizes=ONE_BODY, hydra=False, steps: int = 40, **net_kw):
    fast = _train(algorithm, config, steps, sizes, hydra, **net_kw)
    reference = _train(algorithm, config, steps, sizes, hydra, fast_path="off", **net_kw)
    assert any(c.fast for c in fast._paths.values()), fast.fast_path_info()
    assert not any(c.fast for c in reference._paths.values())
    assert fast.opt_steps == reference.opt_steps > 0
    for (name, p), q in zip(fast.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, rtol=2e-4, atol=2e-5, msg=lambda m: f"{name}: {m}")


@pytest.mark.parametrize("algorithm,field,value", CASES,
                         ids=[f"{a}.{f}={v!r}" for a, f, v in CASES])
def test_fast_path_trains_like_the_reference_for_every_setting(algorithm, field, value):
    config = {**BASE[algorithm], field: value}
    path_refuses = FAST_PATHS.get(f"{algorithm}.gradients").refusal(
        CONFIGS[algorithm](**config), "MLPNet", MLPConfig(), "cpu")
    if path_refuses:  # a refused value must run the reference, naming the field
        algo = build(algorithm, config, sizes=ONE_BODY, hydra=False)
        assert not algo.gradients.fast and field in algo.gradients.reason
        return
    _assert_same_training(algorithm, config, hid_layers_activation="relu" if algorithm == "SAC" else "tanh")


NET_CONFIGS = {"MLPNet": MLPConfig, "HydraMLPNet": HydraMLPConfig}
# net values the generic rule cannot make: layer lists, a CPU-only machine's gpu setting
NET_SPECIAL = {"hid_layers": [[], [16, 8, 4]], "head_layers": [[8, 8]], "tail_layers": [[], [8]], "gpu": [False],
               "optim": [OptimConfig(lr=1e-2, eps=1e-5)]}


def net_values(net_type: str) -> list[tuple[str, Any]]:
    """(field, value) for every field of the net type's config, each value other than the test base's."""
    cls = NET_CONFIGS[net_type]
    hints = typing.get_type_hints(cls)
    out = []
    for field in dataclasses.fields(cls):
        base = getattr(cls(), field.name)
        values = NET_SPECIAL.get(field.name) or _values_of_type(hints[field.name], base, dict(field.metadata))
        assert values, f"{net_type}.{field.name}: no value to test"
        out += [(field.name, v) for v in values]
    return out


NET_CASES = [(algorithm, net_type, name, value) for net_type in NET_CONFIGS for name, value in net_values(net_type)
             for algorithm in CONFIGS]


@pytest.mark.parametrize("algorithm,net_type,field,value", NET_CASES,
                         ids=[f"{a}-{n}.{f}={v!r}" for a, n, f, v in NET_CASES])
def test_fast_path_trains_like_the_reference_for_every_net_setting(algorithm, net_type, field, value):
    hydra = net_type == "HydraMLPNet"
    net_kw = {field: value}
    if hydra and field in ("hid_layers", "tail_layers") and value == []:
        net_kw = {"hid_layers": [], "tail_layers": []}  # head straight into the tails
    path = FAST_PATHS.get(f"{algorithm}.{'acting' if algorithm == 'PPO' else 'gradients'}")
    refused = path.refusal(CONFIGS[algorithm](**BASE[algorithm]), net_type, NET_CONFIGS[net_type](**net_kw), "cpu")
    if refused or field == "fast_path":  # refused, or switched off: the reference runs, and says why
        algo = build(algorithm, BASE[algorithm], sizes=SIZES if hydra else ONE_BODY, hydra=hydra, **net_kw)
        assert not any(c.fast for c in algo._paths.values())
        assert all((field in c.reason) or c.reason == "net.fast_path is 'off'" for c in algo._paths.values())
        return
    _assert_same_training(algorithm, BASE[algorithm], SIZES if hydra else ONE_BODY, hydra, **net_kw)


def test_multi_body_mlpnet_trains_like_the_reference():
    sizes = [(24, 4), (24, 4), (24, 4)]
    _assert_same_training("PPO", BASE["PPO"], sizes, hydra=False)
    _assert_same_training("SAC", BASE["SAC"], sizes, hydra=False)


# ---- gradients of one step, tight ---------------------------------------------------------------------
def ppo_minibatch(algo, n: int = 64) -> dict[int, dict[str, torch.Tensor]]:
    """Per body a minibatch whose stored log-probabilities are off the current policy's by up to
    +-0.5 (so ratios straddle both clip bounds), with advantages of both signs."""
    g = torch.Generator().manual_seed(7)
    mb = {}
    for b, (obs_dim, act_dim) in enumerate(o for o in [(algo.obs_dims[k], algo.act_dims[k])
                                                       for k in range(len(algo.bodies))]):
        obs, action = torch.randn(n, obs_dim, generator=g), torch.randn(n, act_dim, generator=g)
        xs = [obs if k == b else None for k in range(len(algo.bodies))]
        with torch.no_grad():
            mean, value = algo._policy_and_value(xs)[b]
            log_std = algo.nets["log_std"][b]
            logprob = (-0.5 * ((action - mean) * torch.exp(-log_std)).square() - log_std - 0.9189385332046727).sum(-1)
        mb[b] = {"obs": obs, "action": action, "logprob": logprob + (torch.rand(n, generator=g) - 0.5),
                 "advantage": torch.randn(n, generator=g) * 2.0 + 0.3,
                 "value": value + (torch.rand(n, generator=g) - 0.5) * 0.6,  # both sides of clip_vloss 0.2
                 "returns": torch.randn(n, generator=g) * 3.0}
    return mb


def _grads(algo) -> dict[str, torch.Tensor]:
    return {name: p.grad.clone() for name, p in algo.named_parameters() if p.grad is not None}


def _assert_same_grads(hand: dict, auto: dict) -> None:
    assert set(hand) == set(auto)
    for name in auto:
        scale = auto[name].abs().max().item() + 1e-6
        torch.testing.assert_close(hand[name], auto[name], rtol=1e-4, atol=1e-5 * scale, msg=name)


@pytest.mark.parametrize("hydra,net_kw,config", [
    (False, {}, {}),
    (True, {"shared": True}, {"clip_vloss": 0.2, "entropy_coef": 0.01, "normalize_advantage": False})])
def test_ppo_compiled_loss_gives_the_reference_gradients(hydra, net_kw, config):
    """The compiled path is `PPO.loss` itself; compiling must not change its value or its gradients."""
    algo = build("PPO", {**BASE["PPO"], **config}, sizes=SIZES if hydra else ONE_BODY, hydra=hydra, **net_kw)
    with torch.no_grad():
        for p in algo.nets["log_std"]:
            p.copy_(torch.linspace(-1.0, 0.3, len(p)))
    mb = ppo_minibatch(algo)
    results = []
    wrapped = compiled.CompiledLoss(algo.loss, "test", list(algo.parameters()))
    for compiled_path in (False, True):
        algo.optimizer.zero_grad(set_to_none=True)
        if compiled_path:
            terms = wrapped.backward(mb)
        else:
            terms = algo.loss(mb)
            terms["loss"].backward()
        results.append((_grads(algo), {k: float(v.detach()) for k, v in terms.items()}))
    assert wrapped.compiled  # it compiled (no silent fallback to the eager loss)
    (auto, auto_terms), (got, got_terms) = results
    _assert_same_grads(got, auto)
    for key in auto_terms:
        assert got_terms[key] == pytest.approx(auto_terms[key], rel=1e-5, abs=1e-6), key
    assert 0.1 < auto_terms["clip_fraction"] < 0.9  # both branches of the surrogate are exercised


def test_ppo_trains_on_its_compiled_loss_like_the_reference(monkeypatch):
    """Whole rollouts on the compiled path: two Hydra bodies of 1 and 4 sub-envs, so minibatches are ragged
    and the small body sits some out (other input structures, other graphs)."""
    monkeypatch.setattr(fast_ppo, "MIN_LOSS_CALLS", 0)
    config = {"time_horizon": 2, "minibatch_size": 2, "training_epoch": 2}  # 2 and 8 samples: 4 minibatches
    torch.manual_seed(0)
    fast = build("PPO", config, hydra=True, num_envs=[1, 4])
    torch.manual_seed(0)
    reference = build("PPO", config, hydra=True, num_envs=[1, 4], fast_path="off")
    assert fast.gradients.name == "compiled" and fast._compiled is not None
    for algo in (fast, reference):
        stream = SyntheticSteps(num_envs=1)
        stream.obs = [stream.obs[0], np.repeat(stream.obs[1], 4, axis=0)]
        for t in range(12):  # six rollouts
            actions = algo.act(stream.obs)
            algo.update([Transition(stream.obs[b], np.clip(a, -1, 1), a.sum(1).astype(np.float32), stream.obs[b],
                                    np.zeros(len(a), bool), np.full(len(a), t % 5 == 4))
                         for b, a in enumerate(actions)])
    assert fast._compiled.compiled and fast.opt_steps == reference.opt_steps == 48
    for (name, p), q in zip(fast.named_parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, rtol=2e-4, atol=2e-5, msg=lambda m: f"{name}: {m}")


class _FailingBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("inductor: backward compile failed\nmore")


def test_a_loss_that_fails_to_compile_falls_back_to_the_reference_forward_or_backward(caplog):
    weight = torch.nn.Parameter(torch.tensor([2.0]))

    def loss(x):
        return {"loss": (weight * x).sum()}

    for broken in (lambda x: (_ for _ in ()).throw(RuntimeError("inductor: no compiler\nmore")),  # in forward
                   lambda x: {"loss": _FailingBackward.apply(weight * x).sum()}):  # in the backward pass
        wrapped = compiled.CompiledLoss(loss, "test loss", [weight])
        wrapped._compiled = broken
        weight.grad = None
        terms = wrapped.backward(torch.tensor([3.0]))
        assert float(terms["loss"]) == 6.0 and float(weight.grad) == 3.0  # the eager step, gradients not doubled
        assert not wrapped.compiled
        wrapped.backward(torch.tensor([1.0]))  # later steps run eagerly without trying again
        assert float(weight.grad) == 4.0
    assert caplog.text.count("test loss: torch.compile failed (RuntimeError: inductor:") == 2


@pytest.mark.parametrize("config", [{}, {"ent_coef": 0.2}, {"log_std_min": -1.0, "log_std_max": 0.5}])
@pytest.mark.parametrize("hydra", [False, True])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_sac_hand_written_gradients_equal_autograd(config, hydra, activation):
    sizes = SIZES if hydra else ONE_BODY
    algo = _train("SAC", {**BASE["SAC"], "batch_size": 64, **config}, 60, sizes, hydra,
                  hid_layers_activation=activation)  # weights, alpha and the replay are past their start
    bodies = list(range(len(sizes)))
    batch = algo._sample_batch(bodies)
    results = []
    for hand in (False, True):
        algo.generator.manual_seed(1234)  # the same policy noise for both
        algo.optimizer.zero_grad(set_to_none=True)
        if hand:
            metrics = fast_sac.set_gradients(algo, bodies, batch)
        else:
            metrics = algo.loss(bodies, batch)
            metrics.pop("total").backward()
        results.append((_grads(algo), {k: float(v.detach()) for k, v in metrics.items()}))
    (auto, auto_metrics), (hand, hand_metrics) = results
    _assert_same_grads(hand, auto)
    for key in auto_metrics:
        assert hand_metrics[key] == pytest.approx(auto_metrics[key], rel=1e-5, abs=1e-6), key
    if config.get("log_std_min") == -1.0:  # the clamp must bite somewhere for this case to test it
        out = algo.nets["actor"]([batch["obs"][0]] + [None] * (len(sizes) - 1))[0][0, :, algo.act_dims[0]:]
        assert bool(((out < -1.0) | (out > 0.5)).any())


# ---- the passes ---------------------------------------------------------------------------------------
def _nets(activation: str, copies: int, outs: tuple[int, int] = (2, 4)):
    torch.manual_seed(0)
    hydra = HydraMLPNet(HydraMLPConfig(head_layers=[16], hid_layers=[32], tail_layers=[8],
                                       hid_layers_activation=activation)).build([8, 24], list(outs), copies=copies)
    mlp = MLPNet(MLPConfig(hid_layers=[32, 32], hid_layers_activation=activation)).build(
        [24, 24], [outs[1], outs[1]], copies=copies)
    return [(hydra, [8, 24]), (mlp, [24, 24])]


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("copies", [1, 2])
def test_hand_written_passes_equal_autograd_for_every_body_subset(activation, copies):
    for net, dims in _nets(activation, copies):
        xs = [torch.randn(3, dims[0]), torch.randn(5, dims[1])]
        for subset in ([xs[0], xs[1]], [None, xs[1]], [xs[0], None]):
            grads_out = [None if x is None else torch.randn(copies, len(x), net(subset)[b].shape[-1])
                         for b, x in enumerate(subset)]
            net.zero_grad(set_to_none=True)
            inputs = [None if x is None else x.clone().requires_grad_() for x in subset]
            outs = net(inputs)
            sum((o * g).sum() for o, g in zip(outs, grads_out) if o is not None).backward()
            auto = {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}
            net.zero_grad(set_to_none=True)
            hand_outs, tape = passes.forward(net, subset)
            for o, h in zip(outs, hand_outs):
                assert (o is None) == (h is None)
                if o is not None:
                    torch.testing.assert_close(h, o.detach())
            input_grads = passes.backward(tape, grads_out, input_grads=True)
            _assert_same_grads({n: p.grad for n, p in net.named_parameters() if p.grad is not None}, auto)
            for x, g in zip(inputs, input_grads):
                if x is not None:
                    torch.testing.assert_close(g, x.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_min_copy_input_gradient_goes_only_through_the_smaller_copy(activation):
    for net, dims in _nets(activation, copies=2, outs=(1, 1)):  # a Q net: one output per copy
        xs = [torch.randn(32, dims[0], requires_grad=True), torch.randn(17, dims[1], requires_grad=True)]
        outs = net(xs, detached=True)
        chosen = []
        total = 0.0
        scales = [0.5, -2.0]
        for out, scale in zip(outs, scales):
            values, index = out[:, :, 0].min(dim=0)
            total = total + scale * values.sum()
            chosen.append(index)
        total.backward()
        _, tape = passes.forward(net, [x.detach() for x in xs])
        columns = [slice(d - 3, d) for d in dims]  # the last inputs (SAC: the action's)
        for select_rows in (True, False):  # CPU: per-copy rows; GPU: every row, masked (no host sync)
            got = passes.min_copy_input_grads(tape, chosen, scales, columns, select_rows=select_rows)
            for x, g, cols in zip(xs, got, columns):
                torch.testing.assert_close(g, x.grad[:, cols], rtol=1e-5, atol=1e-6)
        assert all(p.grad is None for p in net.parameters())  # no weight gradients on this pass


# ---- acting in NumPy --------------------------------------------------------------------------------------
def test_every_activation_has_a_numpy_twin_that_agrees():
    assert set(numpy_acting.NUMPY_ACTIVATIONS) == set(ACTIVATIONS)
    x = torch.linspace(-6, 6, 101)
    for name, fn in ACTIVATIONS.items():
        np.testing.assert_allclose(numpy_acting.NUMPY_ACTIVATIONS[name](x.numpy().copy()), fn(x.clone()).numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("copies", [1, 2])
def test_numpy_forward_equals_torch_forward_for_every_body_subset(activation, copies):
    for net, dims in _nets(activation, copies):
        xs = [torch.randn(3, dims[0]), torch.randn(5, dims[1])]
        for subset in ([xs[0], xs[1]], [None, xs[1]], [xs[0], None]):
            with torch.no_grad():
                expected = net(subset)
            got = numpy_acting.forward(net, [None if x is None else x.numpy() for x in subset])
            for e, g in zip(expected, got):
                assert (e is None) == (g is None)
                if e is not None:
                    assert g.dtype == np.float32
                    np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-6)


def test_numpy_views_follow_in_place_updates_loaded_weights_and_copies():
    net = MLPNet(MLPConfig(hid_layers=[8])).build([5], [2], copies=2)
    x = np.ones((1, 5), np.float32)
    before = numpy_acting.forward(net, [x])[0]
    with torch.no_grad():
        net.mlp.layers[0].weight.add_(1.0)  # what an optimiser step does
    np.testing.assert_allclose(numpy_acting.forward(net, [x])[0], net([torch.from_numpy(x)])[0].detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    other = MLPNet(MLPConfig(hid_layers=[8])).build([5], [2], copies=2)
    net.load_state_dict(other.state_dict())
    np.testing.assert_allclose(numpy_acting.forward(net, [x])[0], numpy_acting.forward(other, [x])[0], rtol=1e-6)
    import pickle

    current = numpy_acting.forward(net, [x])[0]
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        with torch.no_grad():
            clone.mlp.layers[0].weight.add_(1.0)  # the copy's own memory: the original must not move
        np.testing.assert_allclose(numpy_acting.forward(clone, [x])[0],
                                   clone([torch.from_numpy(x)])[0].detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(numpy_acting.forward(net, [x])[0], current)
    assert before.shape == current.shape


def test_layer_views_refuse_a_net_off_the_cpu():
    layer = EnsembleLinear(3, 2).to("meta")  # any device but the CPU
    with pytest.raises(RuntimeError, match="CPU"):
        numpy_acting.layer_views(layer)
