"""A traced model run under autocast casts as eager code does, with PyTorch's dtypes: the ops the IR keeps whole
(max_pool3d, interpolate, recurrent layers) go through autocast's hook when the interpreter runs them, and the nodes
a listed op was recorded as (linear as ``ember::Linear``) name that call (a region), which the interpreter runs as the
one call while autocast is on; also after save/load, freezing and compiling. Outside autocast the recorded nodes run."""
import io

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning"),
              # ember's cross entropy checks its targets with a Python bool (a constant of the trace)
              pytest.mark.filterwarnings("ignore:Converting a tensor to a Python boolean")]


class _Pooled(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = ember.nn.Linear(4, 4)

    def forward(self, x):
        return ember.nn.functional.max_pool3d(x, 2), self.linear(x)


def _loaded(module, example):
    buffer = io.BytesIO()
    ember.jit.save(ember.jit.trace(module, example), buffer)
    buffer.seek(0)
    return ember.jit.load(buffer)


def test_composites_kept_by_the_trace_are_autocast_when_a_loaded_model_runs():
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4, 4)).astype(np.float32)
    model = _Pooled()
    loaded = _loaded(model, ember.tensor(x))
    assert "ember::max_pool3d" in str(loaded.graph) and "ember::Linear" in str(loaded.graph)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = torch.nn.functional.max_pool3d(torch.tensor(x).bfloat16(), 2)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        pooled, projected = loaded(ember.tensor(x).bfloat16())
        eager, _ = model(ember.tensor(x).bfloat16())
    assert pooled.dtype is ember.float32 and eager.dtype is ember.float32 and expected.dtype is torch.float32
    np.testing.assert_allclose(pooled.numpy(), expected.numpy())
    assert projected.dtype is ember.bfloat16   # a 16-bit input: linear's region is cast to bfloat16



@pytest.mark.parametrize("layer", ["LSTM", "GRU", "RNN"])
def test_a_loaded_recurrent_layer_is_autocast_as_in_eager_code(layer):
    """A recurrent layer is one node whose run calls the layer's forward, which dispatches as ``lstm``/``gru``/..."""
    x = np.random.default_rng(1).standard_normal((5, 2, 4)).astype(np.float32)
    torch.manual_seed(0)
    reference = getattr(torch.nn, layer)(4, 3)
    model = getattr(ember.nn, layer)(4, 3)
    model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    loaded = _loaded(model, ember.tensor(x))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected, _ = torch.jit.trace(reference, torch.tensor(x))(torch.tensor(x))
    with ember.autocast("cpu", dtype=ember.bfloat16):
        got, _ = loaded(ember.tensor(x))
    assert _name(got.dtype) == _name(expected.dtype)
    np.testing.assert_allclose(got.float().detach().numpy(), expected.float().detach().numpy(), atol=3e-2, rtol=3e-2)


