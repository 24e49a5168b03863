"""The engine's array path (``array_backward``, taken without create_graph) gives the gradients of the Tensor path
(``backward``, taken with create_graph) and of PyTorch."""
import numpy
import pytest
import torch

import ember
from ember.autograd.function import registry

CASES = {
    "mul": lambda lib, a, b: a * b,
    "mul_scalar": lambda lib, a, b: a * 2.5,
    "rmul_scalar": lambda lib, a, b: 3 * a,
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "neg": lambda lib, a, b: -a,
    "div": lambda lib, a, b: a / b,
    "div_scalar": lambda lib, a, b: a / 4.0,
    "rdiv_tensor": lambda lib, a, b: lib.div(2.0, b),
    "relu": lambda lib, a, b: (a * b).relu(),
    "sum_all": lambda lib, a, b: a.sum() * b,
    "sum_dim": lambda lib, a, b: (a * b).sum(1),
    "sum_keepdim": lambda lib, a, b: (a * b).sum((0, 2), keepdim=True),
    "chain": lambda lib, a, b: ((a * b + b) / (b * b + 1)).relu().sum(-1),
    "exp": lambda lib, a, b: a.exp() + b.exp2() + b.expm1(),
    "log": lambda lib, a, b: (a * a + 1).log() + (b * b + 1).log2() + (b * b + 1).log10() + (a * a).log1p(),
    "sqrt": lambda lib, a, b: (a * a + 1).sqrt() * b.atan(),
    "tanh_sigmoid": lambda lib, a, b: a.tanh() * b.sigmoid(),
}
SHAPES = [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (3, 1)), ((), ()), ((1, 3, 1), (2, 1, 4)), ((0, 3, 2), (3, 2))]


def _run(lib, case, shapes, dtype, create_graph):
    rng = numpy.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) + (0.5 if i else 0) for i, s in enumerate(shapes)]
    if numpy.dtype(dtype).kind == "c":
        arrays = [x + 1j * rng.standard_normal(x.shape).astype(dtype) for x in arrays]
    a, b = (lib.tensor(x, requires_grad=True) for x in arrays)
    y = CASES[case](lib, a, b)
    weights = lib.tensor(rng.standard_normal(tuple(y.shape)).astype(dtype))
    loss = (y * weights).sum()
    loss = loss.real if loss.is_complex() else loss
    grads = lib.autograd.grad(loss, (a, b), create_graph=create_graph, allow_unused=True)
    return [None if g is None else g.detach().numpy() for g in grads]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_array_path_matches_tensor_path_and_torch(case, shapes, dtype):
    if dtype == "complex64" and case not in ("mul", "mul_scalar", "rmul_scalar", "add", "sub", "neg", "div",
                                             "div_scalar", "rdiv_tensor", "sum_all", "sum_dim", "sum_keepdim"):
        pytest.skip("compared on real inputs only")
    if case in ("sum_dim", "sum_keepdim") and len(shapes[0]) < 3:
        pytest.skip("a reduction over dims that a 0-d tensor lacks")
    fast = _run(ember, case, shapes, dtype, create_graph=False)
    general = _run(ember, case, shapes, dtype, create_graph=True)
    expected = _run(torch, case, shapes, dtype, create_graph=False)
    for f, g, e in zip(fast, general, expected):
        assert (f is None) == (g is None) == (e is None)
        if f is not None:
            assert f.dtype == g.dtype == e.dtype and f.shape == g.shape == e.shape
            numpy.testing.assert_allclose(f, g, rtol=1e-6, atol=0)   # exact but for rounding
            numpy.testing.assert_allclose(f, e, rtol=1e-5, atol=1e-6)


def test_large_sum_expands_as_a_view_and_accumulates_into_a_fresh_grad():
    x = ember.ones(200, 100, requires_grad=True)
    x.sum().backward()
    x.sum().backward()
    assert x.grad._data.flags.writeable and x.grad.tolist() == [[2.0] * 100] * 200


def test_inf_times_zero_gives_nan_silently_as_in_torch():
    results = []
    for lib in (ember, torch):
        a = lib.tensor([float("inf"), 1.0], requires_grad=True)
        b = lib.tensor([0.0, 2.0], requires_grad=True)
        (a * b / b).sum().backward()
        results.append((a.grad.tolist(), b.grad.tolist()))
    numpy.testing.assert_equal(numpy.array(results[0], dtype=float), numpy.array(results[1], dtype=float))


def test_in_place_change_of_a_saved_input_is_caught_on_the_array_path():
    for lib in (ember, torch):
        a = lib.ones(3, requires_grad=True)
        b = lib.ones(3) * 2
        y = (a * b).sum()
        b.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_second_backward_without_retain_graph_raises_on_the_array_path():
    a = ember.ones(3, requires_grad=True)
    y = (a * a).relu().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_hooks_see_the_gradients_of_the_array_path():
    seen = []
    a = ember.tensor([1.0, -2.0], requires_grad=True)
    h = a * 3.0
    h.register_hook(lambda g: seen.append(g.tolist()) or g * 2)
    r = h.relu()
    r.grad_fn.register_hook(lambda inputs, outputs: seen.append(inputs[0].tolist()))
    r.sum().backward()
    assert seen == [[1.0, 0.0], [1.0, 0.0]] and a.grad.tolist() == [6.0, 0.0]


def test_the_common_primitives_define_an_array_backward():
    with_array = [name for name, op in registry.items() if getattr(op, "array_backward", None) is not None]
    assert {"Add", "Sub", "Mul", "Div", "Neg", "Relu", "Sum", "Linear", "Exp", "Log", "Tanh", "Sigmoid"} <= \
        set(with_array)


@pytest.mark.parametrize("input_shape", [(5, 4), (2, 3, 4), (4,), (0, 4)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_linear_array_path_matches_tensor_path_and_torch(input_shape, bias, dtype):
    rng = numpy.random.default_rng(1)
    arrays = [rng.standard_normal(input_shape), rng.standard_normal((3, 4)), rng.standard_normal(3)]
    weights = rng.standard_normal(input_shape[:-1] + (3,)).astype(dtype)
    results = []
    for lib, create_graph in ((ember, False), (ember, True), (torch, False)):
        x, w, b = (lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays)
        y = lib.nn.functional.linear(x, w, b if bias else None)
        grads = lib.autograd.grad((y * lib.tensor(weights)).sum(), (x, w, b), create_graph=create_graph, allow_unused=True)
        results.append([None if g is None else g.detach().float().numpy() for g in grads])
    tolerance = 1e-2 if dtype == "float16" else 1e-5
    for f, g, e in zip(*results):
        assert (f is None) == (g is None) == (e is None)
        if f is not None:
            numpy.testing.assert_allclose(f, g, rtol=1e-6, atol=0)
            numpy.testing.assert_allclose(f, e, rtol=tolerance, atol=tolerance)
