"""gradcheck and gradgradcheck: they pass on correct gradients, catch wrong ones, and mirror torch's checks."""
import sys

import numpy
import pytest
import torch

import ember
from ember.autograd.gradcheck import GradcheckError
from tests.oracle import sample


def double(shape, seed=0, requires_grad=True):
    return ember.tensor(sample(shape, numpy.float64, seed=seed), requires_grad=requires_grad)


def wrong_square(lib, factor=3.0):
    """x * x with a backward off by ``factor`` / 2."""
    class WrongSquare(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * factor * x
    return WrongSquare


def square_with_wrong_double_backward(lib):
    """x * x whose backward is right in value but is built from a detached x, so its own gradient is wrong."""
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x.detach()
    return Square


CORRECT = [
    ("pointwise", lambda x, y: (x * y).exp().tanh(), [(2, 3), (2, 3)]),
    ("broadcast", lambda x, y: x / (y.sigmoid() + 1), [(2, 3), (3,)]),
    ("reduction", lambda x, y: (x * y).sum(0) + x.mean(), [(4, 2), (2,)]),
    ("shape", lambda x, y: x.reshape(3, 2).expand(2, 3, 2) * y.view(1, 1, 2), [(2, 3), (2,)]),
    ("0-d", lambda x, y: (x ** 2 * y).log(), [(), ()]),
    ("several outputs", lambda x, y: (x.exp(), (x * y).sum()), [(3,), (3,)]),
]


@pytest.mark.parametrize("fn, shapes", [(fn, shapes) for _, fn, shapes in CORRECT], ids=[n for n, _, _ in CORRECT])
def test_gradcheck_and_gradgradcheck_pass(fn, shapes):
    inputs = tuple(double(s, seed=i) for i, s in enumerate(shapes))
    if fn is CORRECT[4][1]:
        inputs = tuple(x.detach().abs().requires_grad_() for x in inputs)
    assert ember.autograd.gradcheck(fn, inputs)
    assert ember.autograd.gradgradcheck(fn, inputs)
    assert ember.autograd.gradcheck(fn, inputs, fast_mode=True)
    assert ember.autograd.gradgradcheck(fn, inputs, fast_mode=True)


def test_module_names_match_torch():
    import ember.autograd.gradcheck as shadowed   # as in torch, the function shadows its module
    assert shadowed is ember.autograd.gradcheck and callable(shadowed)
    assert issubclass(GradcheckError, RuntimeError)
    assert sys.modules["ember.autograd.gradcheck"].gradgradcheck is ember.autograd.gradgradcheck


def test_gradcheck_accepts_a_single_tensor_and_non_tensor_arguments():
    x = double((3,))
    assert ember.autograd.gradcheck(lambda x, k: x * k, (x, 2.5))
    assert ember.autograd.gradcheck(lambda x: x.exp(), x)


def test_gradcheck_with_constant_input_that_does_not_require_grad():
    x, c = double((3,)), double((3,), seed=1, requires_grad=False)
    assert ember.autograd.gradcheck(lambda x, c: x * c, (x, c))


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_wrong_gradient_raises_naming_output_and_input(name):
    lib = torch if name == "torch" else ember
    x = lib.tensor(sample((3,), numpy.float64), requires_grad=True)
    y = lib.tensor(sample((3,), numpy.float64, seed=1), requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 1") as error:
        lib.autograd.gradcheck(lambda x, y: x * 2 + wrong_square(lib).apply(y), (x, y))
    error_class = sys.modules[f"{name}.autograd.gradcheck"].GradcheckError
    assert isinstance(error.value, error_class) and issubclass(error_class, RuntimeError)
    assert "numerical:" in str(error.value) and "analytical:" in str(error.value)


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_fast_mode_catches_wrong_gradient(name):
    lib = torch if name == "torch" else ember
    x = lib.tensor(sample((3,), numpy.float64), requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"):
        lib.autograd.gradcheck(wrong_square(lib).apply, (x,), fast_mode=True)


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_raise_exception_false_returns_false(name):
    lib = torch if name == "torch" else ember
    x = lib.tensor(sample((3,), numpy.float64), requires_grad=True)
    assert lib.autograd.gradcheck(wrong_square(lib).apply, (x,), raise_exception=False) is False


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_gradgradcheck_catches_wrong_second_derivative(name):
    lib = torch if name == "torch" else ember
    x = lib.tensor(sample((3,), numpy.float64), requires_grad=True)
    assert lib.autograd.gradcheck(square_with_wrong_double_backward(lib).apply, (x,))
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"):
        lib.autograd.gradgradcheck(square_with_wrong_double_backward(lib).apply, (x,))


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_gradgradcheck_with_given_grad_outputs(name):
    lib = torch if name == "torch" else ember
    x = lib.tensor(sample((2, 2), numpy.float64), requires_grad=True)
    g = lib.tensor(sample((2, 2), numpy.float64, seed=4), requires_grad=True)
    assert lib.autograd.gradgradcheck(lambda x: (x * x).tanh(), (x,), (g,))
    assert lib.autograd.gradgradcheck(lambda x: (x * x).tanh(), (x,), gen_non_contig_grad_outputs=True)


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_backward_that_ignores_grad_output_is_caught(name):
    lib = torch if name == "torch" else ember

    class Ignores(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x * 2).sum()

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return x * 0 + 2 + grad * 0

    x = lib.tensor(sample((3,), numpy.float64), requires_grad=True)
    # the Jacobian itself is right, so only the zero-grad_output probe can catch it
    with pytest.raises(RuntimeError, match="backward not multiplied by grad_output|Expected all input grads"):
        lib.autograd.gradcheck(Ignores.apply, (x,))


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_no_input_requires_grad(name):
    lib = torch if name == "torch" else ember
    with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to require gradient"):
        lib.autograd.gradcheck(lambda x: x * 2, (lib.ones(2, dtype=lib.float64),))


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_float32_input_warns(name):
    lib = torch if name == "torch" else ember
    x = lib.tensor(sample((2,), numpy.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision floating point"):
        lib.autograd.gradcheck(lambda x: x * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_stride_zero_input_is_rejected(name):
    lib = torch if name == "torch" else ember
    x = lib.ones(1, dtype=lib.float64, requires_grad=True).detach().expand(3).requires_grad_()
    with pytest.raises(RuntimeError, match="The 0th input has a dimension with stride 0"):
        lib.autograd.gradcheck(lambda x: x * 2, (x,))


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_function_without_differentiable_outputs(name):
    lib = torch if name == "torch" else ember
    x = lib.tensor(sample((3,), numpy.float64), requires_grad=True)
    assert lib.autograd.gradcheck(lambda x: x.detach() * 2 * 0, (x,))
    with pytest.raises(RuntimeError, match="Numerical gradient for function expected to be zero"):
        lib.autograd.gradcheck(lambda x: x.detach() * 2, (x,))


def test_check_undefined_grad_with_materialize_grads_off():
    class Pair(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(x)
            return x * 2, x * x

        @staticmethod
        def backward(ctx, g1, g2):
            (x,) = ctx.saved_tensors
            total = x * 0
            if g1 is not None:
                total = total + g1 * 2
            if g2 is not None:
                total = total + g2 * 2 * x
            return total

    assert ember.autograd.gradcheck(Pair.apply, (double((3,)),))


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_backward_that_cannot_take_undefined_grads_fails(name):
    lib = torch if name == "torch" else ember

    class Fragile(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3   # fails when one output got no gradient

    x = lib.tensor(sample((2,), numpy.float64), requires_grad=True)
    with pytest.raises(TypeError, match="unsupported operand"):
        lib.autograd.gradcheck(Fragile.apply, (x,))


def complex_pair(lib):
    return tuple(lib.tensor(sample((3,), numpy.complex128, seed=i), requires_grad=True) for i in range(2))


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_complex_inputs_and_outputs(name):
    lib = torch if name == "torch" else ember
    assert lib.autograd.gradcheck(lambda z, w: (z + w) * 2.5 - z / 4, complex_pair(lib))
    assert lib.autograd.gradcheck(lambda z: (z.real * z.imag).exp() if lib is torch else z * 3, complex_pair(lib)[:1])


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_complex_gradient_without_conjugate_is_caught(name):
    lib = torch if name == "torch" else ember

    class MulNoConj(lib.autograd.Function):
        @staticmethod
        def forward(ctx, z, w):
            ctx.save_for_backward(z, w)
            return z * w

        @staticmethod
        def backward(ctx, grad):
            z, w = ctx.saved_tensors
            return grad * w * 1, grad * z * 1   # PyTorch's convention needs grad * w.conj()

    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        lib.autograd.gradcheck(MulNoConj.apply, complex_pair(lib))


def test_complex_multiplication_gradient():
    assert ember.autograd.gradcheck(lambda z, w: z * w, complex_pair(ember))


def test_gradgradcheck_argument_assertions_like_torch():
    for lib in (torch, ember):
        with pytest.raises(AssertionError, match="Expected at least one of check_fwd_over_rev or check_rev_over_rev"):
            lib.autograd.gradgradcheck(lambda x: x, (lib.ones(1, dtype=lib.float64, requires_grad=True),),
                                       check_rev_over_rev=False)


def test_inputs_are_restored_after_the_check():
    x = double((2, 3))
    before = x.detach().clone()
    ember.autograd.gradcheck(lambda x: x.exp(), (x,))
    assert numpy.array_equal(x.detach().numpy(), before.numpy())


def test_noncontiguous_input():
    base = ember.tensor(sample((3, 4), numpy.float64))
    x = base.view(4, 3).detach()   # contiguous; the transposed-copy variant checks strided inputs
    strided = ember.from_numpy(numpy.asfortranarray(sample((3, 4), numpy.float64))).requires_grad_()
    assert not strided.is_contiguous()
    assert ember.autograd.gradcheck(lambda a: (a * a).sum(1), (strided,))
    assert ember.autograd.gradcheck(lambda a: a.exp(), (x.requires_grad_(),))


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_check_batched_grad(name):
    lib = torch if name == "torch" else ember
    x = lib.tensor(sample((3,), numpy.float64), requires_grad=True)
    assert lib.autograd.gradcheck(lambda x: (x.exp() * x, (x * x).sum()), (x,), check_batched_grad=True)


@pytest.mark.parametrize("dtype, options", [("float64", {}), ("complex128", {}),
                                            ("float64", {"check_batched_grad": True}),
                                            ("float64", {"gen_non_contig_grad_outputs": True}),
                                            ("float64", {"fast_mode": True})])
def test_checks_draw_from_the_default_generator_as_torch(dtype, options):
    """gradgradcheck's random grad_outputs (make_tensor's uniform draws) and the batched check's randn_like come from
    the default generator as PyTorch's, so a seeded program's later draws agree; fast mode's directions come from a
    generator of its own, moving neither the default generator nor NumPy's global state."""
    draws = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        numpy.random.seed(0)
        x = lib.rand(2, 3, dtype=getattr(lib, dtype), requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda t: (t * t.sin()).sum(0), (x,), **options)
        draws.append((lib.rand(4).numpy(), numpy.random.uniform(size=2)))
    numpy.testing.assert_array_equal(draws[1][0], draws[0][0])
    numpy.testing.assert_array_equal(draws[1][1], draws[0][1])
