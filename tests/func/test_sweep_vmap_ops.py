"""Ops under vmap that a differential sweep against PyTorch 2.13 found apart: the matmul family with a batched vector
times an unbatched vector (dot, vdot, inner, @ gave a trailing dim of 1); in-place ops whose backward reads the
original self (sin_, mul_) differentiated through vmap (the saved batch-first view of self was overwritten); linalg
ops whose checks read the input's values (svd, svdvals, eigvals, cond, lu_factor, logdet) ran them on one example's
data, which vmap refuses; binary_cross_entropy's range check and max_unpool's index check (they branched on a batched
tensor), and binary_cross_entropy of a NaN probability (PyTorch refuses it); composite ops whose body reads an index
or mask out of an example (take, masked_scatter, index_put with batched indices, lstsq) now run per example,
masked_select batches an unbatched mask and refuses a batched one, and indexing with a batched boolean mask raises
PyTorch's dynamic-shape error; take's and put_'s range errors name the first index out of range, and an empty input
gets PyTorch's error. Writing through tensor keys alone (x[i] = v) inside vmap is index_put_, as PyTorch's;
torch.detach(x), var_mean and std_mean run under vmap (they read one example's data); multinomial draws per example
with randomness='different' (PyTorch's draws) and randomness='error' refuses a random op before it reads its
arguments; setitem and ldexp_ of a batched value into a tensor all examples share get PyTorch's errors. Each program
runs on ember and on torch."""
import numpy as np
import pytest
import torch

import ember
from tests.optim.sweep import check

_RNG = np.random.default_rng(0)
_SHAPES = {"vector": (2,), "matrix": (4, 2), "matrix.T": (2, 4), "stack": (5, 4, 2), "stack.T": (5, 2, 4)}
_ARRAYS = {name: _RNG.standard_normal(shape) for name, shape in _SHAPES.items()}
_PAIRS = [("vector", "vector"), ("vector", "matrix.T"), ("matrix", "vector"), ("vector", "stack.T"),
          ("stack", "vector"), ("matrix", "matrix.T"), ("stack", "matrix.T")]


def _matmul(L, left, right, batched, in_dims):
    def operand(name, is_batched):
        value = _ARRAYS[name]
        if is_batched:
            value = np.stack([value * (k + 1) for k in range(3)], in_dims)
        return L.tensor(value, requires_grad=True)
    a, b = operand(left, batched != "right"), operand(right, batched != "left")
    dims = (in_dims if batched != "right" else None, in_dims if batched != "left" else None)
    out = L.vmap(L.matmul, in_dims=dims)(a, b)
    grads = L.autograd.grad(out.square().sum(), (a, b))
    return out, grads


@pytest.mark.parametrize("in_dims", [0, -1])
@pytest.mark.parametrize("batched", ["left", "right", "both"])
@pytest.mark.parametrize("pair", _PAIRS, ids="@".join)
def test_vmap_matmul_shapes_as_torch(pair, batched, in_dims):
    check(lambda L: _matmul(L, *pair, batched, in_dims), warns=False)


VECTOR_PRODUCTS = {
    "dot": lambda L, r, w: L.dot(r, w), "dot, unbatched left": lambda L, r, w: L.dot(w, r),
    "vdot": lambda L, r, w: L.vdot(r, w), "inner": lambda L, r, w: L.inner(r, w), "@": lambda L, r, w: r @ w,
    "mv": lambda L, r, w: L.mv(r.expand(3, 2), w), "matmul of a view": lambda L, r, w: r[::-1] @ w,
}


@pytest.mark.parametrize("name", VECTOR_PRODUCTS)
def test_vmap_vector_products_as_torch(name):
    def program(L):
        x = L.tensor(np.arange(6.0).reshape(3, 2))
        w = L.tensor([1.0, -2.0], dtype=L.float64)
        return L.vmap(lambda r: VECTOR_PRODUCTS[name](L, r, w))(x)
    check(program, warns=False)


_X = _RNG.standard_normal((3, 4))


def _model_with_inplace_relu(L):
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.Linear(4, 3), L.nn.ReLU(inplace=True), L.nn.Linear(3, 1))
    params = {k: v.detach() for k, v in model.named_parameters()}
    loss = L.func.grad(lambda p, x: L.func.functional_call(model, p, (x,)).sum())
    return L.vmap(loss, in_dims=(None, 0))(params, L.tensor(_X, dtype=L.float32))


