"""The speed paths of convolution, batch norm and pooling against PyTorch: values, gradients, dtypes, edge shapes,
and second gradients (finite differences in float64)."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, gradcheck, sample

F32, F64 = numpy.float32, numpy.float64


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 4, 5, 6), (2, 3, 2, 3, 4), (1, 2, 3, 1)], ids=str)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_batch_norm_training_matches_torch(shape, dtype, affine):
    channels = shape[1]
    w, b = (sample((channels,), dtype, seed=2), sample((channels,), dtype, seed=3)) if affine else (None, None)
    check(lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True, eps=1e-3),
          sample(shape, dtype, seed=1), w, b, rtol=1e-4 if dtype is F32 else 1e-9, atol=1e-4 if dtype is F32 else 1e-9)


def test_batch_norm_running_statistics_and_eval_match_torch():
    def run(lib, x, w, b, mean, var):
        train = lib.nn.functional.batch_norm(x, mean, var, w, b, training=True, momentum=0.2)
        evaluated = lib.nn.functional.batch_norm(x * 2, mean, var, w, b, training=False)
        return train, evaluated, mean, var
    check(run, sample((5, 3, 4), F32, seed=4), sample((3,), F32, seed=5), sample((3,), F32, seed=6),
          numpy.zeros(3, F32), numpy.ones(3, F32), grad=False, rtol=1e-5, atol=1e-5)
    mean, var = numpy.abs(sample((3,), F32, seed=7)), numpy.abs(sample((3,), F32, seed=8)) + 0.5
    check(lambda lib, x, w, b: lib.nn.functional.batch_norm(x, lib.tensor(mean), lib.tensor(var), w, b),
          sample((5, 3, 4), F32, seed=4), sample((3,), F32, seed=5), sample((3,), F32, seed=6), rtol=1e-5, atol=1e-5)


def test_batch_norm_double_backward():
    gradcheck(lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True),
              sample((3, 2, 2, 2), F64, seed=9), sample((2,), F64, seed=10), sample((2,), F64, seed=11))
    gradcheck(lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True), sample((4, 3), F64, seed=12))


def test_batch_norm_second_gradient_matches_torch():
    def second(lib, x, w):
        y = lib.nn.functional.batch_norm(x, None, None, w, None, training=True)
        gx, = lib.autograd.grad((y * y * y).sum(), x, create_graph=True)
        return (gx * gx).sum()
    check(second, sample((3, 2, 4), F64, seed=13), sample((2,), F64, seed=14))


CONV_CASES = [   # (function, input shape, weight shape, options)
    ("conv2d", (2, 4, 5, 6), (3, 4, 1, 1), {}),                                   # 1x1: the columns are the input
    ("conv2d", (2, 4, 5, 6), (3, 4, 1, 1), dict(stride=2)),                        # strided 1x1 (ResNet shortcut)
    ("conv2d", (2, 4, 5, 6), (3, 4, 1, 1), dict(padding=1)),                       # padded 1x1
    ("conv2d", (3, 6, 7, 5), (6, 1, 3, 3), dict(groups=6, padding=1)),             # depthwise
    ("conv2d", (3, 6, 7, 5), (6, 1, 3, 3), dict(groups=6, stride=2, padding=1)),   # strided depthwise
    ("conv2d", (2, 3, 6, 5), (6, 1, 3, 2), dict(groups=3, padding=(1, 0), dilation=(1, 2))),   # depth multiplier 2
    ("conv1d", (2, 4, 9), (4, 1, 3), dict(groups=4, padding=2)),
    ("conv2d", (2, 4, 9, 8), (6, 2, 3, 2), dict(groups=2, dilation=(2, 1), padding=(2, 0), stride=(1, 2))),
    ("conv2d", (1, 3, 8, 8), (4, 3, 5, 5), dict(padding=2)),                       # batch 1, 5x5
    ("conv2d", (2, 3, 7, 7), (4, 3, 7, 7), dict(stride=2, padding=3)),             # stem: 7x7 stride 2
    ("conv2d", (2, 3, 6, 6), (4, 3, 4, 3), dict(padding="same", dilation=(1, 2))),   # uneven 'same' padding
    ("conv1d", (3, 2, 11), (4, 2, 3), dict(stride=3, dilation=2)),
    ("conv2d", (2, 5, 1, 1), (3, 5, 3, 3), dict(padding=1)),                       # only the centre meets the input
    ("conv2d", (2, 5, 2, 2), (3, 5, 3, 3), dict(padding=1, stride=2)),             # 4 of 9 offsets meet it
    ("conv2d", (1, 2, 1, 1), (3, 2, 1, 1), dict(padding=3, stride=4)),             # no offset meets it
    ("conv_transpose2d", (2, 4, 1, 1), (4, 3, 3, 3), dict(padding=1)),
    ("conv3d", (1, 2, 5, 4, 6), (3, 2, 2, 1, 3), dict(stride=(1, 2, 1), padding=(1, 0, 1))),
    ("conv_transpose2d", (2, 4, 3, 4), (4, 2, 4, 4), dict(stride=2, padding=1)),   # DCGAN's upsampling
    ("conv_transpose2d", (2, 4, 3, 4), (4, 3, 1, 1), {}),
    # maps of 16 or more columns: the batch-second layout
    ("conv2d", (2, 3, 5, 18), (4, 3, 3, 3), dict(padding=1)),
    ("conv2d", (2, 3, 4, 40), (4, 3, 3, 2), dict(stride=2, padding=(0, 1), dilation=(1, 2))),
    ("conv2d", (2, 4, 3, 17), (6, 2, 1, 1), dict(groups=2)),
    ("conv2d", (1, 2, 1, 20), (3, 2, 3, 3), dict(padding=1)),
    ("conv1d", (2, 3, 40), (4, 3, 5), dict(padding=2)),
    ("conv_transpose1d", (2, 4, 20), (4, 3, 4), dict(stride=2, padding=1)),
    ("conv2d", (2, 4, 6, 20), (8, 1, 3, 3), dict(groups=4, padding=1)),           # depthwise, multiplier 2
]


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", CONV_CASES, ids=[f"{c[0]}-{i}" for i, c in
                                                                          enumerate(CONV_CASES)])
def test_convolution_paths_match_torch(name, x_shape, w_shape, options, dtype):
    tolerance = 1e-4 if dtype is F32 else 1e-10
    check(lambda lib, x, w: getattr(lib.nn.functional, name)(x, w, **options), sample(x_shape, dtype, seed=1),
          sample(w_shape, dtype, seed=2) / 3, rtol=tolerance, atol=tolerance)


def test_convolution_empty_batch_and_noncontiguous_input():
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), numpy.zeros((0, 3, 5, 5), F32),
          sample((4, 3, 3, 3), F32))
    check(lambda lib, x, w: lib.nn.functional.conv2d(x.transpose(2, 3), w, stride=2),
          sample((2, 3, 6, 7), F32), sample((4, 3, 3, 3), F32), rtol=1e-4, atol=1e-4)


def test_convolution_fast_paths_double_backward():
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w), sample((2, 3, 3, 2), F64), sample((2, 3, 1, 1), F64))
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1, stride=2), sample((1, 2, 2, 2), F64),
              sample((2, 2, 3, 3), F64))
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, groups=3, padding=1, stride=2),
              sample((1, 3, 4, 3), F64), sample((3, 1, 2, 2), F64))
    gradcheck(lambda lib, x, w: lib.nn.functional.conv_transpose2d(x, w, groups=2, stride=2),
              sample((1, 2, 2, 3), F64), sample((2, 1, 2, 2), F64))


@pytest.mark.parametrize("name,shape,options", [
    ("max_pool2d", (2, 3, 8, 7), dict(kernel_size=2)),                                  # disjoint windows
    ("max_pool2d", (2, 3, 8, 7), dict(kernel_size=2, stride=3, padding=1)),
    ("max_pool2d", (2, 3, 9, 9), dict(kernel_size=3, stride=2)),                        # overlapping windows
    ("max_pool2d", (1, 2, 9, 8), dict(kernel_size=2, stride=2, dilation=2)),            # dilated: they interleave
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, ceil_mode=True)),
    ("max_pool3d", (1, 2, 4, 5, 6), dict(kernel_size=2)),
], ids=str)
def test_max_pool_gradients_match_torch(name, shape, options):
    check(lambda lib, x: getattr(lib.nn.functional, name)(x, **options), sample(shape, F32, seed=3))


def test_max_pool_double_backward():
    gradcheck(lambda lib, x: lib.nn.functional.max_pool2d(x, 2), sample((1, 2, 4, 4), F64, seed=5))


@pytest.mark.parametrize("name,options", [
    ("max_pool2d", dict(kernel_size=2)), ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", dict(kernel_size=1)), ("max_pool2d", dict(kernel_size=(1, 2), dilation=2)),
    ("max_pool1d", dict(kernel_size=3, padding=1))], ids=str)
def test_max_pool_values_without_gradient_match_torch(name, options):
    x = sample((2, 3, 7, 6), F32, seed=4)
    x[0, 1, 2, 2] = numpy.nan
    x[1, 0] = -numpy.inf
    if name == "max_pool1d":
        x = x[0]
    e = getattr(ember.nn.functional, name)(ember.tensor(x), **options)
    with torch.no_grad():
        t = getattr(torch.nn.functional, name)(torch.tensor(x), **options)
    numpy.testing.assert_array_equal(e.numpy(), t.numpy())
    assert e.dtype == ember.float32 and not e.requires_grad and e.is_contiguous()
