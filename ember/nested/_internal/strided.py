"""The strided-layout nested tensor (PyTorch's default ``NestedTensorImpl``): components of one dim whose sizes may
differ in any dim, stored one after another in a flat buffer (this tensor's array) with each one's shape.

Ops follow PyTorch 2.13's NestedTensor kernels for the ops it has them for: pointwise ops on the buffer (two nested
operands of equal component shapes, or a number), and per component where its kernels work per component
(softmax, linear, transpose, layer norm, matmul of two nested tensors); others raise its NotImplementedError."""
import math
import warnings

from ..._tensor import Tensor
from ... import overrides
from .nested_tensor import _as_class, _plain
from .ops import BINARY_NAMES, UNARY_NAMES, nested_hook, values_of

__all__ = ["StridedNestedTensor", "strided_from_list", "to_padded_strided"]


def _torch():
    import ember
    return ember


def _wrap(buffer, sizes):
    """A flat plain tensor (its graph kept) as a StridedNestedTensor with component shapes ``sizes``."""
    overrides.enable_torch_function_dispatch()
    result = _as_class(buffer, StridedNestedTensor)
    result.__dict__.pop("_njt_grad", None)
    result.__dict__["_nested_sizes"] = [tuple(s) for s in sizes]
    return result


_warned = []   # PyTorch warns once per process, on making its first strided nested tensor
PROTOTYPE = ("The PyTorch API of nested tensors is in prototype stage and will change in the near future. We recommend "
             "specifying layout=torch.jagged when constructing a nested tensor, as this layout receives active "
             "development, has better operator coverage, and works with torch.compile.")


def strided_from_list(tensors, dtype=None, device=None):
    """A strided nested tensor of copies of ``tensors`` (same dim), their graphs kept."""
    torch = _torch()
    tensors = list(tensors)
    if not _warned:
        _warned.append(True)
        warnings.warn(PROTOTYPE, UserWarning, stacklevel=3)
    for index, t in enumerate(tensors):
        if t.dim() != tensors[0].dim():
            raise RuntimeError(f"All Tensors given to nested_tensor must have the same dimension. Found dimension "
                               f"{t.dim()} for Tensor at index {index} and dimension {tensors[0].dim()} for Tensor at "
                               "index 0.")
    if not tensors:
        buffer = torch.empty(0, dtype=dtype or torch.get_default_dtype(), device=device)
        return _wrap(buffer, [])
    buffer = torch.cat([t.reshape(-1) for t in tensors])
    if dtype is not None or device is not None:
        buffer = buffer.to(device=device, dtype=dtype)
    return _wrap(buffer, [tuple(t.shape) for t in tensors])


def to_padded_strided(nt, padding, output_size=None):
    """The components in one dense tensor, each padded at the end of every dim with ``padding``."""
    torch = _torch()
    parts = nt.unbind()
    dims = nt.dim() - 1
    size = [len(parts)] + [max((p.shape[d] for p in parts), default=0) for d in range(dims)]
    if output_size is not None:
        if any(o < s for o, s in zip(output_size, size)):
            raise RuntimeError("Value in output_size is less than NestedTensor padded size. Truncation is not "
                               "supported.")
        size = list(output_size)
    padded = []
    for part in parts:
        widths = []
        for d in reversed(range(dims)):
            widths += [0, size[d + 1] - part.shape[d]]
        padded.append(torch.nn.functional.pad(part, widths, value=padding))
    return torch.stack(padded) if padded else torch.full(size, padding, dtype=nt.dtype)


def rebuild_nested_tensor(buffer, sizes, strides, offsets):
    """``torch._utils._rebuild_nested_tensor``: a strided nested tensor from its buffer and each component's size,
    stride and storage offset (int64 tensors)."""
    sizes, strides, offsets = sizes.tolist(), strides.tolist(), offsets.tolist()
    dense, start = True, 0
    for size, stride, offset in zip(sizes, strides, offsets):
        step = 1
        for n, s in zip(reversed(size), reversed(stride)):
            dense = dense and (s == step or n == 1)
            step *= n
        dense, start = dense and offset == start, start + math.prod(size)
    if dense:   # PyTorch's contiguous layout: the buffer itself (a load may fill its storage after this call)
        return _wrap(buffer.detach()[:start], sizes)
    return strided_from_list([buffer.as_strided(tuple(size), tuple(stride), int(offset))
                              for size, stride, offset in zip(sizes, strides, offsets)], dtype=buffer.dtype)


