"""float16 and bfloat16 on the CPU, op by op against PyTorch 2.13: result dtypes, values within half-precision
tolerance and gradients; Module/Tensor conversions, the default dtype, and save/load in PyTorch's format."""
import sys

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4)).astype(np.float32); B = rng.standard_normal((3, 4)).astype(np.float32)
M = rng.standard_normal((4, 5)).astype(np.float32); P = rng.uniform(0.1, 2, (3, 4)).astype(np.float32)
IMG = rng.standard_normal((2, 3, 6, 6)).astype(np.float32); W2 = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
SEQ = rng.standard_normal((2, 3, 8)).astype(np.float32); W1 = rng.standard_normal((4, 3, 3)).astype(np.float32)
Q = rng.standard_normal((2, 2, 5, 8)).astype(np.float32)
IDX = np.array([2, 0, 1]); EMB = rng.standard_normal((5, 4)).astype(np.float32)
# name -> call(T, F, t): t(array) is the array as a 16-bit leaf tensor of library T
OPS = {
 "add": lambda T, F, t: t(A) + t(B), "sub": lambda T, F, t: t(A) - t(B), "mul": lambda T, F, t: t(A) * t(B),
 "div": lambda T, F, t: t(A) / t(P), "mul_scalar": lambda T, F, t: t(A) * 3.3, "neg": lambda T, F, t: -t(A),
 "abs": lambda T, F, t: t(A).abs(), "exp": lambda T, F, t: t(A).exp(), "log": lambda T, F, t: t(P).log(),
 "sqrt": lambda T, F, t: t(P).sqrt(), "rsqrt": lambda T, F, t: t(P).rsqrt(), "sin": lambda T, F, t: t(A).sin(),
 "tanh": lambda T, F, t: t(A).tanh(), "sigmoid": lambda T, F, t: t(A).sigmoid(), "relu": lambda T, F, t: F.relu(t(A)),
 "gelu": lambda T, F, t: F.gelu(t(A)), "gelu_tanh": lambda T, F, t: F.gelu(t(A), approximate="tanh"), "silu": lambda T, F, t: F.silu(t(A)),
 "softplus": lambda T, F, t: F.softplus(t(A)), "elu": lambda T, F, t: F.elu(t(A)), "leaky_relu": lambda T, F, t: F.leaky_relu(t(A), 0.1),
 "pow": lambda T, F, t: t(P) ** 2.5, "pow_t": lambda T, F, t: t(P) ** t(A), "clamp": lambda T, F, t: t(A).clamp(-0.5, 0.5),
 "where": lambda T, F, t: T.where(t(A) > 0, t(A), t(B)), "maximum": lambda T, F, t: T.maximum(t(A), t(B)),
 "sum": lambda T, F, t: t(A).sum(), "sum_dim": lambda T, F, t: t(A).sum(1), "mean": lambda T, F, t: t(A).mean(0),
 "prod": lambda T, F, t: t(P).prod(1), "amax": lambda T, F, t: t(A).amax(1), "max_dim": lambda T, F, t: t(A).max(1)[0],
 "var": lambda T, F, t: t(A).var(1), "std": lambda T, F, t: t(A).std(), "norm": lambda T, F, t: t(A).norm(),
 "cumsum": lambda T, F, t: t(A).cumsum(1), "logsumexp": lambda T, F, t: t(A).logsumexp(1),
 "softmax": lambda T, F, t: F.softmax(t(A), 1), "log_softmax": lambda T, F, t: F.log_softmax(t(A), 1),
 "matmul": lambda T, F, t: t(A) @ t(M), "bmm": lambda T, F, t: T.bmm(t(SEQ).transpose(1, 2), t(SEQ)),
 "linear": lambda T, F, t: F.linear(t(A), t(M).t(), t(M)[0]), "conv1d": lambda T, F, t: F.conv1d(t(SEQ), t(W1), padding=1),
 "conv2d": lambda T, F, t: F.conv2d(t(IMG), t(W2), stride=2), "conv_t2d": lambda T, F, t: F.conv_transpose2d(t(IMG), t(W2).transpose(0, 1)),
 "max_pool2d": lambda T, F, t: F.max_pool2d(t(IMG), 2), "avg_pool2d": lambda T, F, t: F.avg_pool2d(t(IMG), 2),
 "adaptive_avg": lambda T, F, t: F.adaptive_avg_pool2d(t(IMG), 3), "layer_norm": lambda T, F, t: F.layer_norm(t(A), (4,), t(P)[0], t(B)[0]),
 "batch_norm": lambda T, F, t: F.batch_norm(t(IMG), None, None, t(P)[0, :3], t(B)[0, :3], training=True),
 "group_norm": lambda T, F, t: F.group_norm(t(IMG), 3), "embedding": lambda T, F, t: F.embedding(T.tensor(IDX), t(EMB)),
 "cat": lambda T, F, t: T.cat([t(A), t(B)]), "stack": lambda T, F, t: T.stack([t(A), t(B)], 1),
 "transpose": lambda T, F, t: t(A).t().reshape(2, 6), "index_select": lambda T, F, t: t(A).index_select(0, T.tensor(IDX)),
 "gather": lambda T, F, t: t(A).gather(1, T.tensor(IDX).reshape(3, 1)), "sort": lambda T, F, t: t(A).sort(1)[0],
 "topk": lambda T, F, t: t(A).topk(2)[0], "argmax": lambda T, F, t: t(A).argmax(1),
 "interpolate": lambda T, F, t: F.interpolate(t(IMG), scale_factor=2, mode="bilinear"), "pad": lambda T, F, t: F.pad(t(A), (1, 2), value=0.5),
 "cross_entropy": lambda T, F, t: F.cross_entropy(t(A), T.tensor(IDX)), "mse_loss": lambda T, F, t: F.mse_loss(t(A), t(B)),
 "einsum": lambda T, F, t: T.einsum("ij,jk->ik", t(A), t(M)), "sdpa": lambda T, F, t: F.scaled_dot_product_attention(t(Q), t(Q), t(Q)),
 "dropout0": lambda T, F, t: F.dropout(t(A), 0.0), "erf": lambda T, F, t: t(A).erf(), "lerp": lambda T, F, t: T.lerp(t(A), t(B), 0.3),
 "addcmul": lambda T, F, t: T.addcmul(t(A), t(B), t(P), value=0.5), "mean_all": lambda T, F, t: t(IMG).mean(),
 "cosine_similarity": lambda T, F, t: F.cosine_similarity(t(A), t(B)), "hardswish": lambda T, F, t: F.hardswish(t(A)),
 "unfold": lambda T, F, t: F.unfold(t(IMG), 2), "nll_loss": lambda T, F, t: F.nll_loss(F.log_softmax(t(A), 1), T.tensor(IDX)),
}

