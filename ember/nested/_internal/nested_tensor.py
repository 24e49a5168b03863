"""The jagged-layout nested tensor (``torch.nested._internal.nested_tensor.NestedTensor``, "NJT").

Its array is the values buffer: the batch's components packed along the ragged dim, shape
``(sum(lengths), D_1, ...)`` (a transposed NJT's values are transposed alike, so the packed dim sits at
``_ragged_idx - 1``). Its autograd state is its own, as a MaskedTensor's: ops run on a plain alias of the values
(``_plain``), so autograd records them as on any tensor, and the result takes this tensor's offsets. Public calls
reach ``ops.dispatch`` through ``__torch_function__``."""
from ..._tensor import Size, Tensor, _instance_dict
from ... import overrides
from .nested_int import nested_int_for

__all__ = ["NestedTensor", "jagged_from_list", "nested_view_from_values_offsets"]


def _torch():
    import ember
    return ember


def _plain(tensor):
    """A NestedTensor's values as a plain Tensor sharing its array and connected to its graph (a view)."""
    from ...ops.shape import view   # the op itself: no subclass's handler sees it
    return view(tensor, tuple(tensor._data.shape))


def _as_class(tensor, cls):
    """A new object of ``cls`` holding ``tensor``'s array, version counter and autograd state."""
    moved = object.__new__(cls)
    moved._data, moved._version_counter = tensor._data, tensor._version_counter
    _instance_dict.__get__(moved).update(_instance_dict.__get__(tensor))
    return moved


def _metadata(offsets, lengths, ragged_idx, cache):
    return {"_offsets": offsets, "_lengths": lengths, "_ragged_idx": ragged_idx, "_metadata_cache": dict(cache or {})}


def wrap_values(values, offsets, lengths=None, ragged_idx=1, cache=None):
    """``values`` (a plain tensor, its graph kept) as a NestedTensor with this structure."""
    overrides.enable_torch_function_dispatch()   # once: public calls with a NestedTensor reach its handlers
    result = _as_class(values, NestedTensor)
    result.__dict__.pop("_njt_grad", None)
    result.__dict__.update(_metadata(offsets, lengths, ragged_idx, cache))
    return result


def like(nt, values, ragged_idx=None):
    """``values`` as a NestedTensor with ``nt``'s offsets, lengths and cached sequence lengths."""
    return wrap_values(values, nt._offsets, nt._lengths, nt._ragged_idx if ragged_idx is None else ragged_idx,
                       nt._metadata_cache)


def nested_view_from_values_offsets(values, offsets, lengths=None, ragged_idx=1, min_seqlen=None, max_seqlen=None):
    """A NestedTensor viewing ``values`` (gradients flow back to it) with the given structure."""
    from ...ops.shape import view
    cache = {}
    if min_seqlen is not None:
        cache["min_seqlen"] = int(min_seqlen)
    if max_seqlen is not None:
        cache["max_seqlen"] = int(max_seqlen)
    return wrap_values(view(values, tuple(values.shape)), offsets, lengths, ragged_idx, cache)


def _seqlen_value(value):
    """A cached sequence length as an int: PyTorch stores it as the size of dim 0 of an empty (n, 0) tensor."""
    return value.shape[0] if isinstance(value, Tensor) and value.dim() == 2 else int(value)


def _rebuild_njt(constructor_kwargs):
    """A pickled NestedTensor, rebuilt from its values, offsets, lengths, ragged dim and cached sequence lengths."""
    kwargs = dict(constructor_kwargs)
    values = kwargs.pop("values")
    cache = {key: _seqlen_value(value) for key, value in (kwargs.pop("_metadata_cache", None) or {}).items()
             if key in ("min_seqlen", "max_seqlen")}
    result = wrap_values(values.detach(), kwargs.pop("offsets"), kwargs.pop("lengths", None),
                         kwargs.pop("_ragged_idx", 1), cache)
    if kwargs.pop("requires_grad", False):
        result.requires_grad_(True)
    return result


