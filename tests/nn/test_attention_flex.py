"""ember.nn.attention.flex_attention beside torch's: outputs and logsumexps against torch's flex_attention, and
gradients (query, key, value and the tensors a mod captures) against torch's eager reference (math_attention,
since torch's CPU flex_attention refuses backward), in float32 and float64, for score_mods and mask_mods written
as programs write them, GQA, lengths that are not multiples of the block size, and fully masked rows."""
import math
import warnings

import numpy
import pytest
import torch
import torch.nn.attention.flex_attention as torch_flex
from torch._higher_order_ops.flex_attention import math_attention

import ember
import ember.nn.attention.flex_attention as flex

B, H, Q, KV, E = 2, 4, 37, 45, 16


def _mods(lib, module, captured):
    """Each case's (score_mod, mask_mod), written against ``lib``, capturing ``captured``'s tensors."""
    slopes, table, documents = captured["slopes"], captured["table"], captured["documents"]

    def causal(b, h, q_idx, kv_idx):
        return q_idx >= kv_idx

    def window(b, h, q_idx, kv_idx):
        return q_idx - kv_idx <= 6

    def prefix(b, h, q_idx, kv_idx):
        return kv_idx < 5

    return {
        "none": (None, None),
        "relative position": (lambda score, b, h, q_idx, kv_idx: score + (q_idx - kv_idx) * 0.1, None),
        "alibi, causal": (lambda score, b, h, q_idx, kv_idx: score + slopes[h] * (kv_idx - q_idx), causal),
        "sliding window (and_masks)": (None, module.and_masks(causal, window)),
        "prefix lm (or_masks)": (None, module.or_masks(causal, prefix)),
        "documents": (None, lambda b, h, q_idx, kv_idx: documents[q_idx] == documents[kv_idx]),
        "bias table, softcap": (lambda score, b, h, q_idx, kv_idx: 5 * lib.tanh((score + table[q_idx, kv_idx]) / 5),
                                None),
        "per batch and head": (lambda score, b, h, q_idx, kv_idx: lib.where(b == h % 2, score * 2, score),
                               lambda b, h, q_idx, kv_idx: (kv_idx + h) % 3 != b),
        "dead rows": (None, lambda b, h, q_idx, kv_idx: q_idx < 20),
    }


CASES = list(_mods(numpy, torch_flex, {"slopes": None, "table": None, "documents": None}))


def _inputs(dtype, heads_kv=H, seed=0):
    rng = numpy.random.default_rng(seed)
    arrays = {"q": rng.standard_normal((B, H, Q, E)), "k": rng.standard_normal((B, heads_kv, KV, E)),
              "v": rng.standard_normal((B, heads_kv, KV, E - 4)), "slopes": rng.standard_normal(H),
              "table": rng.standard_normal((Q, KV)), "documents": numpy.sort(rng.integers(0, 4, KV)),
              "grad": rng.standard_normal((B, H, Q, E - 4)), "grad_lse": rng.standard_normal((B, H, Q))}
    return {k: a if k == "documents" else a.astype(dtype) for k, a in arrays.items()}


def _tensors(lib, arrays, requires_grad):
    return {k: lib.tensor(a, requires_grad=requires_grad and k not in ("documents", "grad", "grad_lse"))
            for k, a in arrays.items()}


def _ours(arrays, case, block_size, enable_gqa):
    t = _tensors(ember, arrays, True)
    score_mod, mask_mod = _mods(ember, flex, t)[case]
    block_mask = None if mask_mod is None else flex.create_block_mask(mask_mod, B, H, Q, KV, device="cpu",
                                                                      BLOCK_SIZE=block_size)
    out, aux = flex.flex_attention(t["q"], t["k"], t["v"], score_mod, block_mask, enable_gqa=enable_gqa,
                                   return_aux=flex.AuxRequest(lse=True))
    lse = aux.lse.masked_fill(aux.lse.isinf(), 0.0)
    (out * t["grad"]).sum().add((lse * t["grad_lse"]).sum()).backward()
    grads = {k: v.grad.numpy() for k, v in t.items() if v.requires_grad and v.grad is not None}
    return out.detach().numpy(), aux.lse.detach().numpy(), grads


def _theirs(arrays, case, block_size, enable_gqa):
    """torch's flex_attention for the values; its eager reference, differentiated, for the gradients."""
    t = _tensors(torch, arrays, True)
    score_mod, mask_mod = _mods(torch, torch_flex, t)[case]
    block_mask = None if mask_mod is None else torch_flex.create_block_mask(mask_mod, B, H, Q, KV, device="cpu",
                                                                            BLOCK_SIZE=block_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's warning that eager flex_attention is unfused
        out, aux = torch_flex.flex_attention(t["q"].detach(), t["k"].detach(), t["v"].detach(), score_mod,
                                             block_mask, enable_gqa=enable_gqa,
                                             return_aux=torch_flex.AuxRequest(lse=True))
    block_mask = block_mask or torch_flex._create_empty_block_mask(t["q"], t["k"])
    reference, lse, _ = math_attention(t["q"], t["k"], t["v"], score_mod or torch_flex._identity,
                                       block_mask.as_tuple(), 1 / math.sqrt(E), {})
    out, lse_out = out.detach(), aux.lse.detach()   # a captured tensor that requires grad makes them require it
    numpy.testing.assert_allclose(reference.detach().numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    loss = (reference * t["grad"]).sum()
    if not lse.isinf().any():   # the reference's logsumexp has NaN gradients through fully masked rows
        loss = loss + (lse * math.log(2) * t["grad_lse"]).sum()
    loss.backward()
    grads = {k: v.grad.numpy() for k, v in t.items() if v.requires_grad and v.grad is not None}
    return out.numpy(), lse_out.numpy(), grads


def _close(dtype):
    return {"rtol": 2e-5, "atol": 2e-5} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-10}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES)