def _mixed(T):
    """A model calling lower-precision (conv, linear, matmul, bmm, mm, addmm), float32 (losses, prod, cdist,
    svdvals) and promote (cat, stack) ops, and log_softmax (listed on CUDA only)."""
    F = T.nn.functional

    class Mixed(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = T.nn.Conv2d(2, 4, 3, padding=1)
            self.linear = T.nn.Linear(16, 4)

        def forward(self, x, y, target):
            h = self.conv(x).flatten(2)
            a = self.linear(h)
            b = T.matmul(a, a.transpose(1, 2))
            c = T.bmm(b, y)
            d = T.mm(c[0], y[1])
            e = T.addmm(y[0], d, y[1])
            return (h, a, b, c, d, e, F.cross_entropy(e, target), F.mse_loss(d, y[0]), T.cat([e, y[0]], 0),
                    T.stack([d, e]), T.log_softmax(e, -1), T.prod(e, 1), T.cdist(d, e), T.linalg.svdvals(e),
                    F.smooth_l1_loss(e, d))
    return Mixed()


_SOFTMAX = 10   # TorchScript's own autocast pass runs a traced log_softmax in float32 on the CPU, eager PyTorch in
                # the input's dtype; ember's traced model does what eager code does in both


def _pair(build):
    torch.manual_seed(0)
    reference, model = build(torch), build(ember)
    model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    return reference, model


def _inputs():
    rng = np.random.default_rng(2)
    return (rng.standard_normal((2, 2, 4, 4)).astype(np.float32), rng.standard_normal((2, 4, 4)).astype(np.float32),
            np.array([0, 3, 1, 2]))


def _name(dtype):
    return str(dtype).split(".")[-1]


def _check(got, expected, exact=None):
    for i, (g, e) in enumerate(zip(got, expected)):
        assert _name(g.dtype) == _name(e.dtype), (i, g.dtype, e.dtype)
        np.testing.assert_allclose(g.detach().float().numpy(), e.detach().float().numpy(), rtol=2e-2, atol=2e-2,
                                   err_msg=f"output {i}")
    for i, (g, e) in enumerate(zip(got, exact or ())):
        np.testing.assert_array_equal(g.detach().float().numpy(), e.detach().float().numpy(), err_msg=f"output {i}")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_traced_and_loaded_models_cast_every_listed_op_as_eager_code_and_torch(dtype):
    reference, model = _pair(_mixed)
    x, y, t = _inputs()
    ours, theirs = (ember.tensor(x), ember.tensor(y), ember.tensor(t)), (torch.tensor(x), torch.tensor(y),
                                                                         torch.tensor(t))
    traced = ember.jit.trace(model, ours)
    loaded = _loaded(model, ours)
    torch_traced = torch.jit.trace(reference, theirs)
    with torch.autocast("cpu", dtype=getattr(torch, dtype)):
        expected = list(torch_traced(*theirs))
        expected[_SOFTMAX] = reference(*theirs)[_SOFTMAX]
    with ember.autocast("cpu", dtype=getattr(ember, dtype)):
        eager = model(*ours)
        got_traced, got_loaded = traced(*ours), loaded(*ours)
    assert [_name(e.dtype) for e in expected].count("float32") == 7   # the float32 list and cat's promotion
    _check(got_traced, expected, exact=eager)
    _check(got_loaded, expected, exact=eager)
    outside = model(*ours)   # outside autocast the recorded nodes run, in float32
    _check(traced(*ours), outside, exact=outside)
    _check(loaded(*ours), outside, exact=outside)


def test_a_torchscript_archive_frozen_compiled_and_scripted_models_are_autocast():
    """A PyTorch archive (aten::linear, aten::_convolution), a frozen trace, a compiled trace and a scripted module
    under autocast."""
    def build(T):
        return T.nn.Sequential(T.nn.Conv2d(2, 3, 3), T.nn.ReLU(), T.nn.Flatten(), T.nn.Linear(12, 5))
    reference, model = _pair(build)
    x = np.random.default_rng(3).standard_normal((2, 2, 4, 4)).astype(np.float32)
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.trace(reference, torch.tensor(x)), buffer)
    buffer.seek(0)
    archive = ember.jit.load(buffer)
    buffer.seek(0)
    torch_archive = torch.jit.load(buffer)
    traced = ember.jit.trace(model.eval(), ember.tensor(x))
    frozen = ember.jit.freeze(traced)
    compiled = ember.compile(traced)
    scripted = ember.jit.script(model)   # fn:: nodes call the public ops, which dispatch as conv2d and linear
    torch_frozen = torch.jit.freeze(torch.jit.trace(reference.eval(), torch.tensor(x)))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected, frozen_expected = torch_archive(torch.tensor(x)), torch_frozen(torch.tensor(x))
    with ember.autocast("cpu", dtype=ember.bfloat16):
        eager = model(ember.tensor(x))
        got = [archive(ember.tensor(x)), frozen(ember.tensor(x)), compiled(ember.tensor(x)), scripted(ember.tensor(x))]
    assert expected.dtype is torch.bfloat16 and frozen_expected.dtype is torch.bfloat16
    _check(got, [expected, frozen_expected, expected, expected], exact=[eager] * 4)
    assert compiled(ember.tensor(x)).dtype is ember.float32


