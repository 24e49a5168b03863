"""The meta device (tensors with a shape and a dtype but no data) against torch 2.13: factories, reprs, errors,
module recipes (``with device("meta")``, ``to_empty``, ``load_state_dict(assign=True)``), shape inference, saving,
and no numbers drawn from the generator."""
import copy
import io
import pickle
import warnings

import numpy
import pytest
import torch

import ember


def _named(value):
    """``value`` with ember's name written as torch's in its strings (reprs name the package)."""
    if isinstance(value, str):
        return value.replace("ember", "torch")
    if isinstance(value, (tuple, list)):
        return type(value)(_named(v) for v in value)
    return value


def run(lib, f):
    """``f(lib)``'s result, or (exception type name, message) when it raises."""
    try:
        return _named(f(lib))
    except Exception as error:   # noqa: BLE001 - compared with torch's
        return type(error).__name__, _named(str(error))


def same(f):
    e, t = run(ember, f), run(torch, f)
    assert e == t
    return e


def described(t):
    return tuple(t.shape), str(t.dtype).split(".")[1], str(t.device)


def M(lib, *shape, **kwargs):
    return lib.empty(*shape, device="meta", **kwargs)


# --- factories, attributes, reprs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda lib: lib.empty(2, 3, device="meta"),
    lambda lib: lib.zeros((), device="meta"),
    lambda lib: lib.empty(0, device="meta"),
    lambda lib: lib.ones(3, device="meta", dtype=lib.int64),
    lambda lib: lib.full((2,), 3, device="meta"),
    lambda lib: lib.arange(5, device="meta"),
    lambda lib: lib.linspace(0, 1, 5, device="meta"),
    lambda lib: lib.eye(3, device="meta"),
    lambda lib: lib.tensor([1, 2], device="meta"),
    lambda lib: lib.tensor(3.0, device="meta"),
    lambda lib: lib.randn(2, 3, device="meta"),
    lambda lib: lib.rand(4, device="meta", dtype=lib.float64),
    lambda lib: lib.randint(0, 5, (3,), device="meta"),
    lambda lib: lib.randperm(5, device="meta"),
    lambda lib: lib.empty(2, 3, dtype=lib.complex64, device="meta"),
    lambda lib: lib.empty(2, 2, device="meta", dtype=lib.float16),
    lambda lib: lib.empty(2, 3, device="meta", requires_grad=True),
    lambda lib: lib.ones(2).to("meta"),
    lambda lib: lib.ones(2).to(device="meta", dtype=lib.float64),
    lambda lib: lib.empty(2, 3, device="meta").new_zeros(4),
    lambda lib: lib.zeros_like(lib.empty(2, 3, device="meta")),
    lambda lib: lib.empty(2, 3, device="meta").clone(),
    lambda lib: lib.nn.Parameter(lib.empty(2, 3, device="meta")),
])
def test_factories_and_reprs(make):
    same(lambda lib: (repr(make(lib)), described(make(lib)), make(lib).is_meta, make(lib).stride(),
                      make(lib).is_contiguous(), make(lib).data_ptr()))


def test_device_context_and_default_device_make_meta_tensors():
    def build(lib):
        with lib.device("meta"):
            model = lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.ReLU(), lib.nn.BatchNorm1d(5))
            plain = lib.zeros(2)
        return [described(t) for t in model.state_dict().values()] + [described(plain), repr(model),
                                                                        repr(model[0].weight)]
    same(build)
    ember.set_default_device("meta")
    try:
        assert ember.zeros(2).is_meta and ember.nn.Linear(2, 3).weight.is_meta
    finally:
        ember.set_default_device(None)
    assert not ember.zeros(2).is_meta


def test_empty_like_to_another_device_and_views():
    same(lambda lib: [described(lib.empty_like(M(lib, 2, 3), device="cpu")),
                      described(M(lib, 2, 3).view(3, 2)), described(M(lib, 2, 3).t()),
                      described(M(lib, 2, 3)[0]), described(M(lib, 2, 3).to(lib.float16)),
                      str(lib.device("meta")), repr(lib.device("meta"))])


