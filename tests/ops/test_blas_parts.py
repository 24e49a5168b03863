"""Long matrix products cut into parts on the intra-op threads (``_blas.matmul``): the bits of the whole product on
one BLAS thread, whichever dim is cut (uneven parts, transposed operands, stacks, float32/float64), and PyTorch's
values through the ops that use it (Linear, mm, convolution by columns) on 1 and 3 threads."""
import numpy
import pytest
import torch

import ember
from ember.ops import _blas, _parallel

SHAPES = [   # (batch, M, K, N): rows cut (M >= N) or columns cut, odd sizes, a stack of two
    ((), 1000, 128, 384),
    ((), 2048, 128, 128),
    ((), 257, 2304, 131),
    ((), 64, 576, 2048),
    ((), 33, 1001, 1500),
    ((2,), 128, 1152, 512),
    ((1,), 512, 1024, 32),
]


@pytest.fixture
def threads():
    """Sets the intra-op thread count for a test; restores it after."""
    before = _parallel.num_threads()
    yield _parallel.set_num_threads
    _parallel.set_num_threads(before)


def _watch(monkeypatch):
    """Records the ranges ``parallel_for`` hands out."""
    cuts = []
    parallel_for = _parallel.parallel_for

    def watched(count, work, grain=1, **options):
        def record(start, stop):
            cuts.append((start, stop, count))
            work(start, stop)
        parallel_for(count, record, grain, **options)
    monkeypatch.setattr(_parallel, "parallel_for", watched)
    return cuts


def _one_blas_thread(a, b):
    with _blas.small_products(0):
        return numpy.matmul(a, b)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("transposed", ["none", "a", "b"])
@pytest.mark.parametrize("batch,M,K,N", SHAPES)
def test_parts_give_the_whole_products_bits(batch, M, K, N, transposed, dtype, threads, monkeypatch):
    rng = numpy.random.default_rng(M + K + N)
    a = rng.standard_normal(batch + (K, M) if transposed == "a" else batch + (M, K)).astype(dtype)
    b = rng.standard_normal(batch + (N, K) if transposed == "b" else batch + (K, N)).astype(dtype)
    a = a.swapaxes(-1, -2) if transposed == "a" else a
    b = b.swapaxes(-1, -2) if transposed == "b" else b
    expected = _one_blas_thread(a, b)
    cuts = _watch(monkeypatch)
    for count in (3, 2):
        threads(count)
        cuts.clear()
        out = numpy.full(expected.shape, numpy.nan, dtype)
        assert _blas.matmul(a, b, out) is out
        assert len(cuts) >= 2 and cuts[0][1] < cuts[0][2]   # it was cut
        numpy.testing.assert_array_equal(out.view(numpy.uint8), expected.view(numpy.uint8))


def test_short_products_and_one_thread_stay_whole(threads, monkeypatch):
    cuts = _watch(monkeypatch)
    a, b = numpy.ones((64, 64), numpy.float32), numpy.ones((64, 64), numpy.float32)
    threads(3)
    numpy.testing.assert_array_equal(_blas.matmul(a, b, numpy.empty((64, 64), numpy.float32)), a @ b)
    c = numpy.ones((2048, 512), numpy.float32)
    threads(1)
    numpy.testing.assert_array_equal(_blas.matmul(c, c.T, numpy.empty((2048, 2048), numpy.float32)), c @ c.T)
    assert cuts == []
    ints = numpy.ones((512, 512), numpy.int64)   # not a BLAS product: NumPy's own loop, whole
    threads(3)
    numpy.testing.assert_array_equal(_blas.matmul(ints, ints, numpy.empty((512, 512), numpy.int64)), ints @ ints)
    assert cuts == []


def _ops(lib, x, w, v, k):
    linear = lib.nn.functional.linear(x, w, v[:w.shape[0]])
    return linear, lib.mm(x, w.t()), lib.nn.functional.conv2d(k, w.reshape(w.shape[0], -1, 3, 3)[:, :16], stride=1,
                                                              padding=1)