TOLERANCE = {"float16": 1e-2, "bfloat16": 4e-2}


def _run(T, call, dtype_name):
    dtype = getattr(T, dtype_name)
    leaves = []

    def t(array):
        leaf = T.tensor(array).to(dtype).requires_grad_()
        leaves.append(leaf)
        return leaf
    out = call(T, T.nn.functional, t)
    if not out.dtype.is_floating_point:
        return out, []
    out.float().sum().backward()
    return out, [leaf.grad for leaf in leaves]


def _close(got, expected, tolerance, what):
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], what
    g = np.asarray(got.detach().to(ember.float64).tolist())
    e = expected.detach().double().numpy()
    scale = max(1.0, float(np.abs(e).max(initial=0)))
    np.testing.assert_allclose(g, e, rtol=tolerance, atol=tolerance * scale, err_msg=what)


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_torch(name, dtype_name):
    got, got_grads = _run(ember, OPS[name], dtype_name)
    expected, expected_grads = _run(torch, OPS[name], dtype_name)
    tolerance = TOLERANCE[dtype_name]
    _close(got, expected, tolerance, name)
    assert len(got_grads) == len(expected_grads)
    for i, (g, e) in enumerate(zip(got_grads, expected_grads)):
        assert (g is None) == (e is None)
        if e is not None:
            _close(g, e, 2 * tolerance, f"{name}: gradient {i}")


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_module_and_tensor_conversions(dtype_name):
    converted = {}
    for T in (ember, torch):
        T.manual_seed(0)
        model = T.nn.Sequential(T.nn.Conv2d(3, 4, 3), T.nn.BatchNorm2d(4), T.nn.ReLU(), T.nn.Flatten(),
                                T.nn.Linear(64, 2))
        with T.no_grad():
            for p in model.parameters():
                p.copy_(T.tensor(np.linspace(-0.3, 0.3, p.numel(), dtype=np.float32).reshape(tuple(p.shape))))
        model = getattr(model, "half" if dtype_name == "float16" else dtype_name)()
        dtypes = {str(v.dtype) for v in model.state_dict().values() if v.dtype.is_floating_point}
        x = T.tensor(IMG)
        x = x.half() if dtype_name == "float16" else x.bfloat16()
        out = model(x)
        out.float().sum().backward()
        converted[T.__name__] = (out, model[0].weight.grad, {d.split(".")[-1] for d in dtypes},
                                 model[1].num_batches_tracked.dtype)
    (out, grad, dtypes, tracked), (t_out, t_grad, t_dtypes, t_tracked) = converted["ember"], converted["torch"]
    assert dtypes == t_dtypes == {dtype_name} and str(tracked) == "ember.int64" and str(t_tracked) == "torch.int64"
    _close(out, t_out, 2 * TOLERANCE[dtype_name], "model output")
    _close(grad, t_grad, 4 * TOLERANCE[dtype_name], "conv weight gradient")


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_default_dtype(dtype_name):
    for T in (ember, torch):
        T.set_default_dtype(getattr(T, dtype_name))
        try:
            made = (T.ones(2), T.tensor([1.5]), T.arange(0.0, 3.0), T.nn.Linear(2, 2).weight, T.randn(2))
            assert {str(t.dtype).split(".")[-1] for t in made} == {dtype_name}
        finally:
            T.set_default_dtype(T.float32)


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_save_and_load_in_pytorchs_format_both_ways(dtype_name, tmp_path):
    values = np.array([[0.1, -2.5, 65504.0], [1e-3, 3.0, -0.0]], dtype=np.float32)
    ours = ember.tensor(values).to(getattr(ember, dtype_name))
    ember.save({"t": ours, "view": ours[1]}, tmp_path / "ember.pt")
    loaded = torch.load(tmp_path / "ember.pt")
    assert loaded["t"].dtype is getattr(torch, dtype_name) and loaded["view"].dtype is getattr(torch, dtype_name)
    assert loaded["t"].float().tolist() == ours.float().tolist()
    theirs = torch.tensor(values).to(getattr(torch, dtype_name))
    torch.save({"t": theirs}, tmp_path / "torch.pt")
    back = ember.load(tmp_path / "torch.pt")["t"]
    assert back.dtype is getattr(ember, dtype_name) and back.float().tolist() == theirs.float().tolist()


def test_bfloat16_without_ml_dtypes_gives_a_clear_error(monkeypatch):
    from ember import _dtype
    fresh = _dtype.dtype("bfloat16", None, _dtype._FLOAT, 2)
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)
    with pytest.raises(TypeError, match=r"bfloat16 needs the optional dependency ml_dtypes \(pip install ml_dtypes\)"):
        _ = fresh.numpy
