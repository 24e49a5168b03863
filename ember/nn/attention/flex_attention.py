"""``nn.attention.flex_attention``: attention with a user score modification (``score_mod``) and mask
(``mask_mod``, as a ``BlockMask``), as PyTorch's eager implementation computes it.

Where PyTorch vmaps a mod over (batch, head, q_idx, kv_idx) scalars, ember calls it once with index tensors shaped
(B,1,1,1), (1,H,1,1), (1,1,Q,1), (1,1,1,KV) that broadcast against the (B, H, Q, KV) scores, so mods written with
tensor ops (arithmetic, comparisons, ``where``, indexing captured tensors) give the same values, and gradients
reach query, key, value and the tensors a mod captures. Index a captured tensor in one subscript
(``table[q_idx, kv_idx]``): a chained ``table[q_idx][kv_idx]``, which PyTorch's scalars allow, indexes a broadcast
dimension here. Unlike PyTorch's CPU build, the backward pass and ``AuxRequest(max_scores=True)`` work on every
device."""
import inspect
import math
import warnings
from typing import NamedTuple, TypedDict

from ... import _dtype
from ... import accelerator as _accelerator
from ...ops.activation import softmax
from ...ops.creation import zeros
from ...ops.ranges import arange
from ._block_mask import (_DEFAULT_SPARSE_BLOCK_SIZE, _LARGE_SPARSE_BLOCK_SIZE, BlockMask,
                          _compute_dq_write_order_from_block_mask, _dense_to_ordered, _sliced_mask_mod_error,
                          noop_mask)

__all__ = ["BlockMask", "flex_attention", "AuxOutput", "AuxRequest", "FlexKernelOptions", "create_block_mask",
           "create_mask", "or_masks", "and_masks", "noop_mask"]

BlockMask.__module__ = noop_mask.__module__ = __name__

_BACKENDS = ("AUTO", "TRITON", "FLASH", "TRITON_DECODE")


class FlexKernelOptions(TypedDict, total=False):
    """Options for PyTorch's fused flex-attention kernels; ember's computation takes none of them, and checks only
    the ``BACKEND`` choice, as PyTorch does."""

    num_warps: int
    num_stages: int
    BLOCK_M: int
    BLOCK_N: int
    BLOCK_M1: int
    BLOCK_N1: int
    BLOCK_M2: int
    BLOCK_N2: int
    PRESCALE_QK: bool
    ROWS_GUARANTEED_SAFE: bool
    BLOCKS_ARE_CONTIGUOUS: bool
    WRITE_DQ: bool
    FORCE_USE_FLEX_ATTENTION: bool
    USE_TMA: bool
    kpack: int
    matrix_instr_nonkdim: int
    waves_per_eu: int
    BACKEND: str


class AuxRequest(NamedTuple):
    """Which auxiliary outputs ``flex_attention`` returns: the logsumexp of each row's scores, their maximum."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """The auxiliary outputs of ``flex_attention``, None where not requested."""

    lse: object = None
    max_scores: object = None


_WARNINGS_SHOWN = set()


def _warn_once(warning_id, message, category=UserWarning):
    if warning_id not in _WARNINGS_SHOWN:
        warnings.warn(message, category, stacklevel=3)
        _WARNINGS_SHOWN.add(warning_id)


def _identity(score, batch, head, token_q, token_kv):
    return score


def _positional_count(fn):
    """How many positional parameters without defaults ``fn`` has: 5 for a score_mod, 4 for a mask_mod."""
    code = getattr(fn, "__code__", None)
    if code is not None:
        count = code.co_argcount - len(getattr(fn, "__defaults__", None) or ())
    else:
        count = sum(1 for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty)
    if count not in (4, 5):
        raise AssertionError(f"Expected 4 or 5 positional args, got {count}")
    return count


def or_masks(*mask_mods):
    """The mask_mod keeping what any of ``mask_mods`` keeps."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def or_mask(b, h, q_idx, kv_idx):
        result = b.new_zeros((), dtype=_dtype.bool_)
        for mask in mask_mods:
            result = result | mask(b, h, q_idx, kv_idx)
        return result
    return or_mask


