"""What every op module shares: installing Tensor methods, node names, views, type promotion, dim handling.

The base of ``ops``: it imports no other op module."""
import functools
import operator
import os
import sys
import warnings

import numpy

from .. import _backend, _dtype, _meta
from .._tensor import NO_GRAD_VIEW, Tensor, _make, _wrap_dim
from .._warnings import transparent
from ..autograd import function as _function
from ..autograd.grad_mode import check_inference_write, state

_ndarray = numpy.ndarray
_FLOAT = _dtype._FLOAT
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_warned = set()
"""The call sites that have warned: PyTorch warns once per process from each of its C++ sites (TORCH_WARN_ONCE)."""


def warn_once(site, message):
    """Warns the first time ``site`` is reached, attributed to the caller's line outside ember (as PyTorch's C++
    warnings are, whatever wrappers lie between)."""
    if site in _warned:
        return
    _warned.add(site)
    warn_at_caller(message)


def warn_at_caller(message, category=UserWarning):
    """Warns (PyTorch's TORCH_WARN) attributed to the caller's line outside ember, whatever wrappers lie between."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def recorded(*tensors):
    """Whether an op on ``tensors`` (None for absent ones) must run as recorded ops rather than an array-level fast
    path: for autograd, or for a dispatch hook (a trace, vmap or autocast must see the ops; a trace would freeze the
    fast path's result)."""
    return bool(_function.dispatch_hooks) or state.enabled and any(t is not None and t.requires_grad for t in tensors)


def quiet(forward):
    """Decorator: runs ``forward`` with NumPy's floating-point warnings off, as PyTorch returns inf/nan silently where
    NumPy would warn (log(0), 0/0, exp overflow)."""
    try:   # numpy.errstate rebuilds its state on every call (~0.8 us); set the prebuilt one when NumPy exposes it
        from numpy._core._ufunc_config import _extobj_contextvar as errors
    except ImportError:
        return numpy.errstate(all="ignore")(forward)
    with numpy.errstate(all="ignore"):
        ignore_all = errors.get()

    @functools.wraps(forward)
    def quiet_forward(*args):
        token = errors.set(ignore_all)
        try:
            return forward(*args)
        finally:
            errors.reset(token)
    return quiet_forward


def conj_if_complex(derivative):
    """A complex derivative conjugated (PyTorch's gradients are grad * conj(f'(z))); a real one as it is."""
    return derivative.conj() if derivative.is_complex() else derivative


def holomorphic_backward(backward):
    """Decorator for a backward written as grad * f'(z), right for real inputs: for a complex gradient it returns
    PyTorch's grad * conj(f'(z)), conj(backward(conj(grad))), the inputs' gradients of the same op all conjugated."""
    @functools.wraps(backward)
    def conjugated(ctx, grad):
        if grad._data.dtype.kind != "c":
            return backward(ctx, grad)
        grads = backward(ctx, grad.conj())
        if isinstance(grads, tuple):
            return tuple(None if g is None else g.conj() for g in grads)
        return grads.conj()
    return conjugated


def tensor_method(*names):
    """Decorator: installs the function as a Tensor method under its own name and any extra ``names``."""
    def install(function):
        for name in (function.__name__,) + names:
            setattr(Tensor, name, function)
        return function
    if len(names) == 1 and callable(names[0]):
        function, names = names[0], ()
        return install(function)
    return install


def _as_view(result, input):
    """Marks ``result`` as a view of ``input``: same version counter, same base."""
    result._version_counter = input._version_counter
    result._base = input._base if input._base is not None else input
    result._view_version = input._version_counter[0]
    if not state.enabled:
        result._view_creation = NO_GRAD_VIEW
    return result


def multi_output_views(views, name):
    """Marks ``views``, the outputs of a function of several views (``name``: PyTorch's node, "Unbind"), as PyTorch
    does: in-place changes to them are refused while grad mode is on."""
    if state.enabled:
        for i, view in enumerate(views):
            view._view_creation = (name, i)
    return views


_renamed_nodes = {}


def name_node(result, name, inputs=None, saved=None):
    """Shows the node that just made ``result`` under PyTorch's name for the op (``MeanBackward0`` for a mean built
    from a sum and a division); its backward stays that of the primitive. ``inputs``, where given, are the tensors
    PyTorch's node for the op takes (None for an absent one): the node's ``next_functions`` then lists where their
    gradients go, as PyTorch's single node does, rather than the inner ops a composite recorded (which still run
    its backward; hooks registered on the node see the last inner op's gradients). ``saved``, where given, is what
    PyTorch's node saves (``{"self": input, "reduction": 1}``), shown as its ``_saved_*`` attributes; its tensors
    are let go when backward frees the graph, as PyTorch's. Returns ``result``."""
    node = result.grad_fn
    if node is not None:
        base = type(node)
        renamed = _renamed_nodes.get((base, name))
        if renamed is None:
            renamed = _renamed_nodes[(base, name)] = _renamed_class(base, name)
        node.__class__ = renamed
        if inputs is not None:
            shown_inputs(node, inputs)
        if saved is not None:
            node._shown_saved = saved
            if any(isinstance(value, Tensor) for value in saved.values()):
                node._release = functools.partial(_release_shown, node)   # this node's own: no cost to others
    return result


def _release_shown(node):
    type(node)._release(node)
    node._freed = True
    node._shown_saved = {key: _function.RELEASED if isinstance(value, Tensor) else value
                         for key, value in node._shown_saved.items()}


def _renamed_class(base, name):
    """``base`` under the name ``name``; a qualified name (``torch::autograd::CopySlices``, PyTorch's nodes written in
    C++ by hand) is the class's last part and the whole of ``name()``."""
    namespace = {"__module__": base.__module__, "name": _function.Node.name}   # a qualified base's name() too
    if "::" in name:
        namespace["name"] = lambda self: name
    return type(name.rpartition("::")[2], (base,), namespace)


def shown_inputs(node, inputs):
    """Makes ``node``'s ``next_functions`` list the edges of ``inputs`` (tensors, None for an absent one, or edges
    made by ``shown_edge``): the inputs of the whole composite op ``node`` stands for. A node made by one of the
    inputs is left as it is."""
    edges = []
    for tensor in inputs:
        if isinstance(tensor, Tensor) and tensor.grad_fn is node:
            return
        edges.append(_input_edge(tensor))
    node._shown_edges = tuple(edges)


def shown_edge(name, inputs):
    """An edge to a node named ``name`` listing ``inputs`` (as ``shown_inputs`` takes them), for ``name_node``'s
    inputs where PyTorch records an op as several nodes (the mv of a stack viewed as a matrix); it is only shown,
    never run. None where no input needs a gradient."""
    node = _function.shown_node(name, [_input_edge(x) for x in inputs])
    return None if node is None else (node, 0)


def _input_edge(x):
    if type(x) is tuple:
        return x
    if isinstance(x, Tensor) and x.requires_grad:
        return _function._edge(x)
    return None


def keeps_layout(function):
    """Decorates an op PyTorch computes in its input's memory format (normalization, pooling, resampling, padding,
    dropout): where the 4-d (5-d) input is channels-last, so are the results of its rank (strides and
    ``is_contiguous(memory_format=...)`` answer as PyTorch's); a result's node keeps its name. Row-major inputs, the
    common case, pass through at the cost of one flag check."""
    @transparent
    @functools.wraps(function)
    def run(input, *args, **kwargs):
        result = function(input, *args, **kwargs)
        try:
            data = input._data
        except (AttributeError, NotImplementedError):   # not a tensor, or a quantized one (its kernels keep rows)
            return result
        if data is None or data.ndim not in (4, 5) or data.flags.c_contiguous or kwargs.get("out") is not None:
            return result
        from .._memory_format import contiguous_format, suggested
        layout = suggested(data)
        if layout is contiguous_format:
            return result
        if isinstance(result, tuple):
            return type(result)(_in_layout(r, layout) for r in result) if type(result) is tuple else \
                type(result)(*(_in_layout(r, layout) for r in result))
        return _in_layout(result, layout)
    return run


def row_major_result(function):
    """Decorates an op whose PyTorch kernel writes a row-major result whatever its input's layout (softmax, the
    cumulative ops, instance norm), where ember's NumPy code follows the input's order: a result that is not
    row-major is copied so (its node keeps its name). Row-major results pass at the cost of one flag check."""
    @transparent
    @functools.wraps(function)
    def run(input, *args, **kwargs):
        result = function(input, *args, **kwargs)
        if kwargs.get("out") is not None:
            return result
        if isinstance(result, tuple):   # (values, indices) pairs
            return type(result)(*(_row_major(r) for r in result))
        return _row_major(result)
    return run


def suggested_layout_result(function):
    """Decorates an op whose PyTorch kernel allocates its result in the input's suggested memory format (padding,
    roll): channels-last where a 4-d (5-d) input is, else row-major whatever the input's strides (NumPy's
    code follows a transposed input's order, so ``.view`` after the op failed where PyTorch's works)."""
    @transparent
    @functools.wraps(function)
    def run(input, *args, **kwargs):
        result = function(input, *args, **kwargs)
        if kwargs.get("out") is not None or not isinstance(input, Tensor):
            return result
        return in_suggested_layout(result, (input,))
    return run


def in_suggested_layout(result, inputs):
    """``result`` (a tensor) in the layout PyTorch allocates for ``inputs``: channels-last where each input of the
    result's rank suggests it, else row-major; already so, it passes at the cost of a flag check."""
    try:
        data = result._data if isinstance(result, Tensor) else None
        arrays = [t._data for t in inputs]
    except (AttributeError, NotImplementedError):   # not tensors, or quantized ones (their kernels keep rows)
        return result
    if data is None or getattr(data, "flags", None) is None or data.flags.c_contiguous and all(
            getattr(getattr(a, "flags", None), "c_contiguous", False) for a in arrays):
        return result
    if data.ndim in (4, 5) and all(getattr(a, "ndim", None) == data.ndim for a in arrays):
        from .._memory_format import contiguous_format, suggested
        layouts = {suggested(a) for a in arrays}
        if len(layouts) == 1 and (layout := layouts.pop()) is not contiguous_format:
            return _in_layout(result, layout)
    return _row_major(result)


def _row_major(tensor):
    if not isinstance(tensor, Tensor) or tensor._data.flags.c_contiguous:
        return tensor
    return _standing_for(tensor.contiguous(), tensor.grad_fn)


def _in_layout(tensor, layout):
    from .._memory_format import suggested
    if not isinstance(tensor, Tensor) or tensor._data.ndim != layout.rank or suggested(tensor._data) is layout:
        return tensor
    node = tensor.grad_fn
    # a copy even where (N, C, 1, 1) passes for both: its strides
    return _standing_for(tensor.clone(memory_format=layout), node)


def _standing_for(copy, node):
    """``copy``, a relaid copy of an op's result made by ``node``, with its node shown as the op's: the same name,
    listing the op's inputs."""
    if node is None:
        return copy
    name_node(copy, node.name())
    shown = node.__dict__.get("_shown_edges")
    copy.grad_fn._shown_edges = shown if shown is not None else node.next_functions
    return copy


def promote(*operands):
    """Casts tensor operands to the dtype PyTorch's promotion gives them; Python scalars stay scalars.

    Returns the operands (tensors cast where needed) followed by nothing else; raises on mixed devices.
    """
    first = operands[0]
    if isinstance(first, Tensor):
        dtype, array_type = first._data.dtype, type(first._data)
        if all(isinstance(o, Tensor) and o._data.dtype == dtype and type(o._data) is array_type for o in operands):
            return list(operands)
    try:
        target = _dtype.result_type(*operands)
    except TypeError:   # an operand that is neither a tensor nor a number
        argument_error()
        raise
    return [_cast(o, target) for o in operands]


def promote_pair(input, other):
    """Fast ``promote`` for the common binary case."""
    if isinstance(other, Tensor):
        if isinstance(input, Tensor):
            if type(input._data) is not type(other._data):
                check_same_device(input, other)
            if input._data.dtype is other._data.dtype or input._data.dtype == other._data.dtype:
                return input, other
    elif type(other) is float and isinstance(input, Tensor) and input._data.dtype.kind in "fc":
        return input, (other if input._data.dtype.itemsize != 2 else _dtype.float32_rounded(other))
    try:
        target = _dtype.result_type(input, other)
    except TypeError:   # an operand that is neither a tensor nor a number
        argument_error()
        raise
    return _cast(input, target), _cast(other, target)


def _cast(operand, target):
    if isinstance(operand, Tensor):
        if operand.dtype is target:
            return operand
        if (operand.requires_grad and state.enabled) or _function.dispatch_hooks:   # recorded when traced
            return operand.to(target)
        return _make(operand._data.astype(target.numpy))
    if operand is None:
        return None
    if isinstance(operand, numpy.generic):
        operand = operand.item()
    category = target._category
    if category == _FLOAT:
        if target is _dtype.bfloat16 or target is _dtype.float16:
            operand = _dtype.float32_rounded(float(operand)) if not isinstance(operand, complex) else operand
        if target is _dtype.bfloat16:  # ml_dtypes widens bfloat16 + Python float to float32; a typed scalar does not
            return target.numpy.type(operand)
        return float(operand) if not isinstance(operand, complex) else operand
    if category == _dtype._COMPLEX:
        return complex(operand)
    if category == _dtype._INT:
        operand = int(operand)
        low, high = _INT_RANGES.get(target) or _INT_RANGES.setdefault(target, _int_range(target))
        return operand if low <= operand <= high else _wrapped(operand, low, high)
    return operand


_INT_RANGES = {}


def _int_range(dtype):
    info = numpy.iinfo(dtype.numpy)
    return int(info.min), int(info.max)


def _wrapped(value, low, high):
    """A Python int outside an integer dtype's range as PyTorch casts the wrapped number: modulo 2**bits (ints
    past what its Scalar holds raise its OverflowError)."""
    if not -2 ** 63 <= value < 2 ** 64:
        raise OverflowError("can't convert negative int to unsigned" if value < 0 else "int too big to convert")
    span = high - low + 1
    return (value - low) % span + low


def check_same_device(*tensors):
    """RuntimeError naming both devices when tensors live on different devices (0-d CPU tensors excepted)."""
    devices = {t.device for t in tensors if isinstance(t, Tensor) and not (t.ndim == 0 and t.device.type == "cpu")}
    if len(devices) > 1:
        if _backend.META in devices:   # PyTorch's meta kernels name the first tensor's device as the expected one
            order = [t.device for t in tensors if isinstance(t, Tensor) and t.device in devices]
            raise _meta.device_error(next(d for d in order if d != order[0]), order[0])
        a, b = sorted(str(d) for d in devices)[::-1][:2]
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, {a} and "
                           f"{b}!")