# --- errors ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("use", [
    lambda lib: M(lib, 2, 3).item(),
    lambda lib: M(lib, 1).item(),
    lambda lib: M(lib, 2, 3).tolist(),
    lambda lib: M(lib, 2, 3).numpy(),
    lambda lib: numpy.asarray(M(lib, 2, 3)),
    lambda lib: M(lib, 2, 3).cpu(),
    lambda lib: M(lib, 2, 3).to("cpu"),
    lambda lib: float(M(lib, 2, 3)[0, 0]),
    lambda lib: bool(M(lib, 2, 3)[0, 0]),
    lambda lib: M(lib, 2, 3) + lib.ones(2, 3),
    lambda lib: lib.ones(2, 3) + M(lib, 2, 3),
    lambda lib: lib.ones(2, 3).copy_(M(lib, 2, 3)),
    lambda lib: lib.nn.Linear(2, 2, device="meta").to("cpu"),
])
def test_errors_as_torch(use):
    result = same(use)
    assert isinstance(result, tuple) and result[0].endswith("Error")


def test_operands_pytorch_allows_beside_meta():
    same(lambda lib: [repr(M(lib, 2, 3) + lib.tensor(1.0)), repr(M(lib, 2, 3).copy_(lib.ones(2, 3))),
                      repr(M(lib, 2, 3).fill_(2.0)), repr(M(lib, 2, 3).mul_(2))])


# --- random numbers: none drawn on meta ---------------------------------------------------------------------------
@pytest.mark.parametrize("draw", [
    lambda lib: lib.nn.Linear(4, 4, device="meta"),
    lambda lib: lib.nn.Conv2d(3, 4, 3, device="meta"),
    lambda lib: lib.nn.LSTM(3, 4, device="meta"),
    lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, device="meta"),
    lambda lib: lib.nn.Embedding(5, 3, device="meta"),
    lambda lib: lib.randn(3, device="meta"),
    lambda lib: lib.rand(3, device="meta"),
    lambda lib: lib.randint(0, 3, (3,), device="meta"),
    lambda lib: lib.randperm(5, device="meta"),
    lambda lib: lib.normal(0.0, 1.0, (3,), device="meta"),
    lambda lib: M(lib, 3).normal_(),
    lambda lib: M(lib, 3).uniform_(),
    lambda lib: M(lib, 3).bernoulli_(0.5),
    lambda lib: M(lib, 3).random_(0, 5),
    lambda lib: M(lib, 3).exponential_(),
    lambda lib: lib.bernoulli(M(lib, 3)),
    lambda lib: lib.nn.functional.dropout(M(lib, 3)),
    lambda lib: [getattr(lib.nn.init, name)(M(lib, 4, 3)) for name in (
        "uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
        "kaiming_normal_", "orthogonal_", "zeros_", "ones_", "eye_")] + [lib.nn.init.sparse_(M(lib, 4, 3), 0.5),
                                                                         lib.nn.init.dirac_(M(lib, 4, 3, 3)),
                                                                         lib.nn.init.constant_(M(lib, 2), 0.5)],
])
def test_meta_draws_do_not_advance_the_generator(draw):
    def after(lib, with_draw):
        lib.manual_seed(0)
        if with_draw:
            draw(lib)
        return lib.randn(2).tolist()
    for lib in (ember, torch):
        assert after(lib, True) == after(lib, False)
    assert after(ember, True) == after(torch, True)


# --- module recipes -----------------------------------------------------------------------------------------------
def _net(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, stride=2), nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Dropout(0.5),
                         nn.Linear(64, 10))


def test_to_empty_makes_uninitialized_tensors_on_the_device():
    def flow(lib):
        with lib.device("meta"):
            model = _net(lib)
        assert model.to_empty(device="cpu") is model
        return [(name, described(t), t.requires_grad, type(t).__name__) for name, t in model.state_dict(
            keep_vars=True).items()] + [described(model(lib.ones(1, 3, 8, 8)))]
    same(flow)


def test_load_state_dict_assign_replaces_meta_parameters():
    torch.manual_seed(0)
    source = _net(torch).eval()
    state = source.state_dict()
    x = torch.randn(2, 3, 16, 16)

    def flow(lib):
        model = _net(lib) if lib is torch else None
        with lib.device("meta"):
            model = _net(lib)
        values = state if lib is torch else {k: ember.tensor(v.numpy()) for k, v in state.items()}
        result = model.load_state_dict(values, assign=True)
        model.eval()
        out = model(lib.tensor(x.numpy()))
        return (str(result), [(name, described(p), p.requires_grad, type(p).__name__)
                              for name, p in model.named_parameters()], numpy.asarray(out.detach().numpy()))
    e, t = flow(ember), flow(torch)
    assert e[:2] == t[:2]
    numpy.testing.assert_allclose(e[2], t[2], rtol=1e-5, atol=1e-6)


