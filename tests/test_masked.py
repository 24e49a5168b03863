"""``torch.masked``'s reductions and normalizations beside PyTorch's: values, dtypes, shapes and gradients, with a
mask that leaves a whole row out, a mask that broadcasts, no mask, and integer inputs."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, to_ember, to_torch

X = numpy.array([[1.5, -2.0, 0.5, 3.0], [0.25, 4.0, -1.0, 2.0], [-3.0, 1.0, 2.5, -0.5]], numpy.float64)
MASK = numpy.array([[True, False, True, True], [False, False, False, False], [True, True, False, True]])
ROW_MASK = numpy.array([True, False, True, True])   # broadcasts over the rows
FULL = numpy.ones((3, 4), bool)

# (call, whether a fully masked-out row leaves a finite, differentiable result)
CALLS = {
    "sum": lambda m, x, k: m.sum(x, 1, mask=k),
    "sum_all": lambda m, x, k: m.sum(x, mask=k),
    "sum_keepdim": lambda m, x, k: m.sum(x, (0, 1), keepdim=True, mask=k),
    "prod": lambda m, x, k: m.prod(x, 1, mask=k),
    "prod_all": lambda m, x, k: m.prod(x, None, mask=k),
    "cumsum": lambda m, x, k: m.cumsum(x, 1, mask=k),
    "cumprod": lambda m, x, k: m.cumprod(x, 0, mask=k),
    "amax": lambda m, x, k: m.amax(x, 1, mask=k),
    "amin": lambda m, x, k: m.amin(x, 0, keepdim=True, mask=k),
    "argmax": lambda m, x, k: m.argmax(x, 1, mask=k),
    "argmin": lambda m, x, k: m.argmin(x, 0, mask=k),
    "mean": lambda m, x, k: m.mean(x, 1, mask=k),
    "mean_all": lambda m, x, k: m.mean(x, mask=k),
    "median": lambda m, x, k: m.median(x, 1, mask=k),
    "logsumexp": lambda m, x, k: m.logsumexp(x, 1, mask=k),
    "norm": lambda m, x, k: m.norm(x, 2.0, 1, mask=k),
    "norm_1": lambda m, x, k: m.norm(x, 1, 0, mask=k),
    "norm_inf": lambda m, x, k: m.norm(x, float("inf"), 1, mask=k),
    "norm_neg_inf": lambda m, x, k: m.norm(x, float("-inf"), 1, mask=k),
    "var": lambda m, x, k: m.var(x, 1, mask=k),
    "var_biased": lambda m, x, k: m.var(x, 0, False, mask=k),
    "std": lambda m, x, k: m.std(x, 1, correction=0, keepdim=True, mask=k),
    "softmax": lambda m, x, k: m.softmax(x, 1, mask=k),
    "log_softmax": lambda m, x, k: m.log_softmax(x, 0, mask=k),
    "softmin": lambda m, x, k: m.softmin(x, -1, mask=k),
    "normalize": lambda m, x, k: m.normalize(x, 2.0, 1, mask=k),
    "logaddexp": lambda m, x, k: m.logaddexp(x, x.flip(0), input_mask=k, other_mask=k),
}
# with the all-out row, these give inf, nan or a zero-norm kink whose gradients differ by convention only
NOT_DIFFERENTIABLE_WITH_EMPTY_ROW = {"amax", "amin", "mean", "median", "logsumexp", "norm", "norm_inf",
                                     "norm_neg_inf", "var", "std", "softmax", "log_softmax", "softmin", "normalize",
                                     "logaddexp", "var_biased", "norm_1", "mean_all"}


def _masked(lib):
    return lib.masked


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("mask", ["rows", "broadcast", "none", "full"])
def test_masked_ops_match_torch(name, mask):
    call = CALLS[name]
    k = {"rows": MASK, "broadcast": ROW_MASK, "none": None, "full": FULL}[mask]
    grad = not (mask == "rows" and name in NOT_DIFFERENTIABLE_WITH_EMPTY_ROW) and not name.startswith("arg")
    check(lambda lib, x, k: call(_masked(lib), x, k), X, k, grad=grad)


@pytest.mark.parametrize("name", ["sum", "prod", "amax", "amin", "argmax", "cumsum", "median", "logsumexp"])
def test_masked_ops_on_integers_match_torch(name):
    x = numpy.array([[3, -1, 4, 1], [5, 9, -2, 6]], numpy.int32)
    mask = numpy.array([[True, False, True, True], [True, True, True, False]])
    check(lambda lib, x, k: CALLS[name](_masked(lib), x, k), x, mask, grad=False)


@pytest.mark.parametrize("call", [
    lambda m, x, k: m.mean(x.long(), 1, mask=k),   # mean needs a floating or complex dtype
    lambda m, x, k: m.sum(x, 1, mask=k[None, None]),   # a mask of more dims than the input
    lambda m, x, k: m.var(x, 1, True, correction=1, mask=k),
    lambda m, x, k: m.median(x.long(), 1, mask=k),   # a fully masked-out row of integers
    lambda m, x, k: m.amax(x.bool(), 1, mask=k),   # no identity for bool
    lambda m, x, k: m.sum(x, 2, mask=k),
])
def test_masked_errors_match_torch(call):
    """The same exception and message (dtypes print under ember's package name outside ``ember run``)."""
    with pytest.raises(Exception) as expected:
        call(torch.masked, *to_torch((X, MASK)))
    with pytest.raises(type(expected.value)) as got:
        call(ember.masked, *to_ember((X, MASK)))
    assert str(got.value).replace("ember.", "torch.") == str(expected.value)


def test_masked_dtypes_and_names():
    x = ember.tensor(X)
    assert ember.masked.sum(x, 1, dtype=ember.float32, mask=ember.tensor(MASK)).dtype is ember.float32
    assert ember.masked.sum(x.to(ember.int8)).dtype is ember.int64
    assert sorted(ember.masked.__all__) == sorted(torch.masked.__all__)