def _backward_through_vmap(L, f, in_dims=0):
    x = L.tensor(_X if in_dims == 0 else _X.T.copy(), requires_grad=True)
    return L.autograd.grad(L.vmap(f, in_dims=in_dims)(x).square().sum(), x)


INPLACE = {
    "vmap(grad), sin_": lambda L: L.vmap(L.func.grad(lambda x: x.clone().sin_().sum()))(L.tensor(_X)),
    "vmap(grad), mul_": lambda L: L.vmap(L.func.grad(lambda x: (x * 1).mul_(x).sum()))(L.tensor(_X)),
    "vmap(grad), add_ then exp_": lambda L: L.vmap(L.func.grad(lambda x: (x * 1).add_(x).exp_().sum()))(
        L.tensor(_X)),
    "vmap(jacrev), sin_": lambda L: L.vmap(L.func.jacrev(lambda x: x.clone().sin_()))(L.tensor(_X)),
    "backward through vmap, sin_": lambda L: _backward_through_vmap(L, lambda r: (r * 1).sin_()),
    "backward through vmap in_dims=1, tanh_": lambda L: _backward_through_vmap(L, lambda r: (r * 2).tanh_(), 1),
    "backward through vmap, div_ by a batched tensor": lambda L: _backward_through_vmap(
        L, lambda r: (r * 1).div_(r.exp())),
    "per-sample grads, ReLU(inplace=True)": _model_with_inplace_relu,
}


@pytest.mark.parametrize("name", INPLACE)
def test_vmap_inplace_ops_differentiate_as_torch(name):
    check(INPLACE[name], warns=False)


_M = _RNG.standard_normal((3, 4, 4))
LINALG = {
    "svd": lambda L, A: L.linalg.svd(A)[1], "svdvals": lambda L, A: L.linalg.svdvals(A),
    "torch.svd": lambda L, A: L.svd(A)[1], "eigvals": lambda L, A: L.linalg.eigvals(A).abs().sort().values,
    "cond": lambda L, A: L.linalg.cond(A), "nuclear norm": lambda L, A: L.linalg.matrix_norm(A, "nuc"),
    "lu_factor": lambda L, A: L.linalg.lu_factor(A)[0],
    "lu_factor_ex, check_errors": lambda L, A: L.linalg.lu_factor_ex(A, check_errors=True).LU,
    "logdet": lambda L, A: (A @ A.mT + L.eye(4, dtype=A.dtype)).logdet(), "logdet, negative": lambda L, A: A.logdet(),
}


@pytest.mark.parametrize("name", LINALG)
def test_vmap_linalg_value_checks_as_torch(name):
    check(lambda L: L.vmap(lambda A: LINALG[name](L, A))(L.tensor(_M)), warns=False)
    if name not in ("lu_factor", "lu_factor_ex, check_errors"):
        check(lambda L: L.vmap(L.func.grad(lambda A: LINALG[name](L, A).nan_to_num().sum()))(L.tensor(_M)),
              warns=False, rtol=1e-6)


@pytest.mark.parametrize("name", ["svdvals", "cond", "lu_factor"])
def test_vmap_linalg_checks_see_every_example_as_torch(name):
    """A non-finite (or singular) last example fails the op's check (ember's message names no batch element)."""
    bad = _M.copy()
    bad[2] = np.nan if name != "lu_factor" else 0.0
    errors = []
    for L in (torch, ember):
        with pytest.raises(RuntimeError) as error:
            L.vmap(lambda A, L=L: LINALG[name](L, A))(L.tensor(bad))
        errors.append(error.value)
    assert type(errors[1]).__name__.lstrip("_") == type(errors[0]).__name__.lstrip("_")
    assert str(errors[0]).endswith(str(errors[1]).split(": ", 1)[1].split(" is zero")[-1])


def _unpool(L, pooled_input):
    return L.vmap(lambda x: L.nn.functional.max_unpool2d(*L.nn.functional.max_pool2d(x, 2, return_indices=True), 2))(
        L.tensor(pooled_input, requires_grad=True))


