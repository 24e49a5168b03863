"""The sequence models' fused primitives (layer norm, attention) against PyTorch (values and gradients) and finite
differences in float64 (gradcheck, gradgradcheck)."""
import numpy
import pytest
import torch

import ember
from tests import oracle


def _run(lib, function, arrays, grad_seed=1):
    """function(*tensors) and the gradients of (output * fixed random weights).sum() for every input."""
    tensors = [lib.tensor(a, requires_grad=True) if a is not None else None for a in arrays]
    output = function(lib, *tensors)
    weights = numpy.random.default_rng(grad_seed).standard_normal(tuple(output.shape)).astype(arrays[0].dtype)
    (output * lib.tensor(weights)).sum().backward()
    numpy_of = (lambda t: t.detach().numpy()) if lib is torch else oracle.as_numpy
    return [numpy_of(output)] + [None if t is None or t.grad is None else numpy_of(t.grad) for t in tensors]


def _compare(function, arrays, atol):
    for got, want in zip(_run(ember, function, arrays), _run(torch, function, arrays)):
        assert (got is None) == (want is None)
        if got is not None:
            assert got.dtype == want.dtype
            numpy.testing.assert_allclose(got, want, rtol=atol, atol=atol)


# --- layer norm ----------------------------------------------------------------------------------------------------
LAYER_NORM_CASES = [((32, 16, 24), (24,), True), ((4, 5, 6), (5, 6), True), ((3, 7), (7,), False),
                    ((1, 1, 5), (5,), True), ((2, 3, 1), (1,), True), ((6,), (6,), True)]


@pytest.mark.parametrize("shape, normalized, affine", LAYER_NORM_CASES)
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_layer_norm_matches_torch(shape, normalized, affine, dtype):
    rng = numpy.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(dtype) * 3 + 1]
    if affine:
        arrays += [rng.standard_normal(normalized).astype(dtype), rng.standard_normal(normalized).astype(dtype)]
    # one element per row normalizes to exactly 0; PyTorch's float32 statistics leave ~1e-5 there
    atol = 1e-10 if dtype == numpy.float64 else 1e-4 if normalized == (1,) else 1e-5
    _compare(lambda lib, x, *wb: lib.nn.functional.layer_norm(x, normalized, *wb, eps=1e-5), arrays, atol)


def test_layer_norm_weight_only_and_non_contiguous_input():
    rng = numpy.random.default_rng(1)
    x, w = rng.standard_normal((6, 5, 4)), rng.standard_normal(5)
    _compare(lambda lib, x, w: lib.nn.functional.layer_norm(x.transpose(1, 2), (5,), w), [x, w], 1e-10)


def test_layer_norm_node_name_and_gradgradcheck():
    rng = numpy.random.default_rng(2)
    x, w, b = (ember.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 2, 5), (2, 5), (2, 5)))
    assert type(ember.nn.functional.layer_norm(x, (2, 5), w, b).grad_fn).__name__ == "NativeLayerNormBackward0"
    function = lambda x, w, b: ember.nn.functional.layer_norm(x, (2, 5), w, b, eps=1e-3)   # noqa: E731
    assert ember.autograd.gradcheck(function, (x, w, b))
    assert ember.autograd.gradgradcheck(function, (x, w, b))
