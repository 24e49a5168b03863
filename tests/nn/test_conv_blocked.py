"""Convolutions over larger maps a block of samples at a time (``ops/_conv_blocked.py``): PyTorch's values and
gradients over strides, padding, dilation, 1-3 spatial dims, batch 1, uneven last blocks and transposed
convolutions; the same as the columns' path it replaces; and the path is the one taken."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_blocked, conv
from tests.oracle import assert_fast_path_matches, check, check_conv, count_calls, gradcheck, sample

F32, F64 = numpy.float32, numpy.float64

CASES = [   # (function, input shape, weight shape, options): outputs at least conv.SMALL_WIDTH wide
    ("conv2d", (5, 3, 20, 18), (4, 3, 3, 3), {"padding": 1}),
    ("conv2d", (3, 2, 21, 40), (5, 2, 5, 5), {"padding": 2}),                                 # 5x5, padded
    ("conv2d", (4, 3, 19, 37), (6, 3, 3, 2), {"stride": (1, 2), "padding": (0, 1), "dilation": (2, 1)}),
    ("conv2d", (1, 4, 17, 33), (3, 4, 4, 4), {"stride": 2, "padding": 3}),                    # batch 1
    ("conv2d", (3, 2, 18, 40), (3, 2, 1, 1), {"stride": 2}),                                  # strided 1x1
    ("conv2d", (2, 3, 16, 16), (4, 3, 3, 3), {"padding": "same", "dilation": 2}),
    ("conv1d", (3, 4, 41), (6, 4, 5), {"padding": 2, "stride": 2}),
    ("conv3d", (2, 2, 5, 6, 20), (3, 2, 2, 3, 3), {"padding": (1, 0, 1)}),
    ("conv_transpose2d", (3, 4, 5, 17), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ("conv_transpose1d", (2, 3, 20), (3, 5, 4), {"stride": 1, "padding": 1}),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


@pytest.fixture
def calls(monkeypatch):
    """Counts the calls of the blocked path's three maps."""
    return count_calls(monkeypatch, _conv_blocked, ("forward", "input_grad", "weight_grad"))


@pytest.mark.parametrize("block_bytes", [1, _conv_blocked.BLOCK_BYTES], ids=["sample-blocks", "default-blocks"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", CASES, ids=IDS)
def test_matches_torch(name, x_shape, w_shape, options, dtype, block_bytes, calls, monkeypatch):
    monkeypatch.setattr(_conv_blocked, "BLOCK_BYTES", block_bytes)
    check_conv(name, x_shape, w_shape, options, dtype, bias_size=w_shape[1 if "transpose" in name else 0])
    assert calls.get("weight_grad") == 1 and calls.get("forward", 0) + calls.get("input_grad", 0) >= 2


@pytest.mark.parametrize("threads", [1, 3])
def test_matches_the_columns_path(threads, calls, monkeypatch):
    """Blocks of 1-2 samples on 1 or 3 threads: the columns' values to float round-off (the sums run in another
    order), and the same bits on any number of threads."""
    monkeypatch.setattr(_conv_blocked, "BLOCK_BYTES", 2 * 3 * 9 * 18 * 17 * 8)   # two samples a block, seven blocks
    x, w = sample((13, 3, 20, 19), F64, seed=4), sample((5, 3, 3, 3), F64, seed=5)

    def run(blocked):
        monkeypatch.setattr(conv, "_blocked", conv._blocked if blocked else lambda *args: False)
        xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        y = ember.nn.functional.conv2d(xt, wt, stride=(1, 1), padding=0)
        y.backward(ember.tensor(numpy.cos(numpy.arange(y.numel())).reshape(y.shape)))
        return [y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()]
    assert_fast_path_matches(run, threads, calls, {"forward": 1, "input_grad": 1, "weight_grad": 1})


def test_second_derivatives(calls):
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=2, padding=1),
              sample((1, 2, 3, 33), F64, seed=6), sample((3, 2, 3, 3), F64, seed=7))
    assert calls.get("forward") and calls.get("input_grad") and calls.get("weight_grad")


def test_narrow_and_grouped_maps_take_other_paths(calls):
    """Narrow maps (batch-last columns), grouped convolutions and integer dtypes keep the columns' path."""
    ember.nn.functional.conv2d(ember.randn(2, 3, 10, 10), ember.randn(4, 3, 3, 3))
    ember.nn.functional.conv2d(ember.randn(2, 4, 20, 20), ember.randn(4, 2, 3, 3), groups=2)
    assert not calls
    assert not _conv_blocked.applies(numpy, numpy.int64, 2, 1, [(0, None)], (1,))
    ember.nn.functional.conv2d(ember.randn(2, 3, 20, 20), ember.randn(4, 3, 3, 3))
    assert calls == {"forward": 1}


