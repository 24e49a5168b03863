"""``__torch_dispatch__``: TorchDispatchMode and wrapper subclasses, each checked against PyTorch in the same test (the
ATen ops a logging mode records, values and gradients through the tutorial's wrapper subclass, the errors)."""
import contextlib
import gc
import importlib

import numpy
import pytest
import torch

import ember
from ember._python_dispatch import _hook as _python_dispatch
from ember.autograd import function as _function


@pytest.fixture(autouse=True)
def _fast_path_comes_back():
    """Once a test's modes are off and its subclass instances are gone, the next op removes the hook: ops take the
    fast path again (other test files see no hook)."""
    yield
    gc.collect(1)   # (a wrapper saved by its own node is a cycle; the young ones are enough)
    ember.ones(1) + 1
    assert _python_dispatch not in _function.dispatch_hooks and _function.dispatch_hooks == []


def _dispatch(lib):
    return importlib.import_module(lib.__name__ + ".utils._python_dispatch")


def _logging_mode(lib, log):
    class Logging(_dispatch(lib).TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            log.append(str(func))
            return func(*args, **(kwargs or {}))
    return Logging()


PROGRAMS = {
    "arithmetic": ("x = T.randn(3, 4); y = T.randn(3, 4)", "(x * y + x - y / 2).relu().exp().sum()"),
    "activations": ("x = T.randn(3, 4)", "[T.sigmoid(x), T.tanh(x), T.nn.functional.gelu(x), x.pow(2), "
                                          "T.sqrt(x.abs()), -x, T.clamp(x, -1, 1), T.maximum(x, x * 2)]"),
    "products": ("a = T.randn(3, 4); b = T.randn(4, 5); a3 = T.randn(2, 3, 4); b3 = T.randn(2, 4, 5)",
                 "[T.mm(a, b), T.matmul(a, b), a @ b, T.bmm(a3, b3), a @ b[:, 0], a.transpose(0, 1)]"),
    "linear": ("m = T.nn.Linear(4, 5); x = T.randn(3, 4); x3 = T.randn(2, 3, 4)", "[m(x), m(x3)]"),
    "convolution": ("m = T.nn.Conv2d(3, 4, 3, padding=1, stride=2); x = T.randn(1, 3, 8, 8)", "m(x)"),
    "normalization": ("x = T.randn(2, 4, 5)", "[T.nn.functional.layer_norm(x, (5,)), T.softmax(x, -1), "
                                              "T.log_softmax(x, 1)]"),
    "reductions": ("x = T.randn(3, 4); w = T.randn(4, 3); i = T.tensor([0, 2])",
                   "[x.sum(), x.sum(1), x.sum(0, keepdim=True), x.amax(0), x.max(), x.max(1), x.clone(), "
                   "T.nn.functional.embedding(i, w), x.argmax(), x > 0, T.cat([x, x], 1), x.to(T.float64)]"),
    "attention": ("q = T.randn(2, 3, 5, 8); k = T.randn(2, 3, 6, 8); m = T.rand(5, 6) > 0.3; r = T.randn(6, 2)",
                  "[T.nn.functional.scaled_dot_product_attention(q, k, k, attn_mask=m), "
                  "T.nn.functional.scaled_dot_product_attention(q, k, k, is_causal=True, scale=0.3), "
                  "T.bmm(q[0], k[0].transpose(1, 2)) @ r]"),
    "factories": ("x = T.ones(2, 3)", "[T.zeros(2, 3), T.ones(4, dtype=T.float64), T.empty(2), T.full((2,), 3.0), "
                                      "T.randn(2, 3), T.rand(2), T.arange(5), T.arange(0, 1, 0.25), T.zeros_like(x), "
                                      "T.ones_like(x, dtype=T.int64), T.full_like(x, 7), T.randn_like(x)]"),
    "inplace": ("x = T.ones(2, 3); y = T.ones(2, 3)",
                "[x.add_(1), x.add_(y, alpha=2), x.mul_(y), x.mul_(2), x.relu_(), x.clamp_(0, 1), x.sub_(y), "
                "x.div_(2), x.exp_(), x.copy_(y), x.zero_(), x.fill_(3)]"),
    "fused pointwise": ("x = T.randn(3, 4); y = T.rand(3, 4) + 1; h = x.to(T.bfloat16)",
                        "[T.addcmul(x, x, y, value=0.5), T.addcdiv(x, x, y, value=2.0), y.reciprocal(), "
                        "x.add(y, alpha=0.5), h.add(h, alpha=3)]"),
    "views": ("x = T.randn(3, 4, 5)", "[x[0], x[:, 1:3], x[1, :, 2], x[None], x.expand(2, 3, 4, 5), x.view(12, 5), "
                                      "x.reshape(-1)]"),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_logging_mode_records_pytorchs_aten_ops(name):
    setup, program = PROGRAMS[name]
    logs = []
    for lib in (ember, torch):
        log = []
        scope = {"T": lib}
        exec(setup, scope)
        with _logging_mode(lib, log):
            eval(program, scope)
        logs.append(log)
    assert logs[0] == logs[1]


def test_logging_mode_backward_products_and_gradients():
    """Backward ops differ in their pointwise steps (ember's formulas are its own), but a mode sees the same products
    in the same order, and the gradients are those of the program without the mode."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        x, w = lib.randn(3, 4, requires_grad=True), lib.randn(4, 2, requires_grad=True)
        log = []
        with _logging_mode(lib, log):
            out = (x @ w).relu().sum()
            forward = len(log)
            out.backward()
        results.append(([f for f in log[forward:] if f in ("aten.mm.default", "aten.bmm.default")],
                        x.grad.tolist(), w.grad.tolist()))
    assert results[0][0] == results[1][0] == ["aten.mm.default", "aten.mm.default"]
    assert torch.allclose(torch.tensor(results[0][1]), torch.tensor(results[1][1]))
    assert torch.allclose(torch.tensor(results[0][2]), torch.tensor(results[1][2]))


def test_mode_arguments_and_grad_flow():
    """Handlers get the tensors the program passed (``requires_grad`` as set), ATen's argument order and
    keywords, ``types`` empty for plain tensors; the result the handler returns gets the op's node."""
    seen = []
    for lib in (ember, torch):
        calls = []

        class Recording(_dispatch(lib).TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                calls.append((str(func), types, [a.requires_grad if isinstance(a, lib.Tensor) else a for a in args],
                              dict(kwargs or {})))
                return func(*args, **(kwargs or {}))
        x = lib.ones(2, 3, requires_grad=True)
        with Recording():
            y = x.sum(1, dtype=lib.float64)
            z = x * 3
        assert y.grad_fn is not None and z.grad_fn is not None
        seen.append([(f, t, a, {k: str(v) for k, v in kw.items()}) for f, t, a, kw in calls])
    assert seen[0] == [(f, t, a, {k: v.replace("torch.", "ember.") for k, v in kw.items()}) for f, t, a, kw in
                       seen[1]]


def test_modes_nest_and_handlers_run_below_their_mode():
    results = []
    for lib in (ember, torch):
        dispatch = _dispatch(lib)
        events = []

        class Named(dispatch.TorchDispatchMode):
            def __init__(self, name):
                super().__init__()
                self.name = name

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                current = dispatch._get_current_dispatch_mode()
                events.append((self.name, str(func), None if current is None else current.name))
                return func(*args, **(kwargs or {}))
        x = lib.ones(2)
        outer, inner = Named("outer"), Named("inner")
        with outer:
            with inner:
                assert dispatch._get_current_dispatch_mode() is inner
                assert dispatch._get_current_dispatch_mode_stack() == [outer, inner]
                x.exp()
            x.neg()
        assert dispatch._get_current_dispatch_mode() is None
        results.append(events)
    assert results[0] == results[1] == [("inner", "aten.exp.default", "outer"), ("outer", "aten.exp.default", None),
                                        ("outer", "aten.neg.default", None)]


def test_mode_leaves_the_fast_path_as_it_was():
    from ember import _python_dispatch
    before, zeros, add_ = list(_function.dispatch_hooks), ember.zeros, ember.Tensor.add_
    with _logging_mode(ember, []):
        assert len(_function.dispatch_hooks) == len(before) + 1 and ember.zeros is not zeros
        assert ember.Tensor.add_ is not add_
    assert _function.dispatch_hooks == before and not _python_dispatch.state.modes
    assert ember.zeros is zeros and ember.Tensor.add_ is add_


def test_inplace_op_under_a_mode_is_differentiated_as_without():
    results = []
    for lib in (ember, torch):
        log = []
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        with _logging_mode(lib, log):
            y = x * 2
            y.add_(1).mul_(x)
            y.relu_()
        y.sum().backward()
        results.append((log, y.tolist(), x.grad.tolist()))
    assert results[0][1:] == results[1][1:]
    saving = ("aten.clone.default", "aten.detach.default")   # PyTorch's autograd saving ops (ember's save no copy)
    assert results[0][0] == [f for f in results[1][0] if f not in saving]


def test_factory_keywords_reach_the_mode_as_pytorchs():
    seen = []
    for lib in (ember, torch):
        calls = []

        class Recording(_dispatch(lib).TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                calls.append((str(func), [a for a in args if not isinstance(a, lib.Tensor)],
                              {k: str(v).replace(lib.__name__ + ".", "") for k, v in (kwargs or {}).items()}))
                return func(*args, **(kwargs or {}))
        x = lib.ones(2)
        with Recording():
            a = lib.zeros((2, 3), dtype=lib.float64)
            b = lib.full_like(x, 2.5, dtype=lib.float16)
            c = lib.arange(1, 7, 2)
        assert a.dtype == lib.float64 and b.tolist() == [2.5, 2.5] and c.tolist() == [1, 3, 5]
        seen.append(calls)
    assert seen[0] == seen[1]


def test_wrapper_factories_like_go_to_the_subclass():
    results = []
    for lib in (ember, torch):
        log = []
        Wrapper = _wrapper_class(lib, log)
        w = Wrapper(lib.arange(3.0))
        out = [lib.zeros_like(w), lib.full_like(w, 4.0), lib.empty_like(w)]
        results.append(([type(o).__name__ for o in out], out[1].elem.tolist(), log))
    assert results[0] == results[1]


def test_mode_can_replace_results():
    """A handler's own result is the op's result, and autograd records the op's node behind it."""
    for lib in (ember, torch):
        class Doubling(_dispatch(lib).TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                return out * 2 if func is lib.ops.aten.exp.default else out
        x = lib.zeros(3, requires_grad=True)
        with Doubling():
            y = x.exp()
        assert y.tolist() == [2.0, 2.0, 2.0]
        y.sum().backward()
        assert x.grad.tolist() == [2.0, 2.0, 2.0]   # exp's backward reads the result it was given


def test_op_without_aten_counterpart_is_still_seen():
    """Every op reaches the mode: one ember computes without an ATen counterpart comes as torch.ops.ember.<Name>."""
    log = []
    x = ember.randn(5, 4)
    with _logging_mode(ember, log):
        v = x.var(0)
    assert log and all(f.startswith(("aten.", "ember.")) for f in log)
    assert torch.allclose(torch.from_numpy(v.numpy()), torch.from_numpy(x.numpy()).var(0))


def test_aten_calls_under_a_mode_reach_it():
    for lib in (ember, torch):
        log = []
        with _logging_mode(lib, log):
            out = lib.ops.aten.add.Tensor(lib.ones(2), lib.ones(2))
        assert out.tolist() == [2.0, 2.0] and log[-1] == "aten.add.Tensor"


def _wrapper_class(lib, log):
    pytree = importlib.import_module(lib.__name__ + ".utils._pytree")

    class Wrapper(lib.Tensor):
        """The tutorial's wrapper subclass: it unwraps, calls func, rewraps."""

        @staticmethod
        def __new__(cls, elem):
            r = lib.Tensor._make_wrapper_subclass(cls, elem.size(), strides=elem.stride(), dtype=elem.dtype,
                                                  device=elem.device, requires_grad=elem.requires_grad)
            r.elem = elem
            return r

        __torch_function__ = lib._C._disabled_torch_function_impl

        @classmethod
        def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
            log.append(str(func))

            def unwrap(e):
                return e.elem if isinstance(e, Wrapper) else e

            def wrap(e):
                return Wrapper(e) if isinstance(e, lib.Tensor) else e
            out = func(*pytree.tree_map(unwrap, args), **pytree.tree_map(unwrap, kwargs or {}))
            return pytree.tree_map(wrap, out)
    return Wrapper


def _plain(t):
    return t.elem if hasattr(t, "elem") else t


def test_wrapper_subclass_values_and_gradients():
    outcomes = []
    for lib in (ember, torch):
        log = []
        Wrapper = _wrapper_class(lib, log)
        lib.manual_seed(0)
        a, b, layer = lib.randn(3, 4), lib.randn(4, 2), lib.nn.Linear(2, 5)
        wa, wb = Wrapper(a), Wrapper(b)
        assert wa.shape == a.shape and wa.dtype == a.dtype and wa.stride() == a.stride()
        value = (wa @ wb).relu() * 2 + 1
        assert type(value) is Wrapper and lib.allclose(value.elem, (a @ b).relu() * 2 + 1)
        forward = list(log)
        wa.requires_grad_()
        wb.requires_grad_()
        loss = layer((wa @ wb).tanh()).sum()
        assert type(loss) is Wrapper
        loss.backward()
        # the plain program's gradients
        pa, pb = a.clone().requires_grad_(), b.clone().requires_grad_()
        layer.weight.grad = None
        layer(((pa @ pb).tanh())).sum().backward()
        assert lib.allclose(_plain(wa.grad), pa.grad) and lib.allclose(_plain(wb.grad), pb.grad)
        outcomes.append((forward, _plain(wa.grad).tolist(), _plain(wb.grad).tolist(), _plain(loss).item()))
    assert outcomes[0][0] == outcomes[1][0]
    assert torch.allclose(torch.tensor(outcomes[0][1]), torch.tensor(outcomes[1][1]))
    assert torch.allclose(torch.tensor(outcomes[0][2]), torch.tensor(outcomes[1][2]))
    assert outcomes[0][3] == pytest.approx(outcomes[1][3], rel=1e-6)


def test_wrapper_subclass_and_mode_together():
    """A mode sees the wrapper's op first; the wrapper's handler sees it when the mode's handler calls func."""
    results = []
    for lib in (ember, torch):
        wrapper_log, mode_log = [], []
        Wrapper = _wrapper_class(lib, wrapper_log)
        w = Wrapper(lib.ones(2))
        with _logging_mode(lib, mode_log):
            out = w + 1
        results.append((mode_log, wrapper_log, _plain(out).tolist()))
    assert results[0] == results[1]


def test_all_handlers_returning_notimplemented_raise_pytorchs_type_error():
    for lib in (ember, torch):
        class Declining(_dispatch(lib).TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                return NotImplemented

        class Refusing(lib.Tensor):
            @staticmethod
            def __new__(cls, elem):
                return lib.Tensor._make_wrapper_subclass(cls, elem.size(), dtype=elem.dtype)

            __torch_function__ = lib._C._disabled_torch_function_impl

            @classmethod
            def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
                return NotImplemented
        with pytest.raises(TypeError, match=r"^Multiple dispatch failed for 'torch\._ops\.aten\.exp\.default'; all "
                                            r"__torch_dispatch__ handlers returned NotImplemented:\n\n  - mode object "
                                            r"<.*Declining object at 0x[0-9a-f]+>\n\nFor more information, try "
                                            r"re-running with TORCH_LOGS=not_implemented$"):
            x = lib.ones(2)
            with Declining():
                x.exp()
        with pytest.raises(TypeError, match=r"^Multiple dispatch failed for 'torch\._ops\.aten\.add\.Tensor'; all "
                                            r"__torch_dispatch__ handlers returned NotImplemented:\n\n  - tensor "
                                            r"subclass <class '.*Refusing'>\n\n"):
            lib.add(Refusing(lib.ones(2)), lib.ones(2))


WRAPPED = {   # name -> (ops on a (4, 3) tensor w, given the library T and F = T.nn.functional; primitives recorded)
    "add": ("w + w * 2", "Add Mul"), "sub": ("w - 1.5", "Sub"), "div": ("w / (w + 1)", "Div"), "neg": ("-w", "Neg"),
    "exp": ("w.exp()", "Exp"), "log": ("w.log()", "Log"), "log1p": ("w.log1p()", "Log1p"),
    "expm1": ("w.expm1()", "Expm1"), "sqrt": ("w.sqrt()", "Sqrt"), "rsqrt": ("w.rsqrt()", "Rsqrt"),
    "reciprocal": ("(w + 2).reciprocal()", "AddScaled Reciprocal"),
    "trig": ("w.sin() + w.cos()", "Sin Cos"), "tanh": ("w.tanh()", "Tanh"), "sigmoid": ("w.sigmoid()", "Sigmoid"),
    "relu": ("(w - 1).relu()", "Relu"), "gelu": ("F.gelu(w, approximate='tanh')", "Gelu"),
    "pow": ("w.pow(3) + w.pow(w)", "Pow"), "abs": ("(w - 1).abs()", "Abs"), "clamp": ("w.clamp(0.6, 1.0)", "Clamp"),
    "where": ("T.where(w > 1, w, w * 3)", "Where"), "extremes": ("T.maximum(w, w * w) + T.minimum(w, 1 - w)",
                                                              "Maximum Minimum"),
    "leaky_relu": ("F.leaky_relu(w - 1, 0.2)", "LeakyRelu"), "hardtanh": ("F.hardtanh(w - 1)", "Hardtanh"),
    "products": ("T.mm(w, w.t()) + w @ w.t()", "Matmul Permute"),
    "bmm": ("T.bmm(w.unsqueeze(0), w.t().unsqueeze(0))", "Matmul Reshape"),
    "linear": ("F.linear(w, T.ones(2, 3), T.ones(2)).sum(1) + F.linear(T.ones(5, 3), w)[0]", "Linear"),
    "reductions": ("w.sum(0) + w.mean(0) + w.var(0) + w.logsumexp(0)",
                   "Sum SquaredDeviations Logsumexp"),
    "cumsum": ("w.cumsum(0)", "Cumsum"), "softmax": ("T.softmax(w, 1) + T.log_softmax(w, 0)", "Softmax LogSoftmax"),
    "views": ("w.reshape(12)[1:5].view(2, 2).transpose(0, 1).unsqueeze(0).expand(3, 2, 2)",
              "Reshape Slice Permute Expand"),
    "index": ("w[T.tensor([0, 2])] + w.index_select(0, T.tensor([3, 1])) + w.gather(1, T.tensor([[0], [1]]))",
              "Index IndexSelect Gather"),
    "join": ("T.cat([w, w * 2], 1)[:, :3] + T.stack([w, w]).sum(0)", "Cat Stack"),
    "split": ("w.split(2)[1] + w[:2].unbind(1)[0].unsqueeze(1)", "Split Unbind"),
    "rearrange": ("w.flip(0).repeat(2, 1) + F.pad(w, (1, 1))[:, :3].repeat(2, 1)", "Flip Repeat Pad"),
    "copies": ("w.double().float() + w.clone()", "Cast Clone"),
    "mse": ("F.mse_loss(w, T.zeros(4, 3))", "Sub Mul Sum"),
}


@pytest.mark.parametrize("name", sorted(WRAPPED))
def test_wrapper_subclass_gradients_equal_pytorchs(name):
    """The tutorial's wrapper computes what plain PyTorch tensors compute, forward and backward (ember records the
    op's node on the wrapper, whose backward's ops reach the wrapper's handler)."""
    program, _ = WRAPPED[name]
    rng = numpy.random.default_rng(0)
    data = (rng.random((4, 3)) + 0.5).astype(numpy.float32)
    outputs = []
    for lib in (ember, torch):
        scope = {"T": lib, "F": lib.nn.functional}
        Wrapper = _wrapper_class(lib, [])
        w = Wrapper(lib.tensor(data))
        w.requires_grad_()
        scope["w"] = w
        out = eval(program, scope)
        weights = lib.tensor(rng.standard_normal(tuple(out.shape)).astype(numpy.float32))
        rng = numpy.random.default_rng(0)
        rng.random((4, 3))   # the second library draws the same weights
        (out * Wrapper(weights)).sum().backward()
        outputs.append((_plain(out).detach().numpy(), _plain(w.grad).numpy()))
    numpy.testing.assert_allclose(outputs[0][0], outputs[1][0], rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(outputs[0][1], outputs[1][1], rtol=1e-5, atol=1e-5)


def test_wrapper_backwards_listed_are_the_ones_checked():
    from ember._dispatch_table import WRAPPER_BACKWARDS
    checked = {p for _, primitives in WRAPPED.values() for p in primitives.split()}
    assert WRAPPER_BACKWARDS - {"AddScaled"} <= checked | {"Mul"}


@pytest.mark.parametrize("program", ["w.amax(0)", "F.layer_norm(w, (3,))", "w.prod(1)",
                                     "F.conv1d(w.unsqueeze(0), T.ones(2, 4, 2))"])
def test_wrapper_subclass_refuses_a_backward_it_cannot_compute(program):
    """ember records a wrapper's node from its placeholders; an op whose backward reads arrays of what the forward
    saved is refused rather than differentiated wrongly (without grad it runs)."""
    Wrapper = _wrapper_class(ember, [])
    w = Wrapper(ember.rand(4, 3))
    scope = {"T": ember, "F": ember.nn.functional, "w": w}
    assert type(eval(program, scope)) is Wrapper
    w.requires_grad_()
    with pytest.raises(RuntimeError, match="ember cannot differentiate"):
        eval(program, scope)


def test_wrapper_gradient_reaching_an_array_formula_is_refused():
    Wrapper = _wrapper_class(ember, [])
    p = ember.randn(4, 3, requires_grad=True)
    out = (ember.nn.functional.layer_norm(p, (3,)) * Wrapper(ember.randn(4, 3))).sum()
    with pytest.raises(RuntimeError, match="ember cannot compute the backward of NativeLayerNorm"):
        out.backward()


def test_modes_are_per_thread():
    import threading
    for lib in (ember, torch):
        log = []
        x = lib.ones(2)
        with _logging_mode(lib, log):
            worker = threading.Thread(target=lambda: x.exp())
            worker.start()
            worker.join()
            x.neg()
        assert log == ["aten.neg.default"]


def _counting_mode(lib, counts):
    """A FLOP-counting dispatch mode as libraries write one (ptflops' aten backend, fvcore-style): PyTorch's own
    formulas (``torch.utils.flop_counter``) keyed by the ATen op's name."""
    from torch.utils import flop_counter as formulas
    rules = {"mm": formulas.mm_flop, "addmm": formulas.addmm_flop, "bmm": formulas.bmm_flop,
             "convolution": formulas.conv_flop}

    class Counting(_dispatch(lib).TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            name = func.overloadpacket.__name__
            calls, flops = counts.get(name, (0, 0))
            if name in rules:
                shapes = [tuple(a.shape) if isinstance(a, lib.Tensor) else a for a in args]
                flops += rules[name](*shapes, out_val=tuple(out.shape))
            counts[name] = (calls + 1, flops)
            return out
    return Counting()


MODELS = {
    "linear": ("m = T.nn.Sequential(T.nn.Linear(8, 16), T.nn.ReLU(), T.nn.Linear(16, 4)); x = T.randn(5, 8)", "m(x)"),
    "conv2d": ("m = T.nn.Sequential(T.nn.Conv2d(3, 8, 3, padding=1), T.nn.ReLU(), T.nn.Conv2d(8, 4, 3, stride=2)); "
               "x = T.randn(2, 3, 10, 10)", "m(x)"),
    "bmm": ("a = T.randn(4, 5, 6); b = T.randn(4, 6, 7)", "T.bmm(a, b) @ T.randn(7, 2)"),
    "attention": ("q = T.randn(2, 3, 5, 8); k = T.randn(2, 3, 6, 8); v = T.randn(2, 3, 6, 8); "
                  "mask = T.rand(5, 6) > 0.3; proj = T.nn.Linear(8, 8)",
                  "[T.nn.functional.scaled_dot_product_attention(proj(q), k, v), "
                  "T.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3), "
                  "T.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)]"),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_flop_counting_mode_totals_equal_pytorchs(name):
    setup, program = MODELS[name]
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        scope = {"T": lib}
        exec(setup, scope)
        counts = {}
        with _counting_mode(lib, counts):
            out = eval(program, scope)
        results.append((counts, [o.detach().numpy() for o in (out if isinstance(out, list) else [out])]))
    products = [{k: v for k, v in counts.items() if k in ("mm", "addmm", "bmm", "convolution") or "attention" in k}
                for counts, _ in results]
    assert products[0] == products[1]
    expected = {"linear": {"addmm"}, "conv2d": {"convolution"}, "bmm": {"bmm", "mm"},
                "attention": {"addmm", "_scaled_dot_product_flash_attention_for_cpu"}}[name]
    assert set(products[1]) == expected
    assert all(flops for key, (_, flops) in products[1].items() if "attention" not in key)
    for ours, theirs in zip(results[0][1], results[1][1]):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_wrapper_attention_runs_pytorchs_cpu_kernel_on_the_inner_tensors():
    outputs = []
    for lib in (ember, torch):
        log = []
        Wrapper = _wrapper_class(lib, log)
        lib.manual_seed(0)
        q, k = lib.randn(2, 3, 5, 8), lib.randn(2, 3, 6, 8)
        out = lib.nn.functional.scaled_dot_product_attention(Wrapper(q), Wrapper(k), Wrapper(k), is_causal=True)
        assert type(out) is Wrapper
        outputs.append((log, out.elem.numpy()))
    assert outputs[0][0] == outputs[1][0] == ["aten._scaled_dot_product_flash_attention_for_cpu.default"]
    numpy.testing.assert_allclose(outputs[0][1], outputs[1][1], rtol=1e-5, atol=1e-6)


def test_c_level_stack_functions():
    for lib in (ember, torch):
        dispatch = _dispatch(lib)
        assert lib.Tensor.__torch_dispatch__ is lib._C._disabled_torch_dispatch_impl
        outer, inner = dispatch.BaseTorchDispatchMode(), dispatch.BaseTorchDispatchMode()
        with outer, inner:
            assert lib._C._len_torch_dispatch_stack() == 2
            assert lib._C._get_dispatch_stack_at(0) is outer and lib._C._get_dispatch_stack_at(1) is inner
            with dispatch._pop_mode_temporarily() as popped:
                assert popped is inner and dispatch._get_current_dispatch_mode() is outer
            with dispatch._disable_current_modes() as old:
                assert old == [inner, outer] and lib._C._len_torch_dispatch_stack() == 0
            assert dispatch._get_current_dispatch_mode_stack() == [outer, inner]
        assert lib._C._len_torch_dispatch_stack() == 0


def test_aten_operators_are_kept_by_deepcopy():
    """Tables keyed by ATen operators are deep-copied by libraries (ptflops' FlopCounterMode): the keys stay."""
    import copy
    for lib in (ember, torch):
        table = {lib.ops.aten.mm: 1, lib.ops.aten.addmm.default: 2}
        copied = copy.deepcopy(table)
        assert list(copied) == list(table) and all(a is b for a, b in zip(copied, table))


_PTFLOPS = """
import torch
from ptflops import get_model_complexity_info
torch.manual_seed(0)
nn = torch.nn
models = [(nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10)), (32,)),
          (nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)),
           (3, 16, 16)),
          (nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), (5, 16))]
for model, shape in models:
    print(get_model_complexity_info(model.eval(), shape, backend="aten", as_strings=False,
                                    print_per_layer_stat=False, verbose=False))
"""


@pytest.mark.timeout(300)
def test_ptflops_aten_backend_counts_as_under_torch(tmp_path):
    """ptflops' ATen backend (a TorchDispatchMode keyed by torch.ops.aten) under ``ember run`` prints torch's MACs
    (the mode mechanism itself is checked against torch by test_flop_counting_mode_totals_equal_pytorchs)."""
    pytest.importorskip("ptflops")
    import subprocess
    import sys
    script = tmp_path / "count.py"
    script.write_text(_PTFLOPS)
    outputs = [subprocess.run([sys.executable, *launcher, str(script)], capture_output=True, text=True, timeout=240)
               for launcher in ((), ("-m", "ember", "run"))]
    assert outputs[0].returncode == 0 and outputs[1].returncode == 0, outputs[1].stderr[-2000:]
    assert outputs[1].stdout == outputs[0].stdout and "None" not in outputs[0].stdout


def test_wrapper_subclass_may_keep_its_inner_tensor_as_data():
    """PyTorch's tensors have no ``_data``, so wrapper subclasses use the name (PyG's ``Index``/``EdgeIndex``); the
    subclass's code reads what it set, ember's its own array."""
    results = []
    for lib in (ember, torch):
        class Kept(lib.Tensor):
            @staticmethod
            def __new__(cls, data):
                out = lib.Tensor._make_wrapper_subclass(cls, data.size(), strides=data.stride(), dtype=data.dtype,
                                                        device=data.device, requires_grad=False)
                out._data = data
                return out

            @classmethod
            def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
                unwrap = [a._data if isinstance(a, Kept) else a for a in args]
                out = func(*unwrap, **(kwargs or {}))
                return Kept(out) if isinstance(out, lib.Tensor) else out
        k = Kept(lib.arange(4.0))
        out = (k * 2 + 1)[1:]
        assert isinstance(out._data, lib.Tensor) and type(out._data) is lib.Tensor
        results.append((type(out).__name__, out._data.tolist(), tuple(out.shape), out.stride()))
    assert results[0] == results[1] == ("Kept", [3.0, 5.0, 7.0], (3,), (1,))


_PYG = """
import torch
from torch_geometric import EdgeIndex, Index
from torch_geometric.nn import GCNConv
idx = Index([0, 1, 1, 2], dim_size=3, is_sorted=True)
print(type(idx + 1).__name__, (idx + 1).tolist(), idx[1:].dim_size, Index([2, 0, 1], dim_size=3).sort()[0].is_sorted)
ei = EdgeIndex([[0, 1, 1, 2], [1, 0, 2, 1]], sparse_size=(3, 3), sort_order="row")
torch.manual_seed(1)
x = torch.randn(3, 4, requires_grad=True)
conv = GCNConv(4, 2)
out = conv(x, ei)
(out * torch.arange(6.0).reshape(3, 2)).sum().backward()
print(type(ei.flip(0)).__name__, [round(v, 4) for v in (ei.matmul(x).flatten().tolist() + out.flatten().tolist() +
                                                         x.grad.flatten().tolist())])
"""


@pytest.mark.timeout(300)
def test_pyg_index_and_edge_index_run_as_under_torch(tmp_path):
    """PyTorch Geometric's __torch_dispatch__ subclasses (Index, EdgeIndex: metadata kept through ops, sparse matmul,
    GCNConv's forward and backward) under ``ember run`` print what they print under torch (the subclass mechanism
    itself is checked against torch by the tests above)."""
    pytest.importorskip("torch_geometric")
    import subprocess
    import sys
    script = tmp_path / "pyg.py"
    script.write_text(_PYG)
    outputs = [subprocess.run([sys.executable, *launcher, str(script)], capture_output=True, text=True, timeout=240)
               for launcher in ((), ("-m", "ember", "run"))]
    assert outputs[0].returncode == 0 and outputs[1].returncode == 0, outputs[1].stderr[-2000:]
    assert outputs[1].stdout == outputs[0].stdout


@pytest.mark.parametrize("order", ["DF,F,D,FD,F", "FD,DF,F,D"])
def test_function_and_dispatch_modes_both_see_factories_in_any_order(order):
    """A TorchFunctionMode sees the public call, a TorchDispatchMode its ATen factory, whichever was entered first
    and however often (the factory wrappers of each protocol are put in and taken out around each other)."""
    from ember import overrides
    results = []
    for lib, function_mode in ((ember, overrides.TorchFunctionMode), (torch, torch.overrides.TorchFunctionMode)):
        steps = []
        for step in order.split(","):
            seen_function, seen_dispatch = [], []

            class Functions(function_mode):
                def __torch_function__(self, func, types, args=(), kwargs=None):
                    seen_function.append(func.__name__)
                    return func(*args, **(kwargs or {}))

            class Dispatch(_dispatch(lib).TorchDispatchMode):
                def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                    seen_dispatch.append(str(func))
                    return func(*args, **(kwargs or {}))
            modes = {"F": Functions, "D": Dispatch}
            outer = modes[step[0]]()
            inner = modes[step[1]]() if len(step) > 1 else contextlib.nullcontext()
            with outer, inner:
                lib.zeros(2).add_(1)
            steps.append((step, seen_function, seen_dispatch))
        results.append(steps)
    assert results[0] == results[1]


def test_return_and_correct_aliasing_returns_self_for_inplace_ops():
    results = []
    for lib in (ember, torch):
        dispatch = _dispatch(lib)

        class Aliasing(lib.Tensor):
            @staticmethod
            def __new__(cls, elem):
                out = lib.Tensor._make_wrapper_subclass(cls, elem.size(), dtype=elem.dtype, device=elem.device)
                out.elem = elem
                return out

            __torch_function__ = lib._C._disabled_torch_function_impl

            @classmethod
            def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
                inner = [a.elem if isinstance(a, Aliasing) else a for a in args]
                out = func(*inner, **(kwargs or {}))
                out = Aliasing(out) if isinstance(out, lib.Tensor) else out
                return dispatch.return_and_correct_aliasing(func, args, kwargs or {}, out)
        w = Aliasing(lib.zeros(3))
        same = w.add_(2) is w
        plain = w.add(1)
        results.append((same, type(plain).__name__, plain.elem.tolist(), w.elem.tolist()))
    assert results[0] == results[1] == (True, "Aliasing", [3.0, 3.0, 3.0], [2.0, 2.0, 2.0])
