"""compile's wrapper and arguments against torch.compile's (backend="eager": inductor needs a C++ compiler), its
guards (each miss recompiles, up to the limit, then runs eagerly), its eager fallbacks and fullgraph errors."""
import numpy
import pytest
import torch

import ember
from ember import _dynamo


def _both(build):
    ember.manual_seed(0)
    return build(ember), build(torch)


def test_optimized_module_behaves_as_torchs():
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
    e, t = _both(build)
    ce, ct = ember.compile(e), torch.compile(t, backend="eager")
    assert type(ce).__name__ == type(ct).__name__ == "OptimizedModule"
    assert ce._orig_mod is e and ct._orig_mod is t
    assert list(ce.state_dict()) == list(ct.state_dict())
    assert [n for n, _ in ce.named_parameters()] == [n for n, _ in ct.named_parameters()]
    assert ce._orig_mod[0] is e[0] and len(ce) == len(ct) == 2
    ce.eval(), ct.eval()
    assert (ce.training, e.training, e[1].training) == (ct.training, t.training, t[1].training) == (False,) * 3
    ce.extra, ct.extra = 5, 5
    assert e.extra == t.extra == 5
    assert repr(ce).splitlines()[:2] == repr(ct).splitlines()[:2]


def test_function_and_decorators():
    @ember.compile
    def f(x):
        return x.sin() * 2

    @ember.compile(mode="reduce-overhead", fullgraph=True)
    def g(x):
        return x.cos()

    x = ember.randn(4)
    assert f.__name__ == "f" and numpy.array_equal(f(x).numpy(), (x.sin() * 2).numpy())
    assert numpy.array_equal(g(x).numpy(), x.cos().numpy())
    assert ember.compile(f, disable=True)(x).shape == (4,)


@pytest.mark.parametrize("kwargs", [{"backend": "nope"}, {"mode": "fast"},
                                    {"mode": "default", "options": {}}])
def test_bad_arguments_raise_as_in_torch(kwargs):
    with pytest.raises(Exception) as theirs:
        torch.compile(torch.nn.Linear(2, 2), **kwargs)
    with pytest.raises(Exception) as ours:
        ember.compile(ember.nn.Linear(2, 2), **kwargs)
    assert type(ours.value).__name__ == type(theirs.value).__name__
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(AssertionError, match="A callable function is expected"):
        ember.compile(3)


def test_compiler_namespace():
    assert not ember.compiler.is_compiling() and not ember.compiler.is_dynamo_compiling()
    seen = []

    @ember.compile
    def f(x):
        seen.append(ember.compiler.is_compiling())
        return x + 1
    f(ember.ones(2))
    f(ember.ones(2))
    assert seen == [True]   # traced once, then replayed without running Python
    ember.compiler.reset()
    f(ember.ones(2))
    assert seen == [True, True]
    ember._dynamo.reset()
    assert "inductor" in ember.compiler.list_backends() == torch.compiler.list_backends()


def _calls(function):
    calls = []

    def counted(*args):
        calls.append(1)
        return function(*args)
    return counted, calls


def test_each_guard_recompiles():
    model = ember.nn.Sequential(ember.nn.Linear(3, 3), ember.nn.Dropout(0.5))
    compiled = ember.compile(model)
    x = ember.randn(2, 3)
    compiled(x)
    compiled(x)
    cache = compiled._ember_compiled.cache
    assert len(cache) == 1
    compiled(ember.randn(5, 3))                          # shape
    compiled(ember.randn(2, 3, requires_grad=True))      # requires_grad
    with ember.no_grad():                                # grad mode
        compiled(x)
    compiled.eval()                                      # train/eval
    compiled(x)
    model[0].weight = ember.nn.Parameter(ember.randn(3, 3))   # parameter identity
    out = compiled(x)
    assert len(cache) == 6 and compiled._ember_compiled.reasons() == []
    assert numpy.array_equal(out.detach().numpy(), model(x).detach().numpy())
    with pytest.raises(RuntimeError):   # a dtype miss recompiles too: eager's error for float64 into float32
        compiled(x.double())


def test_guards_see_module_changes_made_between_calls():
    # the module part of the key is worked out again only when a snapshot of the modules differs: each change the
    # key reads, made after the key was last worked out, is still seen
    model = ember.nn.Sequential(ember.nn.Linear(3, 3))
    compiled = ember.compile(model)
    x = ember.randn(2, 3)
    compiled(x)
    compiled(x)
    cache = compiled._ember_compiled.cache
    model[0].weight.requires_grad_(False)                     # a parameter's requires_grad
    compiled(x)
    assert len(cache) == 2
    model[0].weight.data = ember.randn(3, 3)                  # new data: the same key, the new values
    assert numpy.array_equal(compiled(x).detach().numpy(), model(x).detach().numpy()) and len(cache) == 2
    model[0].register_buffer("extra", ember.zeros(1))         # a buffer added in place
    compiled(x)
    assert len(cache) == 3
    model.add_module("1", ember.nn.ReLU())                    # a child added
    assert numpy.array_equal(compiled(x).detach().numpy(), model(x).detach().numpy()) and len(cache) == 4
    model[0].bias = None                                      # a parameter removed
    assert numpy.array_equal(compiled(x).detach().numpy(), model(x).detach().numpy()) and len(cache) == 5
    calls = []
    model[1].register_forward_hook(lambda m, a, o: calls.append(1))   # a hook: eager, hooks and all
    compiled(x)
    assert calls == [1] and len(cache) == 5


