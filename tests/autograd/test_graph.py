"""torch.autograd.graph, side by side with torch: saved-tensor hooks (the "Hooks for saved tensors" tutorial's cases:
counting, packing to other objects, saving to disk, save_on_cpu, nesting, disabling, custom Functions, double
backward, in-place ops), multi-grad hooks, Node, GradientEdge, increment_version and
allow_mutation_on_saved_tensors."""
import os
import threading
import uuid

import numpy as np
import pytest
import torch

import ember

A = np.array([[0.5, -1.25, 2.0, 0.75, -0.3], [1.5, 0.2, -0.8, 1.1, -2.2], [0.9, -0.4, 0.6, -1.7, 0.35],
              [-0.6, 1.3, 0.15, -0.05, 0.8]], np.float32)
B = np.array([[1.2, 0.4, -0.7, 2.1, 0.9], [-1.1, 0.3, 0.5, -0.2, 1.6], [0.25, -1.9, 1.4, 0.1, -0.45],
              [0.7, 0.55, -1.3, 0.95, 0.05]], np.float32)
KERNEL = np.random.default_rng(1).standard_normal((4, 3, 3, 3)).astype(np.float32)

# Ops whose saved tensors are what PyTorch's save (ember's primitives may save other things: see test_counts_differ).
SAME_SAVES = {
    "a * b": lambda L, a, b: a * b,
    "a / b": lambda L, a, b: a / b,
    "x * x": lambda L, a, b: a * a,
    "a + b": lambda L, a, b: a + b,
    "sin": lambda L, a, b: a.sin(),
    "exp": lambda L, a, b: a.exp(),
    "log(abs)": lambda L, a, b: a.abs().log(),
    "tanh": lambda L, a, b: a.tanh(),
    "sigmoid": lambda L, a, b: a.sigmoid(),
    "relu": lambda L, a, b: a.relu(),
    "gelu": lambda L, a, b: L.nn.functional.gelu(a),
    "pow tensor": lambda L, a, b: a.abs() ** b,
    "x.pow(2)": lambda L, a, b: a.pow(2),
    "clamp": lambda L, a, b: a.clamp(-0.5, 0.5),
    "sum, mean": lambda L, a, b: a.sum() + a.mean(),
    "max(dim)": lambda L, a, b: a.max(1)[0],
    "sort": lambda L, a, b: a.sort(1)[0],
    "a[index]": lambda L, a, b: a[L.tensor([0, 2])],
    "norm, var": lambda L, a, b: a.norm() + a.var(1).sum(),
    "softmax": lambda L, a, b: a.softmax(1),
    "log_softmax": lambda L, a, b: a.log_softmax(1),
    "matmul": lambda L, a, b: a @ b.t(),
    "where": lambda L, a, b: L.where(a > 0, a, b),
    "mse_loss": lambda L, a, b: L.nn.functional.mse_loss(a, b),
    "dropout": lambda L, a, b: L.nn.functional.dropout(a, 0.5),
    "layer_norm": lambda L, a, b: L.nn.functional.layer_norm(a, (5,)),
    "embedding": lambda L, a, b: L.nn.functional.embedding(L.tensor([0, 2]), a),
    "batch_norm": lambda L, a, b: L.nn.functional.batch_norm(a, None, None, training=True),
    "conv2d (input)": lambda L, a, b: L.nn.functional.conv2d(a.reshape(1, 1, 4, 5), L.tensor(KERNEL[:1, :1])),
}


def _hooked_run(L, function, requires_grad=(True, True), create_graph=False):
    """Packs and unpacks counted, the gradients of a and b (and their second-order ones under create_graph)."""
    counts = [0, 0]

    def pack(t):
        counts[0] += 1
        return t

    def unpack(t):
        counts[1] += 1
        return t

    L.manual_seed(0)
    a, b = L.tensor(A, requires_grad=requires_grad[0]), L.tensor(B, requires_grad=requires_grad[1])
    with L.autograd.graph.saved_tensors_hooks(pack, unpack):
        out = function(L, a, b)
    packed = counts[0]
    inputs = [t for t in (a, b) if t.requires_grad]
    grads = L.autograd.grad((out * out).sum(), inputs, allow_unused=True, create_graph=create_graph)
    return packed, counts[1], [None if g is None else g.detach().numpy() for g in grads]