def argument_error():
    """On an error path: raises PyTorch's TypeError where the op being run got arguments of the wrong types
    (``_arg_parser.check``); returns otherwise, for the caller to raise its own error."""
    from .. import _arg_parser   # (loaded on errors only)
    _arg_parser.check(2)


def int_arg(value):
    """An ``int`` argument as PyTorch's parser takes it (an int, a NumPy integer, a 0-d integer tensor, not a bool);
    otherwise PyTorch's TypeError for the op being run."""
    if type(value) is int:
        return value
    if not isinstance(value, (bool, numpy.bool_)):
        try:
            return operator.index(value)
        except TypeError:
            pass
    argument_error()
    raise TypeError(f"expected an int, got {type(value).__name__}")


_DIMS = [tuple(range(max(ndim, 1))) for ndim in range(65)]


def format_order(memory_format, ndim):
    """``memory_format``'s element order for ``ndim`` dims (None: row-major), with PyTorch's TypeError for an
    argument that is no memory format."""
    try:
        return memory_format.order(ndim)
    except AttributeError:
        argument_error()
        raise


def wrap_dim(dim, ndim):
    """A dim in 0..ndim-1 from a possibly negative one, with PyTorch's IndexError when out of range."""
    try:   # indexing a tuple wraps negative dims and refuses what is not an integer, at no cost for an int
        if dim.__class__ is not bool:
            return _DIMS[ndim][dim]
    except (TypeError, IndexError):
        pass
    if isinstance(dim, (bool, numpy.bool_)):   # PyTorch's parser refuses a bool as a dim
        argument_error()
        raise TypeError("expected an int as dim, got bool")
    if not isinstance(dim, (int, numpy.integer)):
        try:
            dim = operator.index(dim)
        except TypeError:   # not an integer: PyTorch's TypeError for the op being run
            argument_error()
            raise TypeError(f"expected an int as dim, got {type(dim).__name__}") from None
    return _wrap_dim(int(dim), ndim)   # out of range (or more than 64 dims)


