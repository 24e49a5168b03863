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