_POOLED = _RNG.standard_normal((3, 1, 2, 4, 4))
_PROBABILITIES = np.array([[0.5, 0.25], [0.75, 1.0], [0.0, 0.5]])
VALUE_CHECKS = {
    "binary_cross_entropy": lambda L: L.vmap(L.nn.functional.binary_cross_entropy)(
        L.tensor(_PROBABILITIES, requires_grad=True), L.tensor(_PROBABILITIES[::-1].copy())),
    "binary_cross_entropy, one example out of range": lambda L: L.vmap(L.nn.functional.binary_cross_entropy)(
        L.tensor(_PROBABILITIES * 1.5), L.tensor(_PROBABILITIES)),
    "binary_cross_entropy, a target out of range": lambda L: L.vmap(L.nn.functional.binary_cross_entropy)(
        L.tensor(_PROBABILITIES), L.tensor(_PROBABILITIES - 0.5)),
    "vmap(grad) of binary_cross_entropy": lambda L: L.vmap(L.func.grad(
        lambda p, t: L.nn.functional.binary_cross_entropy(p.sigmoid(), t)))(L.tensor(_PROBABILITIES),
                                                                          L.tensor(_PROBABILITIES)),
    "binary_cross_entropy, NaN input": lambda L: L.nn.functional.binary_cross_entropy(
        L.tensor([0.5, float("nan")]), L.tensor([0.5, 0.5])),
    "binary_cross_entropy, NaN target": lambda L: L.nn.functional.binary_cross_entropy(
        L.tensor([0.5, 0.5]), L.tensor([0.5, float("nan")])),
    "max_unpool2d": lambda L: _unpool(L, _POOLED),
    "max_unpool2d, an index out of range in one example": lambda L: L.vmap(
        lambda x, i: L.nn.functional.max_unpool2d(x, i, 2))(L.ones(2, 1, 1, 1, 2),
                                                            L.tensor([[[[[0, 1]]]], [[[[1, 9]]]]])),
}


@pytest.mark.parametrize("name", VALUE_CHECKS)
def test_vmap_value_checks_of_losses_and_pooling_as_torch(name):
    check(VALUE_CHECKS[name], warns=False)


_MASK = _X[0] > 0
_INDEX = np.array([[0, 1], [2, 3], [-1, 1]])
PER_EXAMPLE = {
    "masked_select, unbatched mask": lambda L: L.vmap(lambda r: r.masked_select(L.tensor(_MASK)))(L.tensor(_X)),
    "masked_select, unbatched mask, in_dims=1": lambda L: L.vmap(lambda r: r.masked_select(L.tensor(_MASK)),
                                                                 in_dims=1)(L.tensor(_X.T.copy())),
    "masked_select, broadcast mask": lambda L: L.vmap(lambda r: r.masked_select(L.tensor(np.stack([_MASK, ~_MASK]))))(
        L.tensor(_X)),
    "masked_select, nothing selected": lambda L: L.vmap(lambda r: r.masked_select(L.zeros(4, dtype=L.bool)))(
        L.tensor(_X)),
    "masked_select, batched mask": lambda L: L.vmap(lambda r: r.masked_select(r > 0))(L.tensor(_X)),
    "masked_select, vmap(grad)": lambda L: L.vmap(L.func.grad(lambda r: r.masked_select(L.tensor(_MASK)).square()
                                                              .sum()))(L.tensor(_X)),
    "masked_select, nested vmap": lambda L: L.vmap(L.vmap(lambda r: r.masked_select(L.tensor(_MASK))))(
        L.tensor(np.stack([_X, _X * 2]))),
    "take, batched index": lambda L: L.vmap(L.take)(L.tensor(_X), L.tensor(_INDEX)),
    "take, vmap(grad)": lambda L: L.vmap(L.func.grad(lambda x, i: x.take(i).square().sum()))(L.tensor(_X),
                                                                                             L.tensor(_INDEX)),
    "take, an index out of range": lambda L: L.vmap(L.take)(L.tensor(_X), L.tensor(_INDEX + 4)),
    "masked_scatter, batched mask": lambda L: L.vmap(lambda x, m, s: x.masked_scatter(m, s))(
        L.tensor(_X), L.tensor(_X > 0), L.tensor(_X * 10)),
    "masked_scatter, vmap(grad)": lambda L: L.vmap(L.func.grad(
        lambda x, s, m: x.masked_scatter(m, s).square().sum(), argnums=(0, 1)))(L.tensor(_X), L.tensor(_X * 10),
                                                                               L.tensor(_X > 0)),
    "index_put, batched index": lambda L: L.vmap(lambda x, i, v: x.index_put((i,), v))(
        L.tensor(_X), L.tensor(_INDEX % 4), L.ones(3, 2)),
    "index_put, accumulate": lambda L: L.vmap(lambda x, i, v: x.index_put((i,), v, accumulate=True))(
        L.tensor(_X), L.tensor([[0, 0], [2, 3], [1, 2]]), L.ones(3, 2)),
    "index_put, vmap(grad)": lambda L: L.vmap(L.func.grad(lambda x, v, i: x.index_put((i,), v).square().sum(),
                                                          argnums=(0, 1)))(L.tensor(_X), L.ones(3, 2),
                                                                           L.tensor(_INDEX % 4)),
    "index_put, batched boolean mask": lambda L: L.vmap(lambda x, m: x.index_put((m,), L.tensor(1.0)))(
        L.tensor(_X), L.tensor(_X > 0)),
    "getitem, batched boolean mask": lambda L: L.vmap(lambda x, m: x[m])(L.tensor(_X), L.tensor(_X > 0)),
    "getitem, unbatched boolean mask": lambda L: L.vmap(lambda x: x[L.tensor(_MASK)])(L.tensor(_X)),
    "masked_fill, batched mask": lambda L: L.vmap(lambda x, m: x.masked_fill(m, 1.0))(L.tensor(_X),
                                                                                     L.tensor(_X > 0)),
    "lstsq": lambda L: L.vmap(lambda A: tuple(L.linalg.lstsq(A, A[..., :1])))(L.tensor(_M)),
}


