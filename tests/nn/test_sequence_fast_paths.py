"""The sequence models' fused primitives (layer norm, attention) against PyTorch (values and gradients) and finite
differences in float64 (gradcheck, gradgradcheck)."""
import numpy
import pytest
import torch

import ember
from tests import oracle


def _run(lib, function, arrays, grad_seed=1):
    """function(*tensors) and the gradients of (output * fixed random weights).sum() for every input."""
    tensors = [lib.tensor(a, requires_grad=True) if a is not None else None for a in arrays]
    output = function(lib, *tensors)
    weights = numpy.random.default_rng(grad_seed).standard_normal(tuple(output.shape)).astype(arrays[0].dtype)
    (output * lib.tensor(weights)).sum().backward()
    numpy_of = (lambda t: t.detach().numpy()) if lib is torch else oracle.as_numpy
    return [numpy_of(output)] + [None if t is None or t.grad is None else numpy_of(t.grad) for t in tensors]


def _compare(function, arrays, atol):
    for got, want in zip(_run(ember, function, arrays), _run(torch, function, arrays)):
        assert (got is None) == (want is None)
        if got is not None:
            assert got.dtype == want.dtype
            numpy.testing.assert_allclose(got, want, rtol=atol, atol=atol)


# --- layer norm ----------------------------------------------------------------------------------------------------
LAYER_NORM_CASES = [((32, 16, 24), (24,), True), ((4, 5, 6), (5, 6), True), ((3, 7), (7,), False),
                    ((1, 1, 5), (5,), True), ((2, 3, 1), (1,), True), ((6,), (6,), True)]


@pytest.mark.parametrize("shape, normalized, affine", LAYER_NORM_CASES)
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_layer_norm_matches_torch(shape, normalized, affine, dtype):
    rng = numpy.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(dtype) * 3 + 1]
    if affine:
        arrays += [rng.standard_normal(normalized).astype(dtype), rng.standard_normal(normalized).astype(dtype)]
    # one element per row normalizes to exactly 0; PyTorch's float32 statistics leave ~1e-5 there
    atol = 1e-10 if dtype == numpy.float64 else 1e-4 if normalized == (1,) else 1e-5
    _compare(lambda lib, x, *wb: lib.nn.functional.layer_norm(x, normalized, *wb, eps=1e-5), arrays, atol)


def test_layer_norm_weight_only_and_non_contiguous_input():
    rng = numpy.random.default_rng(1)
    x, w = rng.standard_normal((6, 5, 4)), rng.standard_normal(5)
    _compare(lambda lib, x, w: lib.nn.functional.layer_norm(x.transpose(1, 2), (5,), w), [x, w], 1e-10)


def test_layer_norm_node_name_and_gradgradcheck():
    rng = numpy.random.default_rng(2)
    x, w, b = (ember.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 2, 5), (2, 5), (2, 5)))
    assert type(ember.nn.functional.layer_norm(x, (2, 5), w, b).grad_fn).__name__ == "NativeLayerNormBackward0"
    function = lambda x, w, b: ember.nn.functional.layer_norm(x, (2, 5), w, b, eps=1e-3)
    assert ember.autograd.gradcheck(function, (x, w, b))
    assert ember.autograd.gradgradcheck(function, (x, w, b))


# --- attention ------------------------------------------------------------------------------------------------------
def _sdpa(**options):
    def function(lib, q, k, v, *mask):
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, *mask, **options)
    return function


@pytest.mark.parametrize("q_shape, k_shape", [((2, 3, 5, 4), (2, 3, 7, 4)), ((2, 3, 5, 4), (3, 5, 4)),
                                              ((1, 1, 1, 2), (1, 1, 1, 2)), ((6, 4), (6, 4))])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_attention_matches_torch(q_shape, k_shape, dtype):
    rng = numpy.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (q_shape, k_shape, k_shape)]
    _compare(_sdpa(), arrays, 1e-5 if dtype == numpy.float32 else 1e-10)
    _compare(_sdpa(scale=0.3), arrays, 1e-5 if dtype == numpy.float32 else 1e-10)