def test_empty_batch():
    x, w = ember.zeros(0, 3, 20, 20, requires_grad=True), ember.randn(4, 3, 3, 3, requires_grad=True)
    y = ember.nn.functional.conv2d(x, w, padding=1)
    y.sum().backward()
    assert tuple(y.shape) == (0, 4, 20, 20) and tuple(x.grad.shape) == (0, 3, 20, 20)
    assert not w.grad.numpy().any()


@pytest.mark.parametrize("padding", [0, 2])
def test_strided_views_of_the_input_and_gradient(padding, calls):
    """Inputs that are views (transposed, every other row) and a non-contiguous output gradient: PyTorch's values."""
    x, w = sample((3, 2, 40, 21), F64, seed=8), sample((4, 2, 3, 3), F64, seed=9)
    g = sample((3, 4, 19 + 2 * padding, 18 + 2 * padding), F64, seed=10)
    results = []
    for lib in (ember, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt.transpose(2, 3)[:, :, :, ::2], wt, padding=padding)
        y.backward(lib.tensor(g).transpose(2, 3).contiguous().transpose(2, 3))
        results.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()])
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert calls == {"forward": 1, "input_grad": 1, "weight_grad": 1}


def test_input_gradient_of_a_non_finite_weight():
    """A stride-1 input gradient adds its columns as shifts of the flat block, whose columns past the output's width
    are zero: only for a finite weight (inf times zero is NaN), else per window. Both as PyTorch's."""
    x, w = sample((2, 2, 6, 20), F64, seed=11), sample((3, 2, 3, 3), F64, seed=12)
    w[1, 0, 1, 2] = numpy.inf
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), x, w, rtol=1e-10, atol=1e-10)
    w[1, 0, 1, 2] = 1.5
    check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), x, w, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,dilation", [
    ((3, 4, 33, 33), (5, 4, 4, 4), (2, 2), (1, 1), (1, 1)),          # DCGAN's 4x4 stride 2
    ((2, 3, 23, 30), (4, 3, 3, 5), (3, 2), (2, 0), (2, 1)),          # odd sizes, dilation, uneven phases
    ((2, 2, 9, 9, 20), (3, 2, 2, 3, 3), (2, 1, 3), (1, 0, 1), (1, 1, 1)),
    ((2, 3, 20, 19), (4, 3, 1, 1), (3, 3), (0, 0), (1, 1)),          # stride beyond the kernel: empty phases
])
def test_input_gradient_by_phases_matches_the_windows(x_shape, w_shape, stride, padding, dilation):
    """A finite weight's input gradient adds its columns along flat phases of the padded input (where its offsets
    meet every phase); the windowed fold (which the others take) adds the same columns in the same kernel order:
    equal to float round-off (the products run over wider rows), and both as PyTorch's."""
    x, w = sample(x_shape, F64, seed=13), sample(w_shape, F64, seed=14)
    y = torch.nn.functional.conv2d if len(x_shape) == 4 else torch.nn.functional.conv3d
    out = y(torch.tensor(x), torch.tensor(w), stride=stride, padding=padding, dilation=dilation).shape
    g = sample(tuple(out), F64, seed=15)
    live = conv._live_offsets(w_shape[2:], stride, dilation, out[2:], padding, x_shape[2:])
    assert len(live) == numpy.prod(w_shape[2:])
    phases, windows = numpy.empty(x_shape), numpy.empty(x_shape)
    weight_t, N = w.reshape(w_shape[0], -1).T, x_shape[0]
    _conv_blocked._spread_wide(g, weight_t, w_shape[2:], stride, dilation, padding, phases, N, 0, N)
    _conv_blocked._spread_windows(g, weight_t, [s for _, s in live], padding, windows, N, 0, N)
    assert _conv_blocked._every_phase(w_shape[2:], stride, dilation) == (min(w_shape[2:]) > 1)
    numpy.testing.assert_allclose(_conv_blocked.input_grad(g, w, x_shape, stride, padding, dilation,
                                                           [s for _, s in live]), phases, rtol=1e-13, atol=1e-13)
    numpy.testing.assert_allclose(phases, windows, rtol=1e-13, atol=1e-13)
    xt = torch.tensor(x, requires_grad=True)
    y(xt, torch.tensor(w), stride=stride, padding=padding, dilation=dilation).backward(torch.tensor(g))
    numpy.testing.assert_allclose(phases, xt.grad.numpy(), rtol=1e-10, atol=1e-10)
