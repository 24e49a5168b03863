"""scaled_dot_product_attention and nn.MultiheadAttention against torch: values, dtypes, shapes and gradients."""
import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, check, check_error, gradcheck, sample

F32 = numpy.float32
Q, K, V = sample((2, 4, 5, 8), F32, seed=1), sample((2, 4, 6, 8), F32, seed=2), sample((2, 4, 6, 3), F32, seed=3)
KEEP = sample((5, 6), numpy.bool_, seed=4)
KEEP[1] = False   # a fully masked row gives zeros, as in PyTorch's kernels
BIAS = sample((2, 1, 5, 6), F32, seed=5)

SDPA_CASES = [
    ("plain", (Q, K, V), {}),
    ("bool mask", (Q, K, V), dict(attn_mask=KEEP)),
    ("float mask", (Q, K, V), dict(attn_mask=BIAS)),
    ("causal", (Q, K, V), dict(is_causal=True)),
    ("scale", (Q, K, V), dict(scale=0.3)),
    ("gqa", (Q, K[:, :2], V[:, :2]), dict(enable_gqa=True)),
    ("unbatched", (Q[0, 0], K[0, 0], V[0, 0]), {}),
    ("3-d", (Q[0], K[0], V[0]), dict(is_causal=True)),
    ("float64", tuple(a.astype(numpy.float64) for a in (Q, K, V)), dict(attn_mask=KEEP)),
]


@pytest.mark.parametrize("name,args,options", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa_matches_torch(name, args, options):
    mask = options.pop("attn_mask", None) if "attn_mask" in options else None

    def sdpa(lib, q, k, v):
        extra = {} if mask is None else {"attn_mask": lib.tensor(mask)}
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, **options, **extra)
    check(sdpa, *args, rtol=1e-4, atol=1e-5)
    if mask is not None:
        options["attn_mask"] = mask


def test_sdpa_gradcheck_and_dropout():
    q, k, v = (sample((1, 2, 3, 4), numpy.float64, seed=s) for s in (6, 7, 8))
    keep = numpy.array([[True, False, True], [False, False, False], [True, True, True]])
    gradcheck(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=lib.tensor(keep)), q, k, v)
    out = ember.nn.functional.scaled_dot_product_attention(*(ember.tensor(a) for a in (Q, K, V)), dropout_p=0.5)
    assert tuple(out.shape) == (2, 4, 5, 3)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("mask", [None, "causal", "float", "bool"])
def test_sdpa_of_16_bit_floats_rounds_as_torchs_flash_kernel(dtype, mask):
    # short rows (under a vector of keys): PyTorch's kernel takes the exact exp there, so every bit matches
    rng = numpy.random.default_rng(4)
    q, k, v = (rng.standard_normal(shape).astype(numpy.float32) for shape in ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8)))
    bias = rng.standard_normal((4, 6)).astype(numpy.float32)
    keep = rng.random((4, 6)) > 0.3
    keep[:, 0] = True
    results = []
    for lib in (ember, torch):
        low = getattr(lib, dtype)
        options = {"causal": {"is_causal": True}, "float": {"attn_mask": lib.tensor(bias).to(low)},
                   "bool": {"attn_mask": lib.tensor(keep), "scale": 0.3}}.get(mask, {})
        out = lib.nn.functional.scaled_dot_product_attention(*(lib.tensor(a).to(low) for a in (q, k, v)), **options)
        assert out.dtype == low
        results.append(out.view(lib.int16).tolist())
    assert results[0] == results[1]


def test_sdpa_errors_match_torch():
    check_error(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v), Q.astype(numpy.float64),
                K, V, match="same dtype")
    check_error(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=lib.ones(5, 6, dtype=lib.int64)), Q, K, V, match="attn_mask dtype")
    check_error(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True),
                Q, K[:, :3], V[:, :3], match="divide the number of heads")
    check_error(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
        q.requires_grad_(), k, v, attn_mask=lib.ones(5, 6, dtype=lib.bool), is_causal=True), Q, K, V,
        match="should not be set")


def copy_weights(torch_module, ember_module):
    """Loads torch's weights into ember by state_dict name (the names must be the same)."""
    assert list(torch_module.state_dict()) == list(ember_module.state_dict())
    ember_module.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()})


MHA_CASES = [
    ("default", {}),
    ("batch_first", dict(batch_first=True)),
    ("kdim vdim", dict(kdim=3, vdim=5)),
    ("bias kv zero attn", dict(add_bias_kv=True, add_zero_attn=True)),
    ("no bias", dict(bias=False)),
]


