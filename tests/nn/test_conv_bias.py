"""A convolution's bias added by the Convolution primitive itself: the same bits as ``output + bias`` after an
unbiased convolution, values and the three gradients against PyTorch on every path (columns, per-sample products,
depthwise, pointwise, Winograd), second derivatives, vmap, and the dtypes that keep the separate add."""
import numpy
import pytest
import torch

import ember
import ember.nn.functional as F
from ember.func import vmap
from ember.ops import _conv_winograd, conv
from tests.oracle import check, gradcheck, sample

F32, F64 = numpy.float32, numpy.float64

CASES = [   # (function, input shape, weight shape, options)
    ("conv2d", (4, 1, 12, 12), (8, 1, 3, 3), {}),                                  # few column rows: per sample
    ("conv2d", (3, 8, 11, 10), (6, 8, 3, 3), {"padding": 1}),                      # columns, batch-last (narrow)
    ("conv2d", (2, 6, 9, 20), (5, 6, 3, 3), {"padding": 1, "stride": (1, 1)}),     # columns, batch-first
    ("conv2d", (2, 8, 12, 12), (6, 4, 3, 3), {"groups": 2, "stride": 2}),
    ("conv2d", (2, 6, 9, 9), (6, 1, 3, 3), {"groups": 6, "padding": 1}),           # depthwise
    ("conv2d", (2, 8, 12, 12), (16, 8, 1, 1), {}),                                 # pointwise
    ("conv2d", (2, 128, 12, 12), (128, 128, 3, 3), {"padding": 1}),                # Winograd-sized
    ("conv2d", (1, 3, 7, 7), (4, 3, 3, 3), {"dilation": 2, "padding": 2}),         # batch 1
    ("conv1d", (2, 8, 12), (16, 4, 3), {"groups": 2, "padding": 1}),
    ("conv3d", (2, 4, 5, 6, 7), (6, 4, 3, 3, 3), {"padding": 1}),
    ("conv2d", (3, 4, 12, 12), (5, 4, 3, 3), {"padding": "same"}),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def _fused_and_separate(name, x, w, b, options):
    """The convolution with its bias (the primitive adds it) and without, then ``+ bias``."""
    function = getattr(F, name)
    fused = function(x, w, b, **options)
    separate = function(x, w, None, **options) + b.reshape((-1,) + (1,) * (w.dim() - 2))
    return fused, separate


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", CASES, ids=IDS)
def test_bias_matches_torch_and_the_separate_add(name, x_shape, w_shape, options, dtype):
    tolerance = 1e-4 if dtype is F32 else 1e-10
    x, w, b = sample(x_shape, dtype, seed=1), sample(w_shape, dtype, seed=2) / 3, sample((w_shape[0],), dtype, seed=3)
    check(lambda lib, x, w, b: getattr(lib.nn.functional, name)(x, w, b, **options), x, w, b, rtol=tolerance,
          atol=tolerance)
    fused, separate = _fused_and_separate(name, ember.tensor(x), ember.tensor(w), ember.tensor(b), options)
    assert fused.dtype is separate.dtype
    numpy.testing.assert_array_equal(fused.numpy(), separate.numpy())
    # the bias gradient is the separate add's reduced gradient (NumPy's order of adds against Sum's)
    grads = []
    for i in range(2):
        b_t = ember.tensor(b, requires_grad=True)
        out = _fused_and_separate(name, ember.tensor(x), ember.tensor(w), b_t, options)[i]
        out.backward(ember.tensor(sample(tuple(out.shape), dtype, seed=4)))
        grads.append(b_t.grad.numpy())
    numpy.testing.assert_allclose(*grads, rtol=tolerance, atol=tolerance)


def test_the_primitive_adds_the_bias():
    x, w, b = ember.randn(2, 3, 6, 6), ember.randn(4, 3, 3, 3), ember.randn(4, requires_grad=True)
    out = F.conv2d(x, w, b)
    assert type(out.grad_fn).__name__ == "ConvolutionBackward0"   # as PyTorch names it
    # a 16-bit bias is added after the rounded convolution (the add's node, under PyTorch's name)
    out = F.conv2d(x.half(), w.half(), b.half())
    assert out.dtype is ember.float16 and type(out.grad_fn).__name__ == "ConvolutionBackward0"
    assert type(out.grad_fn).__base__.__name__ == "AddBackward0"


def test_empty_batch_and_winograd_path(monkeypatch):
    check(lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, padding=1), numpy.zeros((0, 3, 8, 8), F32),
          sample((4, 3, 3, 3), F32), sample((4,), F32))
    calls = []
    original = _conv_winograd.forward
    monkeypatch.setattr(_conv_winograd, "forward", lambda *a: calls.append(1) or original(*a))
    check(lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, padding=1), sample((2, 128, 12, 12), F32),
          sample((128, 128, 3, 3), F32) / 30, sample((128,), F32), rtol=1e-4, atol=1e-4)
    assert calls