def test_attention_float_mask_gets_its_gradient():
    rng = numpy.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), (5, 6))]
    arrays[3][1, 2:] = -numpy.inf
    _compare(_sdpa(), arrays, 1e-10)


def test_attention_boolean_causal_and_fully_masked_rows():
    rng = numpy.random.default_rng(5)
    q, k, v = (rng.standard_normal((2, 2, 4, 3)) for _ in range(3))
    _compare(_sdpa(is_causal=True), [q, k, v], 1e-10)
    keep = numpy.ones((4, 4), bool)
    keep[2] = False   # a query that may attend nowhere: zero output and zero gradients, in both libraries
    results = []
    for lib in (ember, torch):
        tensors = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = lib.nn.functional.scaled_dot_product_attention(*tensors, attn_mask=lib.tensor(keep))
        out.sum().backward()
        results.append([numpy.asarray(t.detach().numpy()) for t in [out] + [t.grad for t in tensors]])
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert not results[0][0][:, :, 2].any()


def test_attention_dropout_draws_the_mask_dropout_draws():
    """The fused path's keep-mask is the one ``dropout`` draws on the weights: same outputs and gradients as the
    composite softmax -> dropout -> matmul under the same seed."""
    rng = numpy.random.default_rng(6)
    arrays = [rng.standard_normal((2, 3, 5, 4)) for _ in range(3)]

    def fused(q, k, v):
        return ember.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    def composite(q, k, v):
        weights = (q.matmul(k.transpose(-2, -1)) * 0.5).softmax(-1)
        return ember.nn.functional.dropout(weights, 0.4).matmul(v)

    results = []
    for function in (fused, composite):
        ember.manual_seed(7)
        tensors = [ember.tensor(a, requires_grad=True) for a in arrays]
        function(*tensors).pow(2).sum().backward()
        results.append([oracle.as_numpy(t.grad) for t in tensors] +
                       [oracle.as_numpy(ember.get_rng_state())])
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("dropout_p, mask", [(0.0, None), (0.1, None), (0.2, "bool"), (0.0, "float"),
                                             (0.3, "float")])
def test_attention_array_backward_equals_the_tensor_backward(dtype, dropout_p, mask):
    """The engine's array backward gives the Tensor backward's gradients bit for bit (heads as strided views of one
    projection, dropout, a query masked out everywhere, a float mask that needs its gradient)."""
    from ember.ops.attention import ScaledDotProductFlashAttentionForCpu as Attention
    rng = numpy.random.default_rng(9)
    qkv = ember.tensor(rng.standard_normal((3, 10, 3 * 24)).astype(dtype), requires_grad=True)
    q, k, v = (t.unflatten(-1, (4, 6)).transpose(1, 2) for t in qkv.unflatten(-1, (3, 24)).unbind(-2))
    attn_mask = None
    if mask == "bool":
        attn_mask = ember.tensor(rng.random((10, 10)) < 0.7)
        attn_mask[3] = False
    elif mask == "float":
        attn_mask = ember.tensor(rng.standard_normal((3, 4, 10, 10)).astype(dtype), requires_grad=True)
    node = ember.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p=dropout_p).grad_fn
    grad = rng.standard_normal((3, 4, 10, 6)).astype(dtype)
    with ember.no_grad():
        want = Attention.backward(node, ember.tensor(grad))
        got = Attention.array_backward(node, grad)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if g is not None:
            assert g.dtype == w.numpy().dtype
            numpy.testing.assert_array_equal(g, w.numpy())


@pytest.mark.parametrize("layout", ["interleaved", "contiguous", "broadcast keys", "permuted", "shorter keys",
                                    "narrower values"])