def test_load_state_dict_without_assign_warns_and_keeps_meta():
    def flow(lib):
        model = lib.nn.Linear(2, 3, device="meta")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = model.load_state_dict(lib.nn.Linear(2, 3).state_dict())
        return str(result), described(model.weight), [(w.category.__name__, str(w.message)) for w in caught]
    same(flow)


def test_skip_init_goes_through_meta():
    torch.manual_seed(0)
    ember.manual_seed(0)
    e, t = (lib.nn.utils.skip_init(lib.nn.Linear, 5, 2) for lib in (ember, torch))
    assert described(e.weight) == described(t.weight) and e.weight.requires_grad
    assert ember.randn(3).tolist() == torch.randn(3).tolist()


# --- shape inference ----------------------------------------------------------------------------------------------
def test_shape_inference_through_a_cnn_layer_by_layer():
    def shapes(lib):
        with lib.device("meta"):
            model = _net(lib)
        h, seen = lib.empty(2, 3, 32, 32, device="meta"), []
        for layer in model:
            h = layer(h)
            seen.append((type(layer).__name__, described(h)))
        return seen + [repr(model(lib.empty(2, 3, 32, 32, device="meta")))]
    same(shapes)


def test_shape_inference_through_a_transformer_layer_and_attention():
    def shapes(lib):
        layer = lib.nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True,
                                               device="meta")
        src = lib.empty(2, 5, 16, device="meta")
        mha = lib.nn.MultiheadAttention(16, 4, device="meta")
        out, weights = mha(src, src, src)
        lstm = lib.nn.LSTM(4, 6, batch_first=True, device="meta")
        o, (h, c) = lstm(lib.empty(2, 3, 4, device="meta"))
        emb = lib.nn.Embedding(10, 4, device="meta")(lib.zeros(2, 3, dtype=lib.long, device="meta"))
        return [described(t) for t in (layer(src), out, weights, o, h, c, emb)]
    same(shapes)


@pytest.mark.parametrize("op", [
    lambda lib, F: F.interpolate(M(lib, 2, 3, 8, 8), scale_factor=2),
    lambda lib, F: F.interpolate(M(lib, 2, 3, 8, 8), size=(5, 7), mode="bilinear"),
    lambda lib, F: F.layer_norm(M(lib, 4, 6), (6,)),
    lambda lib, F: F.group_norm(M(lib, 2, 3, 8, 8), 3),
    lambda lib, F: F.max_pool2d(M(lib, 2, 3, 8, 8), 2, return_indices=True)[1],
    lambda lib, F: F.nll_loss(M(lib, 4, 6), lib.zeros(4, dtype=lib.long, device="meta")),
    lambda lib, F: F.cross_entropy(M(lib, 4, 6), lib.zeros(4, dtype=lib.long, device="meta")),
    lambda lib, F: M(lib, 4, 6).topk(2)[1],
    lambda lib, F: M(lib, 4, 6).max(1)[1],
    lambda lib, F: M(lib, 4, 6).argmax(),
    lambda lib, F: M(lib, 4, 6).argmin(keepdim=True),
    lambda lib, F: M(lib, 4, 6) > 0,
    lambda lib, F: lib.where(M(lib, 4, 6) > 0, M(lib, 4, 6), 0.0),
    lambda lib, F: lib.einsum("ij,kj->ik", M(lib, 4, 6), M(lib, 3, 6)),
    lambda lib, F: M(lib, 4, 6).index_select(0, lib.zeros(4, dtype=lib.long, device="meta")),
    lambda lib, F: F.one_hot(lib.zeros(4, dtype=lib.long, device="meta"), 5),
    lambda lib, F: F.conv_transpose2d(M(lib, 2, 3, 8, 8), M(lib, 3, 2, 3, 3)),
    lambda lib, F: F.unfold(M(lib, 2, 3, 8, 8), 3),
    lambda lib, F: F.scaled_dot_product_attention(M(lib, 2, 4, 5, 8), M(lib, 2, 4, 5, 8), M(lib, 2, 4, 5, 8)),
    lambda lib, F: M(lib, 4, 6)[lib.zeros(4, dtype=lib.long, device="meta")],
    lambda lib, F: M(lib, 2, 3, 8, 8).permute(0, 2, 3, 1).contiguous(),
    lambda lib, F: lib.cat([M(lib, 4, 6), M(lib, 2, 6)]),
    lambda lib, F: M(lib, 4, 6).long() + 1.5,
    lambda lib, F: M(lib, 3, dtype=lib.long) // M(lib, 3, dtype=lib.long),
    lambda lib, F: M(lib, 3, dtype=lib.long) % M(lib, 3, dtype=lib.long),
    lambda lib, F: lib.linalg.inv(M(lib, 2, 3, 3)),
    lambda lib, F: lib.linalg.solve(M(lib, 3, 3), M(lib, 3, 2)),
    lambda lib, F: lib.linalg.cholesky(M(lib, 3, 3)),
    lambda lib, F: lib.linalg.svd(M(lib, 3, 4))[1],
    lambda lib, F: lib.linalg.qr(M(lib, 4, 3))[0],
    lambda lib, F: lib.linalg.eigh(M(lib, 3, 3))[0],
    lambda lib, F: lib.linalg.det(M(lib, 3, 3)),
    lambda lib, F: M(lib, 3).log() + M(lib, 3).acosh() + M(lib, 3).erfinv(),
    lambda lib, F: M(lib, 3).any(),
    lambda lib, F: M(lib, 2, 3).all(dim=1),
])
def test_op_results_are_meta_with_torchs_shape_and_dtype(op):
    same(lambda lib: described(op(lib, lib.nn.functional)))


