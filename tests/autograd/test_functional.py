"""autograd.functional against torch.autograd.functional: values and the tuple-or-tensor shape of every result."""
import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, sample, to_ember, to_torch


def both(call, *arrays):
    """``call(lib, F, *tensors)`` with F = lib.autograd.functional, compared between ember and torch."""
    expected = call(torch, torch.autograd.functional, *to_torch(arrays))
    got = call(ember, ember.autograd.functional, *to_ember(arrays))
    assert_same(got, expected)
    return got


X = sample((3,), numpy.float64, seed=1)
M = sample((2, 3), numpy.float64, seed=2)
V = sample((3,), numpy.float64, seed=3)
S = numpy.array(0.7)


def pointwise(x):
    return (x.exp() * x).tanh()


def pair(x, y):
    return (x * y).exp(), x.sigmoid() + y


def scalar(x):
    return (x.exp() * x).sum()


def scalar_of_two(x, y):
    return (x.exp() * y).sum() + (x * x).sum()


# --- jacobian -------------------------------------------------------------------------------------------------------
def test_jacobian_single_input_single_output():
    got = both(lambda lib, F, x: F.jacobian(pointwise, x), X)
    assert isinstance(got, ember.Tensor) and tuple(got.shape) == (3, 3)


def test_jacobian_tuple_inputs_tuple_outputs():
    got = both(lambda lib, F, x, y: F.jacobian(pair, (x, y)), X, M)
    assert isinstance(got, tuple) and isinstance(got[0], tuple) and tuple(got[0][1].shape) == (2, 3, 2, 3)


def test_jacobian_tuple_input_of_one():
    got = both(lambda lib, F, x: F.jacobian(pointwise, (x,)), X)
    assert isinstance(got, tuple) and len(got) == 1


def test_jacobian_tuple_output_single_input():
    both(lambda lib, F, x: F.jacobian(lambda x: (x.exp(), x * 2), x), X)


def test_jacobian_of_scalar_input_and_output():
    both(lambda lib, F, x: F.jacobian(lambda x: x.exp() * 3, x), S)


def test_jacobian_vectorize_gives_the_same():
    both(lambda lib, F, x, y: F.jacobian(pair, (x, y), vectorize=True), X, M)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # torch's forward-mode path calls torch.jit.script
def test_jacobian_forward_mode_strategy():
    both(lambda lib, F, x, y: F.jacobian(pair, (x, y), vectorize=True, strategy="forward-mode"), X, M)


def test_jacobian_unused_input_gives_zeros_or_strict_error():
    both(lambda lib, F, x, y: F.jacobian(lambda x, y: x.exp(), (x, y)), X, M)
    for lib in (torch, ember):
        x, y = to_torch((X, M)) if lib is torch else to_ember((X, M))
        with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1"):
            lib.autograd.functional.jacobian(lambda x, y: x.exp(), (x, y), strict=True)


def test_jacobian_create_graph_is_differentiable():
    def call(lib, F, x):
        x = x.requires_grad_()
        jac = F.jacobian(lambda x: (x ** 3).sum(), x, create_graph=True)
        return jac, lib.autograd.grad(jac.sum(), x)
    both(call, X)


def test_jacobian_results_are_detached_without_create_graph():
    x = ember.tensor(X, requires_grad=True)
    jac = ember.autograd.functional.jacobian(pointwise, x)
    assert not jac.requires_grad


def test_jacobian_strict_requires_grad_output():
    for lib in (torch, ember):
        x = lib.tensor(X)
        with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
            lib.autograd.functional.jacobian(lambda x: lib.ones(3), x, strict=True)


# --- hessian --------------------------------------------------------------------------------------------------------
def test_hessian_single_input():
    got = both(lambda lib, F, x: F.hessian(scalar, x), X)
    assert tuple(got.shape) == (3, 3)


def test_hessian_tuple_inputs():
    got = both(lambda lib, F, x, y: F.hessian(scalar_of_two, (x, y)), X, V)
    assert len(got) == 2 and len(got[0]) == 2


def test_hessian_rejects_non_scalar_function():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="should contain a single element"):
            lib.autograd.functional.hessian(lambda x: x.exp(), lib.tensor(X))


# --- vjp, jvp, vhp, hvp ---------------------------------------------------------------------------------------------
def test_vjp():
    got = both(lambda lib, F, x, v: F.vjp(pointwise, x, v), X, V)
    assert isinstance(got, tuple) and isinstance(got[1], ember.Tensor)


def test_vjp_tuple_structures():
    both(lambda lib, F, x, y, u, w: F.vjp(pair, (x, y), (u, w)), X, M, M, M * 0.5)


def test_vjp_scalar_output_without_v():
    both(lambda lib, F, x: F.vjp(scalar, x), X)


def test_jvp():
    both(lambda lib, F, x, v: F.jvp(pointwise, x, v), X, V)


def test_jvp_tuple_structures():
    both(lambda lib, F, x, y, u, w: F.jvp(pair, (x, y), (u, w)), X, M, V, M * 0.5)


