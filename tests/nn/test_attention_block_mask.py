"""BlockMask, create_block_mask and create_mask beside torch's (every tensor attribute, slicing, cropping,
printing), and flex_attention's errors for misuse with PyTorch's types and messages."""
import warnings

import numpy
import pytest
import torch
import torch.nn.attention.flex_attention as torch_flex

import ember
import ember.nn.attention.flex_attention as flex

LIBS = [(torch, torch_flex), (ember, flex)]


def _causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def _unchanged(score, b, h, q_idx, kv_idx):
    return score


def _staggered(b, h, q_idx, kv_idx):
    return (q_idx + 3 * h >= kv_idx) & (kv_idx % (b + 2) != 1)


def _same(theirs, ours):
    """The two BlockMasks hold the same tensors (values and dtypes) and settings."""
    for name in theirs._TENSOR_ATTRS:
        a, b = getattr(theirs, name), getattr(ours, name)
        assert (a is None) == (b is None), name
        if a is not None:
            assert str(a.dtype)[6:] == str(b.dtype)[6:], name
            numpy.testing.assert_array_equal(b.numpy(), a.numpy(), err_msg=name)
    assert tuple(ours.BLOCK_SIZE) == tuple(theirs.BLOCK_SIZE) and tuple(ours.seq_lengths) == tuple(theirs.seq_lengths)
    assert ours.shape == theirs.shape and ours.dq_kv_order_spt == theirs.dq_kv_order_spt
    assert ours.sparsity() == pytest.approx(theirs.sparsity()) and ours.numel() == theirs.numel()
    assert str(ours) == str(theirs)
    assert repr(ours).replace("ember.Size", "Size") == repr(theirs).replace("torch.Size", "Size")


SETTINGS = {"causal, one block": (_causal, None, None, 50, 70, {}),
            "staggered, blocks of 16": (_staggered, 2, 3, 50, 70, {"BLOCK_SIZE": 16}),
            "rectangular blocks": (_staggered, 2, 3, 61, 33, {"BLOCK_SIZE": (8, 16)}),
            "partial blocks only": (_causal, 1, 2, 40, 40, {"BLOCK_SIZE": 8, "separate_full_blocks": False}),
            "dq write order": (_staggered, 2, 2, 40, 48, {"BLOCK_SIZE": 8, "compute_dq_write_order": True}),
            "dq write order, ascending": (_causal, 1, 1, 40, 40, {"BLOCK_SIZE": 8, "compute_dq_write_order": True,
                                                                  "dq_kv_order": False})}


def _made(name):
    return [module.create_block_mask(*SETTINGS[name][:5], device="cpu", **SETTINGS[name][5]) for _, module in LIBS]


@pytest.mark.parametrize("name", list(SETTINGS))
def test_create_block_mask_matches_torch(name):
    theirs, ours = _made(name)
    _same(theirs, ours)
    assert ours.mask_mod is SETTINGS[name][0]
    numpy.testing.assert_array_equal(ours.to_dense().numpy(), theirs.to_dense().numpy())
    assert ours.to_string(grid_size=-1, limit=3) == theirs.to_string(grid_size=-1, limit=3)
    assert ours.to_string(grid_size=(2, 3)) == theirs.to_string(grid_size=(2, 3))
    assert len(ours.as_tuple()) == len(theirs.as_tuple()) and len(ours.as_tuple(False)) == len(theirs.as_tuple(False))
    assert ours.as_tuple()[:2] == theirs.as_tuple()[:2] and ours.as_tuple()[-1] is ours.mask_mod
    _same(theirs.to("cpu"), ours.to("cpu"))


@pytest.mark.parametrize("index", [1, -1, (0, 1), (slice(0, 2), slice(1, None)), (slice(None), slice(None), [1, 2]),
                                   (0, -2, slice(1, 3))], ids=str)