class StridedNestedTensor(Tensor):
    """A batch of tensors of one dim and any sizes (``torch.nested.nested_tensor``'s default, strided layout)."""

    _takes_over_calls = True   # ember's own subclass that still takes calls through __torch_function__

    def _sizes(self):
        return self.__dict__["_nested_sizes"]

    def dim(self):
        """The number of dims, the batch dim included."""
        sizes = self._sizes()
        return 1 + (len(sizes[0]) if sizes else 0)

    ndimension = dim

    @property
    def ndim(self):
        return self.dim()

    def size(self, dim=None):
        """The size of dim ``dim``: the batch size, or the components' common size (irregular dims have none)."""
        if dim is None:
            raise RuntimeError("Internal error: NestedTensorImpl doesn't support sizes. Please file an issue.")
        ndim = self.dim()
        if not -ndim <= dim < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got "
                             f"{dim})")
        dim %= ndim
        sizes = self._sizes()
        if dim == 0:
            return len(sizes)
        lengths = {s[dim - 1] for s in sizes}
        if len(lengths) != 1:
            raise RuntimeError(f"Given dimension {dim} is irregular and does not have a size.")
        return lengths.pop()

    @property
    def shape(self):
        raise RuntimeError("Internal error: NestedTensorImpl doesn't support sizes. Please file an issue.")

    def stride(self, dim=None):
        raise RuntimeError("Internal error: NestedTensorImpl doesn't support strides. Please file an issue.")

    def __len__(self):
        raise RuntimeError("Internal error: NestedTensorImpl doesn't support sizes. Please file an issue.")

    def numel(self):
        """The number of elements of all components."""
        return self._data.size

    nelement = numel

    @property
    def is_nested(self):
        return True

    def is_contiguous(self, *, memory_format=None):
        """True: the components lie one after another in the buffer."""
        return True

    def values(self):
        """The flat buffer of all components' elements."""
        return _plain(self)

    def unbind(self, dim=0):
        """The components, as views of the buffer."""
        if dim != 0:
            raise RuntimeError(f"NestedTensor can only be unbound along dimension 0 got dimension {dim} instead.")
        buffer, parts, start = _plain(self), [], 0
        for size in self._sizes():
            count = math.prod(size)
            parts.append(buffer[start:start + count].view(size))
            start += count
        return tuple(parts)

    def __iter__(self):
        return iter(self.unbind())

    def to_padded_tensor(self, padding, output_size=None):
        """A dense tensor of the components padded with ``padding``."""
        return to_padded_strided(self, padding, output_size)

    @property
    def grad(self):
        """The accumulated gradient, a nested tensor of this one's component shapes."""
        return self.__dict__.get("_njt_grad")

    @grad.setter
    def grad(self, value):
        if value is not None and not isinstance(value, StridedNestedTensor):
            value = _wrap(value, self._sizes())
        self.__dict__["_njt_grad"] = value

    def _as_gradient(self, gradient):
        """``gradient`` (a plain buffer) as a nested tensor of this one's component shapes (``autograd.grad``)."""
        return gradient if isinstance(gradient, StridedNestedTensor) else _wrap(gradient, self._sizes())

    _pickles_itself = True   # torch.save stores the buffer and each component's size, stride and offset

    def _torch_reduce(self):
        """PyTorch's pickled form: ``torch._utils._rebuild_nested_tensor(buffer, sizes, strides, offsets)``."""
        torch = _torch()
        sizes = self._sizes()
        strides, offsets, start = [], [], 0
        for size in sizes:
            stride, step = [], 1
            for n in reversed(size):
                stride.insert(0, step)
                step *= n
            strides.append(stride)
            offsets.append(start)
            start += math.prod(size)
        table = [torch.tensor(rows, dtype=torch.int64).reshape(len(sizes), self.dim() - 1) for rows in (sizes, strides)]
        return ("torch._utils", "_rebuild_nested_tensor"), (
            _plain(self).detach(), *table, torch.tensor(offsets, dtype=torch.int64))

    def __reduce_ex__(self, protocol):
        return rebuild_nested_tensor, self._torch_reduce()[1]

    def __repr__(self):
        parts = []
        for part in self.unbind():
            text = repr(part.detach().requires_grad_(self.requires_grad))   # PyTorch's shows each one requiring it
            parts.append("  " + text.replace("\n", "\n  "))
        tail = ""
        if self.grad_fn is not None:
            tail = f", grad_fn=<{type(self.grad_fn).__name__}>"
        elif self.requires_grad:
            tail = ", requires_grad=True"
        return "nested_tensor([\n" + (",\n".join(parts) if parts else "") + "\n]" + tail + ")"

    __str__ = __repr__

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return dispatch(func, args, kwargs or {})


