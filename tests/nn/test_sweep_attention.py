"""Attention differences found by the attention sweep, each compared with PyTorch in the test: inputs of fewer than
two dims, 1-d and 0-d masks, float32 masks on other dtypes, empty key sequences and dropout_p above 1; multi-head
attention with no queries or no batch."""
import numpy
import pytest
import torch

import ember


def outcome(lib, fn):
    """("error", type, message), or the results (values and input gradients) as arrays."""
    try:
        return fn(lib)
    except Exception as error:   # noqa: BLE001 (the type and message are compared with PyTorch's)
        return "error", type(error).__name__, str(error)


def same(fn):
    mine, theirs = outcome(ember, fn), outcome(torch, fn)
    if isinstance(theirs, tuple) and theirs[0] == "error" or isinstance(mine, tuple) and mine[0] == "error":
        assert mine == theirs
        return
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype)[6:] == str(b.dtype)[6:]
        numpy.testing.assert_allclose(a.detach().double().numpy(), b.detach().double().numpy(), rtol=1e-6, atol=1e-6)


def t(lib, shape, seed=0, dtype="float64", grad=False):
    value = lib.tensor(numpy.random.default_rng(seed).uniform(-2, 2, shape), dtype=getattr(lib, dtype))
    return value.requires_grad_() if grad else value


def sdpa(lib, q, k, v, **kw):
    """The attention's output and the gradients of its inputs."""
    out = lib.nn.functional.scaled_dot_product_attention(q, k, v, **kw)
    (out * t(lib, tuple(out.shape), 9, str(out.dtype).split(".")[-1])).sum().backward()
    return [out] + [x.grad for x in (q, k, v)]


@pytest.mark.parametrize("shapes", [[(5,)] * 3, [()] * 3, [(4, 5), (6, 5), (6,)]])
def test_sdpa_refuses_inputs_under_two_dims_as_torch(shapes):
    """ember raised IndexError from its shape arithmetic."""
    same(lambda lib: lib.nn.functional.scaled_dot_product_attention(*(t(lib, s, i) for i, s in enumerate(shapes))))


@pytest.mark.parametrize("mask", [(), (6,)])
@pytest.mark.parametrize("dtype", ["bool", "float64"])
@pytest.mark.parametrize("lead", [(), (2,), (2, 3), (1, 2, 3)])
def test_sdpa_masks_under_two_dims_as_torch(mask, dtype, lead):
    """PyTorch's 4-d CPU kernel reads the mask's dim -2 and raises IndexError, other ranks broadcast it; ember
    failed to broadcast it."""
    def run(lib):
        return sdpa(lib, t(lib, lead + (4, 5), 0, grad=True), t(lib, lead + (6, 5), 1, grad=True),
                    t(lib, lead + (6, 7), 2, grad=True), attn_mask=t(lib, mask, 3).gt(-1).to(getattr(lib, dtype)))
    same(run)


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
@pytest.mark.parametrize("mask", [(4, 6), (3, 1, 6), (2, 3, 4, 6)])
def test_sdpa_takes_a_float32_mask_on_any_float_dtype_as_torch(dtype, mask):
    """PyTorch accepts bool, float32 or the query's dtype for the mask; ember refused float32 with other queries."""
    def run(lib):
        q, k, v = (t(lib, (2, 3, n, e), i, dtype, True) for i, (n, e) in enumerate([(4, 5), (6, 5), (6, 7)]))
        return sdpa(lib, q, k, v, attn_mask=t(lib, mask, 3, "float32"))
    if dtype != "float64":
        mine, theirs = run(ember)[0], run(torch)[0]   # 16-bit: the outputs' dtype and values (to their rounding)
        assert str(mine.dtype)[6:] == str(theirs.dtype)[6:]
        numpy.testing.assert_allclose(mine.float().detach().numpy(), theirs.float().detach().numpy(), atol=2e-2)
        return
    same(run)


@pytest.mark.parametrize("mask", ["int64", "float16", "uint8"])
def test_sdpa_refuses_other_mask_dtypes_as_torch(mask):
    def run(lib):
        q = t(lib, (2, 4, 5), dtype="float32")
        return lib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=t(lib, (4, 4)).to(getattr(lib, mask)))
    mine, theirs = outcome(ember, run), outcome(torch, run)
    assert mine[:2] == theirs[:2] == ("error", "RuntimeError") and "attn_mask dtype" in mine[2]


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"attn_mask": "bool"}, {"scale": 0.5}])
@pytest.mark.parametrize("ndim", [3, 4])
def test_sdpa_with_no_keys_gives_zeros_as_torch(kw, ndim):
    """ember failed to broadcast the empty key length; PyTorch gives zeros and zero gradients."""
    lead = (2, 3)[:ndim - 2]

    def run(lib):
        args = dict(kw)
        if args.get("attn_mask") == "bool":
            args["attn_mask"] = lib.ones(4, 0, dtype=lib.bool)
        return sdpa(lib, t(lib, lead + (4, 5), 0, grad=True), t(lib, lead + (0, 5), 1, grad=True),
                    t(lib, lead + (0, 7), 2, grad=True), **args)
    same(run)


@pytest.mark.parametrize("p", [1.5, 1.0001])
def test_sdpa_refuses_dropout_above_one_as_torch(p):
    """ember failed deep in the mask's sampling (OverflowError)."""
    same(lambda lib: lib.nn.functional.scaled_dot_product_attention(t(lib, (2, 4, 5)), t(lib, (2, 4, 5), 1),
                                                                     t(lib, (2, 4, 5), 2), dropout_p=p))


def mha(lib, shapes, **kw):
    """nn.MultiheadAttention(8, 2) (torch's seeded parameters on both) on query/key/value of ``shapes``: the
    output, the weights and the inputs' and parameters' gradients."""
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2).double()
    module = theirs if lib is torch else lib.nn.MultiheadAttention(8, 2).double()
    if lib is not torch:
        module.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    q, k, v = (t(lib, shape, i, grad=True) for i, shape in enumerate(shapes))
    out, weights = module(q, k, v, **kw)
    (out * t(lib, tuple(out.shape), 9)).sum().backward()
    grads = [x.grad for x in (q, k, v)] + [p.grad for _, p in sorted(module.named_parameters())]
    return [out] + ([] if weights is None else [weights]) + grads


@pytest.mark.parametrize("shapes", [[(0, 2, 8), (4, 2, 8), (4, 2, 8)], [(3, 0, 8), (4, 0, 8), (4, 0, 8)]])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("padding", [False, True])
def test_mha_with_no_queries_or_no_batch_as_torch(shapes, need_weights, padding):
    """ember reshaped its empty output with -1 (ambiguous for 0 elements) and raised; PyTorch does so only with
    a padding mask, no weights and no batch (reshaping the mask)."""
    def run(lib):
        kw = {"key_padding_mask": lib.zeros(shapes[1][1], 4, dtype=lib.bool)} if padding else {}
        return mha(lib, shapes, need_weights=need_weights, **kw)
    same(run)