def test_indexing_matches_torch(index):
    theirs, ours = _made("staggered, blocks of 16")

    def as_index(lib, i):
        return tuple(lib.tensor(x) if isinstance(x, list) else x for x in i) if isinstance(i, tuple) else i
    sliced_theirs, sliced_ours = theirs[as_index(torch, index)], ours[as_index(ember, index)]
    _same(sliced_theirs, sliced_ours)
    with pytest.raises(RuntimeError, match="Cannot use mask_mod from a sliced BlockMask"):
        sliced_ours.mask_mod(*[ember.tensor(0)] * 4)


@pytest.mark.parametrize("lengths", [(20, 30), (50, 40), (1, 1)], ids=str)
def test_adjust_matches_torch(lengths):
    for name in ("staggered, blocks of 16", "dq write order"):
        theirs, ours = _made(name)
        _same(theirs._adjust(*lengths), ours._adjust(*lengths))


def test_from_kv_blocks_matches_torch():
    made = []
    for lib, module in LIBS:
        num = lib.tensor([[[1, 2, 0]]], dtype=lib.int32)
        indices = lib.tensor([[[[2, 0, 1], [0, 1, 2], [1, 2, 0]]]], dtype=lib.int32)
        full_num = lib.tensor([[[1, 0, 1]]], dtype=lib.int32)
        made.append(module.BlockMask.from_kv_blocks(num, indices, full_num, indices, BLOCK_SIZE=4))
        made.append(module.BlockMask.from_kv_blocks(num, indices, BLOCK_SIZE=(4, 8), seq_lengths=(10, 20),
                                                    compute_q_blocks=False, dq_kv_order=True))
    _same(made[0], made[2])
    _same(made[1], made[3])
    assert made[2].mask_mod is flex.noop_mask


@pytest.mark.parametrize("mod", ["mask_mod", "score_mod", "noop"])
def test_create_mask_matches_torch(mod):
    masks = []
    for lib, module in LIBS:
        fn = {"mask_mod": _staggered, "noop": module.noop_mask,
              "score_mod": lambda s, b, h, q, k: lib.where(q + b >= k, s, -float("inf"))}[mod]
        masks.append(module.create_mask(fn, 2, 3, 7, 9, device="cpu"))
    assert tuple(masks[1].shape) == tuple(masks[0].shape) == (2, 3, 7, 9) and masks[1].dtype is ember.bool
    numpy.testing.assert_array_equal(masks[1].numpy(), masks[0].numpy())


def test_mask_combinators_and_noop_match_torch():
    for lib, module in LIBS:
        index = lib.arange(4)
        assert module.noop_mask(index, index, index, index).shape == ()
    assert flex.noop_mask(*[ember.tensor(0)] * 4).dtype is ember.bool
    both = [module.create_mask(module.and_masks(), 1, 1, 3, 3, device="cpu").numpy() for _, module in LIBS]
    either = [module.create_mask(module.or_masks(), 1, 1, 3, 3, device="cpu").numpy() for _, module in LIBS]
    numpy.testing.assert_array_equal(both[1], both[0])
    numpy.testing.assert_array_equal(either[1], either[0])


def test_create_block_mask_compile_flag_is_deprecated():
    with pytest.warns(DeprecationWarning, match="_compile flag on create_block_mask"):
        block_mask = flex.create_block_mask(_causal, 1, 1, 8, 8, device="cpu", _compile=True)
    assert block_mask.shape == (1, 1, 8, 8)


def _errors(call):
    """(type name, message) of what ``call(lib, module)`` raises under torch and under ember."""
    errors = []
    for lib, module in LIBS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as info:
                call(lib, module)
        errors.append((type(info.value).__name__, str(info.value).replace("torch.", "").replace("ember.", "")))
    return errors


def _qkv(lib, q_shape=(1, 2, 8, 4), kv_shape=None, v_shape=None):
    kv_shape = kv_shape or q_shape
    return lib.zeros(q_shape), lib.zeros(kv_shape), lib.zeros(v_shape or kv_shape)