@pytest.mark.parametrize("name", PER_EXAMPLE)
def test_vmap_index_and_mask_ops_as_torch(name):
    check(PER_EXAMPLE[name], warns=False)


TAKE_AND_PUT = {
    "take, two indices out of range": lambda L: L.take(L.ones(4), L.tensor([4, 5])),
    "take, the first out of range named": lambda L: L.take(L.ones(4), L.tensor([1, 5, -7])),
    "take from an empty tensor": lambda L: L.take(L.ones(0), L.tensor([0])),
    "take nothing from an empty tensor": lambda L: L.take(L.ones(0), L.tensor([], dtype=L.long)),
    "put_ into an empty tensor": lambda L: L.ones(0).put_(L.tensor([0]), L.ones(1)),
    "put_, the first out of range named": lambda L: L.ones(3).put_(L.tensor([1, -5, 4]), L.ones(3)),
}


@pytest.mark.parametrize("name", TAKE_AND_PUT)
def test_take_and_put_index_errors_as_torch(name):
    check(TAKE_AND_PUT[name], warns=False)


def _written(L, key, value):
    def write(x, *rest):
        y = x.clone()
        y[key(L, *rest)] = value(L, x) if callable(value) else value
        return y
    return write


_KEYS = np.array([[0, 1], [2, 3], [1, 1]])
SETITEM = {
    "batched index, a number": lambda L: L.vmap(_written(L, lambda L, i: i, 5.0))(L.tensor(_X), L.tensor(_KEYS)),
    "batched index, batched values": lambda L: L.vmap(_written(L, lambda L, i: i, lambda L, x: x[:2] * 10))(
        L.tensor(_X), L.tensor(_KEYS)),
    "unbatched index": lambda L: L.vmap(_written(L, lambda L: L.tensor([0, 2]), 7.0))(L.tensor(_X)),
    "unbatched mask": lambda L: L.vmap(_written(L, lambda L: L.tensor([True, False, True, False]), 7.0))(
        L.tensor(_X)),
    "batched mask": lambda L: L.vmap(_written(L, lambda L, m: m, 7.0))(L.tensor(_X), L.tensor(_X > 0)),
    "0-d index": lambda L: L.vmap(_written(L, lambda L: L.tensor(1), 7.0))(L.tensor(_X)),
    "vmap(grad)": lambda L: L.vmap(L.func.grad(lambda x, i: _written(L, lambda L, i: i, lambda L, x: x[:2] ** 2)(
        x, i).square().sum()))(L.tensor(_X), L.tensor(_KEYS)),
}