class NestedTensor(Tensor):
    """A batch of tensors whose sizes differ along one (ragged) dim, stored as one values buffer and offsets."""

    _takes_over_calls = True   # ember's own subclass that still takes calls through __torch_function__
    _pickles_itself = True     # torch.save stores values, offsets, lengths and the ragged dim (torch's _rebuild_njt)

    def __new__(cls, values, offsets, *, lengths=None, _ragged_idx=1, _metadata_cache=None, requires_grad=False):
        overrides.enable_torch_function_dispatch()
        self = object.__new__(cls)
        self._data, self._version_counter = values._data, values._version_counter
        self.__dict__.update(_metadata(offsets, lengths, _ragged_idx, _metadata_cache))
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __init__(self, *args, **kwargs):
        pass

    # --- structure --------------------------------------------------------------------------------
    @property
    def _size(self):
        values_shape = tuple(self._data.shape)
        ragged = nested_int_for(self._lengths if self._lengths is not None else self._offsets)
        inner = self._ragged_idx - 1
        return (self._offsets._data.shape[0] - 1, *values_shape[:inner], ragged, *values_shape[inner + 1:])

    @property
    def _strides(self):
        inner = self._ragged_idx - 1
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return (self._size[self._ragged_idx] * strides[inner], *strides)

    @property
    def shape(self):
        """The size of each dim; the ragged dim's is a nested int (``j1``)."""
        return Size(self._size)

    def size(self, dim=None):
        """The shape, or the size of dim ``dim`` (a nested int for the ragged dim)."""
        size = self._size
        return Size(size) if dim is None else size[_wrap_dim(dim, len(size))]

    def stride(self, dim=None):
        """Strides; the batch dim's is a multiple of the ragged size."""
        strides = self._strides
        return strides if dim is None else strides[_wrap_dim(dim, len(strides))]

    @property
    def ndim(self):
        return len(self._size)

    def dim(self):
        """The number of dims, batch and ragged dims included."""
        return len(self._size)

    ndimension = dim

    def numel(self):
        """The number of elements: the values'."""
        return self._data.size

    nelement = numel

    def __len__(self):
        return self._offsets._data.shape[0] - 1

    def __iter__(self):
        return iter(self.unbind())

    @property
    def layout(self):
        """``torch.jagged``."""
        return _torch().jagged

    @property
    def is_nested(self):
        """True: a nested tensor."""
        return True

    @property
    def _values(self):
        return _plain(self)

    @property
    def _min_seqlen(self):
        return self._seqlen("min_seqlen", min)

    @property
    def _max_seqlen(self):
        return self._seqlen("max_seqlen", max)

    @property
    def _maybe_max_seqlen(self):
        return self._metadata_cache.get("max_seqlen")

    def _seqlen(self, key, pick):
        cache = self._metadata_cache
        if key not in cache:
            lengths = self._sequence_lengths()
            cache[key] = pick(lengths) if lengths else 0
        return cache[key]

    def _sequence_lengths(self):
        """Each component's length along the ragged dim, as Python ints."""
        if self._lengths is not None:
            return [int(n) for n in self._lengths.tolist()]
        offsets = self._offsets.tolist()
        return [b - a for a, b in zip(offsets, offsets[1:])]

    def values(self):
        """The values buffer (a view: gradients flow back to this nested tensor)."""
        return _plain(self)

    def offsets(self):
        """The offsets of each component in the values' packed dim (batch size + 1 of them)."""
        return self._offsets

    def lengths(self):
        """The components' lengths where they were given (a nested tensor with holes), else None."""
        return self._lengths

    def _is_contiguous_or_false(self):
        return self._lengths is None and bool(self._data.flags.c_contiguous)

    def is_contiguous(self, *, memory_format=None):
        """Whether the values are contiguous and the components have no holes between them."""
        return self._is_contiguous_or_false()

    def unbind(self, dim=0):
        """The components, as views of the values."""
        from .ops_shape import unbind
        return unbind(self, dim)

    def to_padded_tensor(self, padding, output_size=None):
        """A dense tensor of the components padded with ``padding`` (``torch.nested.to_padded_tensor``)."""
        from .. import to_padded_tensor
        return to_padded_tensor(self, padding, output_size)

    # --- autograd -------------------------------------------------------------------------------
    @property
    def grad(self):
        """The accumulated gradient, a NestedTensor with this tensor's structure."""
        return self.__dict__.get("_njt_grad")

    @grad.setter
    def grad(self, value):
        if value is not None and not isinstance(value, NestedTensor):
            value = like(self, value)
        self.__dict__["_njt_grad"] = value

    def _as_gradient(self, gradient):
        """``gradient`` (a plain tensor of this one's values) as a NestedTensor of this structure, its graph kept:
        what ``autograd.grad`` hands back for this input."""
        return gradient if isinstance(gradient, NestedTensor) else like(self, gradient)

    # --- printing and pickling ------------------------------------------------------------------
    def __repr__(self):
        grad = f", requires_grad={self.requires_grad}" if self.requires_grad else ""
        if self.grad_fn is not None:
            grad = f", grad_fn={self.grad_fn}"
        return (f"NestedTensor(size={self._size}, offsets={self._offsets!r}{grad}, "
                f"contiguous={self._is_contiguous_or_false()})")

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        torch = _torch()
        cache = {key: torch.empty(value, 0, dtype=torch.int64) for key, value in self._metadata_cache.items()}
        kwargs = {"values": _plain(self).detach(), "offsets": self._offsets, "lengths": self._lengths,
                  "_ragged_idx": self._ragged_idx, "_metadata_cache": cache, "requires_grad": self.requires_grad}
        return _rebuild_njt, (kwargs,)

    @classmethod
    def _rebuild_from_type_v2(cls, func, args, state):
        """PyTorch's pickle of a NestedTensor (``_rebuild_from_type_v2(_rebuild_njt, NestedTensor, (kwargs,),
        state)``): rebuilt from the constructor arguments; the state repeats them (and torch.compile's marks)."""
        if func is not _rebuild_njt or len(args) != 1 or not isinstance(args[0], dict):
            import pickle
            raise pickle.UnpicklingError("a NestedTensor is rebuilt by _rebuild_njt from one dict of its parts")
        return _rebuild_njt(args[0])

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        from .ops import dispatch
        return dispatch(func, args, kwargs or {})


