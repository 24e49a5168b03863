"""Custom autograd.Function against PyTorch: ctx API, multiple outputs, setup_context style, hooks."""
import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, sample


def both(scenario):
    expected = scenario(torch)
    got = scenario(ember)
    assert_same(got, expected)
    return got


def leaf(lib, shape=(3,), seed=0, dtype=numpy.float64):
    return lib.tensor(sample(shape, dtype, seed=seed), requires_grad=True)


def cube_function(lib):
    """x ** 3 with a hand-written backward, saving the input."""
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x
    return Cube


def test_save_for_backward_and_saved_tensors():
    def scenario(lib):
        x = leaf(lib)
        y = cube_function(lib).apply(x)
        y.sum().backward()
        return y, x.grad, y.grad_fn.name()
    assert both(scenario)[2] == "CubeBackward"


def test_custom_function_is_twice_differentiable():
    def scenario(lib):
        x = leaf(lib)
        y = cube_function(lib).apply(x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return g, gg
    both(scenario)


def test_needs_input_grad_and_non_tensor_arguments():
    def scenario(lib):
        seen = []

        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, w, factor):
                seen.append(ctx.needs_input_grad)
                ctx.save_for_backward(x, w)
                ctx.factor = factor
                return x * w * factor

            @staticmethod
            def backward(ctx, grad):
                x, w = ctx.saved_tensors
                gx = grad * w * ctx.factor if ctx.needs_input_grad[0] else None
                gw = grad * x * ctx.factor if ctx.needs_input_grad[1] else None
                return gx, gw, None

        x = leaf(lib)
        w = lib.tensor(sample((3,), numpy.float64, seed=1))
        Scale.apply(x, w, 2.5).sum().backward()
        return seen, x.grad
    both(scenario)


def test_multiple_outputs_and_partial_use():
    def scenario(lib):
        class SplitExp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                e = x.exp()
                ctx.save_for_backward(e)
                return e, x * 2

            @staticmethod
            def backward(ctx, grad_e, grad_double):
                (e,) = ctx.saved_tensors
                return grad_e * e + grad_double * 2

        x = leaf(lib)
        e, d = SplitExp.apply(x)
        e.sum().backward(retain_graph=True)
        first = x.grad.clone()
        (e * d).sum().backward()
        return first, x.grad, e.grad_fn is d.grad_fn
    both(scenario)