def _rounded(value):
    """Nested lists of floats (and Nones) rounded to 5 decimals: ember's float32 exp may differ in the last bit."""
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value if value is None else round(value, 5)


def _same(x, y):
    return all((p is None and q is None) or (p is not None and q is not None and np.allclose(p, q, atol=1e-5))
               for p, q in zip(x, y))


@pytest.mark.parametrize("name, requires_grad", [(name, grads) for grads in [(True, True), (True, False)]
                                                  for name in SAME_SAVES])
def test_pack_and_unpack_once_per_saved_tensor_as_torch(name, requires_grad):
    ours, theirs = _hooked_run(ember, SAME_SAVES[name], requires_grad), _hooked_run(torch, SAME_SAVES[name],
                                                                                     requires_grad)
    assert ours[:2] == theirs[:2]
    assert _same(ours[2], theirs[2])


COUNTS_DIFFER = {   # (torch, ember) packs, as reported with this feature
    "silu": (lambda L, a, b: L.nn.functional.silu(a), 1, 3),                 # x * sigmoid(x) in ember
    "nll_loss": (lambda L, a, b: L.nn.functional.nll_loss(a, L.tensor([1, 0, 2, 4])), 3, 1),
    "cross_entropy": (lambda L, a, b: L.nn.functional.cross_entropy(a, L.tensor([1, 0, 2, 4])), 4, 3),
    "gather": (lambda L, a, b: a.gather(1, L.tensor([[0], [1], [2], [3]])), 2, 1),
}


@pytest.mark.parametrize("name", list(COUNTS_DIFFER))
def test_counts_differ_where_the_primitives_save_other_things_and_gradients_still_match(name):
    function, torch_packs, ember_packs = COUNTS_DIFFER[name]
    ours, theirs = _hooked_run(ember, function), _hooked_run(torch, function)
    assert (theirs[0], ours[0]) == (torch_packs, ember_packs)
    assert ours[0] == ours[1]   # each packed tensor is unpacked once by one backward
    assert _same(ours[2], theirs[2])


@pytest.mark.parametrize("name", ["a * b", "x * x", "sin", "exp", "pow tensor", "softmax", "matmul", "layer_norm",
                                  "batch_norm", "max(dim)"])