@pytest.mark.parametrize("name,options", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_torch(name, options):
    torch.manual_seed(0)
    t_mha, e_mha = torch.nn.MultiheadAttention(8, 2, **options), ember.nn.MultiheadAttention(8, 2, **options)
    copy_weights(t_mha, e_mha)
    q = sample((4, 3, 8), F32, seed=1)
    k, v = sample((5, 3, options.get("kdim", 8)), F32, seed=2), sample((5, 3, options.get("vdim", 8)), F32, seed=3)
    if options.get("batch_first"):
        q, k, v = (numpy.ascontiguousarray(a.swapaxes(0, 1)) for a in (q, k, v))
    padding = numpy.zeros((3, 5), bool)
    padding[1, 3:] = True
    blocked = numpy.triu(numpy.ones((4, 5), bool), 1)
    for need_weights in (True, False):
        check(lambda lib, q, k, v: (t_mha if lib is torch else e_mha.to(q.device))(
            q, k, v, need_weights=need_weights, key_padding_mask=lib.tensor(padding)), q, k, v, rtol=1e-4, atol=1e-5)
        check(lambda lib, q, k, v: (t_mha if lib is torch else e_mha.to(q.device))(
            q, k, v, need_weights=need_weights, average_attn_weights=False, attn_mask=lib.tensor(blocked)),
            q, k, v, rtol=1e-4, atol=1e-5)


def test_multihead_attention_self_attention_unbatched_and_causal():
    torch.manual_seed(1)
    t_mha, e_mha = torch.nn.MultiheadAttention(6, 3), ember.nn.MultiheadAttention(6, 3)
    copy_weights(t_mha, e_mha)
    x = sample((4, 6), F32, seed=9)
    check(lambda lib, x: (t_mha if lib is torch else e_mha.to(x.device))(x, x, x), x, rtol=1e-4, atol=1e-5)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()
    check(lambda lib, x: (t_mha if lib is torch else e_mha.to(x.device))(
        x, x, x, attn_mask=lib.tensor(mask), is_causal=True, need_weights=False), sample((4, 2, 6), F32), rtol=1e-4,
        atol=1e-5)


def test_multihead_attention_init_and_errors():
    mha = ember.nn.MultiheadAttention(8, 2, add_bias_kv=True, kdim=4)
    names = [name for name, _ in mha.named_parameters()]
    assert names == [n for n, _ in torch.nn.MultiheadAttention(8, 2, add_bias_kv=True, kdim=4).named_parameters()]
    assert float(mha.in_proj_bias.abs().sum()) == 0 and float(mha.out_proj.bias.abs().sum()) == 0
    assert isinstance(mha.out_proj, ember.nn.Linear)
    with pytest.raises(ValueError, match="must be greater than 0"):
        ember.nn.MultiheadAttention(0, 2)
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        ember.nn.MultiheadAttention(7, 2)
    x = ember.ones(3, 2, 8)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        ember.nn.MultiheadAttention(8, 2)(x, x, x, is_causal=True)
    assert_same(ember.nn.MultiheadAttention(8, 2)(x, x, x)[1].sum(-1), torch.ones(2, 3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mask", [None, "bool", "float", "dead row"])
@pytest.mark.parametrize("shapes", [((2, 3, 5, 4), (2, 3, 7, 4)), ((1, 6, 8), (1, 9, 8)), ((3, 2, 1, 2, 4),) * 2])
def test_attention_without_backward_matches_the_recorded_forward(dtype, mask, shapes):
    """Without a backward the forward's softmax runs over a (key, rest) scratch layout (``_in_blocks``' columns): the
    same bits as the forward that keeps its weights, on transposed (non-contiguous) query, key and value, with
    boolean and float masks and a query masked out everywhere; PyTorch's values."""
    rng = numpy.random.default_rng(7)
    (q_shape, k_shape) = shapes
    q = rng.standard_normal(q_shape[:-2] + q_shape[-1:] + q_shape[-2:-1]).astype(dtype).swapaxes(-1, -2)
    k, v = (rng.standard_normal(k_shape).astype(dtype) for _ in range(2))
    m = None
    if mask is not None:
        m = rng.standard_normal(q_shape[-2:-1] + k_shape[-2:-1]) > -0.3
        if mask == "dead row":
            m[0] = False
        m = m.astype(dtype) if mask == "float" else m
    results = []
    for lib in (ember, torch):
        args = [lib.tensor(a) for a in (q, k, v)]
        mask_arg = None if m is None else lib.tensor(m)
        with lib.no_grad():
            scratch = lib.nn.functional.scaled_dot_product_attention(*args, mask_arg)
        kept = lib.nn.functional.scaled_dot_product_attention(*(a.requires_grad_() for a in args), mask_arg)
        results.append((scratch, kept))
    (scratch, kept), (t_scratch, _) = results
    numpy.testing.assert_array_equal(scratch.numpy(), kept.detach().numpy())
    assert_same(scratch, t_scratch, rtol=1e-5 if dtype == "float32" else 1e-12,
                atol=1e-6 if dtype == "float32" else 1e-12)