def and_masks(*mask_mods):
    """The mask_mod keeping what all of ``mask_mods`` keep."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def and_mask(b, h, q_idx, kv_idx):
        result = b.new_ones((), dtype=_dtype.bool_)
        for mask in mask_mods:
            result = result & mask(b, h, q_idx, kv_idx)
        return result
    return and_mask


def _indices(B, H, Q_LEN, KV_LEN, device):
    """The batch, head, query and key/value indices (int64), each along its own dimension of (B, H, Q, KV)."""
    return (arange(B, device=device).view(B, 1, 1, 1), arange(H, device=device).view(1, H, 1, 1),
            arange(Q_LEN, device=device).view(1, 1, Q_LEN, 1), arange(KV_LEN, device=device).view(1, 1, 1, KV_LEN))


def _full(value, shape):
    return value if tuple(value.shape) == tuple(shape) else value.expand(*shape)


def create_mask(mod_fn, B, H, Q_LEN, KV_LEN, device=None):
    """The (B, H, Q_LEN, KV_LEN) mask a mask_mod gives (or, for a score_mod, where it leaves scores finite)."""
    if device is None:
        device = _accelerator.current_accelerator() or "cpu"
    B = 1 if B is None else B
    H = 1 if H is None else H
    indices = _indices(B, H, Q_LEN, KV_LEN, device)
    if _positional_count(mod_fn) == 5:
        out = _full(mod_fn(zeros(B, H, Q_LEN, KV_LEN, device=device), *indices), (B, H, Q_LEN, KV_LEN))
        return out.isneginf().logical_not()
    return _full(mod_fn(*indices), (B, H, Q_LEN, KV_LEN)).contiguous()   # its own memory, as vmap gives


def _convert_mask_to_block_mask(mask, Q_BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
                                KV_BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE, separate_full_blocks=False):
    """The int8 grids of (partly kept, fully kept) blocks of a boolean (B, H, Q, KV) mask, padded to whole blocks;
    without ``separate_full_blocks``, one grid of blocks keeping anything, and None."""
    if mask.dtype is not _dtype.bool_:
        raise AssertionError(f"mask.dtype must be {_dtype.bool_}, got {mask.dtype}")
    while mask.dim() < 4:
        mask = mask.unsqueeze(0)
    B, H, Q, KV = mask.shape
    rows, cols = -(-Q // Q_BLOCK_SIZE), -(-KV // KV_BLOCK_SIZE)
    padded = zeros(B, H, rows * Q_BLOCK_SIZE, cols * KV_BLOCK_SIZE, dtype=_dtype.bool_, device=mask.device)
    padded[:, :, :Q, :KV] = mask
    counts = padded.view(B, H, rows, Q_BLOCK_SIZE, cols, KV_BLOCK_SIZE).sum(dim=(3, 5))
    if separate_full_blocks:
        full = Q_BLOCK_SIZE * KV_BLOCK_SIZE
        return ((counts > 0) & (counts < full)).to(_dtype.int8), (counts == full).to(_dtype.int8)
    return (counts > 0).to(_dtype.int8), None


def create_block_mask(mask_mod, B, H, Q_LEN, KV_LEN, device=None, BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
                      _compile=False, separate_full_blocks=True, compute_dq_write_order=False, dq_kv_order=True):
    """The BlockMask of ``mask_mod(b, h, q_idx, kv_idx)`` over B x H x Q_LEN x KV_LEN (B, H None: 1, broadcast),
    in BLOCK_SIZE tiles (an int, or (query, key/value))."""
    if device is None:
        device = _accelerator.current_accelerator() or "cpu"
    if _positional_count(mask_mod) != 4:
        raise AssertionError(f"create-block_mask requires a mask_mod function! Got {mask_mod}")
    B = 1 if B is None else B
    H = 1 if H is None else H
    Q_BLOCK_SIZE, KV_BLOCK_SIZE = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else BLOCK_SIZE
    if _compile:
        warnings.warn("_compile flag on create_block_mask was originally added to work around a torch.compile "
                      "limitation. That limitation has since been addressed. So, to compile create_block_mask, we "
                      "suggest doing torch.compile(create_block_mask). This still works for now, but will be "
                      "removed in the future.", DeprecationWarning, stacklevel=2)
    if not isinstance(dq_kv_order, bool):
        raise ValueError("dq_kv_order must be a bool when using create_block_mask")
    mask = create_mask(mask_mod, B, H, Q_LEN, KV_LEN, device)
    partial, full = _convert_mask_to_block_mask(mask, Q_BLOCK_SIZE, KV_BLOCK_SIZE, separate_full_blocks)
    full = (None, None) if full is None else _dense_to_ordered(full)
    block_mask = BlockMask.from_kv_blocks(*_dense_to_ordered(partial), *full, BLOCK_SIZE=(Q_BLOCK_SIZE, KV_BLOCK_SIZE),
                                          mask_mod=mask_mod, seq_lengths=(Q_LEN, KV_LEN))
    if compute_dq_write_order:
        block_mask.dq_write_order, block_mask.dq_write_order_full = _compute_dq_write_order_from_block_mask(
            block_mask, dq_kv_order=dq_kv_order)
        block_mask.dq_kv_order, block_mask.dq_kv_order_spt = None, dq_kv_order
    return block_mask


def _create_empty_block_mask(query, key):
    """The mask flex_attention uses when given none: one block covering everything, masking nothing."""
    return BlockMask.from_kv_blocks(kv_num_blocks=query.new_ones((1, 1, 1), dtype=_dtype.int32),
                                    kv_indices=query.new_zeros((1, 1, 1, 1), dtype=_dtype.int32),
                                    BLOCK_SIZE=_LARGE_SPARSE_BLOCK_SIZE, seq_lengths=(1, 1))


def _check_inputs(query, key, value, block_mask, enable_gqa):
    """PyTorch's checks of flex_attention's tensors, in its order, with its errors."""
    if query.device != key.device or query.device != value.device:
        raise ValueError(f"Expected query, key, and value to have the same device type, but got query.device: "
                         f"{query.device}, key.device: {key.device}, and value.device: {value.device} instead.")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise ValueError(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                         f"{query.dim()}, key.dim: {key.dim()} and value.dim: {value.dim()} instead.")
    if query.size(-1) != key.size(-1):
        raise ValueError(f"Expect query and key/value to have the same embedding dimension but got "
                         f"E={query.size(-1)} and E={key.size(-1)}.")
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise NotImplementedError("NYI: query, key, and value must be 4D tensors")
    if not enable_gqa and query.size(-3) != key.size(-3):
        raise ValueError(f"Expect query and key/value to have the same number of heads but got Hq={query.size(-3)} "
                         f"and Hkv={key.size(-3)}. Try setting enable_gqa=True for GQA.")
    if enable_gqa and query.size(1) % key.size(1) != 0:
        raise ValueError(f"Expect number of query heads to be a multiple of kv heads for GQA but got "
                         f"Hq={query.size(1)} and Hkv={key.size(1)}.")
    if query.size(0) != key.size(0):
        if block_mask is None:
            raise ValueError(f"Expect query and key/value to have the same batch size, or non-none block_mask, but "
                             f"got block_mask=None, Bq={query.size(0)}, and Bkv={key.size(0)}.")
        if block_mask.kv_num_blocks.size(0) != query.size(0):
            raise ValueError(f"Expect query and key/value to have the same batch size, or block_mask and query to "
                             f"have the same batch size, but got Bq={query.size(0)}, Bkv={key.size(0)}, "
                             f"B_block_mask={block_mask.kv_num_blocks.size(0)}.")


def _check_block_mask(query, key, block_mask):
    """PyTorch's checks that ``block_mask`` was made for these sequence lengths and this device."""
    if block_mask.mask_mod is _sliced_mask_mod_error:
        raise RuntimeError("Cannot use mask_mod from a sliced BlockMask")
    if tuple(block_mask.BLOCK_SIZE) != (_LARGE_SPARSE_BLOCK_SIZE, _LARGE_SPARSE_BLOCK_SIZE):
        q_len, kv_len = block_mask.shape[-2], block_mask.shape[-1]
        if query.size(-2) > q_len or key.size(-2) > kv_len:
            raise ValueError(
                f"block_mask was created for block_mask.shape={block_mask.shape} but got q_len={query.size(-2)} and "
                f"kv_len={key.size(-2)}. As the block mask was created for a smaller length than you're using it "
                "for, you likely need to create a new block mask.")
        if query.size(-2) != q_len or key.size(-2) != kv_len:
            raise ValueError(
                f"block_mask was created for block_mask.shape={block_mask.shape} but got q_len={query.size(-2)} and "
                f"kv_len={key.size(-2)}. As the block mask was created for a larger length than you're using it "
                "for, you can either 1. create a new block mask with the correct length, or 2. 'adjust' the "
                "existing block mask to the correct length by calling block_mask._adjust(q_len, kv_len). This "
                "essentially 'crops' the block mask to the upper left corner, which does not work for all mask_mods!")
    if query.device != block_mask.kv_num_blocks.device:
        raise RuntimeError(f"Expect q/k/v and block_mask to be on the same device but got {query.device} and "
                           f"{block_mask.kv_num_blocks.device}.")


