"""opcheck against torch.library.opcheck: a correct op passes every check in both; an undeclared mutation, a
missing fake kernel and an autograd.Function registered as a backend kernel fail in both; ember also checks the
registered backward against finite differences (under PyTorch's AOT check names), so a wrong backward fails."""
import numpy
import pytest
import torch
import torch.library  # noqa: F401
from torch.testing._internal.optests.generate_tests import OpCheckError as TorchOpCheckError

import ember
import ember.library
from ember.library._opcheck import OpCheckError

from ._helpers import namespace

LIBS = (torch, ember)
ERRORS = {torch: TorchOpCheckError, ember: OpCheckError}


def make_sin(lib, ns, name, derivative=None, fake=True):
    """numpy_sin with a backward multiplying by ``derivative(x)`` (cos: correct)."""
    @lib.library.custom_op(f"{ns}::{name}", mutates_args=())
    def op(x: lib.Tensor) -> lib.Tensor:
        return lib.from_numpy(numpy.sin(x.detach().numpy()))

    if fake:
        op.register_fake(lambda x: lib.empty_like(x))

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (derivative or (lambda x: x.cos()))(x)

    op.register_autograd(backward, setup_context=setup_context)
    return op


def test_correct_op_passes_every_check():
    ns = namespace()
    results = []
    for lib in LIBS:
        op = make_sin(lib, ns, "good")
        x = lib.randn(3, dtype=lib.float64, requires_grad=True)
        results.append((lib.library.opcheck(op, (x,)), lib.library.opcheck(getattr(lib.ops, ns).good, (x.detach(),))))
    assert results[0] == results[1]
    assert set(results[1][0].values()) == {"SUCCESS"}


def test_wrong_backward_fails_the_gradient_check():
    op = make_sin(ember, namespace(), "bad", derivative=lambda x: x.sin())
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    with pytest.raises(OpCheckError, match="test_aot_dispatch_dynamic failed"):
        ember.library.opcheck(op, (x,))
    results = ember.library.opcheck(op, (x,), raise_exception=False)
    assert results["test_schema"] == results["test_faketensor"] == "SUCCESS"
    assert isinstance(results["test_aot_dispatch_dynamic"], Exception)


def test_float32_inputs_are_checked_in_float64():
    op = make_sin(ember, namespace(), "single")
    assert ember.library.opcheck(op, (ember.randn(4, requires_grad=True),))["test_aot_dispatch_dynamic"] == "SUCCESS"


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_missing_fake_kernel_fails(lib):
    op = make_sin(lib, namespace(), "nofake", fake=False)
    result = lib.library.opcheck(op, (lib.randn(3, requires_grad=True),), raise_exception=False)
    assert isinstance(result["test_faketensor"], Exception) and result["test_schema"] == "SUCCESS"


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_fake_kernel_of_the_wrong_shape_fails(lib):
    ns = namespace()

    @lib.library.custom_op(f"{ns}::double", mutates_args=())
    def double(x: lib.Tensor) -> lib.Tensor:
        return lib.cat([x, x])

    double.register_fake(lambda x: lib.empty_like(x))
    with pytest.raises(ERRORS[lib], match="test_faketensor failed"):
        lib.library.opcheck(double, (lib.randn(3),), test_utils="test_faketensor")


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_undeclared_mutation_fails_the_schema_check(lib):
    ns = namespace()

    @lib.library.custom_op(f"{ns}::sneaky", mutates_args=())
    def sneaky(x: lib.Tensor) -> lib.Tensor:
        x.add_(1)
        return x + 1

    sneaky.register_fake(lambda x: lib.empty_like(x))
    with pytest.raises(ERRORS[lib], match="Argument x is not defined as mutable but was mutated"):
        lib.library.opcheck(sneaky, (lib.randn(3),), test_utils="test_schema")


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_function_registered_as_backend_kernel_fails_autograd_registration(lib):
    ns = namespace()

    class Twice(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    library = lib.library.Library(ns, "DEF")
    library.define("twice(Tensor x) -> Tensor")
    library.impl("twice", Twice.apply, "CPU")
    op = getattr(lib.ops, ns).twice.default
    with pytest.raises(ERRORS[lib], match="does not have an autograd kernel defined at an autograd key"):
        lib.library.opcheck(op, (lib.randn(3, requires_grad=True),), test_utils="test_autograd_registration")
    library._destroy()


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_argument_errors(lib):
    op = make_sin(lib, namespace(), "args")
    x = lib.randn(2)
    with pytest.raises(ValueError, match="if you specify one of rtol/atol"):
        lib.library.opcheck(op, (x,), rtol=1e-3)
    with pytest.raises(ValueError, match="expected test_utils to be subset"):
        lib.library.opcheck(op, (x,), test_utils="test_nothing")
    with pytest.raises(ValueError, match="op must be instance of torch._ops.OpOverload"):
        lib.library.opcheck(lambda x: x, (x,))


def test_packet_with_overloads_is_refused():
    ns = namespace()
    errors = []
    for lib in LIBS:
        library = lib.library.Library(ns, "DEF")
        library.define("f(Tensor x) -> Tensor")
        library.define("f.scaled(Tensor x, float s) -> Tensor")
        with pytest.raises(RuntimeError) as error:
            lib.library.opcheck(getattr(lib.ops, ns).f, (lib.ones(1),))
        errors.append(str(error.value))
        library._destroy()
    assert errors[0] == errors[1]


def test_declared_mutation_passes():
    ns = namespace()
    results = []
    for lib in LIBS:
        @lib.library.custom_op(f"{ns}::sin_", mutates_args={"x"})
        def sin_(x: lib.Tensor) -> None:
            x.copy_(x.sin())

        x = lib.randn(3)
        before = x.clone()
        results.append(lib.library.opcheck(sin_, (x,)))
        assert lib.equal(x, before)   # opcheck works on copies of the arguments
    assert results[0] == results[1]
