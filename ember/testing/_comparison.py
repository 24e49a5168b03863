"""assert_close: compares tensors, NumPy arrays, numbers and nested sequences/mappings of them, with dtype-based
default tolerances, and fails with PyTorch's messages (mismatch counts, greatest absolute/relative difference)."""
import collections.abc
import numbers

import numpy

from .. import _dtype
from .._tensor import Tensor

__all__ = ["assert_allclose", "assert_close"]

# dtype -> (rtol, atol); dtypes not listed (integers, bool) compare exactly
_DEFAULT_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
                       "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


class _Mismatch(AssertionError):
    """A failed comparison; ``path`` collects where in nested inputs it happened."""

    def __init__(self, message, path=""):
        super().__init__(message)
        self.message, self.path = message, path


# the older table ``assert_allclose`` keeps
_ALLCLOSE_TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}


def _tolerances(*dtypes, table=_DEFAULT_TOLERANCES):
    pairs = [table.get(d.name if hasattr(d, "name") else str(d), (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _scalar_dtype(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    return "complex128"


def _diff_line(kind, diff, index, tolerance, equality):
    line = f"{kind.title()} difference: {diff}" if index is None else \
        f"Greatest {kind} difference: {diff} at index {index}"
    return line + ("" if equality else f" (up to {tolerance} allowed)") + "\n"


def _mismatch_message(identifier, extra, abs_diff, abs_index, rel_diff, rel_index, rtol, atol):
    equality = rtol == 0 and atol == 0
    message = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        message += extra.strip() + "\n"
    message += _diff_line("absolute", abs_diff, abs_index, atol, equality)
    message += _diff_line("relative", rel_diff, rel_index, rtol, equality)
    return message.strip()


def _greatest(values):
    """(value, flat index) of the largest element, NaN winning as in torch.max."""
    nan = numpy.isnan(values) if values.dtype.kind == "f" else numpy.zeros(values.shape, bool)
    index = int(numpy.argmax(nan)) if nan.any() else int(numpy.argmax(values))
    return values[index].item(), index


def _compare_arrays(actual, expected, rtol, atol, equal_nan):
    matches = numpy.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if matches.all():
        return None
    if actual.ndim == 0:
        return _scalar_message(actual.item(), expected.item(), rtol, atol)
    a, e = actual.ravel(), expected.ravel()
    if a.dtype.kind in "biu":   # PyTorch upcasts integers to int64 and divides in the default float dtype
        a, e = a.astype(numpy.int64), e.astype(numpy.int64)
    total, mismatches = matches.size, matches.size - int(matches.sum())
    extra = f"Mismatched elements: {mismatches} / {total} ({mismatches / total:.1%})"
    with numpy.errstate(all="ignore"):
        abs_diff = numpy.abs(a - e)
        abs_diff[matches.ravel()] = 0
        float_type = numpy.float32 if abs_diff.dtype.kind in "iu" else abs_diff.dtype
        rel_diff = (abs_diff.astype(float_type) / numpy.abs(e).astype(float_type)).astype(float_type)
        rel_diff[matches.ravel()] = 0
    abs_value, abs_index = _greatest(abs_diff)
    rel_value, rel_index = _greatest(rel_diff)
    return _mismatch_message("Tensor-likes", extra, abs_value, _index(abs_index, actual.shape),
                             rel_value, _index(rel_index, actual.shape), rtol, atol)


def _index(flat, shape):
    return tuple(int(i) for i in numpy.unravel_index(flat, shape))


def _scalar_message(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_message("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, rel_diff, None,
                             rtol, atol)


def _attribute_mismatch(name, actual, expected):
    return _Mismatch(f"The values for attribute '{name}' do not match: {actual} != {expected}.")


def _compare_tensor_likes(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_stride):
    a_tensor, e_tensor = isinstance(actual, Tensor), isinstance(expected, Tensor)
    if a_tensor != e_tensor:
        raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.")
    if a_tensor:
        a_shape, e_shape = actual.shape, expected.shape
        a_dtype, e_dtype = actual.dtype, expected.dtype
    else:
        from .._tensor import Size
        a_shape, e_shape = Size(actual.shape), Size(expected.shape)
        a_dtype, e_dtype = _dtype.from_numpy(actual.dtype), _dtype.from_numpy(expected.dtype)
    if a_shape != e_shape:
        raise _attribute_mismatch("shape", a_shape, e_shape)
    if a_tensor and check_device and actual.device != expected.device:
        raise _attribute_mismatch("device", actual.device, expected.device)
    if check_dtype and a_dtype is not e_dtype:
        raise _attribute_mismatch("dtype", a_dtype, e_dtype)
    if a_tensor and check_stride and actual.stride() != expected.stride():
        raise _attribute_mismatch("stride()", actual.stride(), expected.stride())
    if rtol is None:
        rtol, atol = _tolerances(a_dtype, e_dtype)
    a, e = (_host(v) for v in (actual, expected))
    if a.dtype != e.dtype:
        common = _dtype.promote_types(a_dtype, e_dtype).numpy
        a, e = a.astype(common), e.astype(common)
    if a.dtype.name == "bfloat16":
        a, e = a.astype(numpy.float32), e.astype(numpy.float32)
    message = _compare_arrays(a, e, rtol, atol, equal_nan)
    if message is not None:
        raise _Mismatch(message)


def _host(value):
    if isinstance(value, Tensor):
        from .. import _backend
        return numpy.asarray(_backend.move(value.detach()._data, _backend.CPU))
    return numpy.asarray(value)


def _compare(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_stride):
    if actual is None and expected is None:
        return
    array_like = (Tensor, numpy.ndarray)
    if isinstance(actual, array_like) or isinstance(expected, array_like):
        return _compare_tensor_likes(actual, expected, rtol, atol, equal_nan, check_device, check_dtype,
                                     check_stride)
    if isinstance(actual, numbers.Number) and isinstance(expected, numbers.Number) and \
            not isinstance(actual, str) and not isinstance(expected, str):
        if check_dtype and type(actual) is not type(expected):
            raise _attribute_mismatch("type", type(actual), type(expected))
        if rtol is None:
            rtol, atol = _tolerances(_scalar_dtype(actual), _scalar_dtype(expected))
        close = numpy.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
        if not close:
            raise _Mismatch(_scalar_message(actual, expected, rtol, atol))
        return
    if isinstance(actual, collections.abc.Sequence) and isinstance(expected, collections.abc.Sequence) and \
            not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Mismatch(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare_item(f"[{i}]", a, e, rtol, atol, equal_nan, check_device, check_dtype, check_stride)
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        a_keys, e_keys = set(actual), set(expected)
        if a_keys != e_keys:
            missing, additional = e_keys - a_keys, a_keys - e_keys
            lines = ["The keys of the mappings do not match:"]
            if missing:
                lines.append(f"Missing keys in the actual mapping: {sorted(missing, key=repr)}")
            if additional:
                lines.append(f"Additional keys in the actual mapping: {sorted(additional, key=repr)}")
            raise _Mismatch("\n".join(lines))
        for key in expected:
            _compare_item(f"[{key!r}]", actual[key], expected[key], rtol, atol, equal_nan, check_device, check_dtype,
                          check_stride)
        return
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.")


def _compare_item(location, *args):
    try:
        _compare(*args)
    except _Mismatch as mismatch:
        mismatch.path = location + mismatch.path
        raise


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False, check_device=True,
                 check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Asserts that ``actual`` and ``expected`` are close: |actual - expected| <= atol + rtol * |expected| elementwise,
    with default tolerances from their dtypes (exact for integers), after checking shape, device and dtype."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    try:
        _compare(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_stride)
    except _Mismatch as mismatch:
        message = mismatch.message
        if mismatch.path:
            message += f"\n\nThe failure occurred for item {mismatch.path}"
        if callable(msg):
            message = msg(message)
        elif msg is not None:
            message = msg
        raise AssertionError(message) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The deprecated form of ``assert_close`` (warns): NaNs equal, dtypes not compared, and its own default
    tolerances (float32: rtol 1e-4, atol 1e-5)."""
    import warnings
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future release. "
                  "Please use `torch.testing.assert_close()` instead. You can find detailed upgrade instructions in "
                  "https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    from ..ops.creation import tensor
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _tolerances(actual.dtype, expected.dtype, table=_ALLCLOSE_TOLERANCES)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True, check_dtype=False,
                 check_stride=False, msg=msg or None)
