"""jit.trace / trace_module: graphs replay eager ember and torch.jit.trace's outputs; TracerWarnings; check_trace."""
import io
import warnings

import numpy
import pytest
import torch

import ember
import ember.jit as jit
import ember.nn as nn
import ember.nn.functional as F
from tests.jit.models import cnn, mlp, pair


def _torch_trace(model, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch 2.13 deprecates torch.jit.trace
        return torch.jit.trace(model, x)


@pytest.mark.parametrize("builder, shape", [(mlp, (3, 12)), (cnn, (2, 1, 12, 12))])
def test_trace_matches_eager_and_torch_jit_on_other_batch_sizes(builder, shape):
    ember_model, torch_model = pair(builder)
    traced = jit.trace(ember_model, ember.randn(*shape))
    torch_traced = _torch_trace(torch_model, torch.randn(*shape))
    for batch in (1, 5):
        x = numpy.random.randn(batch, *shape[1:]).astype(numpy.float32)
        got = traced(ember.from_numpy(x)).detach().numpy()
        numpy.testing.assert_allclose(got, ember_model(ember.from_numpy(x)).detach().numpy(), rtol=0, atol=0)
        numpy.testing.assert_allclose(got, torch_traced(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_traced_module_is_a_module_sharing_parameters():
    model = cnn(nn).eval()
    traced = jit.trace(model, ember.randn(2, 1, 12, 12))
    assert [n for n, _ in traced.named_modules()] == [n for n, _ in model.named_modules()]
    assert list(traced.state_dict()) == list(model.state_dict())
    assert traced.conv1.weight is model.conv1.weight
    assert "original_name=Net" in repr(traced)
    traced.train()
    assert traced.training and traced.fc1.training
    traced.eval()
    assert not traced.conv2.training


def test_graph_and_code_name_ops_types_and_parameters():
    traced = jit.trace(cnn(nn).eval(), ember.randn(2, 1, 12, 12))
    graph = str(traced.graph)
    assert graph.startswith("graph(%x : Float(2, 1, 12, 12, strides=[144, 144, 12, 1]")
    for text in ('prim::GetAttr[name="conv1.weight"]', "ember::Convolution(", "ember::max_pool2d(",
                 "ember::Linear(", "ember::LogSoftmax(", "aten::size(", "# fc1"):
        assert text in graph
    code = traced.code
    assert code.startswith("def forward(self, x: Tensor):")
    assert "self.fc2.weight" in code and "ops.Linear(" in code and code.rstrip().splitlines()[-1].startswith("  return")


def test_traced_module_trains_like_eager():
    model = mlp(nn)
    traced = jit.trace(model, ember.randn(3, 12))
    x, target = ember.randn(6, 12), ember.randn(6, 4)
    F.mse_loss(traced(x), target).backward()
    traced_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    F.mse_loss(model(x), target).backward()
    for a, b in zip(traced_grads, model.parameters()):
        numpy.testing.assert_allclose(a.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_trace_function_and_tuple_outputs():
    def f(x, y):
        return x * 2 + y, (x - y).relu()
    traced = jit.trace(f, (ember.randn(3), ember.randn(3)))
    a, b = ember.randn(4), ember.randn(4)
    got = traced(a, b)
    assert isinstance(got, tuple) and len(got) == 2
    numpy.testing.assert_allclose(got[0].numpy(), (a * 2 + b).numpy())
    numpy.testing.assert_allclose(got[1].numpy(), (a - b).relu().numpy())
    assert "prim::TupleConstruct" in str(traced.graph)


def test_indexing_embedding_and_comparisons_are_recorded_not_frozen():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(10, 3)

        def forward(self, indices, x):
            return self.embedding(indices).sum(1) * (x[:, :3] > 0).float() + x[:, 1:4][0] + x[indices[0, 0], 1:4]
    model = Model()
    traced = jit.trace(model, (ember.tensor([[1, 2], [0, 1]]), ember.randn(2, 5)), check_trace=False)
    indices, x = ember.tensor([[1, 7], [0, 9]]), ember.randn(2, 5)
    numpy.testing.assert_allclose(traced(indices, x).detach().numpy(), model(indices, x).detach().numpy())


def test_type_promotion_and_logical_ops_are_recorded_not_frozen(tmp_path):
    """A bool mask or an int64 tensor promoted by arithmetic, and & | ^ ~ on masks, follow the inputs (also after
    save and load, where the casts' dtypes are constants of the graph)."""
    class Model(nn.Module):
        def forward(self, x, counts):
            return x * (x > 0) + counts + ((x < 1) & ~(x < -1) ^ (counts > 2)) + (counts & 6) + x.isnan()
    model = Model()
    traced = jit.trace(model, (ember.randn(4), ember.tensor([1, 2, 3, 4])))
    jit.save(traced, tmp_path / "model.pt")
    x, counts = ember.tensor([1.5, -1.0, 0.5, -3.0]), ember.tensor([7, 0, 3, 12])
    for run in (traced, jit.load(tmp_path / "model.pt")):
        numpy.testing.assert_array_equal(run(x, counts).numpy(), model(x, counts).numpy())


GENERALIZES = {
    "creation like": lambda x, i: ember.zeros_like(x) + x.new_zeros(x.shape) + ember.full_like(x, -1.0),
    "masked_fill": lambda x, i: x.masked_fill(x < 0, 0.0) + x.masked_fill(i > 1, 3.0),
    "bool index": lambda x, i: x[x > 0].sum(),
    "gather/scatter": lambda x, i: ember.zeros_like(x).scatter(1, i, x) + x.gather(1, i),
    "argmax one_hot": lambda x, i: F.one_hot(x.argmax(1), 4).float(),
    "sort/topk": lambda x, i: x.sort(1).values + x.topk(4, 1).indices,
    "int casts": lambda x, i: (x * 10).long() + i + (x * 10).to(ember.int64) + i.type_as(x) * x,
    "int division": lambda x, i: i // 2 + (-i) // 3 + i / 3 + i % 3 + x % 1.0 + x // 0.5,
    "int powers and signs": lambda x, i: x.abs() ** i + ember.sign(x) * i + i.abs() - i,
    "bool reductions": lambda x, i: (x > 0).float().mean() + (x > 0).sum() + (x > 0).any(1).float().sum(),
    "cumsum of ints": lambda x, i: i.cumsum(1) + x,
    "data-sized results": lambda x, i: ember.bincount(i.flatten(), minlength=4).sum() * (x > 0).nonzero().sum()
    + ember.unique(i).sum(),
    "mixed maximum": lambda x, i: ember.maximum(x, i) + ember.where(i > 1, 1.0, 0.0) + i * 0.5 + (i + 1.5),
    "losses": lambda x, i: F.cross_entropy(x, i[:, 0]) + F.nll_loss(F.log_softmax(x, 1), i[:, 1]),
    "counts": lambda x, i: ember.count_nonzero(x > 0) * x + x.bool().float() + (~(i > 1)).float(),
    "writes through a key": lambda x, i: _written(x, i),
    "in-place ops on views": lambda x, i: _written_views(x, i),
    "computed on arrays": lambda x, i: ember.searchsorted(x.sort(1).values, x) + ember.bucketize(x, x[0].sort().values)
    + ember.histc(x, bins=4, min=-2, max=2).sum() + ember.stack(ember.where(x > 0)).sum()
    + x.repeat_interleave(i[0], dim=1).sum() + ember.unique_consecutive(i.flatten()).sum(),
    "norms, no-derivative ops and linalg": lambda x, i: x.norm(p=1) + x.norm(p=0) + ember.heaviside(x, x.flip(0))
    + 3.0 % x + ember.linalg.svdvals(x).sum() + ember.linalg.matrix_rank(x * (x > 0)) + x.quantile(0.3, dim=1).sum()
    + ember.isin(i, i[0]).sum() + ember.histogram(x, 4).hist.sum() * ember.linalg.lu(x[:, :3])[0].sum(),
    "special functions and frexp": lambda x, i: ember.special.bessel_j0(x) + ember.special.airy_ai(x)
    + ember.special.chebyshev_polynomial_t(x, 3) + ember.special.hermite_polynomial_h(x, i) + ember.frexp(x)[1],
    "a tensor made inside, then written": lambda x, i: ember.zeros(4).index_put_((i.flatten(),), x.flatten(),
                                                                                  accumulate=True),
    "index ops": lambda x, i: x.index_select(1, i[0]) + x.take(i) + x.index_fill(1, i[1, :2], -1.0)
    + x.index_add(1, i[2], x, alpha=2) + x.masked_scatter(x > 0, x * 10) + x.put(i[0], x[1]),
    "index_put": lambda x, i: x.index_put((i[:, 0].clamp(max=2),), x[0], accumulate=True)
    + x.index_put((x > 0,), x.sum()),
}


def _written_views(x, i):
    y = x * 1
    y[0].mul_(i[0])
    y.view(-1)[:3].add_(x[1, :3])
    y.t()[1].zero_()
    y[1:, ::2] += i[1:, ::2]
    return y + x.masked_select(x > 0).sum()


def _written(x, i):
    y = x.clone()
    y[y > 0] = 0.5
    y[:, 1] = y[:, 2] * i[:, 0]
    y[i[0, :2].clamp(max=2)] = y[2] + 1
    return y


@pytest.mark.parametrize("name", GENERALIZES)
def test_traced_function_follows_new_inputs(name):
    """Traced on one input, run on another: equal to eager (nothing computed from the inputs was frozen)."""
    rng = numpy.random.default_rng(0)
    first = (ember.tensor(rng.standard_normal((3, 4)).astype(numpy.float32)), ember.tensor(rng.integers(0, 4, (3, 4))))
    other = (ember.tensor(rng.standard_normal((3, 4)).astype(numpy.float32) * 3),
             ember.tensor(rng.integers(-3, 4, (3, 4)).clip(0) if name in ("gather/scatter", "losses", "data-sized "
                                                                          "results", "index ops", "computed on arrays",
                                                                          "a tensor made inside, then written") else rng.integers(-3, 4, (3, 4))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jit.TracerWarning)
        traced = jit.trace(GENERALIZES[name], first, check_trace=False)
    numpy.testing.assert_allclose(traced(*other).numpy(), GENERALIZES[name](*other).numpy(), rtol=1e-6)


def test_in_place_ops_are_followed():
    def f(x):
        y = x * 3
        y.relu_()
        return y + 1
    traced = jit.trace(f, ember.randn(4))
    x = ember.tensor([-1.0, 2.0, -3.0, 4.0])
    numpy.testing.assert_allclose(traced(x).numpy(), [1.0, 7.0, 1.0, 13.0])


@pytest.mark.parametrize("convert, what", [(bool, "a Python boolean"), (float, "a Python float"),
                                           (int, "a Python integer"), (lambda t: t.item(), "a Python number"),
                                           (lambda t: t.tolist(), "a Python list"),
                                           (lambda t: t.numpy(), "a NumPy array")])
def test_tracer_warns_when_a_tensor_becomes_a_python_value(convert, what):
    def f(x):
        convert(x.sum() > 0 if convert is bool else x.sum())
        return x + 1
    with pytest.warns(jit.TracerWarning, match=f"Converting a tensor to {what} might cause the trace to be incorrect"):
        jit.trace(f, ember.ones(3))


def _constant_and_len_warnings(lib):
    # Pyro's models call len(data) and torch.tensor(...) inside JitTrace_ELBO: torch warns at each such line
    def f(x):
        a = lib.tensor([1.0, 2.0])
        b = lib.as_tensor(numpy.ones(2, dtype=numpy.float32))
        c = lib.from_numpy(numpy.ones(2, dtype=numpy.float32))
        d = lib.asarray([1.0, 2.0])
        e = x.new_tensor([1.0, 2.0])
        return x[:len(x)] + a + b + c + d + e + len(lib.ones(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lib.jit.trace(f, (lib.ones(2),), check_trace=False)
    return [(w.category.__name__, str(w.message)[:28], w.filename, w.lineno) for w in caught
            if w.category is not DeprecationWarning]


def test_tracer_warns_where_data_becomes_constants_and_len_reads_a_size():
    ours, theirs = _constant_and_len_warnings(ember), _constant_and_len_warnings(torch)
    assert ours == theirs and [message for _, message, _, _ in theirs] == [
        "torch.tensor results are reg", "torch.as_tensor results are ", "torch.from_numpy results are",
        "Using len to get tensor shap", "Using len to get tensor shap"]
    assert {filename for _, _, filename, _ in theirs} == {__file__}


def test_data_dependent_control_flow_is_frozen_and_a_different_graph_fails_the_check():
    def f(x):
        return x * 2 if x.sum() > 0 else x - 100
    with pytest.warns(jit.TracerWarning, match="Python boolean"):
        traced = jit.trace(f, ember.ones(3))
    negative = -ember.ones(3)
    numpy.testing.assert_allclose(traced(negative).numpy(), (negative * 2).numpy())   # the branch is frozen
    with pytest.warns(jit.TracerWarning), pytest.raises(jit.TracingCheckError, match="Graphs differed"):
        jit.trace(f, ember.ones(3), check_inputs=[(negative,)])


def test_check_trace_reports_outputs_that_differ_from_python():
    def f(x):
        return x + float(x.sum())
    with pytest.warns(jit.TracerWarning) as record:
        jit.trace(f, ember.ones(3), check_inputs=[(ember.zeros(3),)])
    assert any("does not match the corresponding output of the Python function" in str(w.message) for w in record)


def test_check_trace_flags_nondeterministic_dropout_in_training():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)).train()
    with pytest.warns(jit.TracerWarning) as record:
        jit.trace(model, ember.randn(64, 4))
    messages = [str(w.message) for w in record]
    assert any(m.startswith("Trace had nondeterministic nodes") and "ember::dropout" in m for m in messages)


def test_graphs_differing_across_invocations_raise_tracing_check_error():
    def f(x):
        return x.relu() if x.shape[0] > 2 else x.sigmoid()
    with pytest.raises(jit.TracingCheckError, match="Graphs differed across invocations"):
        jit.trace(f, ember.randn(3), check_inputs=[(ember.randn(2),)])


def test_list_output_warns_under_strict():
    with pytest.warns(jit.TracerWarning, match="Encountering a list at the output of the tracer"):
        traced = jit.trace(lambda x: [x + 1, x * 2], ember.randn(2))
    assert isinstance(traced(ember.randn(2)), list)


def test_captured_tensor_requiring_grad_is_an_error():
    weight = ember.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Cannot insert a Tensor that requires grad as a constant"):
        jit.trace(lambda x: x * weight, ember.randn(3))


def test_non_tensor_input_is_an_error():
    with pytest.raises(RuntimeError, match=r"Type 'Tuple\[Tensor, int\]' cannot be traced"):
        jit.trace(lambda x, n: x * n, (ember.randn(3), 2))


def test_trace_module_traces_named_methods():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 2)

        def forward(self, x):
            return self.linear(x)

        def double(self, x):
            return self.linear(x) * 2
    model = Two()
    traced = jit.trace_module(model, {"forward": ember.randn(1, 3), "double": ember.randn(1, 3)})
    x = ember.randn(4, 3)
    numpy.testing.assert_allclose(traced.double(x).detach().numpy(), model.double(x).detach().numpy())
    numpy.testing.assert_allclose(traced(x).detach().numpy(), model(x).detach().numpy())


def _detaching(lib):
    class Detaching(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = lib.nn.Linear(3, 3)

        def forward(self, x):
            h = self.linear(x)
            return (h * h.detach()).sum(1)
    return Detaching()


def test_detach_is_recorded_so_a_trained_trace_stops_gradients_there():
    model = _detaching(ember)
    reference = _detaching(torch)
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    traced = jit.trace(model, ember.randn(2, 3))
    assert "aten::detach" in {node.kind for node in traced.graph.nodes}
    buffer = io.BytesIO()
    jit.save(traced, buffer)
    buffer.seek(0)
    x = numpy.random.randn(4, 3).astype(numpy.float32)
    reference(torch.from_numpy(x)).sum().backward()
    for module in (traced, jit.load(buffer)):
        module.zero_grad()
        module(ember.from_numpy(x)).sum().backward()
        numpy.testing.assert_allclose(module.linear.weight.grad.numpy(), reference.linear.weight.grad.numpy(),
                                      rtol=1e-5, atol=1e-6)


def test_numpy_index_arrays_stay_index_arrays_in_a_trace():
    mask, rows = numpy.array([[True, False, True, False]] * 3), numpy.array([2, 0])

    def function(lib, x, v):
        y = x * 1
        y[mask] = v
        return y[rows] + y[:, rows].sum()
    traced = jit.trace(lambda x, v: function(ember, x, v), (ember.randn(3, 4), ember.tensor(2.0)))
    x, v = numpy.random.randn(3, 4).astype(numpy.float32), numpy.float32(5.0)
    got = traced(ember.from_numpy(x), ember.tensor(v)).numpy()
    numpy.testing.assert_allclose(got, function(torch, torch.from_numpy(x), torch.tensor(v)).numpy(), rtol=1e-6)


class _Log(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.log()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / x


class _TorchLog(torch.autograd.Function):
    forward, backward = staticmethod(_Log.forward), staticmethod(_Log.backward)


def test_custom_autograd_function_is_recorded_as_a_python_op_and_not_saved():
    # Pyro's JitTraceEnum_ELBO traces its _SafeLog Function: PyTorch records prim::PythonOp, runs it, refuses to save
    results = []
    for lib, function in ((ember, _Log), (torch, _TorchLog)):
        def f(x, function=function):
            return function.apply(x) * 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            traced = lib.jit.trace(f, (lib.ones(2),))
        x = lib.tensor([1.0, 4.0], requires_grad=True)
        y = traced(x)
        y.sum().backward()
        with pytest.raises(RuntimeError) as error, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            lib.jit.save(traced, io.BytesIO())
        results.append((y.tolist(), x.grad.tolist(), str(error.value).split("\n")[1].replace("_TorchLog", "_Log"),
                        "^_" in str(traced.graph)))
    assert results[0] == results[1]