# Ops PyTorch 2.13 has no NestedTensor kernel for, by the ATen name its error gives.
_NO_KERNEL = {"rsub": "rsub.Scalar", "log_softmax": "_log_softmax", "pow": "pow.Tensor_Scalar"}
_OVERLOADS = {"split": "split.Tensor", "mean": "mean.dim", "max": "max.dim", "min": "min.dim"}   # in its errors
_OWN = frozenset("size dim ndimension numel nelement is_contiguous values unbind to_padded_tensor stride".split())
_AS_TENSOR = frozenset("""
is_floating_point is_complex is_signed element_size get_device retain_grad register_hook backward requires_grad_
data_ptr storage_offset untyped_storage is_inference""".split())
_OPERATORS = {"__add__": "add", "__radd__": "add", "__sub__": "sub", "__rsub__": "rsub", "__mul__": "mul",
              "__rmul__": "mul", "__truediv__": "div", "__rtruediv__": "div", "__pow__": "pow", "__rpow__": "pow",
              "__neg__": "neg", "__abs__": "abs", "__matmul__": "matmul", "__getitem__": "select_batch",
              "__eq__": "eq", "__ne__": "ne", "__imul__": "mul_", "__iadd__": "add_", "__isub__": "sub_"}


def dispatch(func, args, kwargs):
    """Runs public op ``func`` with StridedNestedTensor arguments by PyTorch's NestedTensor kernels."""
    called = getattr(func, "__name__", "")
    name = _OPERATORS.get(called, called)
    if name in _OWN and isinstance(args[0], StridedNestedTensor):
        return getattr(StridedNestedTensor, name)(*args, **kwargs)
    if name in _AS_TENSOR:   # a nested gradient given to backward is handed on as its buffer
        if name == "backward":
            args, kwargs = (args[0], *values_of_strided(args[1:])), values_of_strided(kwargs)
        if name == "register_hook":
            args = (args[0], nested_hook(args[0], args[1] if len(args) > 1 else kwargs.pop("hook")))
        return overrides.unwrapped(func)(*args, **kwargs)
    handler = _HANDLERS.get(name)
    if handler is not None:
        return handler(func, args, kwargs)
    if name in _IN_PLACE and isinstance(args[0], StridedNestedTensor):
        return _in_place(func, args, kwargs)
    if (name in UNARY_NAMES or name in BINARY_NAMES) and name not in _NO_KERNEL:
        tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor)]
        if len(tensors) == 1:
            return _wrap(func(*values_of_strided(args), **values_of_strided(kwargs)), tensors[0]._sizes())
        return _binary(func, name, args, kwargs)
    raise NotImplementedError(f"Could not run 'aten::{_NO_KERNEL.get(name, _OVERLOADS.get(name, name))}' with "
                              "arguments from the "
                              "'NestedTensorCPU' backend. This "
                              "could be because the operator doesn't exist for this backend, or was omitted during "
                              "the selective/custom build process (if using custom build).")


def values_of_strided(values):
    """``values`` with each StridedNestedTensor replaced by its buffer (plain, in the graph)."""
    if isinstance(values, StridedNestedTensor):
        return _plain(values)
    if type(values) in (list, tuple):
        return type(values)(values_of_strided(v) for v in values)
    if isinstance(values, dict):
        return {key: values_of_strided(value) for key, value in values.items()}
    return values_of(values)


def _binary(func, name, args, kwargs):
    a, b = args[0], args[1]
    if not (isinstance(a, StridedNestedTensor) and isinstance(b, StridedNestedTensor)):
        first, second = ("nested", "non-nested") if isinstance(a, StridedNestedTensor) else ("non-nested", "nested")
        raise RuntimeError(f"Expected both self and other to be nested, but got a {first} self and {second} other")
    if a._sizes() != b._sizes():
        raise RuntimeError(f"{name} does not support broadcasting when given a NestedTensor")
    return _wrap(func(_plain(a), _plain(b), *args[2:], **kwargs), a._sizes())


