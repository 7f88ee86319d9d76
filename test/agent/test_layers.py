"""The ensemble layer's hand-written backward against autograd's own, its detached mode, and the NumPy forward."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from slm_acl.agent.net.layers import CUSTOM_BACKWARD_MIN_WEIGHTS, EnsembleLinear, _EnsembleAffine


@pytest.mark.parametrize("copies, shared_input", [(2, True), (2, False), (1, False), (3, True)])
def test_ensemble_affine_gradients_match_numerical_ones(copies, shared_input):
    torch.manual_seed(0)
    x = torch.randn((7, 5) if shared_input else (copies, 7, 5), dtype=torch.float64, requires_grad=True)
    weight = torch.randn(copies, 3, 5, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(copies, 1, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_EnsembleAffine.apply, (x, weight, bias))


SIZES = [(6, 4), (200, 100)]  # native autograd below CUSTOM_BACKWARD_MIN_WEIGHTS, _EnsembleAffine above


def test_the_size_cases_cover_both_backward_paths():
    assert 6 * 4 < CUSTOM_BACKWARD_MIN_WEIGHTS <= 200 * 100


@pytest.mark.parametrize("in_dim, out_dim", SIZES)
def test_each_copy_is_an_ordinary_linear_layer_forward_and_backward(in_dim, out_dim):
    torch.manual_seed(1)
    layer = EnsembleLinear(in_dim, out_dim, copies=2)
    layer.reset("orthogonal_", 1.0)
    x = torch.randn(2, 9, in_dim)
    layer(x).square().sum().backward()
    for e in range(2):
        w = layer.weight[e].detach().clone().requires_grad_(True)
        b = layer.bias[e, 0].detach().clone().requires_grad_(True)
        torch.nn.functional.linear(x[e], w, b).square().sum().backward()
        torch.testing.assert_close(layer.weight.grad[e], w.grad)
        torch.testing.assert_close(layer.bias.grad[e, 0], b.grad)
    assert layer.weight.grad.is_contiguous()  # formed in the parameter's layout, no transposed copy


@pytest.mark.parametrize("in_dim, out_dim", SIZES)
def test_detached_layer_passes_input_gradients_but_forms_no_weight_gradients(in_dim, out_dim):
    layer = EnsembleLinear(in_dim, out_dim, copies=2)
    layer.reset("default", 1.0)
    x = torch.randn(4, in_dim, requires_grad=True)
    layer(x, detached=True).sum().backward()
    assert layer.weight.grad is None and layer.bias.grad is None
    expected = layer.weight.detach().sum(dim=(0, 1)).expand(4, in_dim)  # d(sum)/dx summed over both copies
    torch.testing.assert_close(x.grad, expected)


# ---- the NumPy forward used for acting on the CPU ---------------------------------------------
def test_every_activation_has_a_numpy_twin_that_agrees():
    from slm_acl.agent.net.layers import ACTIVATIONS, NUMPY_ACTIVATIONS

    assert set(NUMPY_ACTIVATIONS) == set(ACTIVATIONS)
    x = torch.linspace(-6, 6, 101)
    for name, fn in ACTIVATIONS.items():
        np.testing.assert_allclose(NUMPY_ACTIVATIONS[name](x.numpy().copy()), fn(x.clone()).numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("activation", ["tanh", "relu", "elu"])
@pytest.mark.parametrize("hydra", [False, True])
@pytest.mark.parametrize("copies", [1, 2])
def test_numpy_forward_equals_torch_forward_for_every_body_subset(activation, hydra, copies):
    from slm_acl.agent.net.hydra import HydraMLPConfig, HydraMLPNet
    from slm_acl.agent.net.mlp import MLPConfig, MLPNet

    torch.manual_seed(0)
    if hydra:
        net = HydraMLPNet(HydraMLPConfig(head_layers=[16], hid_layers=[32], tail_layers=[8],
                                         hid_layers_activation=activation)).build([8, 24], [2, 4], copies=copies)
        dims = [8, 24]
    else:
        net = MLPNet(MLPConfig(hid_layers=[32, 32], hid_layers_activation=activation)).build(
            [24, 24], [4, 4], copies=copies)
        dims = [24, 24]
    xs = [torch.randn(3, dims[0]), torch.randn(5, dims[1])]
    for subset in ([xs[0], xs[1]], [None, xs[1]], [xs[0], None]):
        with torch.no_grad():
            expected = net(subset)
        got = net.forward_numpy([None if x is None else x.numpy() for x in subset])
        for e, g in zip(expected, got):
            assert (e is None) == (g is None)
            if e is not None:
                assert g.dtype == np.float32
                np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-6)


def test_numpy_views_follow_in_place_updates_and_loaded_weights():
    layer = EnsembleLinear(3, 2, copies=2)
    layer.reset("default", 1.0)
    x = np.ones((1, 3), np.float32)
    layer.forward_numpy(x)  # builds the views
    with torch.no_grad():
        layer.weight.add_(1.0)  # what an optimiser step does
    np.testing.assert_allclose(layer.forward_numpy(x), layer(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
    other = EnsembleLinear(3, 2, copies=2)
    other.reset("default", 1.0)
    layer.load_state_dict(other.state_dict())
    np.testing.assert_allclose(layer.forward_numpy(x), other.forward_numpy(x), rtol=1e-6)


def test_a_copied_or_pickled_net_carries_no_views_and_builds_its_own():
    import copy
    import pickle

    from slm_acl.agent.net.mlp import MLPConfig, MLPNet

    net = MLPNet(MLPConfig(hid_layers=[8])).build([5], [2], copies=2)
    x = np.ones((1, 5), np.float32)
    before = net.forward_numpy([x])[0]
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert "_views" not in clone.mlp.layers[0].__dict__
        np.testing.assert_array_equal(clone.forward_numpy([x])[0], before)
        with torch.no_grad():
            clone.mlp.layers[0].weight.add_(1.0)  # the copy's own memory: the original must not move
        np.testing.assert_allclose(clone.forward_numpy([x])[0], clone([torch.from_numpy(x)])[0].detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(net.forward_numpy([x])[0], before)
