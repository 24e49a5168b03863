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