def _per_component(nt, fn):
    return strided_from_list([fn(part) for part in nt.unbind()])


def _component_dim(nt, dim):
    return dim - 1 if dim >= 0 else dim


def _softmax(func, args, kwargs):
    nt = args[0]
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    if dim % nt.dim() == 0:
        raise RuntimeError(f"Cannot apply {func.__name__} across nested dimension 0")
    op = getattr(_torch().nn.functional, func.__name__)
    return _per_component(nt, lambda part: op(part, _component_dim(nt, dim), dtype=kwargs.get("dtype")))


def _transpose(func, args, kwargs):
    nt, dim0, dim1 = args[0], args[1], args[2]
    ndim = nt.dim()
    if dim0 % ndim == 0 or dim1 % ndim == 0:
        raise RuntimeError("Nested tensor dimension 0 cannot be transposed")
    return _per_component(nt, lambda part: part.transpose(_component_dim(nt, dim0), _component_dim(nt, dim1)))


def _linear(func, args, kwargs):
    nt, rest = args[0], values_of(args[1:])
    return _per_component(nt, lambda part: func(part, *rest, **kwargs))


def _layer_norm(func, args, kwargs):
    nt = args[0]
    names = ("normalized_shape", "weight", "bias", "eps")
    given = dict(zip(names, args[1:]), **kwargs)
    if given.get("weight") is None or given.get("bias") is None:
        raise ValueError("NestedTensor layer_norm requires weight and bias")
    return _per_component(nt, lambda part: func(part, **given))


def _matmul(func, args, kwargs):
    a, b = args[0], args[1]
    if not (isinstance(a, StridedNestedTensor) and isinstance(b, StridedNestedTensor)):
        first, second = ("nested", "non-nested") if isinstance(a, StridedNestedTensor) else ("non-nested", "nested")
        raise RuntimeError(f"Expected both to be nested, but got a {first} self and {second} other")
    return strided_from_list([x @ y for x, y in zip(a.unbind(), b.unbind())])


def _select_batch(func, args, kwargs):
    nt, index = args[0], args[1]
    if isinstance(index, int) and not isinstance(index, bool):
        return nt.unbind()[index]
    raise NotImplementedError("Could not run 'aten::index.Tensor' with arguments from the 'NestedTensorCPU' backend.")


def _select(func, args, kwargs):
    nt, dim, index = args[0], args[1], args[2]
    if dim % nt.dim() == 0:
        return nt.unbind()[index]
    return _per_component(nt, lambda part: part.select(_component_dim(nt, dim), index))


def _narrow(func, args, kwargs):
    nt, dim, start, length = args[0], args[1], args[2], args[3]
    if dim != 0:
        raise RuntimeError(f"narrow(): only dim=0 supported for nested tensors, but got: {dim}")
    return strided_from_list(nt.unbind()[start:start + length])


def _sum(func, args, kwargs):
    nt = args[0]
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    if dim is None:
        raise NotImplementedError("Could not run 'aten::sum' with arguments from the 'NestedTensorCPU' backend. "
                                  "This could be because the operator doesn't exist for this backend, or was omitted "
                                  "during the selective/custom build process (if using custom build).")
    if not keepdim:
        raise RuntimeError("NestedTensor always requires keepdim=True for now.")
    if dim % nt.dim() != nt.dim() - 1:
        raise RuntimeError(f"NestedTensor can only be reduced across the last dimension for now got dimension {dim} "
                           "instead.")
    return _per_component(nt, lambda part: part.sum(_component_dim(nt, dim), keepdim=True))


def _sizes_arg(args, kwargs, name):
    sizes = args[1:] if len(args) > 1 else tuple(kwargs[name])
    return tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)


def _reshape(func, args, kwargs):
    nt = args[0]
    sizes = _sizes_arg(args, kwargs, "shape" if "shape" in kwargs else "size")
    if sizes[0] != len(nt._sizes()) and sizes[0] != -1:
        raise RuntimeError(f"{func.__name__}: For now nested {func.__name__} cannot change or infer the implicit "
                           f"batch dimension")
    return _per_component(nt, lambda part: part.reshape(sizes[1:]))


