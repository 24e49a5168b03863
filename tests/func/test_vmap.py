"""ember.func.vmap against torch.func.vmap: a table of ops, in_dims/out_dims, nesting, per-sample gradients of an
MLP and a CNN, composition with jacrev/jacfwd, randomness modes, the fallback and PyTorch's errors."""
import warnings

import numpy
import pytest
import torch
import torch.func
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.func import _vmap, grad, jacfwd, jacrev, vmap

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

rng = numpy.random.default_rng(0)
X = rng.standard_normal((4, 3, 5)).astype(numpy.float32)
Y = rng.standard_normal((3, 5)).astype(numpy.float32)
W = rng.standard_normal((6, 5)).astype(numpy.float32)
IMG = rng.standard_normal((4, 2, 3, 8, 8)).astype(numpy.float32)
K = rng.standard_normal((5, 3, 3, 3)).astype(numpy.float32)
GRID = numpy.random.default_rng(99).uniform(-1, 1, (2, 5, 6, 2)).astype(numpy.float32)


def functional(lib):
    return F if lib is ember else TF


def both(fn, arrays, in_dims=0, out_dims=0, **options):
    """vmap of ``fn(lib)`` in ember and in torch on the same arrays; asserts equal outputs; returns ember's."""
    ours = vmap(fn(ember), in_dims=in_dims, out_dims=out_dims, **options)(*[ember.tensor(a) for a in arrays])
    theirs = torch.func.vmap(fn(torch), in_dims=in_dims, out_dims=out_dims, **options)(
        *[torch.tensor(a) for a in arrays])
    ours_t = ours if isinstance(ours, tuple) else (ours,)
    theirs_t = theirs if isinstance(theirs, tuple) else (theirs,)
    for a, b in zip(ours_t, theirs_t, strict=True):
        if not isinstance(b, torch.Tensor):
            assert a == b
            continue
        assert tuple(a.shape) == tuple(b.shape)
        numpy.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
    return ours


