"""Helpers the observers share (``torch.ao.quantization.utils``): quantization ranges and qscheme tests."""
import warnings

import ember

__all__ = ["calculate_qmin_qmax", "check_min_max_valid", "validate_qmin_qmax", "is_per_tensor", "is_per_channel"]


def is_per_tensor(qscheme):
    """True for the per-tensor qschemes."""
    return qscheme in (ember.per_tensor_affine, ember.per_tensor_symmetric)


def is_per_channel(qscheme):
    """True for the per-channel qschemes."""
    return qscheme in (ember.per_channel_affine, ember.per_channel_affine_float_qparams, ember.per_channel_symmetric)


def validate_qmin_qmax(quant_min, quant_max):
    """Checks that a user's range holds 0 and is not empty (AssertionError otherwise, as PyTorch)."""
    if not quant_min <= 0 <= quant_max:
        raise AssertionError("Used-specified quantization range must include 0.")
    if quant_min >= quant_max:
        raise AssertionError("qmin must be strictly less than qmax for user-specified quantization range.")


def calculate_qmin_qmax(quant_min, quant_max, has_customized_qrange, dtype, reduce_range):
    """The (quant_min, quant_max) an observer uses: the user's (halved under ``reduce_range``) or the dtype's."""
    if has_customized_qrange:
        span = quant_max - quant_min + 1
        if dtype in (ember.qint8, ember.int8) and not 0 < span <= 256:
            raise AssertionError("quantization range should be positive and not exceed the maximum bit range (=256).")
        if dtype in (ember.qint32, ember.int32) and not 0 < span <= 2 ** 32:
            raise AssertionError("quantization range should be positive and not exceed the maximum bit range "
                                 "(=4294967296).")
        if reduce_range:
            quant_min, quant_max = quant_min // 2, quant_max // 2
        return quant_min, quant_max
    if dtype in (ember.qint8, ember.int8):
        return (-64, 63) if reduce_range else (-128, 127)
    if dtype in (ember.quint8, ember.uint8):
        return (0, 127) if reduce_range else (0, 255)
    if dtype in (ember.qint32, ember.int32):
        return -2 ** 31, 2 ** 31 - 1
    if dtype is ember.uint16:
        return 0, 2 ** 16 - 1
    if dtype is ember.int16:
        return -2 ** 15, 2 ** 15 - 1
    return 0, 15


def check_min_max_valid(min_val, max_val):
    """False (with PyTorch's warning) before anything was observed; AssertionError when min > max."""
    if min_val.numel() == 0 or max_val.numel() == 0 or (
            (min_val.dim() == 0 or max_val.dim() == 0) and min_val == float("inf") and max_val == float("-inf")):
        warnings.warn("must run observer before calling calculate_qparams. Returning default values.", stacklevel=2)
        return False
    if bool((min_val > max_val).any()):
        raise AssertionError(f"min {min_val} should be less than max {max_val}")
    return True