def test_recompile_limit_then_eager_and_fullgraph_error():
    f = ember.compile(lambda x: x * 2, recompile_limit=2)
    for n in range(1, 5):
        assert numpy.array_equal(f(ember.ones(n)).numpy(), numpy.full(n, 2.0, numpy.float32))
    assert len(f._ember_compiled.cache) == 2
    g = ember.compile(lambda x: x * 2, recompile_limit=1, fullgraph=True)
    g(ember.ones(1))
    with pytest.raises(_dynamo.exc.FailOnRecompileLimitHit):
        g(ember.ones(2))


def test_graph_breaks_run_eagerly_and_fullgraph_raises():
    def item(x):
        return x * x.sum().item()

    def branch(x):
        return x + 1 if x.sum() > 0 else x - 1

    def into_input(x):
        x.add_(1)
        return x * 2

    def custom(x):
        class Double(ember.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2
        return Double.apply(x)

    for function in (item, branch, into_input, custom):
        compiled = ember.compile(function)
        for _ in range(2):
            x, y = ember.randn(3), None
            y = x.clone()
            assert numpy.array_equal(compiled(x).numpy(), function(y).numpy())
            assert numpy.array_equal(x.numpy(), y.numpy())
        assert len(compiled._ember_compiled.reasons()) == 1
        with pytest.raises(_dynamo.exc.Unsupported):
            ember.compile(function, fullgraph=True)(ember.randn(3))
    with pytest.raises(torch._dynamo.exc.Unsupported):   # PyTorch raises as well (it captures .item() though)
        torch.compile(branch, fullgraph=True, backend="eager")(torch.randn(3))


def test_module_compile_in_place_and_batchnorm_stats():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(4, 4), ember.nn.BatchNorm1d(4))
    eager = ember.nn.Sequential(ember.nn.Linear(4, 4), ember.nn.BatchNorm1d(4))
    eager.load_state_dict(model.state_dict())
    model.compile()
    assert list(model.state_dict()) == list(eager.state_dict())
    x = ember.randn(8, 4)
    for _ in range(3):
        with ember.no_grad():
            a, b = model(x), eager(x)
        assert numpy.array_equal(a.numpy(), b.numpy())
    for k, v in model.state_dict().items():
        assert numpy.array_equal(v.numpy(), eager.state_dict()[k].numpy()), k
    assert model._compiled_call_impl.reasons() == []


def test_hooks_and_double_backward():
    model = ember.nn.Linear(3, 1)
    compiled = ember.compile(model)
    calls = []
    model.register_forward_hook(lambda m, a, o: calls.append(1))
    compiled(ember.randn(2, 3))
    compiled(ember.randn(2, 3))
    assert calls == [1, 1]   # modules with hooks run eagerly, hooks and all
    f = ember.compile(lambda x: (x ** 3).sum())
    x = ember.randn(3, requires_grad=True)
    f(x)
    out = f(x)
    with pytest.raises(RuntimeError, match="double backward"):
        ember.autograd.grad(out, x, create_graph=True)


def test_compiler_disable_is_a_graph_break():
    @ember.compiler.disable
    def helper(x):
        return x * 3

    def f(x):
        return helper(x).sin()

    compiled = ember.compile(f)
    assert numpy.array_equal(compiled(ember.ones(2)).numpy(), f(ember.ones(2)).numpy())
    reason = "a call of test_compiler_disable_is_a_graph_break.<locals>.helper, marked by compiler.disable"
    assert compiled._ember_compiled.reasons() == [reason]
    with pytest.raises(_dynamo.exc.Unsupported):
        ember.compile(f, fullgraph=True)(ember.ones(2))


def test_input_gradients_and_freed_graph():
    def f(x, w):
        return (x @ w).relu().pow(2).sum(1)

    compiled = ember.compile(f)
    for _ in range(2):   # capture, then replay
        x, w = ember.randn(4, 3, requires_grad=True), ember.randn(3, 5, requires_grad=True)
        ex, ew = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
        compiled(x, w).sum().backward()
        f(ex, ew).sum().backward()
        assert numpy.array_equal(x.grad.numpy(), ex.grad.numpy())
        assert numpy.array_equal(w.grad.numpy(), ew.grad.numpy())
    out = compiled(x, w).sum()
    out.backward(retain_graph=True)
    out.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()
    assert compiled._ember_compiled.reasons() == []


SCALE = ember.full((3,), 2.0)


