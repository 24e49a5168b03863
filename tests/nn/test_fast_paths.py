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


POINTWISE_CASES = [   # 1x1 convolutions over larger maps, strided, grouped, transposed with output_padding
    ("conv2d", (3, 5, 8, 9), (7, 5, 1, 1), {}),
    ("conv2d", (1, 4, 16, 4), (6, 4, 1, 1), dict(dilation=2)),                     # batch 1; dilation is moot
    ("conv1d", (2, 3, 70), (4, 3, 1), {}),
    ("conv3d", (2, 3, 4, 4, 4), (2, 3, 1, 1, 1), {}),
    ("conv_transpose2d", (2, 5, 8, 8), (5, 3, 1, 1), {}),
    ("conv_transpose2d", (2, 5, 8, 8), (5, 3, 1, 1), dict(dilation=2, output_padding=1)),   # output larger
    ("conv2d", (2, 4, 8, 8), (6, 2, 1, 1), dict(groups=2)),                        # grouped: the columns path
    ("conv2d", (2, 4, 8, 8), (6, 4, 1, 1), dict(stride=2)),                        # strided: the columns path
]


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", POINTWISE_CASES, ids=[f"{c[0]}-{i}" for i, c in
                                                                               enumerate(POINTWISE_CASES)])
def test_pointwise_convolution_matches_torch(name, x_shape, w_shape, options, dtype):
    tolerance = 1e-4 if dtype is F32 else 1e-10
    check(lambda lib, x, w, b: getattr(lib.nn.functional, name)(x, w, b, **options), sample(x_shape, dtype, seed=1),
          sample(w_shape, dtype, seed=2) / 3, sample((w_shape[1] if "transpose" in name else w_shape[0],), dtype),
          rtol=tolerance, atol=tolerance)


def test_pointwise_convolution_edges():
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w), numpy.zeros((0, 3, 8, 8), F32), sample((4, 3, 1, 1), F32))
    check(lambda lib, x, w: lib.nn.functional.conv2d(x.transpose(2, 3), w), sample((2, 3, 8, 9), F32),
          sample((4, 3, 1, 1), F32), rtol=1e-4, atol=1e-4)
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w), sample((2, 2, 8, 8), F64), sample((3, 2, 1, 1), F64))
    for dtype in (ember.float16, ember.bfloat16):
        x, w = sample((2, 3, 8, 8), F32), sample((4, 3, 1, 1), F32)
        e = ember.nn.functional.conv2d(ember.tensor(x).to(dtype), ember.tensor(w).to(dtype))
        t = torch.nn.functional.conv2d(torch.tensor(x).to(getattr(torch, str(dtype).split(".")[1])),
                                       torch.tensor(w).to(getattr(torch, str(dtype).split(".")[1])))
        assert e.dtype is dtype
        numpy.testing.assert_allclose(e.float().numpy(), t.float().numpy(), rtol=3e-2, atol=5e-2)