def _check_kernel_options(kernel_options):
    """PyTorch's checks of ``kernel_options``: a known BACKEND, not with the legacy FORCE_USE_FLEX_ATTENTION, and
    none of the keys it sets itself."""
    options = kernel_options or {}
    if "BACKEND" in options and options.get("FORCE_USE_FLEX_ATTENTION", False):
        raise RuntimeError("BACKEND cannot be combined with legacy FORCE_USE_FLEX_ATTENTION. BACKEND supersedes the "
                           "legacy knob; please drop FORCE_USE_FLEX_ATTENTION and only specify the desired BACKEND.")
    if "BACKEND" in options and options["BACKEND"] not in _BACKENDS:
        raise ValueError(f"Invalid BACKEND value '{options['BACKEND']}'. Must be one of {_BACKENDS}")
    for key in ("OUTPUT_LOGSUMEXP", "OUTPUT_MAX"):
        if key in options:
            raise AssertionError(f"{key} must not be in kernel_options")
    return options.get("BACKEND", "AUTO")


def _attend(query, key, value, score_mod, mask_mod, scale, stats):
    """The output and, with ``stats``, the logsumexp and the maximum of each row's modified, masked scores (-inf
    for rows with no position kept, whose output is zeros). Scores are float32 (float64 for float64 queries), as
    PyTorch's."""
    groups = query.size(1) // key.size(1)
    if groups > 1:
        key, value = key.repeat_interleave(groups, dim=1), value.repeat_interleave(groups, dim=1)
    Bq, Bkv = query.size(0), key.size(0)
    if not (Bq == Bkv or (Bq > 1 and Bkv == 1)):
        raise RuntimeError(f"Bq and Bkv must broadcast. Got Bq={Bq} and Bkv={Bkv}")
    key, value = key.expand(Bq, *key.shape[1:]), value.expand(Bq, *value.shape[1:])
    working = _dtype.float64 if query.dtype is _dtype.float64 else _dtype.float32
    scores = (query.to(working).matmul(key.to(working).transpose(-2, -1)) * scale).to(working)
    indices = _indices(*scores.shape, scores.device)
    modified = scores if score_mod is _identity else _full(score_mod(scores, *indices), scores.shape)
    if mask_mod is not noop_mask:
        modified = _full(modified.where(mask_mod(*indices), float("-inf")), scores.shape)
    # rows with every score -inf: softmax would be 0/0; PyTorch's safe softmax gives them zero weights
    dead = (modified.detach() == float("-inf")).all(-1, keepdim=True)
    safe = modified.masked_fill(dead, 0.0)
    weights = softmax(safe, -1).masked_fill(dead, 0.0)
    out = weights.to(query.dtype).matmul(value.to(query.dtype))
    if not stats:
        return out, None, None
    return out, safe.logsumexp(-1).masked_fill(dead.squeeze(-1), float("-inf")), modified.amax(-1)