OPS = {
    "sum": lambda m: lambda a: a.sum(0),
    "mean_keepdim": lambda m: lambda a: a.mean(-1, keepdim=True),
    "softmax": lambda m: lambda a: m.softmax(a, -1),
    "log_softmax": lambda m: lambda a: a.log_softmax(0),
    "transpose": lambda m: lambda a: a.T,
    "permute": lambda m: lambda a: a.permute(1, 0),
    "reshape": lambda m: lambda a: a.reshape(-1),
    "slice": lambda m: lambda a: a[1:, ::2],
    "ellipsis": lambda m: lambda a: a[..., 0],
    "none_index": lambda m: lambda a: a[None, 0],
    "tensor_index": lambda m: lambda a: a[m.tensor([2, 0])],
    "max_dim": lambda m: lambda a: a.max(-1)[0],
    "max_all": lambda m: lambda a: a.max(),
    "argmax": lambda m: lambda a: a.argmax(),
    "cumsum": lambda m: lambda a: a.cumsum(1),
    "flip": lambda m: lambda a: a.flip(0),
    "norm": lambda m: lambda a: a.norm(dim=1),
    "cat": lambda m: lambda a: m.cat([a, a * 2], 1),
    "stack": lambda m: lambda a: m.stack([a, a], 0),
    "unbind": lambda m: lambda a: a.unbind(1)[2],
    "split": lambda m: lambda a: a.split(2, 1)[1],
    "logsumexp": lambda m: lambda a: a.logsumexp(0),
    "var": lambda m: lambda a: a.var(1),
    "std_all": lambda m: lambda a: a.std(),
    "where": lambda m: lambda a: m.where(a > 0, a, a * 0.1),
    "clamp": lambda m: lambda a: a.clamp(-0.5, 0.5),
    "pad": lambda m: lambda a: functional(m).pad(a, (1, 2)),
    "tril": lambda m: lambda a: a.tril(),
    "matvec": lambda m: lambda a: a @ a[0],
    "expand": lambda m: lambda a: a.unsqueeze(1).expand(3, 2, 5),
    "expand_adding_dims": lambda m: lambda a: a.expand(2, 3, 5) + m.broadcast_to(a[0], (4, 5)).sum(0),
    "sort": lambda m: lambda a: a.sort(-1)[0],
    "topk": lambda m: lambda a: a.topk(2)[1],
    "gelu": lambda m: lambda a: functional(m).gelu(a),
    "einsum": lambda m: lambda a: m.einsum("ij,kj->ik", a, a),
    "repeat": lambda m: lambda a: a.repeat(2, 1),
    "repeat_adding_dims": lambda m: lambda a: a.repeat(2, 1, 3),
    "as_strided": lambda m: lambda a: m.as_strided(a, (2, 2), (1, 2)) + a.as_strided((2, 2), (1, 3), 2),
    "roll": lambda m: lambda a: a.roll(1, 1),
    "gather": lambda m: lambda a: a.gather(1, m.tensor([[0, 1]] * 3)),
    "prod": lambda m: lambda a: a.prod(1),
    "any": lambda m: lambda a: (a > 1).any(-1),
    "mse_loss": lambda m: lambda a: functional(m).mse_loss(a, a.flip(0)),
    "comparison": lambda m: lambda a: (a >= a.mean()).float(),
    "logical": lambda m: lambda a: ((a > 0) & ~(a > 1) | (a < -1).logical_not()).float(),
    "isfinite": lambda m: lambda a: a.log().isnan().float() + a.isfinite().float(),
    "softplus": lambda m: lambda a: functional(m).softplus(a * 10),
    "layer_norm": lambda m: lambda a: functional(m).layer_norm(a, a.shape[1:]),
    "normalize": lambda m: lambda a: functional(m).normalize(a, dim=1),
    "bce_logits": lambda m: lambda a: functional(m).binary_cross_entropy_with_logits(a, a.sigmoid()),
    "setitem": lambda m: lambda a: _written(a.clone(), (0, slice(1, 3)), a[1, 0]),
    "setitem_scalar": lambda m: lambda a: _written(a.clone(), (Ellipsis, 0), 5.0),
    "masked_fill": lambda m: lambda a: a.masked_fill(a > 0, 0.0),
    "narrow_select": lambda m: lambda a: a.narrow(1, 1, 3).select(0, 2),
    "index_select": lambda m: lambda a: a.index_select(1, m.tensor([0, 3])),
}


def _written(tensor, key, value):
    tensor[key] = value
    return tensor


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_table_matches_torch(name):
    calls = dict(_vmap.fallback_calls)
    both(OPS[name], [X])
    assert _vmap.fallback_calls == calls   # every op of the table ran by its batching rule, not per example