def _wrap_dim(dim, ndim):
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    return dim % ndim


def jagged_from_list(tensors, offsets=None, dtype=None, device=None):
    """A contiguous NestedTensor of ``tensors`` (same dim and dtype, ragged in dim 0 only), their graphs kept."""
    torch = _torch()
    if not tensors:
        raise RuntimeError("Cannot construct a nested tensor from an empty tensor list")
    if not all(t.dim() == tensors[0].dim() for t in tensors):
        raise RuntimeError("When constructing a nested tensor, all tensors in list must have the same dim")
    if not all(t.dtype == tensors[0].dtype for t in tensors):
        raise RuntimeError("When constructing a nested tensor, all tensors in list must have the same dtype")
    if not all(t.device == tensors[0].device for t in tensors):
        raise RuntimeError("When constructing a nested tensor, all tensors in list must be on the same device")
    if tensors[0].dim() == 0:
        raise RuntimeError("Cannot construct a nested tensor from a list of zero-dim tensors")
    if not all(tuple(t.shape[1:]) == tuple(tensors[0].shape[1:]) for t in tensors):
        raise RuntimeError("Cannot represent given tensor list as a nested tensor with the jagged layout. Note that "
                           "the jagged layout only allows for a single ragged dimension. For example: (B, *, D_0, "
                           "D_1, ..., D_N), with ragged * dim.")
    values = torch.cat([t.contiguous() for t in tensors], 0)
    if dtype is not None or device is not None:
        values = values.to(device=device, dtype=dtype)
    lengths = [t.shape[0] for t in tensors]
    if offsets is None:
        offsets = torch.tensor([0] + lengths, dtype=torch.int64, device=values.device).cumsum(0)
    cache = {"min_seqlen": min(lengths), "max_seqlen": max(lengths)}
    return nested_view_from_values_offsets(values, offsets, None, 1, cache["min_seqlen"], cache["max_seqlen"])
