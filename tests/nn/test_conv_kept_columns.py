"""A convolution's columns are held for the weight gradient while they fit in a budget (``conv.HELD_BYTES``) shared by
all convolutions whose backward has not run; the others are cut again in the backward. Both ways give PyTorch's
values and gradients; the budget frees up after a backward and when a graph is dropped."""
import gc

import numpy
import pytest

import ember
from ember.ops import conv
from tests.oracle import check, gradcheck, sample

F32, F64 = numpy.float32, numpy.float64


CASES = [   # (function, input shape, weight shape, options): the general (columns) algorithm
    ("conv2d", (3, 4, 9, 8), (5, 4, 3, 3), {"padding": 1}),
    ("conv2d", (2, 4, 11, 20), (6, 2, 3, 2), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
    ("conv2d", (1, 3, 7, 7), (4, 3, 5, 5), {"padding": 2}),
    ("conv1d", (2, 3, 17), (4, 3, 4), {"stride": 3, "padding": 2}),
    ("conv3d", (2, 2, 4, 5, 4), (3, 2, 3, 2, 3), {"padding": 1}),
    ("conv_transpose2d", (2, 4, 5, 6), (4, 3, 4, 4), {"stride": 2, "padding": 1}),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("keep", [0, 1 << 40], ids=["cut-again", "held"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,x_shape,w_shape,options", CASES, ids=IDS)
def test_matches_torch_held_or_not(name, x_shape, w_shape, options, dtype, keep, monkeypatch):
    monkeypatch.setattr(conv, "HELD_BYTES", keep)
    tolerance = 1e-4 if dtype is F32 else 1e-10
    check(lambda lib, x, w, b: getattr(lib.nn.functional, name)(x, w, b, **options), sample(x_shape, dtype, seed=1),
          sample(w_shape, dtype, seed=2) / 3, sample(w_shape[1:2] if "transpose" in name else w_shape[:1], dtype,
                                                     seed=3), rtol=tolerance, atol=tolerance)


def test_second_derivatives_when_cut_again(monkeypatch):
    monkeypatch.setattr(conv, "HELD_BYTES", 0)
    gradcheck(lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=2, padding=1),
              sample((2, 2, 5, 5), F64, seed=4), sample((3, 2, 3, 3), F64, seed=5))


@pytest.mark.parametrize("keep,held", [(0, 2), (1 << 40, 3)], ids=["cut-again", "held"])
def test_columns_over_the_budget_are_not_held(keep, held, monkeypatch):
    monkeypatch.setattr(conv, "HELD_BYTES", keep)
    x = ember.randn(2, 3, 8, 8, requires_grad=True)
    w = ember.randn(4, 3, 3, 3, requires_grad=True)
    y = ember.nn.functional.conv2d(x, w, padding=1)
    assert len(y.grad_fn._saved) == held   # input and weight, and the columns when held


def _columns_bytes():   # the columns of a 3x3 convolution of a (2, 3, 8, 8) input, padding 1: 27 x 128 float32
    return 27 * 2 * 8 * 8 * 4


def test_the_budget_is_shared_and_freed(monkeypatch):
    gc.collect()   # graphs other tests dropped give their columns back now, not in the middle of this test
    monkeypatch.setattr(conv, "HELD_BYTES", conv._held[0] + 2 * _columns_bytes())
    x = ember.randn(2, 3, 8, 8, requires_grad=True)
    w = ember.randn(3, 3, 3, 3, requires_grad=True)
    y1 = ember.nn.functional.conv2d(x, w, padding=1)
    y2 = ember.nn.functional.conv2d(y1, w, padding=1)
    y3 = ember.nn.functional.conv2d(y2, w, padding=1)
    assert [len(y.grad_fn._saved) for y in (y1, y2, y3)] == [3, 3, 2]   # the third does not fit
    start = conv._held[0]
    y3.sum().backward()
    assert conv._held[0] == start - 2 * _columns_bytes()   # given back by the backward that used them
    y4 = ember.nn.functional.conv2d(x, w, padding=1)
    assert len(y4.grad_fn._saved) == 3
    del y4
    gc.collect()
    assert conv._held[0] == start - 2 * _columns_bytes()   # and by a graph dropped without a backward


@pytest.mark.parametrize("name,x_shape,w_shape,options", CASES + [
    ("conv2d", (3, 2, 20, 20), (3, 2, 3, 3), {"padding": 1}),   # wide map: batch-first columns
    ("conv2d", (2, 4, 9, 9), (4, 1, 3, 3), {"padding": 1, "groups": 4}),   # depthwise: no shared move
    ("conv2d", (2, 3, 8, 8), (5, 3, 1, 1), {})], ids=IDS + ["wide", "depthwise", "pointwise"])
def test_gradients_sharing_the_moved_output_gradient_are_bit_equal_to_the_primitives(name, x_shape, w_shape,
                                                                                     options):
    """Without ``create_graph`` both gradients read one move of g; through the primitives (``create_graph``) each
    moves it: the same arithmetic, the same bits. Each gradient alone too."""
    f = getattr(ember.nn.functional, name)
    x = ember.tensor(sample(x_shape, F32, seed=6), requires_grad=True)
    w = ember.tensor(sample(w_shape, F32, seed=7), requires_grad=True)
    y = f(x, w, **options)
    g = ember.tensor(sample(tuple(y.shape), F32, seed=8))
    shared = ember.autograd.grad(f(x, w, **options), (x, w), g)
    alone = [ember.autograd.grad(f(x, w, **options), (v,), g)[0] for v in (x, w)]
    primitives = ember.autograd.grad(f(x, w, **options), (x, w), g, create_graph=True)
    for a, b, c in zip(shared, alone, primitives):
        assert a.numpy().tobytes() == b.numpy().tobytes() == c.detach().numpy().tobytes()
