"""tril_indices, triu_indices, combinations, unravel_index, isin and fill_diagonal_ against PyTorch: values, dtypes,
gradients, out= and error types."""
import numpy
import pytest
import torch

import ember

from ..oracle import check, check_error, gradcheck, sample


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("args", [(3, 4), (3, 4, 1), (4, 3, -2), (0, 4), (3, 4, -10), (5, 5, 7), (1, 1)])
def test_triangle_indices_match_torch(name, args):
    check(lambda L: getattr(L, name)(*args), grad=False)
    check(lambda L: getattr(L, name)(*args, dtype=L.int32), grad=False)


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("args, kwargs", [((-1, 4), {}), ((3, -2), {}), ((3, 3), {"dtype": "float32"}),
                                          ((3, 3), {"dtype": "int16"})])
def test_triangle_indices_errors(name, args, kwargs):
    check_error(lambda L: getattr(L, name)(*args, **{k: getattr(L, v) for k, v in kwargs.items()}))


@pytest.mark.parametrize("r, replace", [(2, False), (2, True), (3, False), (1, True), (0, False), (5, False),
                                        (4, True)])
@pytest.mark.parametrize("dtype", [numpy.float64, numpy.int64, numpy.bool_])
def test_combinations_match_torch_with_gradients(r, replace, dtype):
    check(lambda L, x: L.combinations(x, r, with_replacement=replace), sample((4,), dtype))


def test_combinations_of_empty_and_errors():
    check(lambda L, x: L.combinations(x), numpy.zeros(0), grad=False)
    check_error(lambda L, x: L.combinations(x), numpy.ones((2, 2)))
    check_error(lambda L, x: L.combinations(x, -1), numpy.ones(3))
    gradcheck(lambda L, x: L.combinations(x, 3, True), numpy.arange(4.0))


@pytest.mark.parametrize("indices, shape", [(numpy.array([5, 7, 0]), (2, 4)), (numpy.array(5), (2, 4)),
                                            (numpy.array([[-1, 3]]), (2, 2)), (numpy.array([0], numpy.int32), 5),
                                            (numpy.array([0], numpy.int32), ()), (numpy.array([4, 23]), (2, 3, 4)),
                                            (numpy.zeros(0, numpy.int64), (3, 0)), (numpy.array([8, -9, 30]), (2, 4)),
                                            (numpy.array([1]), ())])
def test_unravel_index_matches_torch(indices, shape):
    check(lambda L, i: L.unravel_index(i, shape), indices, grad=False)


@pytest.mark.parametrize("indices, shape", [(numpy.array([1.0]), (2, 4)), (numpy.array([True]), (2, 4)),
                                            (numpy.array([1]), (2, -4)), (numpy.array([1]), (3, 0)),
                                            (numpy.array([1]), (0, 3))])
def test_unravel_index_errors(indices, shape):
    check_error(lambda L, i: L.unravel_index(i, shape), indices)


@pytest.mark.parametrize("a, b", [(sample((3, 4), numpy.int64), sample((5,), numpy.int64)),
                                  (sample((6,), numpy.float32), sample((2, 2), numpy.float32)),
                                  (numpy.array([1, 2, 3]), numpy.array([2.0, 3.5])),
                                  (numpy.array([1.0, numpy.nan]), numpy.array([numpy.nan, 1.0])),
                                  (numpy.array([1, 2, 3]), 2), (2, numpy.array([1, 2, 3])),
                                  (numpy.zeros(0), numpy.array([1.0]))])
@pytest.mark.parametrize("invert", [False, True])
def test_isin_matches_torch(a, b, invert):
    check(lambda L, a, b: L.isin(a, b, invert=invert), a, b, grad=False)
    check(lambda L, a, b: L.isin(a, b, assume_unique=True, invert=invert), numpy.unique(a), numpy.unique(b),
          grad=False)


def test_isin_out_and_errors():
    out = ember.empty(3, dtype=ember.bool)
    assert ember.isin(ember.tensor([1, 2, 3]), ember.tensor([3]), out=out) is out
    assert out.tolist() == [False, False, True]
    check_error(lambda L, a, b: L.isin(a, b), numpy.array([True]), numpy.array([1.0]))
    check_error(lambda L, a, b: L.isin(a, b), numpy.array([1 + 1j]), numpy.array([1 + 1j]))
    check_error(lambda L: L.isin(2, 3))
    check_error(lambda L, a: L.isin(a, a, out=L.empty(2, dtype=L.int64)), numpy.array([1, 2]))


@pytest.mark.parametrize("shape, wrap", [((3, 3), False), ((7, 3), True), ((7, 3), False), ((3, 5), True),
                                         ((3, 3, 3), False), ((0, 0), False)])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.int64])