def test_attention_output_follows_the_query_layout_as_torch(layout):
    """The output's axes lie in memory in the query's order, as PyTorch's kernel lays them (heads interleaved as in
    multi-head attention's views of one projection, or permuted); values and gradients agree with PyTorch."""
    x = numpy.random.default_rng(10).standard_normal((3, 7, 3, 4, 5)).astype(numpy.float32)
    results = []
    for lib in (ember, torch):
        packed = lib.tensor(x, requires_grad=True)
        q, k, v = (packed[:, :, i].transpose(1, 2) for i in range(3))
        if layout == "contiguous":
            q = q.contiguous()
        elif layout == "broadcast keys":
            k, v = k[:1], v[:1]
        elif layout == "permuted":
            q, k, v = (packed[:, :, i].permute(2, 1, 0, 3) for i in range(3))
        elif layout == "shorter keys":
            k, v = k[:, :, 2:], v[:, :, 2:]
        elif layout == "narrower values":
            v = v[..., :3]
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v)
        out.pow(2).sum().backward()
        results.append((out.stride(), out.detach().numpy(), packed.grad.numpy()))
    (se, oe, ge), (st, ot, gt) = results
    if layout != "broadcast keys":   # PyTorch's math path there; ember keeps a contiguous output
        assert se == st
    numpy.testing.assert_allclose(oe, ot, rtol=1e-5, atol=1e-5)
    numpy.testing.assert_allclose(ge, gt, rtol=1e-4, atol=1e-4)


def test_attention_gradcheck_and_gradgradcheck():
    rng = numpy.random.default_rng(8)
    q, k, v = (ember.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True) for _ in range(3))
    mask = ember.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    function = lambda q, k, v, m: ember.nn.functional.scaled_dot_product_attention(q, k, v, m)
    assert ember.autograd.gradcheck(function, (q, k, v, mask))
    assert ember.autograd.gradgradcheck(function, (q, k, v, mask))


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("padding", [False, True])
def test_self_attention_packed_projection_matches_torch(batch_first, padding):
    """Self-attention (query is key is value) projects once, as PyTorch; weights, inputs and masks get its
    gradients."""
    rng = numpy.random.default_rng(9)
    x = rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8))
    pad = numpy.zeros((3, 5), bool)
    pad[1, 3:] = True
    results, reference = [], None
    for lib in (torch, ember):
        layer = lib.nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=lib.float64)
        if reference is None:
            reference = {k: v.numpy() for k, v in layer.state_dict().items()}
        else:
            layer.load_state_dict({k: ember.tensor(v) for k, v in reference.items()})
        inputs = lib.tensor(x, requires_grad=True)
        out, _ = layer(inputs, inputs, inputs, need_weights=False,
                       key_padding_mask=lib.tensor(pad) if padding else None)
        out.pow(2).sum().backward()
        numpy_of = (lambda t: t.detach().numpy()) if lib is torch else oracle.as_numpy
        results.append([numpy_of(out), numpy_of(inputs.grad)] + [numpy_of(p.grad) for p in layer.parameters()])
    for want, got in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


# --- recurrent layers: BLAS threads -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_recurrent_steps_run_on_one_blas_thread_and_restore_the_count(mode, monkeypatch):
    """A small layer's time steps call BLAS with one thread; the user's count is back afterwards, and the results
    (forward and backward) still match PyTorch's."""
    from ember.ops import _blas
    if _blas._controls() is None:
        pytest.skip("NumPy's OpenBLAS not found")
    get, set_ = _blas._controls()
    counts = []
    monkeypatch.setattr(_blas, "_controls", lambda: (get, lambda n: (counts.append(n), set_(n))))
    torch.manual_seed(0)
    weights = {k: v.detach().numpy() for k, v in getattr(torch.nn, mode)(4, 6, num_layers=2).state_dict().items()}

    def run(lib, x):
        layer = getattr(lib.nn, mode)(4, 6, num_layers=2)
        layer.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
        return layer(x)[0]
    previous = get()
    set_(2)
    try:
        _compare(run, [numpy.random.default_rng(10).standard_normal((7, 3, 4)).astype(numpy.float32)], 1e-5)
        assert get() == 2 and counts[:2] == [1, 2]
    finally:
        set_(previous)
