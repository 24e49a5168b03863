"""Jagged nested tensors through attention and layers beside PyTorch 2.13: scaled_dot_product_attention over
ragged sequences (values and gradients as PyTorch's and as each sequence's own dense attention), the getting-started
tutorial's multi-head attention built from Linear and SDPA, nn layers with copied weights, and the errors PyTorch
gives for what it refuses (masks, causal attention on the CPU, nn.MultiheadAttention and TransformerEncoderLayer)."""
import numpy as np
import pytest
import torch

import ember

from ._common import check, compare

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")


def _qkv(lib, cross=False):
    rng = np.random.default_rng(3)
    qv = lib.tensor(rng.standard_normal((7, 2, 4)), requires_grad=True)
    kv = lib.tensor(rng.standard_normal((9 if cross else 7, 2, 4)), requires_grad=True)
    vv = lib.tensor(rng.standard_normal((9 if cross else 7, 2, 3)), requires_grad=True)
    q_offsets = lib.tensor([0, 3, 4, 7])
    kv_offsets = lib.tensor([0, 1, 6, 9]) if cross else q_offsets
    make = lib.nested.nested_tensor_from_jagged
    q = make(qv, q_offsets).transpose(1, 2)
    k = make(kv, kv_offsets).transpose(1, 2)
    v = make(vv, kv_offsets).transpose(1, 2)
    return (qv, kv, vv), (q, k, v)


@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_matches_torch_and_per_sequence_attention(cross, scale):
    outputs, grads = [], []
    for lib in (torch, ember):
        leaves, (q, k, v) = _qkv(lib, cross)
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, scale=scale)
        weights = lib.tensor(np.sin(np.arange(out.values().numel())).reshape(tuple(out.values().shape)))
        (out.values() * weights).sum().backward()
        outputs.append(out)
        grads.append([leaf.grad for leaf in leaves])
    compare(outputs[1], outputs[0], atol=1e-10)
    for ours, theirs in zip(grads[1], grads[0]):
        compare(ours, theirs, atol=1e-10)
    _, (q, k, v) = _qkv(torch, cross)   # each sequence attends within itself
    for i, (qi, ki, vi) in enumerate(zip(q.unbind(), k.unbind(), v.unbind())):
        dense = torch.nn.functional.scaled_dot_product_attention(qi, ki, vi, scale=scale)
        np.testing.assert_allclose(outputs[1].unbind()[i].detach().numpy(), dense.detach().numpy(), atol=1e-10)


SDPA_ERRORS = [
    "F.scaled_dot_product_attention(q4.transpose(1, 2), q4.transpose(1, 2), q4.transpose(1, 2), is_causal=True)",
    "F.scaled_dot_product_attention(q4.transpose(1, 2), q4.transpose(1, 2), q4.transpose(1, 2), "
    "attn_mask=torch.ones(3, 2, 4, 4).bool())",
    "F.scaled_dot_product_attention(q4.transpose(1, 2), torch.ones(3, 2, 4, 4), torch.ones(3, 2, 4, 4))",
    "F.scaled_dot_product_attention(nt, nt, nt)",
    "F.scaled_dot_product_attention(q4.transpose(1, 2), q4.transpose(1, 2).float(), q4.transpose(1, 2))",
    "F.scaled_dot_product_attention(q4.transpose(1, 2), q4.transpose(1, 2), q4)",
    "F.scaled_dot_product_attention(q4, q4, q4)",
    "F.scaled_dot_product_attention(q4.transpose(1, 2), q4.transpose(1, 2), q4.transpose(1, 2), dropout_p=0.0)",
]


@pytest.mark.parametrize("expression", SDPA_ERRORS)
def test_sdpa_cases(expression):
    check(expression, atol=1e-10)


class _TutorialMHA:
    """The getting-started tutorial's MultiHeadAttention: input projections (packed into one Linear and chunked, or
    one Linear each), heads by unflatten and transpose, SDPA, heads merged back, output projection."""

    def __init__(self, lib, e, heads, packed=False, seed=5):
        rng = np.random.default_rng(seed)
        self.lib, self.heads, self.packed = lib, heads, packed
        self.projections = [lib.nn.Linear(e, 3 * e if packed else e, dtype=lib.float64)
                            for _ in range(1 if packed else 3)]
        self.out = lib.nn.Linear(e, e, dtype=lib.float64)
        with lib.no_grad():
            for layer in self.projections + [self.out]:
                layer.weight.copy_(lib.tensor(rng.standard_normal(tuple(layer.weight.shape)) * 0.3))
                layer.bias.copy_(lib.tensor(rng.standard_normal(tuple(layer.bias.shape)) * 0.3))

    def __call__(self, x):
        if self.packed:
            q, k, v = self.lib.chunk(self.projections[0](x), 3, dim=-1)
        else:
            q, k, v = (layer(x) for layer in self.projections)
        q, k, v = (t.unflatten(-1, [self.heads, -1]).transpose(1, 2) for t in (q, k, v))
        attended = self.lib.nn.functional.scaled_dot_product_attention(q, k, v)
        return self.out(attended.transpose(1, 2).flatten(-2))