def test_constants_and_module_attributes_are_guarded():
    global SCALE

    def f(x):
        return x * SCALE

    compiled = ember.compile(f)
    x = ember.ones(3)
    assert compiled(x).tolist() == [2.0] * 3
    assert compiled(x).tolist() == [2.0] * 3
    SCALE = ember.full((3,), 5.0)
    assert compiled(x).tolist() == [5.0] * 3

    class Net(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale, self.offset = 2.0, ember.ones(3)

        def forward(self, x):
            return x * self.scale + self.offset

    net = Net()
    compiled = ember.compile(net)
    assert compiled(x).tolist() == [3.0] * 3
    compiled.scale = 3.0
    assert compiled(x).tolist() == [4.0] * 3
    net.offset = ember.zeros(3)
    assert compiled(x).tolist() == [3.0] * 3
    assert compiled._ember_compiled.reasons() == []


def test_retain_grad_inside_runs_eagerly():
    def f(x):
        h = x * 2
        h.retain_grad()
        return h.sum(), h

    compiled = ember.compile(f)
    for _ in range(2):
        x = ember.ones(3, requires_grad=True)
        out, h = compiled(x)
        out.backward()
        assert h.grad.tolist() == [1.0] * 3 and x.grad.tolist() == [2.0] * 3
    assert compiled._ember_compiled.reasons() == ["a hook on a tensor inside the compiled region"]


def test_default_dtype_is_guarded():
    compiled = ember.compile(lambda x: x + ember.zeros(3))
    x = ember.ones(3, dtype=ember.float64)
    assert compiled(x).dtype == compiled(x).dtype == ember.float64
    before = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    try:
        assert compiled(ember.ones(3)).dtype == ember.float64
    finally:
        ember.set_default_dtype(before)
    assert compiled(ember.ones(3)).dtype == ember.float32
    assert len(compiled._ember_compiled.cache) == 3


def test_dynamo_graph_break_is_compiling_and_dimension_marks():
    def broken(x):
        y = x + 1
        ember._dynamo.graph_break()
        return y * 2

    compiled = ember.compile(broken)
    assert numpy.array_equal(compiled(ember.ones(2)).numpy(), [4.0, 4.0])
    assert len(compiled._ember_compiled.reasons()) == 1
    with pytest.raises(_dynamo.exc.Unsupported):
        ember.compile(broken, fullgraph=True)(ember.ones(2))

    def marks(lib):
        t = lib.ones(3, 4)
        lib._dynamo.mark_dynamic(t, 0)
        lib._dynamo.maybe_mark_dynamic(t, [1])
        lib._dynamo.mark_static(t)
        return t._dynamo_dynamic_indices, t._dynamo_weak_dynamic_indices, t._dynamo_static_indices

    assert marks(ember) == marks(torch)

    def seen(lib):
        calls = []

        class Probe(lib.nn.Module):
            def forward(self, x):
                calls.append((lib.compiler.is_exporting(), lib.compiler.is_compiling(), lib._dynamo.is_compiling()))
                return x * 2

        probe = Probe()
        lib.export.export(probe, (lib.ones(2),))
        probe(lib.ones(2))
        return calls[0], calls[-1]

    assert seen(ember) == seen(torch)
    assert ember._dynamo.OptimizedModule is ember.compile(ember.nn.Linear(1, 1)).__class__


def test_dynamo_function_marks_and_static_address_match_torch():
    def marks(lib):
        t, u = lib.ones(2), lib.ones(2)
        lib._dynamo.mark_static_address(t)
        lib._dynamo.mark_static_address(u, guard=True)

        def fn(x):
            return x

        constant = lib._dynamo.assume_constant_result(fn)
        allowed = lib._dynamo.allow_in_graph(fn)
        return (t._dynamo_static_input_type, u._dynamo_static_input_type, constant is fn,
                fn._dynamo_marked_constant, allowed(3))

    assert marks(ember) == marks(torch)
    with pytest.raises(TypeError, match="mark_static_address expects a tensor but received <class 'int'>"):
        ember._dynamo.mark_static_address(1)


def test_transform_getitem_to_index_leaves_indexing_by_index_tensors_as_torch():
    from torch._dynamo._trace_wrapped_higher_order_op import TransformGetItemToIndex as Theirs

    from ember._dynamo._trace_wrapped_higher_order_op import TransformGetItemToIndex as Ours

    def mask(lib, transform):
        table = lib.tensor([0.0, 2.0, 4.0, 6.0])
        with transform():
            inner = lib.vmap(lambda q, kv: (kv <= q) & (table[q] > 1), in_dims=(None, 0))
            return lib.vmap(inner, in_dims=(0, None))(lib.arange(4), lib.arange(4)).numpy()

    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # ember's vmap warns that getitem has no batching rule
        assert numpy.array_equal(mask(ember, Ours), mask(torch, Theirs))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # torch._dynamo's first import (torch.jit.script_method)
def test_eval_frame_optimized_module_is_what_compile_returns():
    for lib in (ember, torch):
        compiled = lib.compile(lib.nn.Linear(2, 2))
        assert isinstance(compiled, lib._dynamo.eval_frame.OptimizedModule)
        assert not isinstance(lib.nn.Linear(2, 2), lib._dynamo.eval_frame.OptimizedModule)
        assert lib._dynamo.eval_frame.OptimizedModule is lib._dynamo.OptimizedModule
    assert ember._dynamo.eval_frame.is_dynamo_supported() == torch._dynamo.eval_frame.is_dynamo_supported()