@pytest.mark.parametrize("count", [1, 3])
def test_ops_match_torch_and_one_thread(count, threads, monkeypatch):
    """Linear, mm and a convolution by columns (7x7 maps: batch-last columns, one long product) forward and
    backward."""
    rng = numpy.random.default_rng(5)
    arrays = (rng.standard_normal((2048, 144)).astype(numpy.float32),
              rng.standard_normal((384, 144)).astype(numpy.float32),
              rng.standard_normal(384).astype(numpy.float32),
              rng.standard_normal((64, 16, 7, 7)).astype(numpy.float32))
    results = []
    cuts = _watch(monkeypatch)
    for threads_now in (1, count):
        threads(threads_now)
        tensors = [ember.tensor(a, requires_grad=True) for a in arrays]
        outs = _ops(ember, *tensors)
        sum(o.square().sum() for o in outs).backward()
        results.append([o.detach().numpy().copy() for o in outs] + [t.grad.numpy().copy() for t in tensors])
    assert any(stop - start < total for start, stop, total in cuts) == (count > 1)
    for one, many in zip(*results):
        numpy.testing.assert_array_equal(one.view(numpy.uint8), many.view(numpy.uint8))
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs = _ops(torch, *tensors)
    sum(o.square().sum() for o in outs).backward()
    expected = [o.detach().numpy() for o in outs] + [t.grad.numpy() for t in tensors]
    for got, want in zip(results[1], expected):
        numpy.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-3 * float(numpy.abs(want).max()))


@pytest.mark.parametrize("short_on_one", [False, True])
def test_short_products_on_one_blas_thread_when_asked(short_on_one, threads, monkeypatch):
    """A product too short to cut runs whole; with ``short_on_one`` (a convolution's) on one BLAS thread where there
    are intra-op threads, and the BLAS's thread count is restored after."""
    controls = _blas._controls()
    if controls is None or controls[0]() < 2:
        pytest.skip("needs NumPy's OpenBLAS on two threads or more")
    before = controls[0]()
    rng = numpy.random.default_rng(3)
    a, b = (rng.standard_normal(s).astype(numpy.float32) for s in ((512, 512), (512, 32)))
    seen = []
    matmul = numpy.matmul

    def spied(*args, **kwargs):
        seen.append(controls[0]())
        return matmul(*args, **kwargs)
    monkeypatch.setattr(numpy, "matmul", spied)
    for count in (2, 1):
        threads(count)
        seen.clear()
        out = _blas.matmul(a, b, numpy.empty((512, 32), numpy.float32), short_on_one=short_on_one)
        assert seen == [1 if short_on_one and count > 1 else before]
        assert controls[0]() == before
        numpy.testing.assert_array_equal(out, _one_blas_thread(a, b))


def test_depthwise_finite_check_on_one_blas_thread():
    """The depthwise kernels' check for infinities and NaNs (a product with ones per operand) answers as ``isfinite``
    and runs on one BLAS thread, the BLAS's count restored after."""
    from ember.ops import _conv_depthwise
    controls = _blas._controls()
    before = controls[0]() if controls is not None else 1
    seen = []

    class Spied:   # NumPy, recording the BLAS's thread count when the ones are made
        isfinite = staticmethod(numpy.isfinite)

        @staticmethod
        def ones(*args, **kwargs):
            seen.append(controls[0]() if controls is not None else 1)
            return numpy.ones(*args, **kwargs)
    rng = numpy.random.default_rng(4)
    a = rng.standard_normal((32, 96, 16, 16)).astype(numpy.float32)
    assert _conv_depthwise._finite(Spied, a, a[:2])
    for bad in (numpy.inf, -numpy.inf, numpy.nan, numpy.finfo(numpy.float32).max):
        b = a.copy()
        b[3, 5, 7, 11] = bad
        b[3, 5, 7, 12] = bad
        with numpy.errstate(over="ignore"):   # as in the convolutions, which call it quietly
            assert not _conv_depthwise._finite(Spied, a, b)
    assert seen and set(seen) == {1}
    assert (controls[0]() if controls is not None else 1) == before