def test_tutorial_multihead_attention_matches_torch():
    results = []
    for lib in (torch, ember):
        rng = np.random.default_rng(11)
        parts = [lib.tensor(rng.standard_normal((n, 8))) for n in (3, 5, 2)]
        x = lib.nested.nested_tensor(parts, layout=lib.jagged, requires_grad=True)
        mha = _TutorialMHA(lib, 8, 2)
        out = mha(x)
        (out.values() ** 2).sum().backward()
        results.append((out, x.grad, mha.projections[1].weight.grad, mha.out.bias.grad))
    for ours, theirs in zip(results[1], results[0]):
        compare(ours, theirs, atol=1e-10)


def test_tutorial_packed_projection_on_the_cpu():
    """Chunks of one packed projection are not contiguous once transposed back: PyTorch's CPU kernel refuses them
    (its GPU kernels take them), and so does ember's on the CPU."""
    errors = []
    for lib in (torch, ember):
        x = lib.nested.nested_tensor([lib.ones(3, 8), lib.ones(2, 8)], layout=lib.jagged, dtype=lib.float64)
        with pytest.raises(RuntimeError) as error:
            _TutorialMHA(lib, 8, 2, packed=True)(x)
        errors.append(str(error.value))
    assert errors[0] == errors[1] == "No viable backend for scaled_dot_product_attention was found."


def test_layers_with_copied_weights():
    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        rng = np.random.default_rng(2)
        x = lib.nested.nested_tensor([lib.tensor(rng.standard_normal((n, 6))) for n in (4, 1, 3)], layout=lib.jagged,
                                     requires_grad=True)
        model = lib.nn.Sequential(lib.nn.Linear(6, 5), lib.nn.GELU(), lib.nn.LayerNorm(5), lib.nn.Dropout(0.0),
                                  lib.nn.Linear(5, 2)).double()
        with lib.no_grad():
            for p in model.parameters():
                p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
        out = model(x)
        pooled = out.detach().mean(1)   # a dense (B, 2) per-sequence mean, as a classifier pools
        (out.values() ** 2).sum().backward()
        results.append((out, pooled, x.grad, *[p.grad for p in model.parameters()]))
    for ours, theirs in zip(results[1], results[0]):
        compare(ours, theirs, atol=1e-10)


MODULE_ERRORS = [
    "torch.nn.MultiheadAttention(4, 2, batch_first=True)(nt, nt, nt)",
    "torch.nn.MultiheadAttention(4, 2, batch_first=True).eval()(nt, nt, nt)",
    "torch.nn.MultiheadAttention(4, 2, batch_first=True).eval()(nt, nt_b, nt_b)",
    "torch.nn.MultiheadAttention(4, 1, batch_first=True).eval()(nt, nt, nt)",
    "torch.nn.MultiheadAttention(4, 2).eval()(nt, nt, nt)",
    "torch.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True)(nt)",
    "torch.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True).eval()(nt)",
]


@pytest.mark.parametrize("expression", MODULE_ERRORS)
def test_attention_modules_refuse_nested_tensors(expression):
    check(expression)


def test_attention_refusal_names_the_fast_path_switch():
    errors = []
    for lib in (torch, ember):
        nt = lib.nested.nested_tensor([lib.ones(2, 4), lib.ones(3, 4)], layout=lib.jagged)
        lib.backends.mha.set_fastpath_enabled(False)
        try:
            with pytest.raises(AssertionError) as error:
                lib.nn.MultiheadAttention(4, 2, batch_first=True).eval()(nt, nt, nt)
        finally:
            lib.backends.mha.set_fastpath_enabled(True)
        errors.append(str(error.value))
    assert errors[0] == errors[1]
    assert errors[1].endswith("because torch.backends.mha.get_fastpath_enabled() was not True")