def test_gradients_through_a_traced_model_under_autocast_are_those_of_eager_code():
    _, model = _pair(_mixed)
    x, y, t = _inputs()
    ours = (ember.tensor(x), ember.tensor(y), ember.tensor(t))
    traced = ember.jit.trace(model, ours)
    grads = []
    for run in (model, traced):
        model.zero_grad()
        with ember.autocast("cpu", dtype=ember.bfloat16):
            out = run(*ours)
        (out[6] + out[1].float().sum()).backward()
        grads.append({name: p.grad.clone() for name, p in model.named_parameters()})
    for name, grad in grads[1].items():
        assert grad.dtype is ember.float32
        np.testing.assert_array_equal(grad.numpy(), grads[0][name].numpy(), err_msg=name)


def test_a_model_traced_with_the_autocast_cache_off_saves_and_computes_in_16_bits_as_torch():
    """Tracing records the casts (PyTorch's tracer too, as ``aten::to``), so the model casts wherever it runs; with the
    cache on, both refuse to record the cached float32 parameter's cast as a constant."""
    reference, model = _pair(lambda T: T.nn.Linear(4, 3))
    x = np.random.default_rng(4).standard_normal((2, 4)).astype(np.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16, cache_enabled=False):
        torch_traced = torch.jit.trace(reference, torch.tensor(x))
    with ember.autocast("cpu", dtype=ember.bfloat16, cache_enabled=False):
        loaded = _loaded(model, ember.tensor(x))
    buffer = io.BytesIO()
    torch.jit.save(torch_traced, buffer)
    buffer.seek(0)
    expected = torch.jit.load(buffer)(torch.tensor(x))
    got = loaded(ember.tensor(x))
    assert expected.dtype is torch.bfloat16 and got.dtype is ember.bfloat16
    np.testing.assert_allclose(got.float().detach().numpy(), expected.float().detach().numpy(), rtol=1e-2, atol=1e-2)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        assert loaded(ember.tensor(x)).dtype is ember.bfloat16
    for T, m, v in ((torch, reference, torch.tensor(x)), (ember, model, ember.tensor(x))):
        with T.autocast("cpu", dtype=T.bfloat16), pytest.raises(RuntimeError, match="requires grad as a constant"):
            T.jit.trace(m, v)


