"""Products started from a bias (``_blas.matmul(..., bias=)``, one BLAS call with beta = 1 as PyTorch's addmm): the
bits of the product with the bias added after, on 1-3 threads (whole on OpenBLAS's threads or cut into parts on
ember's), for every layout CBLAS reads; the cases it declines; and ``F.linear`` through it beside its unfused path
and PyTorch."""
import numpy
import pytest
import torch

import ember
from ember.ops import _blas, _parallel
from tests.oracle import as_numpy

SHAPES = [(2048, 128, 384), (2048, 128, 128), (333, 200, 257), (40, 256, 700), (4096, 64, 16), (2, 256, 9000)]


@pytest.fixture
def threads():
    """Sets the intra-op thread count for a test; restores it after."""
    before = _parallel.num_threads()
    yield _parallel.set_num_threads
    _parallel.set_num_threads(before)


def _operands(M, K, N, dtype, layout_a, layout_b, rng):
    """``a`` (M, K) and ``b`` (K, N) as C-contiguous, transposed or strided (rows of a wider array) views."""
    def make(rows, cols, layout):
        if layout == "transposed":
            return rng.standard_normal((cols, rows)).astype(dtype).T
        if layout == "strided":
            return rng.standard_normal((rows, cols + 5)).astype(dtype)[:, 2:cols + 2]
        return rng.standard_normal((rows, cols)).astype(dtype)
    return make(M, K, layout_a), make(K, N, layout_b)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("layout_a,layout_b", [("contiguous", "transposed"), ("transposed", "contiguous"),
                                               ("strided", "strided"), ("contiguous", "contiguous")])
@pytest.mark.parametrize("M,K,N", SHAPES)
def test_product_from_the_bias_has_the_bits_of_the_bias_added_after(M, K, N, layout_a, layout_b, dtype, threads,
                                                                    monkeypatch):
    monkeypatch.setattr(_blas, "BIAS_WORK", 1)   # the small products too (large ones are also cut into parts)
    rng = numpy.random.default_rng(M + K + N)
    a, b = _operands(M, K, N, dtype, layout_a, layout_b, rng)
    bias = rng.standard_normal(N).astype(dtype)
    assert _blas.adds_bias(a, b, bias)
    for count in (1, 2, 3):
        threads(count)
        expected = _blas.matmul(a, b, numpy.empty((M, N), dtype)) + bias   # the same cut (OpenBLAS's threads
        out = numpy.full((M, N), numpy.nan, dtype)                         # may sum in other blocks than one's)
        assert _blas.matmul(a, b, out, bias=bias) is out
        numpy.testing.assert_array_equal(out.view(numpy.uint8), expected.view(numpy.uint8))


def test_declined_cases():
    rng = numpy.random.default_rng(0)
    a, b = rng.standard_normal((2048, 128)).astype(numpy.float32), rng.standard_normal((128, 384)).astype(numpy.float32)
    bias = numpy.ones(384, numpy.float32)
    assert _blas.adds_bias(a, b, bias)
    wide = numpy.ones((2048, _blas.BIAS_INNER + 1), numpy.float32)   # summed in more than one block: other bits
    assert not _blas.adds_bias(wide, numpy.ones((_blas.BIAS_INNER + 1, 384), numpy.float32), bias)
    assert not _blas.adds_bias(a[:8], b, bias)   # too small to pay for the call
    assert not _blas.adds_bias(numpy.ones((1, 256), numpy.float32), numpy.ones((256, 9000), numpy.float32),
                               numpy.ones(9000, numpy.float32))   # one row: OpenBLAS's gemv sums in other blocks
    assert not _blas.adds_bias(a.astype(numpy.float16), b.astype(numpy.float16), bias.astype(numpy.float16))
    assert not _blas.adds_bias(a, b, bias.astype(numpy.float64))
    assert not _blas.adds_bias(a, b, bias[:1])   # a broadcast bias
    assert not _blas.adds_bias(a[::2, ::2], b[::2], bias)   # no unit stride
    assert not _blas.adds_bias(a.reshape(2, 1024, 128), b, bias)


@pytest.mark.parametrize("shape", [(2048, 128), (32, 64, 128), (64, 32, 128)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("contiguous", [True, False])
def test_linear_through_the_bias_product(shape, dtype, contiguous, threads, monkeypatch):
    rng = numpy.random.default_rng(len(shape))
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((384, 128)).astype(dtype)
    b = rng.standard_normal(384).astype(dtype)
    calls = []
    add_product = _blas._add_product
    monkeypatch.setattr(_blas, "_add_product", lambda *args, **kwargs: calls.append(1) or add_product(*args, **kwargs))

    def run(lib, tensor):
        ex = tensor(x, requires_grad=True)
        ew, eb = tensor(w, requires_grad=True), tensor(b, requires_grad=True)
        y = lib.nn.functional.linear(ex if contiguous else ex.transpose(0, 1).contiguous().transpose(0, 1), ew, eb)
        y.backward(tensor(numpy.cos(numpy.arange(y.numel(), dtype=dtype)).reshape(y.shape)))
        return [v.detach() for v in (y, ex.grad, ew.grad, eb.grad)]
    for count in (1, 2):
        threads(count)
        calls.clear()
        fused = run(ember, ember.tensor)
        assert calls == [] if not contiguous and len(shape) > 2 else calls   # a copy-making fold keeps the old path
        monkeypatch.setattr(_blas, "BIAS_WORK", float("inf"))
        unfused = run(ember, ember.tensor)
        monkeypatch.undo()
        monkeypatch.setattr(_blas, "_add_product", add_product)
        for f, u in zip(fused, unfused):
            numpy.testing.assert_array_equal(as_numpy(f), as_numpy(u))
        assert as_numpy(fused[0]).flags.c_contiguous
        tolerance = 1e-4 if dtype == "float32" else 1e-10
        for f, t in zip(fused, run(torch, torch.tensor)):
            numpy.testing.assert_allclose(as_numpy(f), t.numpy(), rtol=tolerance, atol=tolerance)
        monkeypatch.setattr(_blas, "_add_product", lambda *args, **kwargs: calls.append(1) or add_product(*args,
                                                                                                          **kwargs))