def test_values_and_gradients_match_torch(case, dtype):
    arrays = _inputs(dtype)
    if case == "dead rows":   # the reference's gradients leave out the logsumexp: so do ours
        arrays["grad_lse"][:] = 0
    ours, theirs = _ours(arrays, case, 16, False), _theirs(arrays, case, 16, False)
    numpy.testing.assert_allclose(ours[0], theirs[0], **_close(dtype))
    numpy.testing.assert_array_equal(numpy.isinf(ours[1]), numpy.isinf(theirs[1]))
    numpy.testing.assert_allclose(ours[1], theirs[1], **_close(dtype))
    assert set(theirs[2]) == set(ours[2])
    for name, grad in theirs[2].items():
        numpy.testing.assert_allclose(ours[2][name], grad, **_close(dtype), err_msg=name)


@pytest.mark.parametrize("case", ["alibi, causal", "documents", "dead rows"])
@pytest.mark.parametrize("block_size", [128, (8, 32)], ids=str)
def test_gqa_and_block_sizes_match_torch(case, block_size):
    arrays = _inputs("float64", heads_kv=2, seed=3)
    arrays["grad_lse"][:] = 0 if case == "dead rows" else arrays["grad_lse"]
    ours, theirs = _ours(arrays, case, block_size, True), _theirs(arrays, case, block_size, True)
    numpy.testing.assert_allclose(ours[0], theirs[0], **_close("float64"))
    for name, grad in theirs[2].items():
        numpy.testing.assert_allclose(ours[2][name], grad, **_close("float64"), err_msg=name)


def test_fully_masked_rows_give_zeros_and_minus_infinity():
    q = ember.randn(1, 2, 6, 4, dtype=ember.float64)
    block_mask = flex.create_block_mask(lambda b, h, q_idx, kv_idx: q_idx < 3, None, None, 6, 6, device="cpu")
    out, aux = flex.flex_attention(q, q, q, block_mask=block_mask, return_aux=flex.AuxRequest(lse=True))
    assert not out[:, :, 3:].numpy().any() and numpy.isneginf(aux.lse[:, :, 3:].numpy()).all()
    assert numpy.isfinite(aux.lse[:, :, :3].numpy()).all()


def test_half_inputs_compute_in_float32_as_torch():
    arrays = {k: numpy.random.default_rng(5).standard_normal(s).astype("float16")
              for k, s in (("q", (1, 2, 9, 8)), ("k", (1, 2, 11, 8)), ("v", (1, 2, 11, 8)))}
    results = []
    for lib, module in ((torch, torch_flex), (ember, flex)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, aux = module.flex_attention(*(lib.tensor(a) for a in arrays.values()),
                                             return_aux=module.AuxRequest(lse=True))
        results.append((str(out.dtype)[6:], str(aux.lse.dtype)[6:], out.float().numpy(), aux.lse.numpy()))
    assert results[0][:2] == results[1][:2] == ("float16", "float32")
    numpy.testing.assert_allclose(results[1][2], results[0][2], rtol=2e-3, atol=2e-3)
    numpy.testing.assert_allclose(results[1][3], results[0][3], rtol=1e-5, atol=1e-5)


def test_key_value_batch_broadcasts_with_a_block_mask():
    rng = numpy.random.default_rng(6)
    q, k = rng.standard_normal((3, 2, 8, 4)).astype("float32"), rng.standard_normal((1, 2, 8, 4)).astype("float32")
    outs = []
    for lib, module in ((torch, torch_flex), (ember, flex)):
        block_mask = module.create_block_mask(lambda b, h, q_idx, kv_idx: q_idx >= kv_idx + b, 3, None, 8, 8,
                                              device="cpu")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs.append(module.flex_attention(lib.tensor(q), lib.tensor(k), lib.tensor(k), block_mask=block_mask,
                                              scale=0.7).numpy())
    numpy.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6)


def test_return_lse_is_deprecated_and_returns_the_natural_logsumexp(monkeypatch):
    monkeypatch.setattr(flex, "_WARNINGS_SHOWN", set())
    q = ember.randn(1, 1, 3, 4)
    with pytest.warns(FutureWarning, match="return_lse is deprecated and will be removed in v2.10. Please use "
                                           r"return_aux=AuxRequest\(lse=True\) instead."):
        out, lse = flex.flex_attention(q, q, q, return_lse=True)
    scores = q.matmul(q.transpose(-2, -1)) / 2
    numpy.testing.assert_allclose(lse.numpy(), scores.logsumexp(-1).numpy(), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flex.flex_attention(q, q, q, return_lse=True)   # once per process, as PyTorch's


def test_aux_outputs():
    q = ember.randn(1, 2, 5, 4, dtype=ember.float64)
    block_mask = flex.create_block_mask(lambda b, h, q_idx, kv_idx: q_idx >= kv_idx, None, None, 5, 5,
                                        device="cpu")
    out, aux = flex.flex_attention(q, q, q, block_mask=block_mask, return_aux=flex.AuxRequest(max_scores=True))
    assert aux.lse is None and isinstance(aux, flex.AuxOutput)
    scores = (q.matmul(q.transpose(-2, -1)) / 2).masked_fill(~ember.ones(5, 5, dtype=ember.bool).tril(), -math.inf)
    numpy.testing.assert_allclose(aux.max_scores.numpy(), scores.amax(-1).numpy())
    assert flex.AuxRequest._fields == torch_flex.AuxRequest._fields
    assert flex.AuxOutput._fields == torch_flex.AuxOutput._fields
    assert isinstance(flex.flex_attention(q, q, q, return_aux=None), ember.Tensor)