def test_fill_diagonal_matches_torch(shape, wrap, dtype):
    def fill(L, x):
        y = x * 1
        return y.fill_diagonal_(2.7, wrap=wrap), y
    check(fill, sample(shape, dtype))


def test_fill_diagonal_errors_and_version():
    check_error(lambda L, x: x.fill_diagonal_(1), numpy.zeros(3))
    check_error(lambda L, x: x.fill_diagonal_(L.tensor([1.0])), numpy.zeros((2, 2)))
    check_error(lambda L, x: x.fill_diagonal_(1), numpy.zeros((2, 3, 3)))
    check_error(lambda L, x: x.requires_grad_().fill_diagonal_(1), numpy.zeros((3, 3)))
    x = ember.zeros(2, 2)
    before = x._version
    x.fill_diagonal_(ember.tensor(1.5))
    assert x._version == before + 1 and x.tolist() == torch.zeros(2, 2).fill_diagonal_(1.5).tolist()


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta:UserWarning")
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype, dim", [(numpy.float64, 0), (numpy.float32, 1), (numpy.int64, 0)])
def test_index_reduce_matches_torch(reduce, include_self, dtype, dim):
    x = sample((4, 3), dtype, seed=2)
    source = sample((5, 3) if dim == 0 else (4, 5), dtype, seed=3)
    index = numpy.array([0, 2, 0, 1, 2])

    def run(L, x, source, index):
        y = x * 1
        return [L.index_reduce(x, dim, index, source, reduce, include_self=include_self),
                y.index_reduce_(dim, index, source, reduce, include_self=include_self), y]
    check(run, x, source, index)


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta:UserWarning")
def test_index_reduce_errors():
    x, source = numpy.ones((3, 2)), numpy.ones((4, 2))
    call = lambda L, x, s, i, r="amax": L.index_reduce(x, 0, i, s, r)
    check_error(call, x, source, numpy.array([0, 1, 0, 1]), "sum")
    check_error(call, x, source, numpy.array([0.0, 1, 0, 1]))
    check_error(call, x, source, numpy.array([0, 5, 0, 1]))
    check_error(call, x, source, numpy.array([0, -1, 0, 1]))
    check_error(call, x, source, numpy.array([0, 1, 0]))
    check_error(call, x, source.astype(numpy.float32), numpy.array([0, 1, 0, 1]))
    out = ember.empty(3, 2)
    assert ember.index_reduce(ember.ones(3, 2), 0, ember.tensor([0]), ember.ones(1, 2) * 4, "amax", out=out) is out


def _outcome(call):
    try:
        out = call()
    except Exception as error:
        return type(error).__name__, str(error)
    return out.tolist(), str(out.dtype).split(".")[-1]


@pytest.mark.parametrize("call", [
    lambda L: L._convert_indices_from_coo_to_csr(L.tensor([0, 0, 1, 3, 3, 3]), 5),
    lambda L: L._convert_indices_from_coo_to_csr(L.tensor([0, 0, 1, 3, 3, 3]), 5, out_int32=True),
    lambda L: L._convert_indices_from_coo_to_csr(L.tensor([0, 0, 1], dtype=L.int32), 3),
    lambda L: L._convert_indices_from_coo_to_csr(L.tensor([2, 0, 1]), 4),
    lambda L: L._convert_indices_from_coo_to_csr(L.tensor([], dtype=L.long), 3),
    lambda L: L._convert_indices_from_coo_to_csr(L.tensor(2), 3),
    lambda L: L._convert_indices_from_coo_to_csr(L.zeros(2, 3, dtype=L.long), 4),
    lambda L: L._convert_indices_from_coo_to_csr(L.zeros(3), 4),
    lambda L: L._convert_indices_from_csr_to_coo(L.tensor([0, 2, 3, 3, 6]), L.tensor([1, 2, 0, 0, 1, 2])),
    lambda L: L._convert_indices_from_csr_to_coo(L.tensor([0, 2, 3, 3, 6]), L.tensor([1, 2, 0, 0, 1, 2]),
                                                 transpose=True),
    lambda L: L._convert_indices_from_csr_to_coo(L.tensor([0, 2, 3], dtype=L.int32), L.tensor([1, 2, 0]),
                                                 out_int32=True),
    lambda L: L._convert_indices_from_csr_to_coo(L.tensor([[0, 2, 3], [0, 1, 3]]), L.tensor([[1, 2, 0], [0, 1, 2]])),
    lambda L: L._convert_indices_from_csr_to_coo(L.tensor([0., 1.]), L.tensor([0])),
])
def test_coo_csr_index_conversions(call):
    """The COO row indices <-> CSR row pointers conversions (PyG's index2ptr/ptr2index), against torch: dtypes,
    transpose, batched pointers, an unsorted input as PyTorch's kernel leaves it, and the errors."""
    assert _outcome(lambda: call(ember)) == _outcome(lambda: call(torch))