def test_convolution_kept_columns_follow_autograd_rules():
    """The weight gradient reuses the forward's columns: retained graphs, second gradients and in-place changes of
    the input behave as without them."""
    x = ember.tensor(sample((2, 3, 6, 20), F64), requires_grad=True)
    w = ember.tensor(sample((4, 3, 3, 3), F64), requires_grad=True)
    y = ember.nn.functional.conv2d(x, w, padding=1)
    (y * y).sum().backward(retain_graph=True)
    first = w.grad.clone()
    w.grad = None
    (y * y).sum().backward()
    numpy.testing.assert_array_equal(w.grad.numpy(), first.numpy())
    xt, wt = torch.tensor(x.detach().numpy(), requires_grad=True), torch.tensor(w.detach().numpy(), requires_grad=True)
    (torch.nn.functional.conv2d(xt, wt, padding=1) ** 2).sum().backward()
    numpy.testing.assert_allclose(first.numpy(), wt.grad.numpy(), rtol=1e-10, atol=1e-10)
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), sample((1, 2, 3, 17), F64),
              sample((2, 2, 3, 3), F64))
    x = ember.tensor(sample((2, 3, 6, 6), F32)).requires_grad_()
    h = x * 1
    y = ember.nn.functional.conv2d(h, ember.tensor(sample((4, 3, 3, 3), F32), requires_grad=True))
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_buffer_pool_never_hands_out_a_buffer_in_use():
    from ember.ops import _buffers
    held = _buffers.empty(numpy, (1 << 19,), numpy.float32)   # 2 MiB: pooled
    held[:] = 1
    view = held[::2]
    del held
    other = _buffers.empty(numpy, (1 << 19,), numpy.float32)
    assert not numpy.shares_memory(other, view)   # the view keeps the first buffer in use
    del view, other
    again = _buffers.empty(numpy, (1 << 19,), numpy.float32)
    assert _buffers.empty(numpy, (1 << 19,), numpy.float32) is not again
    # two convolutions alive at once, each with pooled temporaries, give what PyTorch gives
    x, w = sample((4, 8, 40, 40), F32), sample((8, 8, 3, 3), F32) / 8
    first = ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), padding=1)
    second = ember.nn.functional.conv2d(first, ember.tensor(w), padding=1)
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    numpy.testing.assert_allclose(first.numpy(), expected.numpy(), rtol=1e-4, atol=1e-4)
    numpy.testing.assert_allclose(second.numpy(), torch.nn.functional.conv2d(expected, torch.tensor(w), padding=1)
                                  .numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("options", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                     dict(kernel_size=2, stride=3, padding=1, ceil_mode=True),
                                     dict(kernel_size=(3, 2), stride=1, dilation=(1, 2))], ids=str)
def test_max_pool_ties_nan_and_lowest_values_match_torch(options):
    """Ties go to the first window element, NaN to the last NaN, all-(-inf) padded windows to the first real
    element; values, indices and gradients (including non-finite upstream gradients) as PyTorch's."""
    x = numpy.round(sample((2, 3, 7, 8), F32, seed=6))   # many ties
    x[0, 0, :3, :3] = -numpy.inf
    x[1, 2, 2, 2] = x[1, 2, 3, 5] = numpy.nan
    check(lambda lib, x: lib.nn.functional.max_pool2d(x, return_indices=True, **options), x)

    def weighted(lib, x, g):
        x = lib.tensor(x, requires_grad=True)
        return lib.autograd.grad(lib.nn.functional.max_pool2d(x, **options), x, lib.tensor(g))[0]
    y = torch.nn.functional.max_pool2d(torch.tensor(x), **options)
    g = sample(tuple(y.shape), F32, seed=7)
    g.flat[::5] = numpy.inf
    numpy.testing.assert_allclose(weighted(ember, x, g).numpy(), weighted(torch, x, g).numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_max_pool_dtypes_and_empty_batch(dtype):
    x = ember.tensor(sample((2, 3, 6, 5), F32, seed=8)).to(getattr(ember, dtype)).requires_grad_()
    xt = torch.tensor(sample((2, 3, 6, 5), F32, seed=8)).to(getattr(torch, dtype)).requires_grad_()
    y, i = ember.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(xt, 3, 2, 1, return_indices=True)
    y.sum().backward()
    yt.sum().backward()
    assert y.dtype is x.dtype and x.grad.dtype is x.dtype
    numpy.testing.assert_array_equal(y.float().detach().numpy(), yt.float().detach().numpy())
    numpy.testing.assert_array_equal(i.numpy(), it.numpy())
    numpy.testing.assert_array_equal(x.grad.float().numpy(), xt.grad.float().numpy())
    check(lambda lib, x: lib.nn.functional.max_pool2d(x, 2), numpy.zeros((0, 3, 4, 4), F32))
    gradcheck(lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 2, 1), sample((1, 2, 5, 5), F64, seed=9))
