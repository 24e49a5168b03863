"""The backward engine against PyTorch: backward/grad arguments, accumulation, graph structure, higher order."""
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, dtype_name, sample


def both(scenario):
    """Runs ``scenario(lib)`` with ember and torch and asserts the returned structures match."""
    expected = scenario(torch)
    got = scenario(ember)
    assert_same(got, expected)
    return got


def leaf(lib, shape=(3,), seed=0, dtype=numpy.float32):
    return lib.tensor(sample(shape, dtype, seed=seed), requires_grad=True)


# --- Tensor.backward arguments --------------------------------------------------------------------------------------
def test_backward_scalar_and_grad_attribute():
    def scenario(lib):
        x = leaf(lib)
        (x * x).sum().backward()
        return x.grad
    both(scenario)


def test_backward_with_gradient_for_non_scalar():
    def scenario(lib):
        x = leaf(lib, (2, 3))
        y = x.exp() * 2
        y.backward(lib.tensor(sample((2, 3), seed=5)))
        return x.grad
    both(scenario)


def test_backward_on_tensor_sequence_via_autograd_backward():
    def scenario(lib):
        x = leaf(lib)
        a, b = x * 2, x.exp()
        lib.autograd.backward([a.sum(), b], [None, lib.ones(3)])
        return x.grad
    both(scenario)


def test_backward_gradient_as_python_number_for_scalar():
    def scenario(lib):
        x = leaf(lib)
        (x * 3).sum().backward(lib.tensor(2.0))
        return x.grad
    both(scenario)


def test_grad_accumulates_across_backward_calls():
    def scenario(lib):
        x = leaf(lib)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * 3).sum().backward()
        return first, x.grad
    both(scenario)


def test_grad_accumulation_does_not_alias_first_grad():
    def scenario(lib):
        x = leaf(lib)
        (x * 2).sum().backward()
        kept = x.grad
        snapshot = kept.clone()
        (x * 5).sum().backward()
        return snapshot, kept, x.grad
    both(scenario)


def test_retain_graph_allows_second_backward():
    def scenario(lib):
        x = leaf(lib)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    both(scenario)


def test_backward_inputs_restricts_accumulation():
    def scenario(lib):
        x, w = leaf(lib, seed=1), leaf(lib, seed=2)
        (x * w).sum().backward(inputs=[w])
        return x.grad is None, w.grad
    both(scenario)


def test_backward_inputs_on_non_leaf_fills_its_grad():
    def scenario(lib):
        x = leaf(lib)
        h = x * 2
        (h * h).sum().backward(inputs=[h])
        return x.grad is None, h.grad
    both(scenario)


def test_create_graph_gives_differentiable_grad():
    def scenario(lib):
        x = leaf(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # torch warns about the .grad <-> graph reference cycle
            (x ** 3).sum().backward(create_graph=True)
        first = x.grad
        g = lib.autograd.grad(first.sum(), x)[0]
        return first.requires_grad, g
    both(scenario)


def test_retain_grad_on_non_leaf():
    def scenario(lib):
        x = leaf(lib)
        h = x.exp()
        h.retain_grad()
        y = h * h
        y.retain_grad()
        y.sum().backward()
        return h.grad, y.grad, h.retains_grad, x.retains_grad
    both(scenario)


def test_non_leaf_grad_is_none_without_retain_grad():
    x = ember.ones(2, requires_grad=True)
    h = x * 2
    h.sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):  # as torch warns
        assert h.grad is None


def test_is_leaf_and_requires_grad_propagation():
    def scenario(lib):
        x = leaf(lib)
        c = lib.ones(3)
        y = x * c
        z = c * 2
        with lib.no_grad():
            w = x * 2
        return (x.is_leaf, c.is_leaf, y.is_leaf, z.is_leaf, w.is_leaf, y.requires_grad, z.requires_grad,
                w.requires_grad, x.detach().is_leaf, x.detach().requires_grad)
    both(scenario)


# --- graph structure ------------------------------------------------------------------------------------------------
OPS_BY_NAME = [
    ("MulBackward0", lambda x, y: x * y),
    ("AddBackward0", lambda x, y: x + y),
    ("SubBackward0", lambda x, y: x - y),
    ("DivBackward0", lambda x, y: x / y),
    ("ExpBackward0", lambda x, y: x.exp()),
    ("LogBackward0", lambda x, y: x.log()),
    ("TanhBackward0", lambda x, y: x.tanh()),
    ("SigmoidBackward0", lambda x, y: x.sigmoid()),
    ("ReluBackward0", lambda x, y: x.relu()),
    ("NegBackward0", lambda x, y: -x),
    ("SumBackward0", lambda x, y: x.sum()),
    ("PowBackward0", lambda x, y: x ** 2),
]


