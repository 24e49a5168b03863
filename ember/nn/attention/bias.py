"""``nn.attention.bias``: causal attention biases that ``scaled_dot_product_attention`` takes as ``attn_mask``,
as PyTorch's."""
import enum
import warnings

from ... import _dtype
from ..._tensor import Tensor
from ...ops.attention import scaled_dot_product_attention
from ...ops.creation import ones
from ...overrides import DisableTorchFunctionSubclass, unwrapped
from . import SDPAParams, _raise_kernel_warnings

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(enum.IntEnum):
    """Where a causal bias's triangle is anchored: ``UPPER_LEFT`` is ``tril(ones(L, S))`` (``is_causal=True``);
    ``LOWER_RIGHT`` is ``tril(ones(L, S), diagonal=S - L)``. They agree when L == S."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias(Tensor):
    """A causal attention bias, kept as its variant and sequence lengths; ``scaled_dot_product_attention`` applies
    it without materializing it where it can. Made by ``causal_upper_left`` and ``causal_lower_right``."""

    def __init__(self, variant, seq_len_q, seq_len_kv):
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
        # PyTorch's subclass holds the (variant, seq_len_q, seq_len_kv)-shaped float tensor its constructor made
        super().__init__(int(variant), seq_len_q, seq_len_kv)
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warnings.warn("Lower right causal bias will produce NaNs in the output when seq_len_q > seq_len_kv!",
                          stacklevel=2)

    def _materialize(self, device=None):
        """The boolean (seq_len_q, seq_len_kv) mask this bias stands for, on ``device`` (default the CPU)."""
        mask = ones((self.seq_len_q, self.seq_len_kv), dtype=_dtype.bool_, device=device or "cpu")
        if self.variant == CausalVariant.UPPER_LEFT:
            return mask.tril()
        return mask.tril(diagonal=self.seq_len_kv - self.seq_len_q)

    @staticmethod
    def _dispatch(query, key, value, attn_mask, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
        """``scaled_dot_product_attention`` with this bias: the causal kernel for the upper-left triangle (or equal
        lengths), the materialized mask for the lower-right one."""
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if attn_mask.seq_len_q == attn_mask.seq_len_kv or attn_mask.variant == CausalVariant.UPPER_LEFT:
            return scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=dropout_p,
                                                is_causal=True, scale=scale, enable_gqa=enable_gqa)
        if attn_mask.variant == CausalVariant.LOWER_RIGHT:
            _raise_kernel_warnings(SDPAParams(query, key, value, None, dropout_p, is_causal, enable_gqa))
            return scaled_dot_product_attention(query, key, value, attn_mask=attn_mask._materialize(query.device),
                                                dropout_p=dropout_p, is_causal=False, scale=scale,
                                                enable_gqa=enable_gqa)
        raise ValueError(f"CausalBias.variant must be a CausalVariant type, but found: {attn_mask.variant}")

    _applies_itself = True   # scaled_dot_product_attention hands itself to __torch_function__

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """``scaled_dot_product_attention`` given this bias as ``attn_mask`` computes through ``_dispatch``."""
        kwargs = kwargs or {}
        if unwrapped(func) is scaled_dot_product_attention:
            return cls._dispatch(*args, **kwargs)
        with DisableTorchFunctionSubclass():
            return func(*args, **kwargs)

    def to(self, *args, **kwargs):
        """The bias itself: it stands for a mask, not for its placeholder values, so a cast (autocast's included)
        or a move leaves it as it is."""
        return self

    def __reduce_ex__(self, protocol):
        return _rebuild, (self.variant, self.seq_len_q, self.seq_len_kv)

    def __deepcopy__(self, memo):
        return _rebuild(self.variant, self.seq_len_q, self.seq_len_kv)

    def __repr__(self):
        return repr(self._materialize())


def _rebuild(variant, seq_len_q, seq_len_kv):
    """A CausalBias made again from its fields (for pickle and deepcopy), without the construction warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CausalBias(variant, seq_len_q, seq_len_kv)


def causal_upper_left(*size):
    """The upper-left causal bias of ``size`` = (seq_len_q, seq_len_kv): what ``is_causal=True`` means."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.UPPER_LEFT, seq_len_q, seq_len_kv)


def causal_lower_right(*size):
    """The lower-right causal bias of ``size`` = (seq_len_q, seq_len_kv): the triangle anchored at the last key."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.LOWER_RIGHT, seq_len_q, seq_len_kv)