def test_backward_gives_meta_gradients():
    def flow(lib):
        with lib.device("meta"):
            model = _net(lib)
        loss = lib.nn.functional.cross_entropy(model(lib.empty(2, 3, 16, 16, device="meta")),
                                               lib.zeros(2, dtype=lib.long, device="meta"))
        loss.backward()
        return [repr(loss)] + [described(p.grad) for p in model.parameters()]
    same(flow)


# --- saving and copying ---------------------------------------------------------------------------------------------
def test_save_and_load_both_ways(tmp_path):
    for writer, reader in ((ember, torch), (torch, ember), (ember, ember)):
        buffer = io.BytesIO()
        writer.save({"x": writer.empty(2, 3, device="meta"), "model": writer.nn.Linear(2, 3, device="meta")
                     .state_dict()}, buffer)
        buffer.seek(0)
        loaded = reader.load(buffer)
        assert described(loaded["x"]) == ((2, 3), "float32", "meta")
        assert [described(t) for t in loaded["model"].values()] == [((3, 2), "float32", "meta"),
                                                                     ((3,), "float32", "meta")]


def test_deepcopy_and_pickle_stay_meta():
    model = ember.nn.Linear(2, 3, device="meta")
    assert copy.deepcopy(model).weight.is_meta
    x = pickle.loads(pickle.dumps(ember.empty(2, device="meta", requires_grad=True)))
    assert x.is_meta and x.requires_grad and tuple(x.shape) == (2,)


def test_a_big_model_on_meta_allocates_nothing():
    with ember.device("meta"):   # 40 GB of float32 parameters were they real
        model = ember.nn.Sequential(ember.nn.Linear(100_000, 100_000), ember.nn.LayerNorm(100_000),
                                    ember.nn.Embedding(100_000, 1000, padding_idx=0))
    for init in (ember.nn.init.zeros_, ember.nn.init.ones_, ember.nn.init.xavier_uniform_):
        init(model[0].weight)
    assert all(p.is_meta for p in model.parameters())
    assert sum(p.numel() for p in model.parameters()) == 100_000 * 100_000 + 3 * 100_000 + 100_000 * 1000


def test_meta_tensors_hold_no_memory():
    x = ember.empty(1 << 20, 1 << 20, device="meta")   # 4 TiB were it real
    assert x.is_meta and x.numel() == 1 << 40 and x.nbytes == 4 << 40
    low, high = numpy.lib.array_utils.byte_bounds(x._data)   # the memory its elements span: one element
    assert high - low == 4


@pytest.mark.parametrize("call", [lambda t, x: x.nonzero(), lambda t, x: x.nonzero(as_tuple=True),
                                  lambda t, x: t.where(x > 0), lambda t, x: x[x > 0],
                                  lambda t, x: x.masked_select(x > 0), lambda t, x: t.unique(x),
                                  lambda t, x: t.unique(x, dim=0), lambda t, x: t.unique_consecutive(x),
                                  lambda t, x: t.equal(x, x), lambda t, x: t.allclose(x, x)],
                         ids=["nonzero", "nonzero tuple", "where", "mask", "masked_select", "unique", "unique dim",
                              "unique_consecutive", "equal", "allclose"])
def test_ops_sized_or_valued_by_the_data_refuse_meta_tensors_as_pytorch(call):
    with pytest.raises(Exception) as expected:
        call(torch, torch.ones(3, device="meta"))
    with pytest.raises(type(expected.value)) as raised:
        call(ember, ember.ones(3, device="meta"))
    assert str(raised.value) == str(expected.value)