def test_attention_projections_are_linear_calls_so_attention_is_autocast_as_in_torch():
    """multi_head_attention_forward projects with ``linear`` (a float32 bias added after a 16-bit matmul made the
    output float32); eager and traced, with batch and sequence sizes other than the traced ones."""
    def build(T):
        class Attention(T.nn.Module):
            def __init__(self):
                super().__init__()
                self.attention = T.nn.MultiheadAttention(8, 2, batch_first=True)

            def forward(self, x):
                return self.attention(x, x, x)
        return Attention().eval()
    reference, model = _pair(build)
    rng = np.random.default_rng(5)
    traced = ember.jit.trace(model, ember.tensor(rng.standard_normal((2, 5, 8)).astype(np.float32)))
    x = rng.standard_normal((3, 4, 8)).astype(np.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = reference(torch.tensor(x))
    with ember.autocast("cpu", dtype=ember.bfloat16):
        eager, got = model(ember.tensor(x)), traced(ember.tensor(x))
    assert _name(expected[0].dtype) == "bfloat16"
    _check(got, expected, exact=eager)


def test_regions_follow_the_passes_and_stand_down_where_their_call_would_differ():
    """optimize_for_inference drops the dropout before a linear (its region then reads the dropout's input) and the
    model is still cast; a region whose inner value a later node reads runs as its recorded nodes instead."""
    def build(T):
        return T.nn.Sequential(T.nn.Conv2d(2, 3, 3), T.nn.Flatten(), T.nn.Dropout(0.5), T.nn.Linear(12, 5))
    _, model = _pair(build)
    x = ember.tensor(np.random.default_rng(6).standard_normal((2, 2, 4, 4)).astype(np.float32))
    optimized = ember.jit.optimize_for_inference(ember.jit.trace(model.eval(), x))
    assert not any("dropout" in node.kind for node in optimized.graph.nodes)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        eager, got = model(x), optimized(x)
    _check([got], [eager], exact=[eager])

    # an unbatched input: conv2d's region is unsqueeze, the convolution (which adds the bias) and squeeze
    _, model = _pair(lambda T: T.nn.Sequential(T.nn.Conv2d(2, 3, 3), T.nn.Flatten(0), T.nn.Linear(12, 5)))
    x = x[0]
    traced = ember.jit.trace(model, x)
    graph = traced.graph
    convolution = next(node for node in graph.nodes if node.kind == "ember::Convolution")
    assert convolution.region is not None and convolution.region.op == "conv2d"
    node = ember.jit._ir.Node("ember::Relu", [convolution.outputs[0]])   # reads a value made inside conv2d's region
    graph.add_node(node, [convolution.outputs[0].type])
    graph.output = graph.add_node(ember.jit._ir.Node("prim::TupleConstruct", [graph.output, node.outputs[0]]),
                                  ["(Tensor, Tensor)"])[0]
    traced._define("forward", graph)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        logits, inner = traced(x)
    assert inner.dtype is ember.float32 and logits.dtype is ember.bfloat16   # linear's region still runs as its call
    expected = ember.nn.functional.conv2d(x[None], model[0].weight, model[0].bias).relu()   # as recorded, in float32
    np.testing.assert_allclose(inner.detach().numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_a_loaded_region_must_name_a_composite_that_tracing_records_inside():
    import json
    buffer = io.BytesIO()
    ember.jit.save(ember.jit.trace(ember.nn.Linear(4, 3), ember.randn(2, 4)), buffer)
    buffer.seek(0)
    archive = ember.load(buffer, weights_only=True)
    program = json.loads(archive["program"])
    assert [region["op"] for region in program["methods"]["forward"]["regions"]] == ["linear"]
    program["methods"]["forward"]["regions"][0]["op"] = "Linear"   # a primitive, not a call tracing looked into
    archive["program"] = json.dumps(program)
    tampered = io.BytesIO()
    ember.save(archive, tampered)
    tampered.seek(0)
    with pytest.raises(RuntimeError, match="a region names 'Linear', which is no composite op"):
        ember.jit.load(tampered)


def test_a_convolution_optimize_for_inference_folded_a_batch_norm_into_runs_uncast_as_in_torch():
    """The folded convolution no longer is the call its region recorded (PyTorch's becomes an MKLDNN convolution,
    which autocast does not cast either): both compute it in float32."""
    def build(T):
        return T.nn.Sequential(T.nn.Conv2d(2, 3, 3), T.nn.BatchNorm2d(3), T.nn.ReLU()).eval()
    reference, model = _pair(build)
    x = np.random.default_rng(7).standard_normal((2, 2, 6, 6)).astype(np.float32)
    theirs = torch.jit.optimize_for_inference(torch.jit.trace(reference, torch.tensor(x)))
    ours = ember.jit.optimize_for_inference(ember.jit.trace(model, ember.tensor(x)))
    assert not any("batch_norm" in node.kind for node in ours.graph.nodes)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = theirs(torch.tensor(x))
    with ember.autocast("cpu", dtype=ember.bfloat16):
        got = ours(ember.tensor(x))
    assert expected.dtype is torch.float32
    _check([got], [expected])
