"""Products on one BLAS thread while the host is busy (``_blas.busy``/``product``): only where OpenBLAS gives the
same bits on one thread as on several, so a result never depends on the host's load."""
import numpy
import pytest
import torch

import ember
from ember.ops import _blas

controls = _blas._controls()
needs_openblas = pytest.mark.skipif(controls is None, reason="NumPy's OpenBLAS thread controls were not found")


@pytest.fixture
def two_threads():
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        yield
    finally:
        ember.set_num_threads(before)


@pytest.fixture
def host(monkeypatch):
    """Sets the runnable-task count ``busy`` reads; the reading is taken afresh."""
    def set_running(count):
        monkeypatch.setattr(_blas, "_running", lambda: count)
        _blas._host["until"] = 0.0
    yield set_running
    _blas._host["until"] = 0.0


@needs_openblas
def test_busy_compares_runnable_tasks_with_cores(host, monkeypatch, two_threads):
    monkeypatch.setitem(_blas._host, "cores", 2)
    host(3)
    assert _blas.busy()
    ember.set_num_threads(1)   # one BLAS thread: nothing to wait for
    host(3)
    assert not _blas.busy()
    ember.set_num_threads(2)
    host(2)
    assert not _blas.busy()
    host(None)   # no /proc/loadavg
    assert not _blas.busy()
    host(9)
    assert _blas.busy(monotonic=lambda: 100.0)
    monkeypatch.setattr(_blas, "_running", lambda: 1)
    assert _blas.busy(monotonic=lambda: 100.0 + _blas.BUSY_PERIOD / 2)   # one reading stands for BUSY_PERIOD
    assert not _blas.busy(monotonic=lambda: 100.0 + _blas.BUSY_PERIOD)   # and is then taken again


def test_running_reads_proc_loadavg():
    try:
        with open("/proc/loadavg") as f:
            f.read()
    except OSError:
        assert _blas._running() is None
        return
    assert _blas._running() >= 1   # this thread at least


@needs_openblas
def test_product_moves_only_thread_free_products(host, two_threads):
    def threads():
        return controls[0]()
    host(10 ** 6)
    assert _blas.product(_blas.THREAD_FREE_INNER, threads) == 1
    assert controls[0]() == 2
    assert _blas.product(_blas.THREAD_FREE_INNER + 1, threads) == 2
    host(0)
    assert _blas.product(1, threads) == 2


@needs_openblas
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_openblas_bits_do_not_depend_on_threads_up_to_the_rule(dtype, two_threads):
    rng = numpy.random.default_rng(0)
    for rows, cols in ((64, 256), (256, 784), (2048, 384), (7, 300)):
        for inner in (1, 10, 64, 128, 200, _blas.THREAD_FREE_INNER):
            a, b = rng.standard_normal((rows, inner)).astype(dtype), rng.standard_normal((cols, inner)).astype(dtype)
            products = []
            for threads in (2, 1):
                controls[1](threads)
                products.append([a @ b.T, b @ a.T, numpy.ascontiguousarray(a.T).T @ b.T, b.T.T @ a.T])
            controls[1](2)
            for two, one in zip(*products):
                assert numpy.array_equal(two, one), (rows, inner, cols)


@needs_openblas
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sizes", [(64, 784, 256), (64, 256, 128), (64, 128, 10), (1, 256, 300), (0, 128, 64),
                                   (3, 5, 64, 200)])
def test_linear_on_a_busy_host_gives_the_same_bits(sizes, dtype, host, two_threads):
    *batch, features, out = sizes
    rng = numpy.random.default_rng(1)
    x = rng.standard_normal((*batch, features)).astype(dtype)
    w, b = rng.standard_normal((out, features)).astype(dtype), rng.standard_normal(out).astype(dtype)
    g = rng.standard_normal((*batch, out)).astype(dtype)
    results = []
    for running in (0, 10 ** 6):   # quiet, busy
        host(running)
        xt, wt, bt = (ember.tensor(v, requires_grad=True) for v in (x, w, b))
        y = ember.nn.functional.linear(xt, wt, bt)
        y.backward(ember.tensor(g))
        results.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()])
        assert ember.get_num_threads() == 2
    for quiet, busy in zip(*results):
        assert numpy.array_equal(quiet, busy)
    xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    y = torch.nn.functional.linear(xt, wt, bt)
    y.backward(torch.tensor(g))
    tolerance = 1e-4 if dtype == "float32" else 1e-10
    for ours, theirs in zip(results[1], [y.detach(), xt.grad, wt.grad, bt.grad]):
        numpy.testing.assert_allclose(ours, theirs.numpy(), rtol=tolerance, atol=tolerance)


@needs_openblas
@pytest.mark.parametrize("shapes", [((64, 256), (256, 128)), ((4, 16, 200), (200, 96)), ((3, 40, 128), (3, 128, 80)),
                                    ((64, 784), (784, 256))])
def test_matmul_on_a_busy_host_gives_the_same_bits(shapes, host, two_threads):
    rng = numpy.random.default_rng(2)
    a, b = (rng.standard_normal(shape).astype(numpy.float32) for shape in shapes)
    results = []
    for running in (0, 10 ** 6):   # quiet, busy
        host(running)
        at, bt = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
        y = at @ bt
        y.sum().backward()
        results.append([y.detach().numpy(), at.grad.numpy(), bt.grad.numpy()])
    for quiet, busy in zip(*results):
        assert numpy.array_equal(quiet, busy)
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y = at @ bt
    y.sum().backward()
    for ours, theirs in zip(results[1], [y.detach(), at.grad, bt.grad]):
        numpy.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-4, atol=1e-4)