@pytest.mark.parametrize("name, fn", OPS_BY_NAME, ids=[n for n, _ in OPS_BY_NAME])
def test_grad_fn_names_match_torch(name, fn):
    def scenario(lib):
        x = lib.tensor([1.5, 2.0, 3.0], requires_grad=True)
        y = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        return fn(x, y).grad_fn.name()
    assert both(scenario) == name


def test_next_functions_lead_to_accumulate_grad_and_inner_nodes():
    def scenario(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        c = lib.tensor([5.0, 6.0])
        out = (a * b).exp() + c
        node = out.grad_fn
        inner = node.next_functions[0][0]
        names = [(f.name() if f is not None else None, nr) for f, nr in node.next_functions]
        mul = inner.next_functions[0][0]
        leaves = [(f.name(), nr) for f, nr in mul.next_functions]
        return node.name(), names, inner.name(), mul.name(), leaves, mul.next_functions[0][0].variable is a
    got = both(scenario)
    assert got[1] == [("ExpBackward0", 0), (None, 0)]


def test_leaves_have_no_grad_fn():
    x = ember.ones(2, requires_grad=True)
    assert x.grad_fn is None and x.is_leaf


# --- higher order ---------------------------------------------------------------------------------------------------
def test_second_and_third_derivatives_of_cube():
    def scenario(lib):
        x = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
        y = (x ** 3).sum()
        (g1,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        return g1, g2, g3
    g1, g2, g3 = both(scenario)
    numpy.testing.assert_allclose(g3.numpy(), [6.0, 6.0, 6.0])


def test_hessian_vector_product_by_double_backward():
    def scenario(lib):
        x = lib.tensor(sample((4,), numpy.float64, seed=3), requires_grad=True)
        v = lib.tensor(sample((4,), numpy.float64, seed=4))
        y = ((x.exp() * x).sum() * x.tanh()).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (hv,) = lib.autograd.grad((g * v).sum(), x)
        return g, hv
    both(scenario)


def test_gradient_penalty_backprop():
    def scenario(lib):
        w = lib.tensor(sample((3, 2), numpy.float64, seed=1), requires_grad=True)
        x = lib.tensor(sample((2,), numpy.float64, seed=2), requires_grad=True)
        out = ((w * x).sum(1).tanh() ** 2).sum()
        (gx,) = lib.autograd.grad(out, x, create_graph=True)
        penalty = (gx ** 2).sum()
        penalty.backward()
        return gx, w.grad, x.grad
    both(scenario)


@pytest.mark.parametrize("shape", [(), (1,), (2, 0)])
def test_double_backward_through_op_saving_its_output_on_0d_and_empty(shape):
    # regression: NumPy returns 0-d results as scalars; the saved result must stay linked to the output tensor
    def scenario(lib):
        x = lib.tensor(numpy.full(shape, 0.7), requires_grad=True)
        y = (x.exp() * x + x.tanh() + x.sigmoid()).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        return g, lib.autograd.grad(g.sum(), x)
    both(scenario)


def test_create_graph_backward_then_backward_of_grad():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x.exp() * x).sum().backward(create_graph=True)
        g = x.grad
        x.grad = None
        (g * g).sum().backward()
        return g, x.grad
    both(scenario)


# --- graph shapes ---------------------------------------------------------------------------------------------------
def test_diamond_shared_subexpression():
    def scenario(lib):
        x = leaf(lib)
        h = x.exp()
        a, b = h * 2, h.tanh()
        (a * b + h).sum().backward()
        return x.grad
    both(scenario)


def test_same_tensor_used_twice_in_one_op():
    def scenario(lib):
        x = leaf(lib)
        (x * x + x / (x + 4)).sum().backward()
        return x.grad
    both(scenario)


@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (3,)), ((2, 1), (1, 3)), ((4, 1, 3), (2, 1)), ((), (2, 2)),
                                              ((1,), (3, 1))])
def test_broadcast_gradients_are_summed_to_input_shape(shape_a, shape_b):
    def scenario(lib):
        a, b = leaf(lib, shape_a, 1), leaf(lib, shape_b, 2)
        ((a * b).exp() - b / 3).sum().backward()
        return a.grad, b.grad
    both(scenario)