@pytest.mark.parametrize("name", SETITEM)
def test_vmap_setitem_with_tensor_keys_as_torch(name):
    check(SETITEM[name], warns=False)


_HUGE = _RNG.standard_normal((3, 4, 5))
_HUGE[1] *= 1e305
DATA_READERS = {
    "torch.detach": lambda L: L.vmap(L.detach)(L.tensor(_M)),
    "torch.detach in vmap(grad)": lambda L: L.vmap(L.func.grad(lambda x: (L.detach(x) * x).sum()))(L.tensor(_M)),
    "torch.detach of a Parameter": lambda L: L.detach(L.nn.Parameter(L.ones(2))).requires_grad,
    "var_mean": lambda L: tuple(L.vmap(L.var_mean)(L.tensor(_M))),
    "std_mean over a dim": lambda L: tuple(L.vmap(lambda x: L.std_mean(x, 0))(L.tensor(_M))),
    "std_mean of huge values": lambda L: tuple(L.vmap(lambda x: L.std_mean(x, 1, keepdim=True))(L.tensor(_HUGE))),
    "var_mean in vmap(grad)": lambda L: L.vmap(L.func.grad(lambda x: sum(L.var_mean(x, 1)).sum()))(L.tensor(_M)),
}


@pytest.mark.parametrize("name", DATA_READERS)
def test_vmap_ops_reading_data_as_torch(name):
    check(DATA_READERS[name], warns=False)


def _seeded(program):
    def run(L):
        L.manual_seed(0)
        return program(L)
    return run


RANDOM = {
    "multinomial, randomness='different'": lambda L: L.vmap(lambda x: L.multinomial(x + 1, 2),
                                                            randomness="different")(L.zeros(3, 4)),
    "multinomial with replacement, a method": lambda L: L.vmap(lambda x: (x + 1).multinomial(3, replacement=True),
                                                               randomness="different")(L.zeros(3, 4)),
    "multinomial of batched weights, randomness='same'": lambda L: L.vmap(lambda x: L.multinomial(x + 1, 2),
                                                                          randomness="same")(L.zeros(3, 4)),
    "multinomial of shared weights, randomness='same'": lambda L: L.vmap(
        lambda x: x[:2] * 0 + L.multinomial(L.ones(4), 2), randomness="same")(L.zeros(3, 4)),
    "multinomial of shared weights, randomness='different'": lambda L: L.vmap(
        lambda x: x[:2] * 0 + L.multinomial(L.ones(4), 2), randomness="different")(L.zeros(3, 4)),
    "multinomial, randomness='error'": lambda L: L.vmap(lambda x: L.multinomial(x + 1, 2))(L.zeros(3, 4)),
    "normal of a batched mean, randomness='error'": lambda L: L.vmap(lambda x: L.normal(x, 1.0))(L.zeros(3, 4)),
}


@pytest.mark.parametrize("name", RANDOM)
def test_vmap_multinomial_as_torch(name):
    check(_seeded(RANDOM[name]), warns=False)


def _written_into_shared(L, key, value):
    def write(y):
        z = L.zeros(4)
        z[key] = value(y)
        return z
    return write


UNBATCHED_TARGETS = {
    "setitem of a batched row": lambda L: L.vmap(_written_into_shared(L, 0, lambda y: y[0]))(L.tensor(_X)),
    "setitem of a batched slice": lambda L: L.vmap(_written_into_shared(L, slice(None), lambda y: y))(L.tensor(_X)),
    "ldexp_ by a batched exponent": lambda L: L.vmap(lambda y: L.zeros(4).ldexp_(y))(L.tensor(_X)),
    "copy_ of a batched tensor": lambda L: L.vmap(lambda y: L.zeros(4).copy_(y))(L.tensor(_X)),
}


@pytest.mark.parametrize("name", UNBATCHED_TARGETS)
def test_vmap_writes_into_shared_tensors_refused_as_torch(name):
    check(UNBATCHED_TARGETS[name], warns=False)
