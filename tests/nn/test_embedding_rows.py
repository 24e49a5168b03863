"""embedding's one-primitive path (EmbeddingBackward0, its gradient summed by a flat add.at) against the general
index_select path and PyTorch: values, gradients, index shapes and dtypes, repeated indices, padding and scaling."""
import numpy
import pytest
import torch

import ember


def _general(weight, input, **kwargs):
    """The embedding written as its index_select path (the adjoint scatters rows)."""
    flat = input.reshape(-1)
    if kwargs:
        from ember.ops.embedding import _GradientMask
        weight = _GradientMask.apply(weight, flat, kwargs.get("padding_idx"), kwargs.get("scale_grad_by_freq", False))
    return weight.index_select(0, flat).reshape(tuple(input.shape) + (weight.shape[1],))


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), ()])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("index_dtype", ["int64", "int32"])
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"scale_grad_by_freq": True}])
def test_matches_the_general_path_bit_for_bit_and_torch(shape, dtype, index_dtype, kwargs):
    rng = numpy.random.default_rng(0)
    w = rng.standard_normal((6, 5)).astype(dtype)
    idx = rng.integers(0, 6, shape).astype(index_dtype)   # 6 rows: repeated indices
    g = rng.standard_normal(shape + (5,)).astype(dtype)
    results = []
    for path in (lambda w, i, **k: ember.nn.functional.embedding(i, w, **k), _general):
        weight = ember.tensor(w, requires_grad=True)
        out = path(weight, ember.tensor(idx), **kwargs)
        out.backward(ember.tensor(g))
        results.append((out.detach().numpy(), weight.grad.numpy()))
    (out, grad), (general_out, general_grad) = results
    numpy.testing.assert_array_equal(out, general_out, strict=True)
    numpy.testing.assert_array_equal(grad, general_grad, strict=True)
    weight = torch.tensor(w, requires_grad=True)
    expected = torch.nn.functional.embedding(torch.tensor(idx), weight, **kwargs)
    expected.backward(torch.tensor(g))
    numpy.testing.assert_array_equal(out, expected.detach().numpy())
    tolerance = 1e-6 if dtype == "float32" else 1e-13
    numpy.testing.assert_allclose(grad, weight.grad.numpy(), rtol=tolerance, atol=tolerance)


def test_node_name_and_empty_indices():
    weight = ember.randn(4, 3, requires_grad=True)
    out = ember.nn.functional.embedding(ember.tensor([[1, 1], [3, 0]]), weight)
    assert type(out.grad_fn).__name__ == "EmbeddingBackward0"   # PyTorch's node, no view node above it
    empty = ember.nn.functional.embedding(ember.zeros(0, 2, dtype=ember.int64), weight)
    assert tuple(empty.shape) == (0, 2, 3)
    empty.sum().backward()
    numpy.testing.assert_array_equal(weight.grad.numpy(), numpy.zeros((4, 3), numpy.float32))


def test_double_backward():
    idx = ember.tensor([[0, 2, 2], [1, 0, 3]])
    weight = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda w: ember.nn.functional.embedding(idx, w) ** 2, (weight,))
    assert ember.autograd.gradgradcheck(lambda w: ember.nn.functional.embedding(idx, w) ** 2, (weight,))


@pytest.mark.parametrize("transposed", [False, True])
def test_pooled_lookup_of_a_megabyte_and_more(transposed):
    """Outputs of 1 MiB and more come from the buffer pool: each result stays its own while held (two lookups
    alive at once, the first unchanged by the second), from a contiguous or a transposed weight, as PyTorch's."""
    rng = numpy.random.default_rng(1)
    w = rng.standard_normal((128, 300) if transposed else (300, 128)).astype(numpy.float32)
    w = w.T if transposed else w
    first, second = (rng.integers(0, 300, (32, 65)) for _ in range(2))
    weight = ember.tensor(w)
    a = ember.nn.functional.embedding(ember.tensor(first), weight)
    b = ember.nn.functional.embedding(ember.tensor(second), weight)
    expected_a = torch.nn.functional.embedding(torch.tensor(first), torch.tensor(w))
    numpy.testing.assert_array_equal(a.numpy(), expected_a.numpy())
    numpy.testing.assert_array_equal(b.numpy(), torch.nn.functional.embedding(torch.tensor(second),
                                                                              torch.tensor(w)).numpy())
    with pytest.raises(IndexError, match="index out of range in self"):
        ember.nn.functional.embedding(ember.tensor(first - 300), weight)
    numpy.testing.assert_array_equal(a.numpy(), expected_a.numpy())