@pytest.mark.parametrize("options", [{}, {"groups": 2, "padding": 1}, {"stride": 2}])
def test_bias_gradcheck_and_gradgradcheck(options):
    x, w, b = sample((2, 4, 5, 5), F64, seed=5), sample((6, 4 // options.get("groups", 1), 3, 3), F64, seed=6), \
        sample((6,), F64, seed=7)
    gradcheck(lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, **options), x, w, b)   # and gradgradcheck


def test_bias_under_create_graph_reaches_second_derivatives():
    x = ember.tensor(sample((2, 3, 5, 5), F64, seed=8), requires_grad=True)
    w = ember.tensor(sample((4, 3, 3, 3), F64, seed=9), requires_grad=True)
    b = ember.tensor(sample((4,), F64, seed=10), requires_grad=True)
    out = F.conv2d(x, w, b).square().sum()
    gb, = ember.autograd.grad(out, b, create_graph=True)
    gb.sum().backward()
    xt, wt, bt = (torch.tensor(t.detach().numpy(), requires_grad=True) for t in (x, w, b))
    gbt, = torch.autograd.grad(torch.nn.functional.conv2d(xt, wt, bt).square().sum(), bt, create_graph=True)
    gbt.sum().backward()
    numpy.testing.assert_allclose(gb.detach().numpy(), gbt.detach().numpy(), rtol=1e-10)
    for e, t in ((x, xt), (w, wt), (b, bt)):
        numpy.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dims", [(0, None, None), (0, 0, None), (0, None, 0), (0, 0, 0), (None, 0, 0),
                                  (None, None, 0)])
def test_vmap_over_a_convolution_with_bias(dims):
    x, w, b = sample((3, 2, 4, 7, 7), F32, seed=11), sample((3, 6, 4, 3, 3), F32, seed=12), sample((3, 6), F32, seed=13)
    args = [ember.tensor(a if d == 0 else a[0]) for a, d in zip((x, w, b), dims)]
    got = vmap(lambda x, w, b: F.conv2d(x, w, b, padding=1), in_dims=dims)(*args)
    pick = [(lambda i, a=a: a[i]) if d == 0 else (lambda i, a=a: a[0]) for a, d in zip((x, w, b), dims)]
    want = numpy.stack([torch.nn.functional.conv2d(*(torch.tensor(p(i)) for p in pick), padding=1).numpy()
                        for i in range(3)])
    numpy.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)


def test_per_example_gradients_of_the_bias():
    """vmap over grad: each example's bias gradient, as one backward per example gives it."""
    x, w, b = sample((4, 3, 6, 6), F32, seed=14), sample((5, 3, 3, 3), F32, seed=15), sample((5,), F32, seed=16)

    def loss(w, b, x):
        return F.conv2d(x.unsqueeze(0), w, b).square().sum()
    grads = vmap(ember.func.grad(loss, argnums=(0, 1)), in_dims=(None, None, 0))(ember.tensor(w), ember.tensor(b),
                                                                                  ember.tensor(x))
    for i in range(4):
        wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
        torch.nn.functional.conv2d(torch.tensor(x[i:i + 1]), wt, bt).square().sum().backward()
        numpy.testing.assert_allclose(grads[0][i].numpy(), wt.grad.numpy(), rtol=1e-4, atol=1e-4)
        numpy.testing.assert_allclose(grads[1][i].numpy(), bt.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_half_precision_keeps_the_separate_add():
    """16-bit convolutions round their float32 sums before the add, as before: not fused."""
    x, w, b = (ember.randn(*s).to(ember.bfloat16) for s in ((2, 3, 6, 6), (4, 3, 3, 3), (4,)))
    assert not conv._fused_bias(x, w, b)
    want = F.conv2d(x, w) + b.reshape(-1, 1, 1)
    numpy.testing.assert_array_equal(F.conv2d(x, w, b).float().numpy(), want.float().numpy())


MIXED = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64, torch.int64, torch.bool]