def _unsqueeze(func, args, kwargs):
    nt, dim = args[0], args[1] if len(args) > 1 else kwargs["dim"]
    ndim = nt.dim() + 1
    if dim % ndim == 0:
        raise RuntimeError("unsqueeze(): For nested tensors, unsqueezing dimension 0 is not supported at the moment if "
                           "you need this feature, please open an issue on github describing your use case.")
    return _per_component(nt, lambda part: part.unsqueeze(dim - 1 if dim >= 0 else dim))


def _squeeze(func, args, kwargs):
    nt, dim = args[0], args[1] if len(args) > 1 else kwargs.get("dim")
    if dim is None or dim % nt.dim() == 0:
        raise RuntimeError("squeeze(): For nested tensors, squeezing dimension 0 is not supported at the moment")
    return _per_component(nt, lambda part: part.squeeze(_component_dim(nt, dim)))


def _chunk(func, args, kwargs):
    nt, chunks = args[0], args[1] if len(args) > 1 else kwargs["chunks"]
    dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
    if dim % nt.dim() == 0:
        raise RuntimeError("Chunk for nested tensors is currently only supported for the last dimension.")
    pieces = [part.chunk(chunks, _component_dim(nt, dim)) for part in nt.unbind()]
    return tuple(strided_from_list(group) for group in zip(*pieces))


def _cat(func, args, kwargs):
    tensors = args[0] if args else kwargs["tensors"]
    dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    first = tensors[0]
    if dim % first.dim() == 0:
        raise RuntimeError("cat(): concatenating nested tensors along dim 0 is not supported")
    groups = zip(*[t.unbind() for t in tensors])
    return strided_from_list([_torch().cat(group, _component_dim(first, dim)) for group in groups])


def _in_place(func, args, kwargs):
    nt = args[0]
    others = [a for a in args[1:] if isinstance(a, StridedNestedTensor)]
    if any(other._sizes() != nt._sizes() for other in others):
        raise RuntimeError(f"{func.__name__[:-1]} does not support broadcasting when given a NestedTensor")
    alias = _plain(nt)
    func(alias, *[alias if a is nt else values_of_strided(a) for a in args[1:]], **values_of_strided(kwargs))
    return nt


def _embedding(func, args, kwargs):
    indices, rest = args[0], values_of(args[1:])
    return _per_component(indices, lambda part: func(part, *rest, **kwargs))


def _attention(func, args, kwargs):
    q, k, v = args[:3]
    groups = zip(q.unbind(), k.unbind(), v.unbind())
    return strided_from_list([func(*group, *args[3:], **kwargs) for group in groups])


def _comparison(func, args, kwargs):
    if isinstance(args[1], StridedNestedTensor):
        name = _OPERATORS.get(func.__name__, func.__name__)
        raise RuntimeError(f"{name} does not support nested tensor as other value.")
    return _wrap(func(_plain(args[0]), *args[1:], **kwargs), args[0]._sizes())


def _where(func, args, kwargs):
    if len(args) > 1 and isinstance(args[1], StridedNestedTensor):
        raise RuntimeError("self must not be nested")
    raise RuntimeError("other must not be nested")


def _conversion(func, args, kwargs):
    nt = args[0]
    return _wrap(func(_plain(nt), *args[1:], **kwargs), nt._sizes())


_HANDLERS = {"softmax": _softmax, "transpose": _transpose, "linear": _linear,
             "layer_norm": _layer_norm, "matmul": _matmul, "bmm": _matmul, "select_batch": _select_batch,
             "select": _select, "narrow": _narrow, "sum": _sum, "contiguous": _conversion,
             "unbind": lambda func, args, kwargs: StridedNestedTensor.unbind(*args, **kwargs),
             "reshape": _reshape, "view": _reshape, "unsqueeze": _unsqueeze, "squeeze": _squeeze, "chunk": _chunk,
             "cat": _cat, "concat": _cat, "embedding": _embedding, "scaled_dot_product_attention": _attention,
             "eq": _comparison, "ne": _comparison, "where": _where}
_IN_PLACE = frozenset(name + "_" for name in UNARY_NAMES | BINARY_NAMES) | {"zero_", "fill_", "copy_"}