def test_double_backward_through_unpacked_tensors(name):
    def run(L):
        def pack(t):
            return t.detach().clone()   # what the graph keeps is not the saved tensor itself

        a, b = L.tensor(A, requires_grad=True), L.tensor(B, requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = SAME_SAVES[name](L, a, b)
        grads = L.autograd.grad((out * out).sum(), [a, b], create_graph=True, allow_unused=True)
        total = sum((g * g).sum() for g in grads if g is not None and g.requires_grad)
        return [None if g is None else g.numpy() for g in L.autograd.grad(total, [a, b], allow_unused=True)]
    assert _same(run(ember), run(torch))


def test_tutorial_packing_prints_and_what_pack_receives():
    for L in (torch, ember):
        a = L.ones(5, requires_grad=True)
        b = L.ones(5, requires_grad=True) * 2
        events = []
        with L.autograd.graph.saved_tensors_hooks(lambda x: events.append(("pack", x.tolist(), x.requires_grad))
                                                  or x.detach(), lambda x: events.append(("unpack", x.tolist()))
                                                  or x):
            y = a * b
        y.sum().backward()
        assert sorted(events) == [("pack", [1.0] * 5, True), ("pack", [2.0] * 5, True), ("unpack", [1.0] * 5),
                                  ("unpack", [2.0] * 5)]
        assert a.grad.tolist() == [2.0] * 5
        seen = []
        with L.autograd.graph.saved_tensors_hooks(lambda x: seen.append(x) or x, lambda x: x):
            y = a.exp()
        assert seen[0] is y   # a saved output reaches the hook as the output tensor itself


def test_pack_runs_without_grad_recording_and_unpack_in_the_backward_mode():
    for L in (torch, ember):
        modes = []
        a = L.tensor([1.0, 2.0], requires_grad=True)

        def unpack(x):
            modes.append(("unpack", L.is_grad_enabled()))
            return x
        with L.autograd.graph.saved_tensors_hooks(lambda x: modes.append(("pack", L.is_grad_enabled())) or x,
                                                  unpack):
            y = a.sin()
        L.autograd.grad(y.sum(), a, retain_graph=True)
        L.autograd.grad(y.sum(), a, create_graph=True)
        assert modes == [("pack", False), ("unpack", False), ("unpack", True)]


def test_pack_to_another_object_and_back():
    def run(L):
        a, b = L.tensor(A, requires_grad=True), L.tensor(B, requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(lambda t: (t.detach().numpy().copy() * 4, t.dtype),
                                                  lambda packed: L.from_numpy(packed[0] / 4).to(packed[1])):
            y = (a * b).sin() * a.exp()
        y.sum().backward()
        return [a.grad.numpy(), b.grad.numpy()]
    assert _same(run(ember), run(torch))


class _SelfDeletingTempFile:
    def __init__(self, directory):
        self.name = os.path.join(directory, str(uuid.uuid4()))

    def __del__(self):
        os.remove(self.name)


def test_saving_to_disk_and_files_deleted_after_backward(tmp_path):
    def run(L, directory):
        os.makedirs(directory)

        def pack(tensor):
            if tensor.numel() < 4:   # the tutorial's size threshold: small tensors stay in memory
                return tensor.detach()
            temp_file = _SelfDeletingTempFile(directory)
            L.save(tensor, temp_file.name)
            return temp_file

        def unpack(packed):
            return L.load(packed.name) if isinstance(packed, _SelfDeletingTempFile) else packed
        x = L.tensor(A, requires_grad=True)
        s = L.tensor([1.5, -0.5, 2.0], requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = (x.sin() * x).exp().sum() + (s * s).sum() + x.max(1)[0].sum()
        files = len(os.listdir(directory))
        y.backward()
        return files, len(os.listdir(directory)), x.grad.numpy(), s.grad.numpy()
    ours, theirs = run(ember, tmp_path / "ember"), run(torch, tmp_path / "torch")
    assert ours[:2] == theirs[:2] == (5, 0)   # max's indices too: ember keeps them as a node attribute
    assert _same(ours[2:], theirs[2:])


@pytest.mark.parametrize("pin_memory", [False, True])
def test_save_on_cpu(pin_memory):
    def run(L):
        a, b, c = (L.tensor(v, requires_grad=True) for v in (A, B, A[::-1].copy()))
        prod_1 = a * b
        with L.autograd.graph.save_on_cpu(pin_memory=pin_memory):
            prod_2 = prod_1 * c
        y = prod_2 * a
        y.sum().backward()
        return [t.grad.numpy() for t in (a, b, c)]
    assert _same(run(ember), run(torch))


def test_nested_hooks_innermost_applies():
    def run(L):
        outer, inner = [], []
        a = L.tensor([1.0, 2.0], requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(lambda x: outer.append(1) or x, lambda x: x):
            y = a.sin()
            with L.autograd.graph.saved_tensors_hooks(lambda x: inner.append(1) or x, lambda x: x):
                z = y.exp() * a
            w = z.cos()
        (w.sum() + y.sum()).backward()
        return len(outer), len(inner), a.grad.numpy()
    ours, theirs = run(ember), run(torch)
    assert ours[:2] == theirs[:2] == (2, 3) and np.allclose(ours[2], theirs[2])


def test_disable_saved_tensors_hooks_raises_the_message():
    for L in (torch, ember):
        graph = L.autograd.graph
        with graph.disable_saved_tensors_hooks("hooks are off here"):
            with pytest.raises(RuntimeError, match="^hooks are off here$"):
                with graph.saved_tensors_hooks(lambda x: x, lambda x: x):
                    pass
            with pytest.raises(RuntimeError, match="hooks are off here"):
                with graph.save_on_cpu():
                    pass
            with graph.disable_saved_tensors_hooks("inner"):
                with pytest.raises(RuntimeError, match="^inner$"):
                    graph.saved_tensors_hooks(lambda x: x, lambda x: x).__enter__()
            with pytest.raises(RuntimeError, match="^hooks are off here$"):   # the outer message is back
                graph.saved_tensors_hooks(lambda x: x, lambda x: x).__enter__()
            a = L.tensor([1.0], requires_grad=True)
            (a * a).sum().backward()   # no hooks: saving is fine
        with graph.saved_tensors_hooks(lambda x: x, lambda x: x):
            with pytest.raises(RuntimeError, match="^not under active hooks$"):
                with graph.disable_saved_tensors_hooks("not under active hooks"):
                    pass
        with graph.saved_tensors_hooks(lambda x: x, lambda x: x):   # enabled again
            a * a


def test_non_reentrant_checkpoint_under_disabled_hooks_raises_as_torch():
    for L in (torch, ember):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        with L.autograd.graph.disable_saved_tensors_hooks("checkpoint needs hooks"):
            with pytest.raises(RuntimeError, match="checkpoint needs hooks"):
                L.utils.checkpoint.checkpoint(lambda t: t.sin(), a, use_reentrant=False)


class _Function:
    """The same custom Function for both libraries: saves an input, None, its output, an intermediate and a
    tensor that needs no grad."""

    @staticmethod
    def make(L):
        class Scale(L.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                out = x * w * 2
                tmp = x + 1
                ctx.save_for_backward(x, None, out, tmp, w)
                return out

            @staticmethod
            def backward(ctx, g):
                x, none, out, tmp, w = ctx.saved_tensors
                x_again = ctx.saved_tensors[0]
                ctx.seen = (none, x.requires_grad, out.requires_grad, tmp.requires_grad, w.requires_grad,
                            x_again.tolist() == x.tolist())
                return g * w * 2 + 0 * tmp, None
        return Scale


def test_custom_function_save_for_backward_goes_through_the_hooks():
    def run(L):
        seen, unpacked = [], []
        x = L.tensor([1.0, -2.0, 3.0], requires_grad=True)
        w = L.tensor([0.5, 0.25, 2.0])
        with L.autograd.graph.saved_tensors_hooks(lambda t: seen.append(t) or t.detach(),
                                                  lambda t: unpacked.append(1) or t.clone()):
            y = _Function.make(L).apply(x, w)
        packed = (len(seen), seen[0] is x, seen[1] is y, seen[3] is w)
        y.sum().backward()
        return packed, len(unpacked), y.grad_fn.seen, x.grad.tolist()
    assert run(ember) == run(torch) == ((4, True, True, True), 8, (None, True, True, False, False, True),
                                        [1.0, 0.5, 4.0])
    with ember.autograd.graph.saved_tensors_hooks(lambda t: 1 / 0, lambda t: t):   # no graph: nothing is packed
        _Function.make(ember).apply(ember.ones(3), ember.ones(3))


def test_custom_function_double_backward_through_unpacked_leaf():
    def run(L):
        class Cube(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 3 * g * x * x
        x = L.tensor([1.0, -2.0, 0.5], requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
            y = Cube.apply(x)
        g, = L.autograd.grad(y.sum(), x, create_graph=True)
        g.sum().backward()
        return g.tolist(), x.grad.tolist()
    assert run(ember) == run(torch)


def test_unpack_must_return_a_tensor():
    for L in (torch, ember):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
            y = a * a
        with pytest.raises(TypeError, match="^Output of saved tensor unpack_hook expected to be a Tensor but got "
                                            "result of type int$"):
            y.sum().backward()


def test_unpacked_tensor_of_the_wrong_shape_fails_in_the_backward():
    for L in (torch, ember):
        a = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: L.zeros(2)):
            y = a * a
        with pytest.raises(RuntimeError, match="must match the size of tensor b"):
            y.sum().backward()


def test_pack_hook_may_not_modify_its_input_in_place():
    for L in (torch, ember):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(lambda t: t.mul_(1), lambda t: t):
            with pytest.raises(RuntimeError, match="^A saved tensor pack hook is modifying its input in place"):
                a.clone() * a


def test_packed_tensors_have_no_version_check_and_are_freed_by_backward():
    for L in (torch, ember):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        x = a * 1
        unpacks = []
        with L.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: unpacks.append(1) or t):
            y = x.sin()
        x.mul_(2)   # the packed clone keeps the saved value: no "modified by an inplace operation" error
        y.sum().backward(retain_graph=True)
        assert np.allclose(a.grad.numpy(), np.cos([1.0, 2.0]))
        y.sum().backward()
        assert len(unpacks) == 2
        with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
            y.sum().backward()


@pytest.mark.parametrize("name", ["sin_", "exp_", "mul_", "relu_", "sigmoid_", "elu_inplace", "chain"])
def test_in_place_ops_pack_the_value_before_the_write(name):
    operations = {"sin_": lambda L, x, b: x.sin_(), "exp_": lambda L, x, b: x.exp_(),
                  "mul_": lambda L, x, b: x.mul_(b), "relu_": lambda L, x, b: x.relu_(),
                  "sigmoid_": lambda L, x, b: x.sigmoid_(),
                  "elu_inplace": lambda L, x, b: L.nn.functional.elu(x, inplace=True),
                  "chain": lambda L, x, b: x.mul_(b).sin_() * x}

    def run(L):
        packs = []
        a, b = L.tensor(A[0], requires_grad=True), L.tensor(B[0], requires_grad=True)
        x = a * 1
        with L.autograd.graph.saved_tensors_hooks(lambda t: packs.append(1) or t, lambda t: t):
            y = operations[name](L, x, b)
        return len(packs), [None if g is None else g.numpy()
                            for g in L.autograd.grad((y * y).sum(), [a, b], allow_unused=True)]
    ours, theirs = run(ember), run(torch)
    assert ours[0] == theirs[0] and _same(ours[1], theirs[1])


def test_hooks_are_per_thread():
    for L in (torch, ember):
        packs, results = [], []
        a = L.tensor([1.0, 2.0], requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(lambda t: packs.append(1) or t, lambda t: t):
            thread = threading.Thread(target=lambda: results.append(a * a))
            thread.start()
            thread.join()
            a * a
        assert len(packs) == 2


def test_hooks_see_a_compiled_call_run_eagerly():
    def f(x):
        return (x.sin() * x).exp()
    compiled = ember.compile(f)
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    compiled(x).sum().backward()   # captured outside the hooks
    counts = []
    for function in (f, compiled):
        packs = []
        with ember.autograd.graph.saved_tensors_hooks(lambda t: packs.append(1) or t, lambda t: t):
            function(x).sum().backward()
        counts.append(len(packs))
    assert counts[0] == counts[1] == 4


# --- register_multi_grad_hook --------------------------------------------------------------------------------------
def _multi_grad_calls(L, backward):
    calls = []
    a = L.tensor([[0.5, 1.0, 2.0], [3.0, -1.0, 0.25]], requires_grad=True)
    b = L.tensor([[1.5, -2.0, 0.5], [1.0, 2.0, 4.0]], requires_grad=True)
    c, d = a * b, a * b
    handle = L.autograd.graph.register_multi_grad_hook(
        (a, b, c, d), lambda grads: calls.append([None if g is None else g.tolist() for g in grads]))
    backward(L, a, b, c, d)
    handle.remove()
    backward(L, a, b, c, d)
    return calls


@pytest.mark.parametrize("backward", [
    lambda L, a, b, c, d: c.sum().backward(retain_graph=True),
    lambda L, a, b, c, d: c.sum().backward(inputs=(a,), retain_graph=True),
    lambda L, a, b, c, d: (c.sum() + d.sum()).backward(retain_graph=True),
    lambda L, a, b, c, d: L.autograd.grad(c.sum(), [c], retain_graph=True),
    lambda L, a, b, c, d: c.sum().backward(retain_graph=True) or c.sum().backward(retain_graph=True),
], ids=["backward", "inputs", "both", "grad of c", "twice"])
def test_multi_grad_hook_all_mode(backward):
    assert _multi_grad_calls(ember, backward) == _multi_grad_calls(torch, backward)


def test_hooks_of_leaves_that_are_not_inputs_do_not_run():
    def run(L):
        calls = []
        a, b = L.tensor([1.0, 2.0], requires_grad=True), L.tensor([3.0, 4.0], requires_grad=True)
        a.register_hook(lambda g: calls.append(("a", g.tolist())))
        b.register_hook(lambda g: calls.append(("b", g.tolist())))
        y = (a * b).sum()
        L.autograd.grad(y, [a], retain_graph=True)
        y.backward(inputs=[b], retain_graph=True)
        y.backward(inputs=[a, b])
        return calls, a.grad.tolist(), b.grad.tolist()
    assert run(ember) == run(torch)


def test_multi_grad_hook_all_mode_with_a_gradient_a_backward_returns_none_for():
    def run(L):
        class First(L.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, g):
                return g, None
        calls = []
        a, b = L.tensor([1.0, 2.0], requires_grad=True), L.tensor([3.0, 4.0], requires_grad=True)
        L.autograd.graph.register_multi_grad_hook((a, b), lambda grads: calls.append([g is not None for g in grads]))
        First.apply(a, b).sum().backward()
        return calls
    assert run(ember) == run(torch) == [[True, False]]


def test_multi_grad_hook_any_mode_fires_once_per_backward():
    def run(L):
        calls = []
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        z = y * 3
        handle = L.autograd.graph.register_multi_grad_hook((x, y, z), lambda g: calls.append(g.tolist()),
                                                           mode="any")
        z.sum().backward(retain_graph=True)
        (z * z).sum().backward(retain_graph=True)
        handle.remove()
        z.sum().backward()
        return calls
    assert run(ember) == run(torch)


@pytest.mark.parametrize("mode", ["all", "any"])
def test_multi_grad_hook_ignores_nodes_not_on_a_path_to_the_inputs(mode):
    def run(L):
        calls = []
        x = L.tensor([1.0, 2.0], requires_grad=True)
        w = L.tensor([3.0, -1.0], requires_grad=True)
        y = x.exp()
        z = (w * y).sum()
        L.autograd.graph.register_multi_grad_hook(
            (y, w), lambda g: calls.append([None if t is None else t.tolist() for t in g] if mode == "all"
                                           else g.tolist()), mode=mode)
        z.backward(inputs=[w], retain_graph=True)   # ember runs ExpBackward here; PyTorch does not
        if mode == "all":   # (in "any" mode the first gradient differs: ember runs leaves' hooks last)
            z.backward(retain_graph=True)
        return calls
    assert _rounded(run(ember)) == _rounded(run(torch))


def test_multi_grad_hook_handle():
    for L in (torch, ember):
        calls = []
        x = L.tensor([1.0, 2.0], requires_grad=True)
        with L.autograd.graph.register_multi_grad_hook((x,), calls.append) as handle:
            (x * x).sum().backward()
        (x * x).sum().backward()
        assert isinstance(handle, L.utils.hooks.RemovableHandle) and len(calls) == 1


def test_multi_grad_hook_errors():
    for L in (torch, ember):
        a = L.tensor([1.0], requires_grad=True)
        with pytest.raises(ValueError, match=r"^Expects mode to be one of \('all', 'any'\) but got some$"):
            L.autograd.graph.register_multi_grad_hook((a,), print, mode="some")
        with pytest.raises(AssertionError, match="^Expected gradient function to be set$"):
            L.autograd.graph.register_multi_grad_hook((a, L.ones(1)), print)


# --- Node, GradientEdge, increment_version -------------------------------------------------------------------------
def test_grad_fns_and_accumulators_are_nodes():
    for L in (torch, ember):
        Node = L.autograd.graph.Node
        a = L.tensor([0.0, 0.0, 0.0], requires_grad=True)
        b = a.clone()
        nodes = [b.grad_fn, (a * 2).grad_fn, a.sum().grad_fn, _Function.make(L).apply(a, L.ones(3)).grad_fn,
                 b.grad_fn.next_functions[0][0]]
        assert all(isinstance(node, Node) for node in nodes) and not isinstance(a, Node)
        assert b.grad_fn.name() == "CloneBackward0" and b.grad_fn.metadata == {}
        b.grad_fn.metadata["tag"] = 1
        assert b.grad_fn.metadata == {"tag": 1}


@pytest.mark.parametrize("which", ["hook", "prehook"])
def test_node_hooks_replace_gradients_as_in_torch(which):
    def run(L):
        a = L.tensor([0.0, 0.0, 0.0], requires_grad=True)
        b = a.clone()
        if which == "hook":
            handle = b.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_outputs[0] * 2,))
        else:
            handle = b.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 2,))
        b.sum().backward(retain_graph=True)
        first = a.grad.tolist()
        handle.remove()
        a.grad = None
        b.sum().backward(retain_graph=True)
        return first, a.grad.tolist()
    assert run(ember) == run(torch) == ([2.0] * 3, [1.0] * 3)


def test_gradient_edges_as_inputs_and_outputs():
    def run(L):
        get = L.autograd.graph.get_gradient_edge
        a = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
        m = a * 3
        y = m.exp()
        results = [L.autograd.grad(y.sum(), get(a), retain_graph=True),
                   L.autograd.grad(y.sum(), [get(m), a], retain_graph=True),
                   L.autograd.grad(y, get(m), grad_outputs=L.ones(3), retain_graph=True),
                   L.autograd.grad(get(y), a, grad_outputs=L.ones(3), retain_graph=True)]
        y.sum().backward(inputs=[get(a)], retain_graph=True)
        results.append((a.grad,))
        a.grad = None
        y.sum().backward(inputs=[get(m)], retain_graph=True)   # a non-leaf's edge: nothing is accumulated
        results.append((a.grad,))
        unused = L.tensor([1.0], requires_grad=True)
        results.append(L.autograd.grad(y.sum(), [get(unused)], allow_unused=True, retain_graph=True))
        with pytest.raises(RuntimeError, match="^materialize_grads cannot be used when the given input is a "
                                               "GradientEdge$"):
            L.autograd.grad(y.sum(), [get(unused)], materialize_grads=True, retain_graph=True)
        with pytest.raises(RuntimeError, match="^It is not possible to get the gradient edge for a Tensor that "
                                               "does not require gradients$"):
            get(L.ones(2))
        edge = get(m)
        assert edge.node is m.grad_fn and edge.output_nr == 0 and edge.ownership_token is None
        assert get(a) == get(a) and get(a).node.name() == "torch::autograd::AccumulateGrad"
        return [g.numpy() if g is not None else None for r in results for g in r]
    assert _same(run(ember), run(torch))


def test_gradient_edge_of_a_second_output():
    def run(L):
        x = L.tensor([1.0, 4.0, 2.0, 3.0], requires_grad=True)
        low, high = x.split(2)
        return L.autograd.grad((low * high).sum(), L.autograd.graph.get_gradient_edge(high))[0].tolist()
    assert run(ember) == run(torch)


def test_increment_version():
    for L in (torch, ember):
        t = L.ones(3)
        view = t[1:]
        L.autograd.graph.increment_version(t)
        L.autograd.graph.increment_version([t, view])
        assert (t._version, view._version) == (3, 3)
        with L.inference_mode():
            frozen = L.ones(2)
        L.autograd.graph.increment_version(frozen)
        with pytest.raises(RuntimeError, match=r"^increment_version expect a Iterable\[Tensor\] as input$"):
            L.autograd.graph.increment_version(3)


# --- allow_mutation_on_saved_tensors --------------------------------------------------------------------------------
@pytest.mark.parametrize("mutate", [
    lambda L, b, c: b.sin_(), lambda L, b, c: b.add_(1).mul_(3), lambda L, b, c: b.__setitem__(0, 5.0),
    lambda L, b, c: c.zero_(), lambda L, b, c: b.copy_(L.zeros(3)), lambda L, b, c: L.mul(c, 2, out=c),
    lambda L, b, c: c.uniform_(), lambda L, b, c: b.relu_(),
], ids=["sin_", "add_ mul_", "setitem", "zero_", "copy_", "out=", "uniform_", "relu_"])
def test_allow_mutation_on_saved_tensors(mutate):
    def run(L):
        with L.autograd.graph.allow_mutation_on_saved_tensors():
            a = L.tensor([0.5, 1.0, -2.0], requires_grad=True)
            w = L.tensor([1.5, -1.0, 3.0], requires_grad=True)
            b, c = a.clone(), L.tensor([1.0, 2.0, 3.0])
            out = (b ** 2 * w * c).sum() + (b.exp() * c).sum()
            mutate(L, b, c)
            return [g.numpy() for g in L.autograd.grad(out, [a, w])]
    assert _same(run(ember), run(torch))


def test_allow_mutation_on_saved_tensors_errors():
    for L in (torch, ember):
        with pytest.raises(RuntimeError, match="^allow_mutation_on_saved_tensors contexts cannot be nested$"):
            with L.autograd.graph.allow_mutation_on_saved_tensors():
                with L.autograd.graph.allow_mutation_on_saved_tensors():
                    pass
        with L.autograd.graph.allow_mutation_on_saved_tensors():
            out = (L.tensor([1.0, 2.0], requires_grad=True).clone() ** 2).sum()
        with pytest.raises(AssertionError, match="^Trying to backward outside of the "
                                                 "'allow_mutation_on_saved_tensors' contextin which"):
            out.backward()
    assert not ember.autograd.function.dispatch_hooks and not ember.autograd.function._pushed


def test_allow_mutation_sees_an_unseen_write_and_raises():
    with ember.autograd.graph.allow_mutation_on_saved_tensors():
        w = ember.tensor([1.0, 2.0], requires_grad=True)
        c = ember.tensor([3.0, 4.0])
        out = (w * c).sum()
        c.numpy()[0] = 0.0   # a write no op makes
        ember.autograd.graph.increment_version(c)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.backward()


def test_the_namespace():
    assert ember.autograd.graph is not None and ember.autograd.graph.Node is not None
    missing = set(torch.autograd.graph.__all__) - set(ember.autograd.graph.__all__)
    assert missing == {"region_activation_memory_budget", "set_warn_on_accumulate_grad_stream_mismatch",
                       "set_override_stale_capture_stream"}
    for name in ember.autograd.graph.__all__:
        assert getattr(ember.autograd.graph, name).__doc__


def test_saved_attributes_of_nodes_as_torch():
    """A node's ``_saved_<name>`` attributes (the saved-tensors tutorial's ``y.grad_fn._saved_self``): the input
    tensor itself, an equal new tensor for a saved result, None where the call did not need it, unpacked through the
    hooks, and PyTorch's error once backward freed them."""
    seen = []
    for L in (torch, ember):
        a, b = L.tensor(A, requires_grad=True), L.tensor(B, requires_grad=True)
        y, e, p, q = a * b, a.exp(), a.pow(2), a * L.tensor(B)
        order = []
        with L.autograd.graph.saved_tensors_hooks(lambda t: order.append(("pack", t.shape[0])) or t,
                                                  lambda t: order.append(("unpack", t.shape[0])) or t):
            z = a[:1] * b
        z.sum().backward()
        seen.append((y.grad_fn._saved_self is a, y.grad_fn._saved_other is b, e.grad_fn._saved_result is e,
                     e.grad_fn._saved_result.equal(e), p.grad_fn._saved_self is a, p.grad_fn._saved_exponent,
                     q.grad_fn._saved_self, q.grad_fn._saved_other is not None, "_saved_self" in dir(y.grad_fn),
                     order))
        y.sum().backward()
        with pytest.raises(RuntimeError) as error:
            y.grad_fn._saved_self
        seen.append(str(error.value))
        with pytest.raises(AttributeError):
            y.grad_fn._saved_result
    assert seen[2:] == seen[:2]