def wrap_dims(dim, ndim):
    """Normalizes ``dim`` (None, int or sequence) to a sorted tuple of non-negative dims; None means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, numpy.integer)):
        return (wrap_dim(dim, ndim),)
    try:
        dims = tuple(wrap_dim(d, ndim) for d in dim)
    except TypeError:   # not a sequence
        argument_error()
        raise
    if len(set(dims)) != len(dims):
        repeated = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    return dims


def out_dtype(out, dtype):
    """A factory's dtype under ``out=``: ``out``'s when none is given, else PyTorch's error where they differ."""
    if dtype is None:
        return out.dtype
    if _dtype.as_dtype(dtype) is not out.dtype:
        raise RuntimeError(f"dtype {_dtype.scalar_type_name(_dtype.as_dtype(dtype))} does not match dtype of out "
                           f"parameter ({_dtype.scalar_type_name(out.dtype)})")
    return dtype


def write_out(out, result, name="op", *, warn_resize=True):
    """Implements ``out=``: stores ``result`` in ``out`` (resizing it if needed) and returns ``out``; without
    ``warn_resize`` a non-empty ``out`` is resized silently (PyTorch's factories call ``resize_``, not
    ``resize_output``)."""
    if out is None:
        return result
    check_inference_write(out)
    if state.enabled and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    if result._data.dtype != out._data.dtype and not _dtype.can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {_dtype.scalar_type_name(result.dtype)} can't be cast to the desired output "
                           f"type {_dtype.scalar_type_name(out.dtype)}")
    if type(out._data) is not type(result._data) and result._data.ndim and out.device != result.device:
        raise RuntimeError(f"Expected out tensor to have device {result.device}, but got {out.device} instead")
    if out._data.shape == result._data.shape:
        if _function.dispatch_hooks:   # seen by tracing and compiling as an in-place write (ops/_inplace's op)
            return _function.registry["AssignInplace"].apply(out, result)
        out._data[...] = result._data
    else:
        if out._data.size and warn_resize:   # PyTorch's resize_output: resizing a non-empty out= is deprecated
            warn_at_caller(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                           f"which does not match the required output shape {list(result.shape)}. This behavior is "
                           "deprecated, and in a future PyTorch release outputs will not be resized unless they have "
                           "zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, to zero "
                           "elements with t.resize_(0).")
        out._data = result._data.astype(out._data.dtype, copy=True)
    out._version_counter[0] += 1
    return out


def shape_arg(size):
    """Accepts ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(Size)`` and returns a tuple of ints."""
    if len(size) == 1 and not isinstance(size[0], (int, numpy.integer)) and not (
            isinstance(size[0], Tensor) and size[0].ndim == 0):
        size = size[0]
    elif not size:
        argument_error()   # no size at all: PyTorch's missing-argument error where the op requires one
    try:
        return tuple(s if type(s) is int else _size(s) for s in size)
    except TypeError:
        argument_error()   # PyTorch's error for the op's size argument (a bool first, a float anywhere)
    try:
        return tuple(int(s) for s in size)
    except (TypeError, ValueError) as error:
        raise TypeError(f"expected a sequence of integers as size, got {size!r}") from error


def _size(s):
    """One size that is not a plain int: an int subclass (a trace's symbolic size) as it is, an integer-like one
    (NumPy's, a 0-d integer tensor) as an int. A bool raises, for the op's parser check to judge: PyTorch's refuses
    one as the first size only."""
    if isinstance(s, bool):
        raise TypeError(f"expected an integer size, got {s!r}")
    return s if isinstance(s, int) else operator.index(s)


def result(array):
    """Wraps a non-differentiable array result (an index, a mask) in a tensor."""
    return _make(array)
