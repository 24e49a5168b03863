"""ember.nn.attention.bias beside torch.nn.attention.bias: CausalBias as scaled_dot_product_attention's attn_mask
(values and gradients, both variants, query longer or shorter than the keys), its materialized mask, repr and
shape, its warnings, and PyTorch's errors for misuse."""
import importlib
import pickle
import warnings

import numpy
import pytest
import torch
import torch.nn.attention.bias as torch_bias

import ember
import ember.nn.attention as attention
import ember.nn.attention.bias as bias

LENGTHS = [(5, 5), (3, 7), (7, 3)]


def _attend(lib, make, shapes, dtype, options):
    rng = numpy.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mask = make(shapes[0][-2], shapes[1][-2])
    out = lib.nn.functional.scaled_dot_product_attention(*tensors, mask, **options)
    out.mul(lib.tensor(rng.standard_normal(out.shape).astype(dtype))).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
@pytest.mark.parametrize("variant", ["causal_upper_left", "causal_lower_right"])
@pytest.mark.parametrize("options", [{}, {"scale": 0.3}, {"enable_gqa": True}], ids=["plain", "scale", "gqa"])
def test_sdpa_with_causal_bias_matches_torch(dtype, lengths, variant, options):
    q_len, kv_len = lengths
    heads_kv = 2 if options.get("enable_gqa") else 4
    shapes = [(2, 4, q_len, 8), (2, heads_kv, kv_len, 8), (2, heads_kv, kv_len, 6)]
    ours = _attend(ember, getattr(bias, variant), shapes, dtype, options)
    theirs = _attend(torch, getattr(torch_bias, variant), shapes, dtype, options)
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}
    numpy.testing.assert_allclose(ours[0], theirs[0], **tolerance)
    for mine, reference in zip(ours[1], theirs[1]):
        numpy.testing.assert_allclose(mine, reference, **tolerance)


@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
@pytest.mark.parametrize("variant", ["causal_upper_left", "causal_lower_right"])
def test_the_bias_as_a_tensor_matches_torch(lengths, variant):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = getattr(bias, variant)(*lengths), getattr(torch_bias, variant)(*lengths)
    assert isinstance(ours, ember.Tensor) and type(ours).__name__ == "CausalBias"
    assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype)[6:] == str(theirs.dtype)[6:]
    assert (ours.variant, ours.seq_len_q, ours.seq_len_kv) == (theirs.variant, theirs.seq_len_q, theirs.seq_len_kv)
    assert ours.variant.name == theirs.variant.name and int(ours.variant) == int(theirs.variant)
    numpy.testing.assert_array_equal(ours._materialize().numpy(), theirs._materialize().numpy())
    assert ours._materialize().dtype is ember.bool
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)


def test_variants_match_torch():
    assert [(v.name, v.value) for v in bias.CausalVariant] == [(v.name, v.value) for v in torch_bias.CausalVariant]
    assert bias.__all__ == torch_bias.__all__


def test_lower_right_with_a_longer_query_warns_as_torch():
    messages = []
    for module in (torch_bias, bias):
        with pytest.warns(UserWarning) as record:
            module.causal_lower_right(5, 3)
        messages.append([str(w.message) for w in record])
    assert messages[0] == messages[1] == ["Lower right causal bias will produce NaNs in the output when "
                                          "seq_len_q > seq_len_kv!"]


def test_unfused_kernel_warnings_as_torch(monkeypatch):
    messages = []
    for lib, module, flags in ((torch, torch_bias, importlib.import_module("torch.nn.attention")),
                               (ember, bias, attention)):
        monkeypatch.setattr(flags, "WARN_FOR_UNFUSED_KERNELS", True)
        q, k = lib.zeros(1, 1, 3, 4), lib.zeros(1, 1, 5, 4)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            lib.nn.functional.scaled_dot_product_attention(q, k, k, module.causal_lower_right(3, 5))
            lib.nn.functional.scaled_dot_product_attention(q, k, k, module.causal_upper_left(3, 5))
        messages.append([str(w.message) for w in record])
    assert messages[0] == messages[1] == ["Efficient attention can't be used because:",
                                          "Flash attention can't be used because:"]


@pytest.mark.parametrize("case", ["is_causal", "short size", "long size", "not a variant"])
def test_misuse_raises_as_torch(case):
    errors = []
    for lib, module in ((torch, torch_bias), (ember, bias)):
        q = lib.zeros(1, 1, 3, 4)
        call = {"is_causal": lambda: lib.nn.functional.scaled_dot_product_attention(
                    q, q, q, module.causal_upper_left(3, 3), is_causal=True),
                "short size": lambda: module.causal_upper_left(3),
                "long size": lambda: module.causal_lower_right(3, 4, 5),
                "not a variant": lambda: module.CausalBias(1, 3, 3)}[case]
        with pytest.raises(Exception) as info:
            call()
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[0] == errors[1]


def test_multihead_attention_refuses_it_by_shape_as_torch():
    errors = []
    for lib, module in ((torch, torch_bias), (ember, bias)):
        layer = lib.nn.MultiheadAttention(8, 2, batch_first=True)
        x = lib.zeros(2, 3, 8)
        with pytest.raises(RuntimeError) as info:
            layer(x, x, x, attn_mask=module.causal_upper_left(3, 3))
        errors.append(str(info.value).replace("torch.Size", "Size").replace("ember.Size", "Size"))
    assert errors[0] == errors[1]


def test_autocast_keeps_the_bias():
    outputs = []
    rng = numpy.random.default_rng(2)
    q, k = rng.standard_normal((2, 2, 5, 8)).astype("float32"), rng.standard_normal((2, 2, 3, 8)).astype("float32")
    for lib, module in ((torch, torch_bias), (ember, bias)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mask = module.causal_lower_right(5, 3)
        with lib.autocast("cpu", dtype=lib.bfloat16):
            out = lib.nn.functional.scaled_dot_product_attention(lib.tensor(q), lib.tensor(k), lib.tensor(k), mask)
        outputs.append(out.float().numpy())
    numpy.testing.assert_allclose(outputs[1], outputs[0], rtol=2e-2, atol=2e-2)
    assert not outputs[1][:, :, :2].any()   # the first two query rows see no key


def test_pickling_keeps_the_bias_as_torch():
    fields = []
    for module in (torch_bias, bias):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            made = module.causal_lower_right(5, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loaded = pickle.loads(pickle.dumps(made))
        fields.append((type(loaded).__name__, int(loaded.variant), loaded.seq_len_q, loaded.seq_len_kv,
                       tuple(loaded.shape), repr(loaded)))
    assert fields[0] == fields[1]