@pytest.mark.parametrize("fn, arrays, in_dims", [
    (lambda m: lambda a, b: a + b, [X, Y], (0, None)),
    (lambda m: lambda a, b: a * b, [X, X[:, 0]], (0, 0)),
    (lambda m: lambda a, b: a @ b.T, [X, Y], (0, None)),
    (lambda m: lambda a, b: a @ b.T, [X, X.transpose(1, 0, 2).copy()], (0, 1)),
    (lambda m: lambda a, b: functional(m).linear(a, b), [X, W], (0, None)),
    (lambda m: lambda a, b: functional(m).linear(a, b), [X, numpy.stack([W] * 4)], (0, 0)),
    (lambda m: lambda a, b: functional(m).conv2d(a, b, padding=1), [IMG, K], (0, None)),
    (lambda m: lambda a, b: functional(m).conv2d(a, b), [IMG, numpy.stack([K * i for i in range(4)])], (0, 0)),
    (lambda m: lambda a, b: functional(m).conv2d(a, b), [IMG[:, 0], K], (0, None)),
    (lambda m: lambda a: functional(m).max_pool2d(a, 2), [IMG], 0),
    (lambda m: lambda a, g: functional(m).grid_sample(a, g, align_corners=False), [IMG, GRID], (0, None)),
    (lambda m: lambda a, g: functional(m).grid_sample(a, g, mode="bicubic", padding_mode="border",
                                                      align_corners=True), [IMG, numpy.stack([GRID] * 4) * 1.1],
     (0, 0)),
    (lambda m: lambda a, t: functional(m).cross_entropy(a, t), [X, rng.integers(0, 5, (4, 3))], 0),
    (lambda m: lambda a, t: functional(m).cross_entropy(a[0], t), [X, rng.integers(0, 5, (4,))], 0),
    (lambda m: lambda a, i: functional(m).embedding(i, a), [Y, rng.integers(0, 3, (4, 2))], (None, 0)),
    (lambda m: lambda a: a.sum(0), [X], 2),
    (lambda m: lambda d: d["x"] * d["y"], [], None),
])
def test_multi_input_rules_match_torch(fn, arrays, in_dims):
    if not arrays:   # a dict pytree with per-key in_dims
        ours = vmap(fn(ember), in_dims=({"x": 0, "y": None},))({"x": ember.tensor(X), "y": ember.tensor(Y)})
        theirs = torch.func.vmap(fn(torch), in_dims=({"x": 0, "y": None},))({"x": torch.tensor(X),
                                                                             "y": torch.tensor(Y)})
        numpy.testing.assert_allclose(ours.numpy(), theirs.numpy())
        return
    both(fn, arrays, in_dims)


def test_out_dims_tuple_outputs_and_chunks():
    both(lambda m: lambda a: (a * 2, a.sum()), [X], out_dims=(2, 0))
    both(lambda m: lambda a, b: a.sum() + b, [X, Y], in_dims=(0, None), out_dims=1)
    both(lambda m: lambda a: a.exp(), [X], chunk_size=3)
    both(lambda m: lambda a: (a.sum(), 7), [X], out_dims=(0, None))


def test_nested_vmap_matches_torch():
    both(lambda m: (torch.func.vmap if m is torch else vmap)(lambda a: a.sum(0) * a[0] + a), [X], in_dims=1)
    both(lambda m: (torch.func.vmap if m is torch else vmap)(lambda a, b: a @ b, in_dims=(None, 0)),
         [X, Y], in_dims=(0, None))


def _mlp(lib):
    def loss(params, x, t):
        h = functional(lib).linear(x, params["w1"], params["b1"]).relu()
        return functional(lib).cross_entropy(functional(lib).linear(h, params["w2"], params["b2"]), t)
    return loss


def _cnn(lib):
    def loss(params, x, t):
        h = functional(lib).conv2d(x.unsqueeze(0), params["k"], padding=1).relu()
        h = functional(lib).max_pool2d(h, 2).flatten(1)
        return functional(lib).cross_entropy(functional(lib).linear(h, params["w"]), t.unsqueeze(0))
    return loss


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_per_sample_gradients_match_torch(model):
    if model == "mlp":
        params = {"w1": rng.standard_normal((8, 5)), "b1": rng.standard_normal(8), "w2": rng.standard_normal((3, 8)),
                  "b2": rng.standard_normal(3)}
        x, loss = rng.standard_normal((6, 5)), _mlp
    else:
        params = {"k": rng.standard_normal((4, 2, 3, 3)), "w": rng.standard_normal((3, 4 * 4 * 4))}
        x, loss = rng.standard_normal((6, 2, 8, 8)), _cnn
    t = rng.integers(0, 3, 6)
    ours = vmap(grad(loss(ember)), in_dims=(None, 0, 0))({k: ember.tensor(v) for k, v in params.items()},
                                                         ember.tensor(x), ember.tensor(t))
    theirs = torch.func.vmap(torch.func.grad(loss(torch)), in_dims=(None, 0, 0))(
        {k: torch.tensor(v) for k, v in params.items()}, torch.tensor(x), torch.tensor(t))
    for key in params:
        assert tuple(ours[key].shape) == (6,) + params[key].shape
        numpy.testing.assert_allclose(ours[key].numpy(), theirs[key].numpy(), rtol=1e-6, atol=1e-9)