def test_jvp_create_graph():
    def call(lib, F, x, v):
        x = x.requires_grad_()
        out, product = F.jvp(lambda x: x ** 3, x, v, create_graph=True)
        return out, product, lib.autograd.grad(product.sum(), x)
    both(call, X, V)


def test_hvp_and_vhp():
    both(lambda lib, F, x, v: F.hvp(scalar, x, v), X, V)
    both(lambda lib, F, x, v: F.vhp(scalar, x, v), X, V)


def test_hvp_and_vhp_tuple_inputs():
    both(lambda lib, F, x, y, u, w: F.hvp(scalar_of_two, (x, y), (u, w)), X, V, V * 2, X)
    both(lambda lib, F, x, y, u, w: F.vhp(scalar_of_two, (x, y), (u, w)), X, V, V * 2, X)


def test_hvp_without_v_on_single_element_input():
    both(lambda lib, F, x: F.hvp(lambda x: x.exp() * x, x), S)


# --- argument errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda lib, F, x: F.vjp(pointwise, x), "The vector v can only be None if the user-provided function returns"),
    (lambda lib, F, x: F.jvp(pointwise, x), "The vector v can only be None if the input to the user-provided"),
    (lambda lib, F, x: F.vjp(pointwise, x, lib.ones(4, dtype=lib.float64)), "v has invalid size: should be"),
    (lambda lib, F, x: F.jvp(pair, (x, x), (x,)), "v is a tuple of invalid length: should be 2 but got 1."),
    (lambda lib, F, x: F.hvp(pointwise, x, x), "The Tensor returned by the function given to hvp should contain"),
    (lambda lib, F, x: F.vhp(lambda x: (x.sum(), x.sum()), x, x), "The function given to vhp should return a single"),
], ids=["vjp-no-v", "jvp-no-v", "vjp-size", "jvp-length", "hvp-non-scalar", "vhp-tuple"])
def test_runtime_errors(call, match):
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match=match):
            call(lib, lib.autograd.functional, lib.tensor(X))


def test_non_tensor_input_type_error():
    for lib in (torch, ember):
        with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple of "
                                            "Tensors but the value at index 1 has type"):
            lib.autograd.functional.jacobian(pair, (lib.tensor(X), 2.0))


def test_strict_vhp_on_linear_function():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect to input 0 is "
                                               "independent"):
            lib.autograd.functional.vhp(lambda x: (x * 2).sum(), lib.tensor(X), lib.tensor(V), strict=True)


def _kinds(value):
    """The container types and each tensor's requires_grad of a result, to compare with torch's."""
    if isinstance(value, (tuple, list)):
        return type(value).__name__, [_kinds(v) for v in value]
    return value.requires_grad


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # torch's forward-mode path calls torch.jit.script
@pytest.mark.parametrize("call", [
    lambda F, x, y: F.jacobian(pair, (x, y), vectorize=True, strategy="forward-mode"),
    lambda F, x, y: F.jacobian(lambda x: pair(x, x), x, vectorize=True, strategy="forward-mode"),
    lambda F, x, y: F.jacobian(lambda x, y: x.exp() * y.sum(), (x, y), vectorize=True, strategy="forward-mode"),
    lambda F, x, y: F.jacobian(pointwise, x, vectorize=True, strategy="forward-mode"),
    lambda F, x, y: F.hessian(scalar, x, vectorize=True, outer_jacobian_strategy="forward-mode"),
    lambda F, x, y: F.hessian(scalar_of_two, (x, x), vectorize=True, outer_jacobian_strategy="forward-mode"),
], ids=["tuples", "tuple_outputs", "tuple_inputs", "tensors", "hessian", "hessian_tuples"])
def test_forward_mode_results_as_torch(call):
    """Forward-mode Jacobians and Hessians: PyTorch's lists where inputs or outputs are tuples, and its
    requires_grad (a forward-over-reverse Hessian keeps the tangents' graph)."""
    expected = call(torch.autograd.functional, *to_torch((X, X)))
    got = call(ember.autograd.functional, *to_ember((X, X)))
    assert_same(got, expected)
    assert _kinds(got) == _kinds(expected)


def test_jacobian_of_an_output_without_elements_raises_as_torch():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
            lib.autograd.functional.jacobian(lambda x: x * 2, lib.ones(0))


@pytest.mark.parametrize("call", [
    lambda F, x, y: F.hessian(lambda a, b: (a * b.exp()).sum(), (x, y), create_graph=True, vectorize=True),
    lambda F, x, y: F.jacobian(lambda a, b: (a * 2, b.sin()), (x, y), create_graph=True, vectorize=True),
    lambda F, x, y: F.jacobian(lambda a, b: (a * 2, b.sin()), (x, y), create_graph=True),
], ids=["hessian", "jacobian", "not_vectorized"])
def test_vectorized_blocks_with_graph_as_torch(call):
    """Vectorized Jacobians with create_graph: each input's blocks come from one tensor (PyTorch splits it), so a
    zero block requires grad where another block of its input does."""
    expected = call(torch.autograd.functional, *to_torch((X, V)))
    got = call(ember.autograd.functional, *to_ember((X, V)))
    assert_same(got, expected)
    assert _kinds(got) == _kinds(expected)
