"""Printing tensors the way PyTorch prints them: ``tensor([1., 2.], dtype=ember.float64, requires_grad=True)``."""
import numpy

from . import _backend, _dtype

_IMPLICIT_DTYPES = ("float32", "int64", "bool", "complex64")


def tensor_repr(tensor):
    """The full repr: values, then the non-default dtype, device and grad information."""
    data = _backend.move(tensor._data, _backend.CPU)
    d = tensor.dtype
    if d is _dtype.bfloat16 or d is _dtype.float16:
        data = data.astype(numpy.float32)
    suffixes = []
    if tensor.device.type != "cpu":
        suffixes.append(f"device='{tensor.device}'")
    if data.size == 0 and data.shape != (0,):
        body = "[]"
        suffixes.append(f"size={tuple(data.shape)}")
    else:
        body = _format(data, d)
    implicit = d.name in _IMPLICIT_DTYPES and (d is not _dtype.float32 or _dtype.get_default_dtype() is _dtype.float32)
    if d is _dtype.get_default_dtype() and d is not _dtype.float32:
        implicit = True
    if not implicit or (data.size == 0 and d is not _dtype.get_default_dtype() and d.name != "int64"):
        suffixes.append(f"dtype={d!r}")
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    prefix = "tensor("
    body = body.replace("\n", "\n" + " " * len(prefix))
    return prefix + body + "".join(", " + s for s in suffixes) + ")"


def _format(data, d):
    if d is _dtype.bool_:
        formatter = {"bool": lambda v: "True" if v else "False"}
        return numpy.array2string(data, separator=", ", formatter=formatter, threshold=1000, edgeitems=3)
    if d.is_floating_point:
        return _format_float(data)
    if d.is_complex:
        return numpy.array2string(data, separator=", ", threshold=1000, edgeitems=3, precision=4)
    return numpy.array2string(data, separator=", ", threshold=1000, edgeitems=3, max_line_width=80)


def _format_float(data):
    finite = data[numpy.isfinite(data)] if data.size else data
    if finite.size == 0:
        return numpy.array2string(data, separator=", ", threshold=1000, edgeitems=3)
    absolute = numpy.abs(finite)
    integral = bool(numpy.all(finite == numpy.round(finite)))
    big, small = float(absolute.max()), float(absolute[absolute > 0].min()) if (absolute > 0).any() else 0.0
    if integral and big < 1e8:
        width = len(str(int(big))) + 1 + (1 if (finite < 0).any() else 0)
        def formatter(v):
            return (f"{v:.0f}." if numpy.isfinite(v) else str(v)).rjust(width)
    elif big >= 1e8 or (small and (small < 1e-4 or big / small > 1e3)):
        def formatter(v):
            return f"{v:.4e}"
    else:
        width = len(f"{big:.4f}") + (1 if (finite < 0).any() else 0)
        def formatter(v):
            return f"{v:.4f}".rjust(width)
    return numpy.array2string(data, separator=", ", formatter={"float_kind": formatter}, threshold=1000,
                              edgeitems=3, max_line_width=80)