def test_model_ensembling_with_stack_module_state_matches_torch():
    def models(lib):
        lib.manual_seed(0)
        return [lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3), lib.nn.ReLU(), lib.nn.Flatten(), lib.nn.Linear(3 * 6 * 6, 4))
                for _ in range(3)]
    data = rng.standard_normal((5, 2, 8, 8)).astype(numpy.float32)
    outputs = []
    for lib, func in ((ember, ember.func), (torch, torch.func)):
        ensemble = models(lib)
        params, buffers = func.stack_module_state(ensemble)
        assert all(p.is_leaf and p.requires_grad for p in params.values())

        def run(p, b, x, model=ensemble[0], func=func):
            return func.functional_call(model, (p, b), (x,))
        out = func.vmap(run, in_dims=(0, 0, None))(params, buffers, lib.tensor(data))
        out.square().sum().backward()
        outputs.append([out.detach().numpy(), params["0.weight"].grad.numpy()])
    for ours, theirs in zip(*outputs):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_jacobians_compose_with_vmap():
    def f(lib):
        return lambda x, w: (x @ w.T).tanh() * x.sum()
    x, w = rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    for transform, torch_transform in ((jacrev, torch.func.jacrev), (jacfwd, torch.func.jacfwd)):
        ours = vmap(transform(f(ember)), in_dims=(0, None))(ember.tensor(x), ember.tensor(w))
        theirs = torch.func.vmap(torch_transform(f(torch)), in_dims=(0, None))(torch.tensor(x), torch.tensor(w))
        numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7, atol=1e-10)
    ours = jacrev(vmap(f(ember), in_dims=(0, None)))(ember.tensor(x), ember.tensor(w))
    theirs = torch.func.jacrev(torch.func.vmap(f(torch), in_dims=(0, None)))(torch.tensor(x), torch.tensor(w))
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7, atol=1e-10)
    ours = grad(lambda w_: vmap(f(ember), in_dims=(0, None))(ember.tensor(x), w_).sum())(ember.tensor(w))
    theirs = torch.func.grad(lambda w_: torch.func.vmap(f(torch), in_dims=(0, None))(torch.tensor(x), w_).sum())(
        torch.tensor(w))
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7, atol=1e-10)


def test_gradients_of_gather_and_index_select_under_vmap_match_torch():
    def f(lib):
        index = lib.tensor([[0, 2, 4], [3, 3, 1], [1, 0, 0]])
        return lambda a: (a.gather(1, index) ** 2).sum() + a.index_select(1, lib.tensor([0, 4, 4])).sin().sum()

    def rows(lib):
        return lambda a: a.gather(1, lib.tensor([[0, 2], [4, 4], [1, 0]]))
    calls = dict(_vmap.fallback_calls)
    for transform, torch_transform in ((grad, torch.func.grad), (jacrev, torch.func.jacrev)):
        ours = vmap(transform(f(ember)))(ember.tensor(X))
        theirs = torch.func.vmap(torch_transform(f(torch)))(torch.tensor(X))
        numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)
    ours = vmap(jacrev(rows(ember)))(ember.tensor(X))
    numpy.testing.assert_array_equal(ours.numpy(), torch.func.vmap(torch.func.jacrev(rows(torch)))(
        torch.tensor(X)).numpy())
    assert _vmap.fallback_calls == calls


def _scalar(a):
    return (a.sin() * a.sum()).sum()


def _vector(a):
    return a.sin() * a.sum()