def _outcome(lib, call, input_dtype, other_dtype):
    """The result's dtype and values, or the error's type and message, of ``call`` on ember or torch."""
    def dtype(d):
        return getattr(lib, str(d).split(".")[-1])
    try:
        result = call(lib, dtype(input_dtype), dtype(other_dtype))
    except (RuntimeError, TypeError, NotImplementedError) as error:
        return type(error).__name__, str(error).split("\n")[0]
    values = result.detach()
    return str(values.dtype).split(".")[-1], (values.real if values.is_complex() else values).double().tolist()


MIXED_CALLS = {   # a bias or weight of another dtype than the input
    "conv1d_bias": lambda L, d, o: L.nn.functional.conv1d(L.ones(1, 2, 5, dtype=d), L.ones(3, 2, 3, dtype=d),
                                                          L.ones(3, dtype=o)),
    "conv2d_bias": lambda L, d, o: L.nn.functional.conv2d(L.ones(1, 2, 5, 5, dtype=d), L.ones(3, 2, 3, 3, dtype=d),
                                                          L.ones(3, dtype=o)),
    "conv2d_bias_groups_unbatched": lambda L, d, o: L.nn.functional.conv2d(
        L.ones(4, 5, 5, dtype=d), L.ones(4, 1, 3, 3, dtype=d), L.ones(4, dtype=o), groups=4),
    "conv3d_bias": lambda L, d, o: L.nn.functional.conv3d(L.ones(1, 2, 4, 4, 4, dtype=d),
                                                          L.ones(3, 2, 3, 3, 3, dtype=d), L.ones(3, dtype=o)),
    "conv2d_weight": lambda L, d, o: L.nn.functional.conv2d(L.ones(1, 2, 5, 5, dtype=d), L.ones(3, 2, 3, 3, dtype=o)),
    "conv2d_weight_and_bias": lambda L, d, o: L.nn.functional.conv2d(
        L.ones(1, 2, 5, 5, dtype=d), L.ones(3, 2, 3, 3, dtype=o), L.ones(3, dtype=o)),
    "conv_transpose2d_bias": lambda L, d, o: L.nn.functional.conv_transpose2d(
        L.ones(1, 2, 4, 4, dtype=d), L.ones(2, 3, 3, 3, dtype=d), L.full((3,), 2, dtype=o)),
    "conv_transpose1d_weight": lambda L, d, o: L.nn.functional.conv_transpose1d(
        L.ones(1, 2, 4, dtype=d), L.ones(2, 3, 3, dtype=o)),
    "conv_tbc_bias": lambda L, d, o: L.conv_tbc(L.ones(5, 1, 2, dtype=d), L.ones(3, 2, 3, dtype=d),
                                                L.full((3,), 2, dtype=o)),
}


@pytest.mark.parametrize("other", MIXED, ids=str)
@pytest.mark.parametrize("input_dtype", [torch.float32, torch.float64, torch.bfloat16, torch.complex64, torch.int64],
                         ids=str)
@pytest.mark.parametrize("call", list(MIXED_CALLS))
def test_parameters_of_another_dtype_than_the_input(call, input_dtype, other):
    """PyTorch refuses a convolution's bias or weight of another dtype (its messages by the input's dtype), except a
    transposed convolution's or conv_tbc's bias, added into the output in the input's dtype."""
    if other is input_dtype or other is torch.complex64 and call == "conv_tbc_bias":   # torch warns there
        return
    assert _outcome(ember, MIXED_CALLS[call], input_dtype, other) == \
        _outcome(torch, MIXED_CALLS[call], input_dtype, other)
