"""1x1 convolutions' three products in parts of the batch on the intra-op threads (``_conv_pointwise``): the
forward, the input gradient and the weight gradient (its per-sample products, then their sum in parts of the rows)
give one thread's bits on 3 threads, over groups, a batch that does not divide evenly and several weight-gradient
chunks, and PyTorch's values."""
import numpy
import pytest
import torch

import ember
from ember.ops import _conv_pointwise, _parallel

CASES = [   # (input shape, weight shape, groups)
    ((7, 6, 8, 8), (10, 6, 1, 1), 1),
    ((5, 8, 4, 4), (6, 4, 1, 1), 2),
    ((4, 3, 40), (5, 3, 1), 1),
]


@pytest.fixture
def threads():
    before = _parallel.num_threads()
    yield _parallel.set_num_threads
    _parallel.set_num_threads(before)


def _run(lib, x, w, groups):
    xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
    conv = lib.nn.functional.conv1d if x.ndim == 3 else lib.nn.functional.conv2d
    y = conv(xt, wt, groups=groups)
    (y * y).sum().backward()
    return [y.detach().numpy().copy(), xt.grad.numpy().copy(), wt.grad.numpy().copy()]


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("x_shape,w_shape,groups", CASES, ids=[str(c[0]) for c in CASES])
def test_parts_give_one_threads_bits_and_torchs_values(x_shape, w_shape, groups, dtype, threads, monkeypatch):
    rng = numpy.random.default_rng(len(x_shape) + w_shape[0])
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    monkeypatch.setattr(_conv_pointwise, "PART_WORK", 1)   # every product in parts
    monkeypatch.setattr(_conv_pointwise, "WEIGHT_WORK", 2 * w_shape[0] * w_shape[1])   # chunks of two samples
    monkeypatch.setattr(_parallel, "MIN_ELEMENTS", 1)   # the sums in parts of the rows
    cuts = []
    parallel_for = _parallel.parallel_for

    def watched(count, work, grain=1, **options):
        parallel_for(count, lambda start, stop: cuts.append((start, stop, count)) or work(start, stop), grain,
                     **options)
    monkeypatch.setattr(_parallel, "parallel_for", watched)
    results = []
    for count in (1, 3):
        threads(count)
        cuts.clear()
        results.append(_run(ember, x, w, groups))
    assert any(stop - start < total for start, stop, total in cuts)   # 3 threads: cut
    for one, many in zip(*results):
        numpy.testing.assert_array_equal(one.view(numpy.uint8), many.view(numpy.uint8))
    tolerance = 1e-5 if dtype == numpy.float32 else 1e-12
    for got, want in zip(results[1], _run(torch, x, w, groups)):
        numpy.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance * float(numpy.abs(want).max()))


@pytest.mark.parametrize("x_shape,w_shape,groups", CASES + [((3, 9, 6, 6), (4, 9, 1, 1), 1)],
                         ids=[str(c[0]) for c in CASES] + ["fewer-outputs"])
def test_weight_gradient_with_the_smaller_operand_moved_matches_the_view(x_shape, w_shape, groups, monkeypatch):
    """Under OpenBLAS's small-matrix kernel the smaller of x and g is moved positions-first for the weight gradient's
    products (x[n] @ g[n]^T where g is smaller): the products by the transposed view's values to float64 round-off."""
    if not ember.ops._blas._small_kernel():
        pytest.skip("NumPy's OpenBLAS has no small-matrix kernel here: the view is always taken")
    rng = numpy.random.default_rng(7)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    moved = _run(ember, x, w, groups)[2]
    monkeypatch.setattr(ember.ops._blas, "SMALL_KERNEL", 0)
    numpy.testing.assert_allclose(moved, _run(ember, x, w, groups)[2], rtol=1e-12, atol=1e-12)
