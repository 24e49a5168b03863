"""Attention differences found by the attention sweep, each compared with PyTorch in the test: SDPA's inputs of
fewer than two dims, 1-d and 0-d masks, float32 masks on other dtypes, empty key sequences, dropout_p above 1, shape
and dtype errors' messages, grad_fn names and forward AD per backend; multi-head attention with no queries or no
batch and its key padding mask's shape error; TransformerEncoder's eval-mode padding mask check."""
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import same_outcome


def same(fn):
    """``fn`` on ember and torch: the same error, or the same arrays within float32's rounding."""
    same_outcome(fn, rtol=1e-6, atol=1e-6)


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


SHAPE_ERRORS = {   # query, key, value, mask shapes
    "head size": [(2, 3, 4, 5), (2, 3, 6, 4), (2, 3, 6, 7), None],
    "value length": [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 5, 7), None],
    "batch": [(2, 3, 4, 5), (3, 3, 6, 5), (3, 3, 6, 7), None],
    "value batch": [(2, 3, 4, 5), (2, 3, 6, 5), (3, 3, 6, 7), None],
    "heads": [(2, 6, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7), None],
    "mask rows": [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), (5, 6)],
    "mask columns": [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), (4, 7)],
    "mask batch": [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), (2, 4, 6)],
    "mask two dims": [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), (4, 6, 1)],
    "3-d mask rows": [(2, 4, 5), (2, 6, 5), (2, 6, 7), (5, 6)],
    "3-d mask rank": [(2, 4, 5), (2, 6, 5), (2, 6, 7), (3, 2, 4, 6)],
    "5-d mask batch": [(1, 2, 3, 4, 5), (1, 2, 3, 6, 5), (1, 2, 3, 6, 7), (3, 3, 4, 6)],
}


@pytest.mark.parametrize("case", SHAPE_ERRORS)
@pytest.mark.parametrize("dtype", ["bool", "float64"])
def test_sdpa_shape_errors_as_torch(case, dtype):
    """ember broadcast the mask with its transposed scores and named the wrong dims (a (5, 6) mask on 4x6 scores
    gave 'a (4) ... b (6)'); mismatched operands gave broadcast errors where PyTorch names its bmm's sizes."""
    q, k, v, mask = SHAPE_ERRORS[case]
    same(lambda lib: lib.nn.functional.scaled_dot_product_attention(
        t(lib, q), t(lib, k, 1), t(lib, v, 2), attn_mask=None if mask is None else t(lib, mask, 3).gt(0).to(
            getattr(lib, dtype))))


@pytest.mark.parametrize("dtypes", [("float16", "float32", "bfloat16"), ("float64", "float64", "float32")])
def test_sdpa_dtype_errors_name_cpp_types_as_torch(dtypes):
    same(lambda lib: lib.nn.functional.scaled_dot_product_attention(*(t(lib, (2, 4, 5), i, d) for i, d in
                                                                      enumerate(dtypes))))


@pytest.mark.parametrize("mask", ["int64", "float16", "uint8", "int32"])
def test_sdpa_mask_dtype_error_names_cpp_types_as_torch(mask):
    same(lambda lib: lib.nn.functional.scaled_dot_product_attention(
        t(lib, (2, 4, 5)), t(lib, (2, 4, 5), 1), t(lib, (2, 4, 5), 2), attn_mask=t(lib, (4, 4)).to(getattr(lib, mask))))


@pytest.mark.parametrize("padding", [(3, 4), (2, 5)])
def test_mha_key_padding_mask_shape_error_as_torch(padding):
    same(lambda lib: mha(lib, [(3, 2, 8), (4, 2, 8), (4, 2, 8)], key_padding_mask=lib.zeros(padding, dtype=lib.bool)))


NODE_CASES = [((2, 4, 5), (2, 6, 5), (2, 6, 5), {}), ((2, 2, 4, 5), (2, 2, 6, 5), (2, 2, 6, 5), {}),
              ((2, 2, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7), {}), ((2, 2, 4, 5), (2, 1, 6, 5), (2, 1, 6, 5), {}),
              ((2, 2, 4, 5), (2, 2, 6, 5), (2, 2, 6, 5), {"dropout_p": 0.5}),
              ((2, 4, 4, 5), (2, 2, 6, 5), (2, 2, 6, 5), {"enable_gqa": True}), ((4, 5), (6, 5), (6, 5), {}),
              ((1, 2, 2, 4, 5), (1, 2, 2, 6, 5), (1, 2, 2, 6, 5), {"is_causal": True})]


@pytest.mark.parametrize("case", range(len(NODE_CASES)))
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
def test_sdpa_grad_fn_names_the_backend_torch_picks(case, dtype):
    """PyTorch's CPU flash kernel takes only 4-d inputs of one batch shape and head size without dropout; the math
    backend's last node names the rest. ember named them all after the flash kernel."""
    q, k, v, kw = NODE_CASES[case]

    def name(lib):
        query = t(lib, q, 0, dtype, grad=True)
        return type(lib.nn.functional.scaled_dot_product_attention(query, t(lib, k, 1, dtype), t(lib, v, 2, dtype),
                                                                   **kw).grad_fn).__name__
    assert name(ember) == name(torch)


@pytest.mark.parametrize("padding", [(2, 4), (1, 5), (2, 5, 1), (2, 5)])
@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("with_mask", [False, True])
def test_encoder_eval_checks_the_padding_mask_first_as_torch(padding, grad, with_mask):
    """In eval mode PyTorch's TransformerEncoder checks the padding mask is left-aligned (raising on its shape)
    before it looks at gradients or an attention mask; ember checked it last, and raised MultiheadAttention's error
    instead."""
    def run(lib):
        torch.manual_seed(0)
        theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
                                             2).double()
        encoder = theirs if lib is torch else lib.nn.TransformerEncoder(
            lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2).double()
        if lib is not torch:
            encoder.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
        encoder.eval()
        x = t(lib, (2, 5, 8), grad=grad)
        padding_mask = lib.zeros(padding, dtype=lib.bool)
        if padding == (2, 5):
            padding_mask[0, 3:] = True
        mask = lib.zeros(5, 5, dtype=lib.bool) if with_mask else None
        with lib.set_grad_enabled(grad), warnings.catch_warnings():
            warnings.simplefilter("ignore")   # (the nested-tensor prototype warning, once per process)
            return [encoder(x, mask=mask, src_key_padding_mask=padding_mask)]
    same(run)


@pytest.mark.parametrize("case", range(len(NODE_CASES)))
def test_sdpa_forward_ad_where_torch_has_it(case):
    """PyTorch's CPU flash kernel has no forward derivative, its math backend has: ember refused every 4-d input."""
    q, k, v, kw = NODE_CASES[case]
    if kw.get("dropout_p"):
        pytest.skip("dropout draws differ between the libraries")

    def run(lib):
        primals = tuple(t(lib, s, i) for i, s in enumerate((q, k, v)))
        tangents = tuple(t(lib, s, i + 5) for i, s in enumerate((q, k, v)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # PyTorch's first jvp meets jit.script's warning
            return list(lib.func.jvp(lambda *a: lib.nn.functional.scaled_dot_product_attention(*a, **kw), primals,
                                     tangents))
    same(run)
