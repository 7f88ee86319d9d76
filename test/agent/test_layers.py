"""The ensemble layer: each copy is an ordinary linear layer forward and backward, and its detached mode."""
from __future__ import annotations

import pytest
import torch

from slm_acl.agent.net.layers import EnsembleLinear


SIZES = [(6, 4), (200, 100)]


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