MISUSE = {
    "3-D inputs": lambda lib, m: m.flex_attention(*_qkv(lib, (2, 8, 4))),
    "1-D inputs": lambda lib, m: m.flex_attention(*_qkv(lib, (4,))),
    "embedding dims": lambda lib, m: m.flex_attention(*_qkv(lib, (1, 2, 8, 4), (1, 2, 8, 6))),
    "heads without gqa": lambda lib, m: m.flex_attention(*_qkv(lib, (1, 4, 8, 4), (1, 2, 8, 4))),
    "heads not a multiple": lambda lib, m: m.flex_attention(*_qkv(lib, (1, 3, 8, 4), (1, 2, 8, 4)),
                                                            enable_gqa=True),
    "batch without mask": lambda lib, m: m.flex_attention(*_qkv(lib, (2, 2, 8, 4), (1, 2, 8, 4))),
    "batch of the mask": lambda lib, m: m.flex_attention(*_qkv(lib, (2, 2, 8, 4), (1, 2, 8, 4)),
                                                         block_mask=m.create_block_mask(_causal, 1, 1, 8, 8, "cpu")),
    "batches that do not broadcast": lambda lib, m: m.flex_attention(
        *_qkv(lib, (2, 2, 8, 4), (3, 2, 8, 4)), block_mask=m.create_block_mask(_causal, 2, 1, 8, 8, "cpu")),
    "mask too short": lambda lib, m: m.flex_attention(*_qkv(lib),
                                                      block_mask=m.create_block_mask(_causal, 1, 1, 4, 8, "cpu")),
    "mask too long": lambda lib, m: m.flex_attention(*_qkv(lib),
                                                     block_mask=m.create_block_mask(_causal, 1, 1, 8, 16, "cpu")),
    "sliced mask": lambda lib, m: m.flex_attention(*_qkv(lib),
                                                   block_mask=m.create_block_mask(_causal, 2, 1, 8, 8, "cpu")[0]),
    "lse and aux": lambda lib, m: m.flex_attention(*_qkv(lib), return_lse=True, return_aux=m.AuxRequest(lse=True)),
    "bad backend": lambda lib, m: m.flex_attention(*_qkv(lib), kernel_options={"BACKEND": "CUTLASS"}),
    "backend and force": lambda lib, m: m.flex_attention(*_qkv(lib), kernel_options={
        "BACKEND": "AUTO", "FORCE_USE_FLEX_ATTENTION": True}),
    "internal option": lambda lib, m: m.flex_attention(*_qkv(lib), kernel_options={"OUTPUT_LOGSUMEXP": True}),
    "flash and max": lambda lib, m: m.flex_attention(*_qkv(lib), kernel_options={"BACKEND": "FLASH"},
                                                     return_aux=m.AuxRequest(max_scores=True)),
    "score_mod for a block mask": lambda lib, m: m.create_block_mask(_unchanged, 1, 1, 8, 8, "cpu"),
    "three arguments": lambda lib, m: m.create_mask(lambda b, q, k: q >= k, 1, 1, 8, 8, "cpu"),
    "not callable": lambda lib, m: m.and_masks(_causal, 3),
    "not callable (or)": lambda lib, m: m.or_masks(None),
    "mask not boolean": lambda lib, m: m.create_block_mask(lambda b, h, q, k: q - k, 1, 1, 8, 8, "cpu"),
    "dq order not a bool": lambda lib, m: m.create_block_mask(_causal, 1, 1, 8, 8, "cpu", dq_kv_order=1),
    "indices of one dimension": lambda lib, m: m.BlockMask.from_kv_blocks(lib.zeros(1, dtype=lib.int32),
                                                                          lib.zeros(1, dtype=lib.int32)),
    "full blocks without indices": lambda lib, m: m.BlockMask.from_kv_blocks(
        lib.zeros(1, 1, 1, dtype=lib.int32), lib.zeros(1, 1, 1, 1, dtype=lib.int32),
        full_kv_num_blocks=lib.zeros(1, 1, 1, dtype=lib.int32)),
}


@pytest.mark.parametrize("case", list(MISUSE))
def test_misuse_raises_as_torch(case):
    theirs, ours = _errors(MISUSE[case])
    assert ours == theirs
