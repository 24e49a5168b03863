"""ATen's native entry points on the top level (``torch.native_layer_norm``, ``native_batch_norm``,
``native_group_norm``, ``native_dropout``, ``convolution``, ``constant_pad_nd``) against torch."""
import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, check, check_error, sample

x3 = sample((2, 3, 4))
x4 = sample((2, 6, 5, 5))
w6 = sample((6,))
b6 = sample((6,))


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_native_layer_norm(dtype):
    x, w, b = x3.astype(dtype), sample((3, 4)).astype(dtype), sample((3, 4)).astype(dtype)
    check(lambda lib, x, w, b: lib.native_layer_norm(x, [3, 4], w, b, 1e-5), x, w, b)
    check(lambda lib, x: lib.native_layer_norm(x, [4], None, None, 1e-3), x)


def test_native_layer_norm_statistics_take_no_gradient():
    result, mean, rstd = ember.native_layer_norm(ember.tensor(x3, requires_grad=True), (4,), None, None, 1e-5)
    assert result.requires_grad and mean.grad_fn is None and rstd.grad_fn is None
    assert tuple(mean.shape) == tuple(rstd.shape) == (2, 3, 1)


def test_native_layer_norm_keeps_16_bit_types():
    x = ember.tensor(x3).to(ember.bfloat16)
    assert [t.dtype for t in ember.native_layer_norm(x, [4], None, None, 1e-5)] == [ember.bfloat16] * 3


@pytest.mark.parametrize("training", [True, False])
def test_native_batch_norm(training):
    def call(lib, x, w, b):
        running_mean, running_var = lib.zeros(6, dtype=x.dtype), lib.ones(6, dtype=x.dtype)
        out = lib.native_batch_norm(x, w, b, running_mean, running_var, training, 0.1, 1e-5)
        return out + (running_mean, running_var)
    check(call, x4, w6, b6)


def test_native_batch_norm_without_running_statistics():
    check(lambda lib, x: lib.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5), x4)


def test_native_group_norm():
    check(lambda lib, x, w, b: lib.native_group_norm(x, w, b, 2, 6, 25, 3, 1e-5), x4, w6, b6)
    check(lambda lib, x: lib.native_group_norm(x, None, None, 2, 6, 25, 2, 1e-5), x4)
    check_error(lambda lib, x: lib.native_group_norm(x, None, None, 2, 6, 24, 2, 1e-5), x4,
                match=r"Expected X.numel\(\) == N \* C \* HxW")


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_native_dropout_draws_as_torch(p):
    def call(lib, x):
        lib.manual_seed(3)
        return lib.native_dropout(x, p, True)
    check(call, sample((4, 50)))


def test_native_dropout_outside_training():
    for train in (False,):
        check(lambda lib, x: lib.native_dropout(x, 0.4, train), x3)
    x = ember.tensor(x3)
    result, mask = ember.native_dropout(x, 0.4, False)
    assert result.data_ptr() != x.data_ptr() and bool(mask.all()) and mask.dtype == ember.bool


def test_native_dropout_train_none_means_training_and_empty_input():
    ember.manual_seed(0)
    torch.manual_seed(0)
    e, t = ember.native_dropout(ember.tensor(x3), 0.5, None), torch.native_dropout(torch.tensor(x3), 0.5, None)
    assert_same(e, t)
    e, t = ember.native_dropout(ember.zeros(0, 3), 0.5, True), torch.native_dropout(torch.zeros(0, 3), 0.5, True)
    assert_same(e, t)


def test_convolution_forward_and_transposed():
    w = sample((4, 6, 3, 3))
    check(lambda lib, x, w, b: lib.convolution(x, w, b, [1, 2], [1, 0], [1, 1], False, [0, 0], 1), x4, w,
          sample((4,)))
    check(lambda lib, x, w: lib.convolution(x, w, None, [2, 2], [1, 1], [1, 1], True, [1, 0], 2), x4,
          sample((6, 3, 3, 3)))
    check(lambda lib, x, w: lib.convolution(x, w, None, [1], [1], [2], False, [0], 1), x3, sample((5, 3, 3)))
    check(lambda lib, x, w: lib.convolution(x, w, None, [1] * 3, [0] * 3, [1] * 3, True, [0] * 3, 1),
          sample((1, 2, 3, 3, 3)), sample((2, 3, 2, 2, 2)))


def test_convolution_errors():
    check_error(lambda lib, x, w: lib.convolution(x, w, None, [1], [0], [1], False, [0], 1), x3, sample((2, 2)),
                match="weight should have at least three dimensions")
    check_error(lambda lib, x, w: lib.convolution(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1), x3,
                sample((2, 3, 1, 1)), match="Expected 4-dimensional input for 4-dimensional weight")
    check_error(lambda lib, x, w: lib.convolution(x, w, None, [1] * 4, [0] * 4, [1] * 4, False, [0] * 4, 1),
                sample((1, 2, 3, 3, 3, 3)), sample((2, 2, 1, 1, 1, 1)), match="unsupported ConvNd parameters")


def test_constant_pad_nd():
    check(lambda lib, x: lib.constant_pad_nd(x, [1, -1], 9.0), x3)
    check(lambda lib, x: lib.constant_pad_nd(x, (2, 1, 0, 3)), x3)
    check_error(lambda lib, x: lib.constant_pad_nd(x, [1]), x3, match="Length of pad must be even")
    check_error(lambda lib, x: lib.constant_pad_nd(x, [1] * 8), x3,
                match="Pad length is 8while the input has 3dimensions")
