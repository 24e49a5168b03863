"""Ops PyTorch computes in their input's memory format (normalization, pooling, resampling, padding, dropout,
hardswish) return channels-last results for channels-last inputs, with PyTorch's strides and values, and the node
names they have for contiguous inputs."""
import numpy
import pytest
import torch

import ember

OPS = {
    "batch_norm": lambda L, x: L.nn.functional.batch_norm(x, L.zeros(4), L.ones(4), L.ones(4), L.zeros(4), True),
    "batch_norm eval": lambda L, x: L.nn.functional.batch_norm(x, L.zeros(4), L.ones(4)),
    "group_norm": lambda L, x: L.nn.functional.group_norm(x, 2),
    "max_pool2d": lambda L, x: L.nn.functional.max_pool2d(x, 2),
    "max_pool2d indices": lambda L, x: L.nn.functional.max_pool2d(x, 2, return_indices=True),
    "avg_pool2d": lambda L, x: L.nn.functional.avg_pool2d(x, 2),
    "adaptive_avg_pool2d to 1": lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 1),
    "adaptive_max_pool2d": lambda L, x: L.nn.functional.adaptive_max_pool2d(x, 3),
    "dropout eval": lambda L, x: L.nn.functional.dropout(x, 0.5, training=False),
    "pad": lambda L, x: L.nn.functional.pad(x, (1, 1, 1, 1)),
    "interpolate": lambda L, x: L.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
    "upsample nearest": lambda L, x: L.nn.functional.interpolate(x, scale_factor=2),
    "hardswish": lambda L, x: L.nn.functional.hardswish(x),
}


@pytest.mark.parametrize("name", OPS)
def test_channels_last_input_gives_channels_last_result(name):
    data = numpy.random.default_rng(0).standard_normal((2, 4, 6, 6)).astype(numpy.float32)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(data).to(memory_format=lib.channels_last).requires_grad_()
        out = OPS[name](lib, x)
        outs = out if isinstance(out, tuple) else (out,)
        results.append([(tuple(o.stride()), o.is_contiguous(memory_format=lib.channels_last),
                         o.grad_fn.name() if o.grad_fn is not None else None, o.detach().numpy()) for o in outs])
    plain = OPS[name](ember, ember.tensor(data, requires_grad=True))
    plain_nodes = [o.grad_fn.name() if o.grad_fn is not None else None
                   for o in (plain if isinstance(plain, tuple) else (plain,))]
    for (e_stride, e_last, e_node, e_value), (t_stride, t_last, _, t_value), node in zip(*results, plain_nodes,
                                                                                      strict=True):
        assert (e_stride, e_last) == (t_stride, t_last)
        assert e_node == node
        numpy.testing.assert_allclose(e_value, t_value, rtol=1e-5, atol=1e-6)


def test_contiguous_inputs_and_in_place_results_keep_their_tensors():
    x = ember.randn(2, 4, 6, 6)
    assert ember.nn.functional.max_pool2d(x, 2).is_contiguous()
    y = ember.randn(2, 4, 6, 6).to(memory_format=ember.channels_last)
    assert ember.nn.functional.hardswish(y, inplace=True) is y
    assert ember.nn.functional.dropout(y, 0.0, training=True, inplace=True) is y


OPS_1D = {
    "avg_pool1d": lambda L, x: L.nn.functional.avg_pool1d(x, 3, 1),
    "avg_pool1d stride 2": lambda L, x: L.nn.AvgPool1d(3, 2, padding=1)(x),
    "max_pool1d": lambda L, x: L.nn.functional.max_pool1d(x, 3, 1),
    "max_pool1d indices": lambda L, x: L.nn.functional.max_pool1d(x, 3, 1, return_indices=True),
    "adaptive_avg_pool1d": lambda L, x: L.nn.functional.adaptive_avg_pool1d(x, 4),
    "adaptive_max_pool1d": lambda L, x: L.nn.functional.adaptive_max_pool1d(x, 4, return_indices=True),
    "lp_pool1d": lambda L, x: L.nn.functional.lp_pool1d(x, 2, 3),
}


@pytest.mark.parametrize("requires_grad", [True, False])
@pytest.mark.parametrize("name", OPS_1D)
def test_1d_pooling_of_a_permuted_input_lays_out_its_result_as_2d_pooling(name, requires_grad):
    """PyTorch pools (N, C, L) as the 2-d op of the input unsqueezed at -2, so a permuted (N, L, C) input, channels-last
    in that view, gives a result with channels innermost (max_pool1d only on its 2-d path: indices or gradient); darts'
    DLinear views such a result, permuted back, as (N, L*C)."""
    data = numpy.random.default_rng(0).standard_normal((3, 10, 2)).astype(numpy.float32)
    results, flats = [], []
    for lib in (ember, torch):
        x = lib.tensor(data).requires_grad_(requires_grad).permute(0, 2, 1)
        out = OPS_1D[name](lib, x)
        outs = out if isinstance(out, tuple) else (out,)
        results.append([(tuple(o.stride()), o.grad_fn.name() if o.grad_fn is not None else None,
                         o.detach().numpy()) for o in outs])
        flats.append(outs[0].permute(0, 2, 1).view(3, -1).detach().numpy() if outs[0].stride()[1] == 1 else None)
    plain = OPS_1D[name](ember, ember.tensor(data.transpose(0, 2, 1).copy(), requires_grad=requires_grad))
    plain_nodes = [o.grad_fn.name() if o.grad_fn is not None else None
                   for o in (plain if isinstance(plain, tuple) else (plain,))]
    for ours, theirs, node in zip(*results, plain_nodes, strict=True):
        assert ours[0] == theirs[0] and ours[1] == node
        numpy.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-6)
    assert (flats[0] is None) == (flats[1] is None)
    if flats[0] is not None:
        numpy.testing.assert_allclose(*flats, rtol=1e-5, atol=1e-6)
    if requires_grad:   # gradients flow back through the re-laid-out result as through PyTorch's
        grads = []
        for lib in (ember, torch):
            leaf = lib.tensor(data, requires_grad=True)
            out = OPS_1D[name](lib, leaf.permute(0, 2, 1))
            (out[0] if isinstance(out, tuple) else out).pow(2).sum().backward()
            grads.append(leaf.grad.numpy())
        numpy.testing.assert_allclose(*grads, rtol=1e-5, atol=1e-6)