@pytest.mark.parametrize("make", [
    lambda f: f.vmap(f.hessian(_scalar)),
    lambda f: f.vmap(lambda a: f.jvp(_vector, (a,), (a.cos(),))[1]),
    lambda f: f.vmap(lambda a: f.vjp(_vector, a)[1](a.exp())[0]),
    lambda f: f.vmap(f.grad(lambda a: f.grad(_scalar)(a).sum())),
    lambda f: f.vmap(f.vmap(f.grad(lambda s: s.sin() * s))),
])
def test_transforms_inside_vmap_match_torch(make):
    x = rng.standard_normal((4, 3))
    ours, theirs = make(ember.func)(ember.tensor(x)), make(torch.func)(torch.tensor(x))
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_fallback_runs_per_example_and_warns_once():
    mats = rng.standard_normal((3, 4, 4))
    from ember.ops import _util
    _vmap._warned.discard("Det")
    _util._warned.discard(("vmap fallback", "Det"))
    before = _vmap.fallback_calls.get("Det", 0)
    with pytest.warns(UserWarning, match="There is a performance drop because we have not yet implemented the "
                                         "batching rule for Det") as caught:
        ours = vmap(ember.linalg.det)(ember.tensor(mats))
    assert caught[0].filename == __file__   # the caller's line, as PyTorch's C++ warning names it
    assert _vmap.fallback_calls["Det"] == before + 1
    numpy.testing.assert_allclose(ours.numpy(), torch.func.vmap(torch.linalg.det)(torch.tensor(mats)).numpy())


def test_inplace_on_batched_and_unbatched_self():
    both(lambda m: lambda a, b: a.clone().add_(b), [X, Y], in_dims=(0, None))
    for lib, mapper in ((ember, vmap), (torch, torch.func.vmap)):
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            mapper(lambda a, b: b.clone().add_(a), in_dims=(0, None))(lib.tensor(X), lib.tensor(Y))


