"""outer (and ger) as one primitive (``products.Outer``) with NumPy's buffering off for rows of 256 elements or
more: against PyTorch, values, signed zeros and non-finite products, dtypes (promotion, integers, bool, complex,
16-bit floats), gradients, node name, errors, out=, strided and empty vectors, both sides of the row threshold and
two threads."""
import numpy
import pytest
import torch

import ember
from ember.ops.linalg import products
from tests.oracle import check, gradcheck, sample


def _outer(lib, a, b):
    return lib.outer(a, b)


@pytest.mark.parametrize("m,n", [(300, 700), (700, 300), (40, 1000), (200, 255), (64, 64), (1, 5000), (5000, 1),
                                 (0, 5), (5, 0), (1, 1)])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_outer_matches_torch_on_both_sides_of_the_row_threshold(m, n, dtype):
    # each gradient is a sum of m or n products, added in BLAS's order: float32 round-off grows with the length
    tolerance = 2e-4 if dtype == numpy.float32 else None
    check(_outer, sample((m,), dtype, seed=1), sample((n,), dtype, seed=2), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", [numpy.complex64, numpy.complex128, numpy.int64, numpy.int32, numpy.bool_,
                                   numpy.float16])
def test_outer_of_other_dtypes_matches_torch(dtype):
    check(_outer, sample((300,), dtype, seed=3), sample((400,), dtype, seed=4))


def test_outer_of_mixed_dtypes_promotes_as_torch():
    check(_outer, sample((300,), numpy.float32, seed=5), sample((400,), numpy.float64, seed=6))
    check(_outer, sample((30,), numpy.int64, seed=7), sample((300,), numpy.float32, seed=8))


def test_outer_keeps_signed_zeros_infinities_and_nans():
    a = numpy.array([-1.0, 1.0, 0.0, -0.0, numpy.inf, numpy.nan, 2.0], numpy.float32)
    b = numpy.concatenate([numpy.array([0.0, -0.0, numpy.inf, -numpy.inf, numpy.nan], numpy.float32),
                           sample((400,), numpy.float32, seed=9)])
    ours, theirs = ember.outer(ember.tensor(a), ember.tensor(b)).numpy(), torch.outer(torch.tensor(a),
                                                                                     torch.tensor(b)).numpy()
    numpy.testing.assert_array_equal(ours, theirs)
    numpy.testing.assert_array_equal(numpy.signbit(ours), numpy.signbit(theirs))


def test_outer_of_strided_vectors_ger_method_and_out():
    a, b = sample((600,), numpy.float32, seed=10), sample((900,), numpy.float32, seed=11)
    check(lambda lib, a, b: lib.outer(a[::2], b[1::3]), a, b, rtol=2e-4, atol=2e-4)
    check(lambda lib, a, b: [lib.ger(a, b), a.outer(b), a.ger(b)], a, b, rtol=2e-4, atol=2e-4)
    for lib in (ember, torch):
        out = lib.empty(0)
        result = lib.outer(lib.tensor(a[:300]), lib.tensor(b[:400]), out=out)
        assert result is out and tuple(out.shape) == (300, 400)


def test_outer_gradients_node_name_and_errors():
    gradcheck(lambda lib, a, b: lib.outer(a, b) ** 2, numpy.array([1.0, -2.0, 0.5]), numpy.array([0.3, 2.0]))
    for lib in (ember, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        assert type(lib.outer(a, a).grad_fn).__name__ == "MulBackward0"
        with pytest.raises(RuntimeError, match="1-D"):
            lib.outer(a[None], a)


def test_outer_on_two_threads_gives_the_same_bits():
    a, b = sample((1024,), numpy.float32, seed=12), sample((1024,), numpy.float32, seed=13)
    results = []
    for threads in (1, 2):
        previous = ember.get_num_threads()
        ember.set_num_threads(threads)
        try:
            results.append(ember.outer(ember.tensor(a), ember.tensor(b)).numpy())
        finally:
            ember.set_num_threads(previous)
    numpy.testing.assert_array_equal(*results)
    numpy.testing.assert_array_equal(results[0], numpy.multiply.outer(a, b))


def test_outer_product_leaves_numpys_buffer_size_as_it_was():
    size = numpy.getbufsize()
    products.outer_product(numpy, numpy.ones(300, numpy.float32), numpy.ones(400, numpy.float32))
    assert numpy.getbufsize() == size
