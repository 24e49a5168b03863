"""Printing tensors exactly the way PyTorch prints them: ``tensor([1., 2.], dtype=ember.float64, requires_grad=True)``.

The layout rules (fixed or scientific notation, widths, summarization, line wrapping, suffixes) follow
``torch/_tensor_str.py``; the values are read from a CPU NumPy copy of the tensor.
"""
import contextlib
import dataclasses
import math

import numpy

from . import _backend, _dtype


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: object = None


PRINT_OPTS = _PrinterOptions()

_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Sets how tensors print: digits, summarization threshold and edge items, line width, scientific notation.

    ``profile`` ("default", "short", "full") sets the first four at once; the explicit arguments override it.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"unknown print profile {profile!r}; expected one of {sorted(_PROFILES)}")
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current print options as a dict that ``set_printoptions(**options)`` accepts."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that changes the print options for the duration of a block."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses one format (integer-valued, fixed or scientific) and one width for all printed values."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
            return
        finite = flat[numpy.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        absolute = numpy.abs(finite)
        smallest, largest = float(absolute.min()), float(absolute.max())
        self.int_mode = bool(numpy.all(finite == numpy.ceil(finite)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        precision = PRINT_OPTS.precision
        for value in finite.tolist():
            if self.sci_mode:
                width = len(f"{value:.{precision}e}")
            elif self.int_mode:
                width = len(f"{value:.0f}") + 1
            else:
                width = len(f"{value:.{precision}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value):
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return (self.max_width - len(text)) * " " + text


def _value_str(value, real_formatter, imag_formatter):
    if imag_formatter is None:
        return real_formatter.format(value)
    real = real_formatter.format(value.real)
    imag = (imag_formatter.format(value.imag) + "j").lstrip()
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _vector_str(data, indent, cut, real_formatter, imag_formatter):
    element_length = real_formatter.max_width + 2
    if imag_formatter is not None:
        element_length += imag_formatter.max_width + 1
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    edge = PRINT_OPTS.edgeitems
    if cut[0] and not edge:
        items = ["..."]
    elif cut[0]:
        items = ([_value_str(v, real_formatter, imag_formatter) for v in data[:edge].tolist()] + [" ..."]
                 + [_value_str(v, real_formatter, imag_formatter) for v in data[edge:].tolist()])
    else:
        items = [_value_str(v, real_formatter, imag_formatter) for v in data.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(data, indent, cut, real_formatter, imag_formatter=None):
    """``data`` laid out as nested lists; ``cut[d]`` marks the dimensions summarized to their edge items, which
    ``data`` already holds alone (the first and last ``edgeitems``), printed with "..." between them."""
    if data.ndim == 0:
        return _value_str(data.item(), real_formatter, imag_formatter)
    if data.ndim == 1:
        return _vector_str(data, indent, cut, real_formatter, imag_formatter)
    edge = PRINT_OPTS.edgeitems
    rows = list(range(edge)) + [None] + list(range(edge, data.shape[0])) if cut[0] else range(data.shape[0])
    slices = ["..." if i is None else _nested_str(data[i], indent + 1, cut[1:], real_formatter, imag_formatter)
              for i in rows]
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _edges(data, cut):
    """Only the values a summarized print shows: the first and last ``edgeitems`` of every cut dimension, taken by
    slicing, so a huge or expanded tensor is never copied whole."""
    edge = PRINT_OPTS.edgeitems
    xp = _backend.xp_of(data)
    for axis, is_cut in enumerate(cut):
        if is_cut:
            head = (slice(None),) * axis
            size = data.shape[axis]
            data = xp.concatenate([data[head + (slice(0, edge),)], data[head + (slice(size - edge, size),)]], axis)
    return data


def _host_values(data, dtype):
    """``data`` on the CPU; floating types widened to float64 so printing sees their exact values."""
    data = _backend.move(data, _backend.CPU)
    if dtype.is_floating_point:
        return data.astype(numpy.float64)
    if dtype.is_complex:
        return data.astype(numpy.complex128)
    return data


def tensor_str(tensor, indent):
    """The bracketed values of ``tensor`` as PyTorch lays them out, continuation lines indented by ``indent``."""
    data = tensor._data
    if data.size == 0:
        return "[]"
    summarize = data.size > PRINT_OPTS.threshold
    cut = tuple(summarize and size > 2 * PRINT_OPTS.edgeitems for size in data.shape)
    shown = _host_values(_edges(data, cut), tensor.dtype)
    if tensor.dtype.is_complex:
        return _nested_str(shown, indent, cut, _Formatter(shown.real, True), _Formatter(shown.imag, True))
    return _nested_str(shown, indent, cut, _Formatter(shown, tensor.dtype.is_floating_point))


_tensor_str = tensor_str   # PyTorch's name (libraries print tensors' values with it: PyG's OFF writer)


def _add_suffixes(text, suffixes, indent, force_newline=False):
    """``text`` closed with ``suffixes`` (``dtype=...``), each on the line while it fits the line width, else on a
    new line indented by ``indent`` (the first on a new line anyway with ``force_newline``)."""
    parts = [text]
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or last_line_length + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_length = indent + len(suffix)
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


tangent_of = None
"""Installed by ``autograd._dual``: a tensor's tangent at the open dual level, or None; the repr shows it as
``tangent=`` after the autograd information, as PyTorch's."""


def tensor_repr(tensor, tensor_contents=None):
    """The full repr: values, then device, size, dtype and autograd information where PyTorch shows them."""
    cls_name = type(tensor).__name__
    prefix = "tensor(" if cls_name in ("Tensor", "Parameter") else cls_name + "("
    indent = len(prefix)
    suffixes = []
    if tensor.device.type != "cpu":
        suffixes.append(f"device='{tensor.device}'")
    d = tensor.dtype
    default = _dtype.get_default_dtype()
    if tensor.device.type == "meta":   # no values to show: PyTorch's "..." with the size, and any other dtype
        suffixes.append(f"size={tuple(tensor.shape)}")
        if d is not default:
            suffixes.append(f"dtype={d!r}")
        text = "..."
    elif tensor.numel() == 0:
        if tensor.dim() != 1:
            suffixes.append(f"size={tuple(tensor.shape)}")
        if d is not default:
            suffixes.append(f"dtype={d!r}")
        text = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(tensor.shape)}")
        if d not in (default, _dtype.default_complex(), _dtype.int64, _dtype.bool_):
            suffixes.append(f"dtype={d!r}")
        text = tensor_str(tensor, indent) if tensor_contents is None else None
    if tensor_contents is not None:
        text = tensor_contents
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(tensor.grad_fn).__name__}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    tangent = tangent_of(tensor) if tangent_of is not None else None
    if tangent is not None:
        suffixes.append(f"tangent={tangent}")
    return _add_suffixes(prefix + text, suffixes, indent)