def test_set_materialize_grads_false_passes_none():
    def scenario(lib):
        received = []

        class Pair(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                received.append((g1 is None, g2 is None))
                total = 0
                if g1 is not None:
                    total = total + g1 * 2
                if g2 is not None:
                    total = total + g2 * 3
                return total

        x = leaf(lib)
        a, _ = Pair.apply(x)
        a.sum().backward()
        return received, x.grad
    both(scenario)


def test_mark_non_differentiable():
    def scenario(lib):
        class SortLike(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                mask = x > 0
                out = x * mask
                ctx.mark_non_differentiable(mask)
                ctx.save_for_backward(mask)
                return out, mask

            @staticmethod
            def backward(ctx, grad, grad_mask):
                (mask,) = ctx.saved_tensors
                return grad * mask

        x = leaf(lib)
        out, mask = SortLike.apply(x)
        out.sum().backward()
        return mask.requires_grad, out.requires_grad, x.grad
    both(scenario)


def test_mark_non_differentiable_float_output():
    def scenario(lib):
        class WithConstant(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                constant = x * 0 + 1
                ctx.mark_non_differentiable(constant)
                return x * 2, constant

            @staticmethod
            def backward(ctx, grad, grad_constant):
                return grad * 2

        x = leaf(lib)
        out, constant = WithConstant.apply(x)
        return constant.requires_grad, out.requires_grad
    both(scenario)


def test_once_differentiable_backward_runs_without_graph():
    def scenario(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 2 * x

        x = leaf(lib)
        (g,) = lib.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
        return g, g.requires_grad
    both(scenario)


def test_setup_context_style():
    def scenario(lib):
        class Mul(lib.autograd.Function):
            @staticmethod
            def forward(x, y):
                return x * y

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, y = inputs
                ctx.save_for_backward(x, y)

            @staticmethod
            def backward(ctx, grad):
                x, y = ctx.saved_tensors
                return grad * y, grad * x

        x, y = leaf(lib, seed=1), leaf(lib, seed=2)
        out = Mul.apply(x, y)
        out.sum().backward()
        return out, x.grad, y.grad
    both(scenario)


def test_setup_context_with_multiple_outputs_saves_output():
    def scenario(lib):
        class ExpAndDouble(lib.autograd.Function):
            @staticmethod
            def forward(x):
                return x.exp(), x * 2

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(output[0])

            @staticmethod
            def backward(ctx, grad_e, grad_d):
                (e,) = ctx.saved_tensors
                return grad_e * e + grad_d * 2

        x = leaf(lib)
        e, d = ExpAndDouble.apply(x)
        (e + d).sum().backward()
        return x.grad
    both(scenario)


def test_function_returning_its_input_unchanged():
    def scenario(lib):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad * 5

        x = leaf(lib)
        y = Identity.apply(x)
        y.sum().backward()
        return y is x, y.is_leaf, x.grad
    both(scenario)


def test_function_without_grad_inputs_builds_no_node():
    def scenario(lib):
        x = lib.tensor(sample((3,), numpy.float64))
        y = cube_function(lib).apply(x)
        return y.requires_grad, y.grad_fn is None
    both(scenario)


def test_wrong_number_of_gradients_raises():
    def scenario(lib):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, grad):
                return grad

        x, y = leaf(lib, seed=1), leaf(lib, seed=2)
        Bad.apply(x, y).sum().backward()
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        scenario(torch)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        scenario(ember)


def test_wrong_gradient_shape_raises():
    def scenario(lib):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return lib.ones(4, dtype=lib.float64)

        Bad.apply(leaf(lib)).sum().backward()
    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0"):
        scenario(torch)
    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0"):
        scenario(ember)


# --- hooks ----------------------------------------------------------------------------------------------------------
def test_hook_on_leaf_modifies_grad():
    def scenario(lib):
        x = leaf(lib)
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g * 10)
        (x * x).sum().backward()
        return seen, x.grad
    both(scenario)


def test_hook_on_non_leaf_changes_upstream_grad():
    def scenario(lib):
        x = leaf(lib)
        h = x.exp()
        h.register_hook(lambda g: g * 0 + 1)
        (h * 3).sum().backward()
        return x.grad
    both(scenario)


def test_hook_removed_via_handle():
    def scenario(lib):
        x = leaf(lib)
        handle = x.register_hook(lambda g: g * 100)
        handle.remove()
        (x * 2).sum().backward()
        return x.grad
    both(scenario)


def test_hook_on_non_leaf_with_retain_grad_sees_modified_grad():
    def scenario(lib):
        x = leaf(lib)
        h = x * 2
        h.retain_grad()
        h.register_hook(lambda g: g * 3)
        h.sum().backward()
        return h.grad, x.grad
    both(scenario)


def test_hook_on_tensor_that_does_not_require_grad_raises():
    def scenario(lib):
        lib.ones(2).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        scenario(torch)
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        scenario(ember)


def test_node_hooks_see_grads():
    def scenario(lib):
        x = leaf(lib)
        y = x.exp()
        seen = []
        y.grad_fn.register_prehook(lambda grad_outputs: seen.append(("pre", grad_outputs[0].clone())))
        y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(("post", grad_inputs[0].clone())))
        (y * 2).sum().backward()
        return seen
    both(scenario)


def test_function_ctx_is_the_type_of_ctx():
    """``torch.autograd.function.FunctionCtx`` (gpytorch annotates its Functions' ctx with it) is the ctx's type
    and a base of Function, as PyTorch's."""
    def scenario(lib):
        seen = []

        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                seen.append(isinstance(ctx, lib.autograd.function.FunctionCtx))
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                seen.append(isinstance(ctx, lib.autograd.function.FunctionCtx))
                return grad * 2

        x = leaf(lib)
        Double.apply(x).sum().backward()
        return seen + [issubclass(Double, lib.autograd.function.FunctionCtx), x.grad]
    both(scenario)


def test_non_tensor_outputs_get_none_gradients():
    """A Function returning a number beside tensors: backward gets None for the number (materialized zeros are for
    tensor outputs only), also where another output got no gradient."""
    def scenario(lib):
        seen = []

        class WithCount(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2, 3, a * 3

            @staticmethod
            def backward(ctx, g, g_count, g3):
                seen.append((g_count, g3 is None))
                return g * 2 + g3 * 3
        x = leaf(lib)
        out = WithCount.apply(x)
        out[0].sum().backward()
        return seen, x.grad
    both(scenario)


def test_reentrant_checkpoint_with_a_number_among_its_outputs():
    def scenario(lib):
        x, y = leaf(lib), leaf(lib, seed=1)
        out = lib.utils.checkpoint.checkpoint(lambda a, b: (a.sin() * b, (a * 2).cos(), 3), x, y, use_reentrant=True)
        (out[0].sum() + out[1].sum()).backward()
        return out[2], x.grad, y.grad
    both(scenario)


def test_inplace_function_and_function_meta():
    """``autograd.function.InplaceFunction`` keeps its ``inplace`` flag and applies like any Function;
    ``FunctionMeta`` is Function's metaclass, as PyTorch's."""
    def scenario(lib):
        module = lib.autograd.function

        class Scale(module.InplaceFunction):
            @staticmethod
            def forward(ctx, x):
                return x * 3

            @staticmethod
            def backward(ctx, grad):
                return grad * 3

        x = leaf(lib)
        Scale.apply(x).sum().backward()
        with pytest.warns(DeprecationWarning, match="should not be instantiated. Methods on autograd functions"):
            flags = Scale(inplace=True).inplace, Scale().inplace
        return flags, isinstance(Scale, module.FunctionMeta), issubclass(module.InplaceFunction, module.Function), \
            x.grad
    both(scenario)