def flex_attention(query, key, value, score_mod=None, block_mask=None, scale=None, enable_gqa=False,
                   return_lse=False, kernel_options=None, *, return_aux=None):
    """softmax(score_mod(query @ key^T * scale), masked by block_mask's mask_mod) @ value for (B, H, L, E)
    inputs; ``enable_gqa`` shares key/value heads among query heads; ``return_aux=AuxRequest(...)`` adds an
    ``AuxOutput`` (logsumexp in natural log, max scores); ``return_lse`` (deprecated) adds the logsumexp."""
    _check_inputs(query, key, value, block_mask, enable_gqa)
    score_mod = _identity if score_mod is None else score_mod
    block_mask = _create_empty_block_mask(query, key) if block_mask is None else block_mask
    _check_block_mask(query, key, block_mask)
    scale = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    if return_lse and return_aux is not None:
        raise ValueError("Cannot specify both return_lse and return_aux. return_lse is deprecated, please use "
                         "return_aux=AuxRequest(lse=True) instead.")
    if return_lse:
        _warn_once("deprecated_return_lse", "return_lse is deprecated and will be removed in v2.10. Please use "
                   "return_aux=AuxRequest(lse=True) instead.", FutureWarning)
    backend = _check_kernel_options(kernel_options)
    if backend == "FLASH" and return_aux is not None and return_aux.max_scores:
        raise NotImplementedError("Returning max scores is not supported with BACKEND='FLASH'. Use "
                                  "return_aux=AuxRequest(lse=True) or omit max_scores.")
    out, lse, max_scores = _attend(query, key, value, score_mod, block_mask.mask_mod, scale,
                                   return_lse or return_aux is not None)
    if return_aux is not None:
        return out, AuxOutput(lse=lse if return_aux.lse else None,
                              max_scores=max_scores if return_aux.max_scores else None)
    return (out, lse) if return_lse else out