def test_grad_dtype_matches_input_when_mixed_with_float64():
    def scenario(lib):
        x = leaf(lib, (3,), dtype=numpy.float32)
        w = lib.tensor(sample((3,), numpy.float64, seed=1), requires_grad=True)
        y = x * w
        y.sum().backward()
        return dtype_name(y), x.grad, w.grad
    both(scenario)


def test_grad_dtype_with_float64_scalar_tensor():
    def scenario(lib):
        x = leaf(lib, (3,), dtype=numpy.float32)
        s = lib.tensor(2.5, dtype=lib.float64, requires_grad=True)
        y = x * s
        y.sum().backward()
        return dtype_name(y), x.grad, s.grad
    both(scenario)


def test_grads_through_views():
    def scenario(lib):
        x = leaf(lib, (2, 3))
        v = x.view(3, 2)
        r = x.reshape(6)
        e = x.sum(0, keepdim=True).expand(4, 3)
        ((v * v).sum() + (r.exp()).sum() + e.sum()).backward()
        return x.grad
    both(scenario)


def test_inplace_on_non_leaf_tensor():
    def scenario(lib):
        x = leaf(lib)
        h = x * 2
        h.add_(1)
        h.mul_(3)
        h.exp_()
        h.sum().backward()
        return h.grad_fn.name(), x.grad
    both(scenario)


def test_inplace_on_view_of_non_leaf():
    def scenario(lib):
        x = leaf(lib, (2, 3))
        h = x * 1
        v = h.view(6)
        v.mul_(3)
        (h * h).sum().backward()
        return x.grad
    both(scenario)


def test_inplace_on_view_with_graph_value_and_then_use_of_view():
    def scenario(lib):
        x = leaf(lib, (2, 3))
        w = leaf(lib, (3,))
        h = x * 2
        row = h[1]
        row.mul_(w)
        (h.sum() + (row * row).sum()).backward()
        return x.grad, w.grad
    both(scenario)


def test_inplace_on_view_after_output_was_saved_raises_like_torch():
    def scenario(lib):
        x = leaf(lib, (2, 3))
        h = x.exp()
        h[1].mul_(2)
        h.sum().backward()
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            scenario(lib)


def test_long_chain_backpropagates_without_recursion():
    x = ember.tensor([1.0], dtype=ember.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 100_000], rtol=1e-3)


def test_grad_of_grad_outputs_argument():
    def scenario(lib):
        x = leaf(lib, (2, 2))
        y = x.exp()
        return lib.autograd.grad(y, x, grad_outputs=lib.tensor(sample((2, 2), seed=9)))
    both(scenario)


def test_autograd_grad_several_outputs_and_inputs():
    def scenario(lib):
        x, w = leaf(lib, seed=1), leaf(lib, seed=2)
        a, b = (x * w).sum(), (x.exp()).sum()
        return lib.autograd.grad([a, b], [x, w])
    both(scenario)


def test_autograd_grad_does_not_touch_dot_grad():
    def scenario(lib):
        x = leaf(lib)
        lib.autograd.grad((x * x).sum(), x)
        return x.grad is None
    assert both(scenario) is True


def test_autograd_grad_allow_unused_and_materialize():
    def scenario(lib):
        x, unused = leaf(lib, seed=1), leaf(lib, seed=2)
        y = (x * 2).sum()
        g = lib.autograd.grad(y, [x, unused], retain_graph=True, allow_unused=True)
        m = lib.autograd.grad(y, [x, unused], materialize_grads=True)
        return g[0], g[1] is None, m
    both(scenario)


def test_autograd_grad_of_non_leaf_input():
    def scenario(lib):
        x = leaf(lib)
        h = x.exp()
        return lib.autograd.grad((h * h).sum(), h)
    both(scenario)