@pytest.mark.parametrize("write", [
    lambda b, a: b.add_(a), lambda b, a: b.sub_(a), lambda b, a: b.mul_(a), lambda b, a: b.div_(a),
    lambda b, a: b.copy_(a), lambda b, a: b.masked_fill_(a > 0, 1.0), lambda b, a: b.clamp_max_(a),
    lambda b, a: b.fill_(a[0]),
])
def test_batched_writes_into_unbatched_tensors_raise_torchs_errors(write):
    """PyTorch's message depends on the op's batching rule: the broadcast error, "inplace arithmetic", the op's name."""
    messages = []
    for lib, mapper in ((ember, vmap), (torch, torch.func.vmap)):
        target = lib.ones(3)
        with pytest.raises(RuntimeError) as error:
            mapper(lambda a: write(target, a))(lib.tensor(Y[:, :3].copy()))
        messages.append(str(error.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("call, error, match", [
    (lambda m, v: v(lambda a: a.sum().item())(m.tensor(X)), RuntimeError, r"calling \.item\(\)"),
    (lambda m, v: v(lambda a: a if a.sum() > 0 else -a)(m.tensor(X)), RuntimeError, "data-dependent control flow"),
    (lambda m, v: v(lambda a, b: a + b)(m.tensor(X), m.tensor(Y)), ValueError,
     r"got sizes \[4, 3\] for the mapped dimension"),
    (lambda m, v: v(lambda a: a, in_dims=3)(m.tensor(X)), ValueError, "expected in_dim to satisfy -3 <= in_dim < 3"),
    (lambda m, v: v(lambda a, b: a, in_dims=(0, 0))(m.tensor(X), 2.0), ValueError, "We cannot vmap over non-Tensor"),
    (lambda m, v: v(lambda a: a, in_dims=(0, 0))(m.tensor(X)), ValueError, "in_dims is not compatible"),
    (lambda m, v: v(lambda a: a)(), ValueError, "got no inputs"),
    (lambda m, v: v(lambda a: a, in_dims=(None,))(m.tensor(X)), ValueError, "Expected at least one Tensor"),
    (lambda m, v: v(lambda a: "x")(m.tensor(X)), ValueError, "must only return Tensors"),
    (lambda m, v: v(lambda a: a, out_dims=None)(m.tensor(X)), ValueError, "can not return a BatchedTensor"),
    (lambda m, v: v(lambda a: a, randomness="sometimes"), RuntimeError, "Only allowed values for randomness"),
    (lambda m, v: v(lambda a: a * m.rand(5))(m.tensor(X)), RuntimeError, "randomness error mode"),
    (lambda m, v: v(lambda a: (F if m is ember else TF).dropout(a))(m.tensor(X)), RuntimeError,
     "randomness error mode"),
])
def test_errors_match_torch(call, error, match):
    for lib, mapper in ((ember, vmap), (torch, torch.func.vmap)):
        with pytest.raises(error, match=match):
            call(lib, mapper)


def test_randomness_modes():
    x = ember.ones(64, 50)
    same = vmap(lambda a: F.dropout(a, 0.5), randomness="same")(x)
    assert (same == same[0]).all() and 0 < same[0].eq(0).sum() < 50
    different = vmap(lambda a: F.dropout(a, 0.5), randomness="different")(x)
    assert not (different == different[0]).all()
    assert set(numpy.unique(different.numpy())) <= {0.0, 2.0}
    shared = vmap(lambda a: a + ember.rand(50), randomness="same")(x)
    assert (shared == shared[0]).all()


def test_names_exist_as_in_torch():
    assert torch.vmap is torch.func.vmap and ember.vmap is ember.func.vmap


def test_computing_on_a_batched_tensors_data_raises_instead_of_answering_for_one_example():
    def f(a):
        return ember.from_numpy(numpy.cumsum(a._data))   # as an op computing on the array outside dispatch would
    with pytest.raises(RuntimeError, match="directly on the data of a batched tensor"):
        vmap(f)(ember.tensor(X))


def test_batched_tensor_repr_and_logical_shape():
    seen = {}

    def f(a):
        seen["shape"], seen["repr"] = tuple(a.shape), repr(a)
        return a
    vmap(f, in_dims=1)(ember.tensor(X))
    assert seen["shape"] == (4, 5)
    assert seen["repr"].startswith("BatchedTensor(lvl=1, bdim=1, value=")


def test_index_made_from_a_batched_tensor_raises_instead_of_using_the_first_example():
    generator = numpy.random.default_rng(5)
    x, mask = generator.standard_normal((3, 3, 4)).astype(numpy.float32), generator.random((3, 3, 4)) < 0.5
    value = generator.standard_normal(3).astype(numpy.float32)
    for lib, mapper in ((ember, ember.func.vmap), (torch, torch.vmap)):
        with pytest.raises(RuntimeError):   # PyTorch: dynamic shapes cannot be batched
            mapper(lambda x, m, v: x.index_put((m,), v))(*(lib.tensor(a) for a in (x, mask, value)))


def test_named_tuple_outputs_keep_their_type():
    both(lambda m: lambda a: a.topk(2), [X])
    values, indices = ember.func.vmap(lambda a: a.sort(-1))(ember.from_numpy(X))
    result = ember.func.vmap(lambda a: a.max(-1))(ember.from_numpy(X))
    assert type(result).__name__ == "max" and result.indices.shape == X.shape[:2]
    assert values.shape == indices.shape == X.shape


def test_fallback_batches_nested_results():
    # histogramdd has no batching rule: it runs per example, and its (hist, (edges, ...)) result is stacked
    x = rng.standard_normal((3, 20, 2)).astype(numpy.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        hist, edges = ember.func.vmap(lambda t: ember.histogramdd(t, bins=3))(ember.from_numpy(x))
    for i in range(3):
        want = torch.histogramdd(torch.from_numpy(x[i]), bins=3)
        numpy.testing.assert_allclose(hist[i].numpy(), want.hist.numpy())
        for d in range(2):
            numpy.testing.assert_allclose(edges[d][i].numpy(), want.bin_edges[d].numpy(), rtol=1e-6)


@pytest.mark.parametrize("call", [lambda lib, a, b: a.t().clone() * 2,
                                  lambda lib, a, b: lib.nn.functional.hardswish(a) + lib.nn.functional.hardsigmoid(b),
                                  lambda lib, a, b: lib.nn.functional.huber_loss(a, b, reduction="none")])
def test_layout_copies_and_new_pointwise_primitives_have_batching_rules(call):
    # warnings are errors here: a per-example fallback would warn about its performance drop
    x, y = (numpy.random.default_rng(seed).standard_normal((3, 4, 5)).astype(numpy.float32) for seed in (0, 1))
    got, want = (lib.func.vmap(lambda a, b: call(lib, a, b))(lib.tensor(x), lib.tensor(y)) for lib in (ember, torch))
    assert tuple(got.stride()) == tuple(want.stride())
    numpy.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("randomness", ["same", "different"])
@pytest.mark.parametrize("call", [
    lambda m, a: m.rand(2, 3) + a[0],
    lambda m, a: m.randn(20) + a.sum(),
    lambda m, a: m.rand(size=(2,), dtype=m.float64),
    lambda m, a: m.rand(()),
    lambda m, a: m.randint(10, (2,)),
    lambda m, a: m.randint(3, 10, size=(2,)),
    lambda m, a: m.normal(0.0, 2.0, (3,)),
    lambda m, a: m.randn_like(a),
    lambda m, a: m.rand_like(a, dtype=m.float64),
    lambda m, a: m.randperm(3),
    lambda m, a: m.normal(a, 1.0),
    lambda m, a: m.bernoulli(a.sigmoid()),
    lambda m, a: m.poisson(a.abs() + 1),
    lambda m, a: a.clone().uniform_(),
    lambda m, a: a.clone().normal_(),
    lambda m, a: a.clone().bernoulli_(0.5),
    lambda m, a: m.zeros(3).uniform_() + a,
    lambda m, a: m.multinomial(a.abs() + 0.1, 2),
    lambda m, a: m.multinomial((a.abs() + 0.1).expand(2, 3), 4, replacement=True),
], ids=["rand", "randn_blocked", "rand_size_kw", "rand_scalar", "randint_high", "randint_low_high", "normal_size",
        "randn_like", "rand_like", "randperm", "normal_tensor", "bernoulli", "poisson", "uniform_", "normal_",
        "bernoulli_", "uniform_unbatched", "multinomial", "multinomial_rows"])
def test_random_samples_as_torch(call, randomness):
    """Random ops inside vmap draw PyTorch's numbers: 'different' draws every example's samples at once (the batch in
    front of the size, of the tensor arguments, or the whole batched tensor filled in place), 'same' one example's
    for all; PyTorch's errors where it refuses (batched arguments with 'same', in-place fills of unbatched tensors
    with 'different')."""
    results = []
    for lib, mapper in ((ember, vmap), (torch, torch.func.vmap)):
        lib.manual_seed(5)
        x = lib.tensor(numpy.linspace(-1, 1, 12).reshape(4, 3))
        try:
            results.append(mapper(lambda a: call(lib, a), randomness=randomness)(x).numpy())
        except RuntimeError as error:
            results.append(str(error))
    if isinstance(results[1], str):
        assert results[0] == results[1]
    else:
        numpy.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_random_samples_of_nested_and_chunked_vmaps_as_torch():
    for call in (lambda m, v: v(v(lambda a: m.rand(2), randomness="different"), randomness="different"),
                 lambda m, v: v(v(lambda a: m.randperm(3), randomness="different"), randomness="different"),
                 lambda m, v: v(v(lambda a: m.rand(2), randomness="different"), randomness="same"),
                 lambda m, v: v(lambda a: m.rand(3) + a[0], randomness="different", chunk_size=1),
                 lambda m, v: v(lambda a: a.uniform_(), in_dims=1, randomness="different")):
        results = []
        for lib, mapper in ((ember, vmap), (torch, torch.func.vmap)):
            lib.manual_seed(5)
            results.append(call(lib, mapper)(lib.zeros(2, 4, 3)).numpy())
        numpy.testing.assert_allclose(results[0], results[1], rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda m, v: v(m.sin, in_dims=None)(m.ones(4, 3)),
    lambda m, v: v(m.add, in_dims=(0,))(m.ones(4, 3), m.ones(4, 3)),
    lambda m, v: v(lambda a, b: a + b, in_dims=([0, 0],))((m.ones(4, 3), m.ones(4, 3))),
    lambda m, v: v(lambda a: (a, a), out_dims=(0, 0, 0))(m.ones(4, 3)),
    lambda m, v: v(lambda a: (a, a), out_dims=[0, 0])(m.ones(4, 3)),
    lambda m, v: v(lambda a: {"a": a}, out_dims={"b": 0})(m.ones(4, 3)),
    lambda m, v: v(lambda a: a if a.sum() > 0 else -a)(m.ones(4, 3)),
    lambda m, v: v(lambda a: a.sum().item())(m.ones(4, 3)),
    lambda m, v: v(lambda a: a.tolist())(m.ones(4, 3)),
    lambda m, v: v(lambda a: a.numpy())(m.ones(4, 3)),
], ids=["in_dims_none", "in_dims_structure", "in_dims_list", "out_dims_structure", "out_dims_list", "out_dims_dict",
        "control_flow", "item", "tolist", "numpy"])
def test_structure_errors_as_torch(call):
    """PyTorch's messages, with the TreeSpecs it prints."""
    messages = []
    for lib, mapper in ((ember, vmap), (torch, torch.func.vmap)):
        with pytest.raises(Exception) as caught:
            call(lib, mapper)
        messages.append((type(caught.value).__name__, str(caught.value)))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("call, in_dims", [
    (lambda a, k: a[k], (0, 0)),
    (lambda a, k: a[k[0], :2], (0, 0)),
    (lambda a, k: a[k, k], (0, 0)),
    (lambda a, k: a[k], (None, 0)),
    (lambda a, k: a[k, ...], (0, 0)),
    (lambda a, k: a[:, 0].gather(0, k), (0, 0)),
    (lambda a, k: a.gather(1, k[None]), (0, 0)),
    (lambda a, k: a.index_select(0, k), (0, 0)),
    (lambda a, k: a.index_select(1, k), (0, 0)),
], ids=["getitem", "getitem_slice", "getitem_two", "getitem_unbatched_input", "getitem_ellipsis", "gather",
        "gather_dim1", "index_select", "index_select_dim1"])
def test_batched_integer_indices_as_torch(call, in_dims):
    """Indices that differ per example (getitem, gather, index_select) batch without the per-example fallback."""
    rng = numpy.random.default_rng(3)
    x, index = rng.standard_normal((4, 3, 5)), numpy.array([[0, 1], [2, 2], [1, 0], [0, 0]])
    results = []
    for lib, mapper in ((ember, vmap), (torch, torch.func.vmap)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            source = lib.tensor(x) if in_dims[0] == 0 else lib.tensor(x[0])
            results.append(mapper(call, in_dims=in_dims)(source, lib.tensor(index)).numpy())
    numpy.testing.assert_allclose(results[0], results[1])


def test_fill_and_copy_into_batched_tensors_as_torch():
    for make in (lambda lib: lambda a: a.clone().fill_(2.0), lambda lib: lambda a: a.clone().fill_(a[0, 0]),
                 lambda lib: lambda a: (a * 0).double().copy_(a * 2),
                 lambda lib: lambda a: a.clone().zero_() + a.clone().copy_(a[0])):
        both(make, [X])