def test_autograd_grad_runs_only_the_nodes_on_a_path_to_its_inputs():
    """grad(out, h) stops at h: h's node and the nodes behind it do not run, so their saved tensors stay for a later
    grad(h, x) without retain_graph (captum's neuron attributions do this) and their node hooks are not called; the
    tensor hooks and retain_grad of the captured gradient still run. backward(inputs=[h]) runs h's node."""
    def scenario(lib):
        log = []
        x, w = leaf(lib), leaf(lib, seed=1)
        h = lib.nn.functional.linear(x.unsqueeze(0), w.unsqueeze(0).expand(3, 3))
        h.register_hook(lambda g: log.append(("h tensor hook", g)))
        h.grad_fn.register_prehook(lambda grads: log.append("h node prehook"))
        h.grad_fn.register_hook(lambda grads, outputs: log.append("h node hook"))
        r = h.relu()
        r.retain_grad()
        r.grad_fn.register_hook(lambda grads, outputs: log.append("r node hook"))
        out = (r.exp() * 2).sum()
        first = lib.autograd.grad(out, h)
        log.append("backward")
        (h * 3).sum().backward(inputs=[h], retain_graph=True)
        log.append("grad")
        second = lib.autograd.grad(h.sum(), x)
        return first, second, r.grad, h.grad, x.grad, w.grad, log
    both(scenario)


def test_autograd_grad_with_create_graph_keeps_graph():
    def scenario(lib):
        x = leaf(lib, dtype=numpy.float64)
        (g,) = lib.autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
        return g.requires_grad, g.grad_fn is not None, lib.autograd.grad(g.sum(), x)
    both(scenario)


def test_integer_outputs_do_not_require_grad():
    def scenario(lib):
        x = leaf(lib)
        return (x > 0).requires_grad, (x > 0).grad_fn is None
    both(scenario)


def test_detach_cuts_the_graph():
    def scenario(lib):
        x = leaf(lib)
        y = x.exp()
        z = y.detach() * x
        z.sum().backward()
        return x.grad
    both(scenario)


def test_requires_grad_on_non_leaf_is_rejected():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        (x * 2).requires_grad_(False)


def test_autograd_grad_is_grads_batched():
    def scenario(lib):
        x = leaf(lib, (3,), dtype=numpy.float64)
        y = x.exp() * x
        batch = lib.tensor(sample((4, 3), numpy.float64, seed=7))
        return lib.autograd.grad(y, x, batch, is_grads_batched=True)
    both(scenario)


def test_leaf_gradients_take_the_leaf_layout():
    """PyTorch's gradient layout contract: a dense leaf's first .grad has the leaf's strides (a channels-last conv
    weight gets a channels-last gradient, a transposed leaf a transposed one); other leaves get row-major ones."""
    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        conv = lib.nn.Conv2d(3, 4, 3).to(memory_format=lib.channels_last)
        conv(lib.randn(1, 3, 5, 5)).sum().backward()
        transposed = lib.randn(4, 3).t().detach().requires_grad_()
        (transposed @ lib.randn(4, 2)).sum().backward()
        sliced = lib.randn(4, 6)[:, ::2].detach().requires_grad_()
        (sliced * 2).sum().backward()
        results.append([t.grad.stride() for t in (conv.weight, conv.bias, transposed, sliced)])
    assert results[1] == results[0]


def test_backward_with_create_graph_warns_once_per_process():
    """backward(create_graph=True) warns about the parameter-gradient reference cycle once per process, as PyTorch's
    engine does (autograd.grad never does): compared with torch in fresh processes."""
    import subprocess
    import sys
    code = """
import warnings, {lib} as L
x = L.ones(2, requires_grad=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    L.autograd.grad((x * x).sum(), x, create_graph=True)
    (x * x).sum().backward(create_graph=True)
    L.autograd.backward((x * x).sum(), create_graph=True)
    (x * 2).sum().backward()
print([(w.category.__name__, str(w.message).split(" (Triggered internally")[0]) for w in caught])
"""
    outputs = [subprocess.run([sys.executable, "-c", code.format(lib=lib)], capture_output=True, text=True,
                              check=True).stdout for lib in ("torch", "ember")]
    assert outputs[1] == outputs[0] and "reference cycle" in outputs[0]


def test_complex_gradient_of_a_real_input_is_its_real_part_silently():
    """A real input multiplied into complex values gets a complex gradient; the engine keeps its real part without
    the cast's 'discards the imaginary part' warning, as PyTorch's (peft's FourierFT warned at every backward)."""
    def scenario(lib):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        c = w * lib.tensor([1 + 2j, 3 - 1j, 0.5j])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            (lib.fft.ifft(c).real * lib.arange(3.0)).sum().backward()
            (g,) = lib.autograd.grad((w.double() * lib.tensor(2j, dtype=lib.complex128)).real.sum() * 0 +
                                     (w * lib.tensor(1 + 1j)).abs().sum(), w, create_graph=True)
        return w.grad, g
    both(scenario)
