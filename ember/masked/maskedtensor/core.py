"""``torch.masked.MaskedTensor``: a tensor whose elements are either specified (mask True) or masked out.

Its array is the data (masked-out values included) and its autograd state is its own, so gradients reach it as
they reach any tensor; the mask rides beside it. Public ops called with one go through ``__torch_function__`` to
``_ops_refs``, which runs them on plain aliases of the data (so the graph connects) and on the masks."""
import warnings

from ... import _dtype
from ..._tensor import Tensor, _instance_dict
from ... import overrides

__all__ = ["MaskedTensor", "is_masked_tensor"]

_SUPPORTED = (_dtype.float16, _dtype.float32, _dtype.float64, _dtype.bool_, _dtype.int8, _dtype.int16, _dtype.int32,
              _dtype.int64)


def _torch():
    import ember
    return ember


def is_masked_tensor(obj, /):
    """True if ``obj`` is a MaskedTensor."""
    return isinstance(obj, MaskedTensor)


def _tensors_match(a, b, exact=True, rtol=1e-05, atol=1e-08):
    """Whether plain tensors ``a`` and ``b`` have the same layout, dims and values (close ones when not exact)."""
    if is_masked_tensor(a) or is_masked_tensor(b):
        raise ValueError("Neither `a` nor `b` can be a MaskedTensor.")
    if a.layout != b.layout:
        raise ValueError(f"`a` and `b` must have the same layout. Got {a.layout} and {b.layout}")
    if a.dtype != b.dtype:
        b = b.type(a.dtype)
    if exact:
        return a.dim() == b.dim() and bool(_torch().eq(a, b).all().item())
    return a.dim() == b.dim() and _torch().allclose(a, b, rtol=rtol, atol=atol)


def _masks_match(a, b):
    """Whether two MaskedTensors have equal masks (True when either is not a MaskedTensor)."""
    if is_masked_tensor(a) and is_masked_tensor(b):
        return _tensors_match(a.get_mask(), b.get_mask(), exact=True)
    return True


def _plain(tensor):
    """A MaskedTensor's data as a plain Tensor sharing its array and connected to its graph (an alias)."""
    with overrides.DisableTorchFunctionSubclass():
        alias = Tensor.view_as(tensor, tensor)
    if type(alias) is not Tensor:
        alias = _as_class(alias, Tensor)
    return alias


def _as_class(tensor, cls):
    """A new object of ``cls`` holding ``tensor``'s array, version counter and autograd state."""
    moved = object.__new__(cls)
    moved._data, moved._version_counter = tensor._data, tensor._version_counter
    _instance_dict.__get__(moved).update(_instance_dict.__get__(tensor))
    return moved


def _wrap(data, mask):
    """``data`` (a plain tensor result, graph kept) as a MaskedTensor with ``mask``; lists and tuples elementwise."""
    if isinstance(data, (list, tuple)):
        return type(data)(_wrap(d, m) for d, m in zip(data, mask))
    if isinstance(data, Tensor):
        result = _as_class(data, MaskedTensor)
        result.__dict__.pop("_masked_grad", None)
        result._masked_mask = mask
        result._validate_members()
        return result
    return NotImplemented


def _masked_tensor_str(data, mask, formatter):
    if data.dim() == 1:
        items = [formatter.format(d.item()) if isinstance(d.item(), float) else str(d.item()) for d in data]
        hidden = (~mask).tolist()
        width = max(8 if h else len(e) for e, h in zip(items, hidden))
        return "[" + ", ".join("--".rjust(width) if h else e for e, h in zip(items, hidden)) + "]"
    rows = [_masked_tensor_str(d, m, formatter) for d, m in zip(data, mask)]
    rows = ["\n".join("  " + line for line in row.split("\n")) for row in rows]
    return "[\n" + ",\n".join(rows) + "\n]"


def _rebuild(data, mask, requires_grad):
    """A pickled MaskedTensor, rebuilt (quietly: the prototype warned when it was made)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MaskedTensor(data, mask, requires_grad)


class MaskedTensor(Tensor):
    """A tensor with a boolean mask of its shape: operations see only the specified (mask True) elements."""

    _takes_over_calls = True   # ember's own subclass that still takes calls through __torch_function__

    def __new__(cls, data, mask, requires_grad=False):
        if is_masked_tensor(data) or not isinstance(data, Tensor):
            raise TypeError("data must be a Tensor")
        if is_masked_tensor(mask) or not isinstance(mask, Tensor):
            raise TypeError("mask must be a Tensor")
        warnings.warn("The PyTorch API of MaskedTensors is in prototype stage and will change in the near future. "
                      "Please open a Github issue for features requests and see our documentation on the "
                      "torch.masked module for further information about the project.", UserWarning, stacklevel=2)
        if data.requires_grad:
            warnings.warn("It is not recommended to create a MaskedTensor with a tensor that requires_grad. To avoid "
                          "this, you can use data.detach().clone()", UserWarning, stacklevel=2)
        overrides.enable_torch_function_dispatch()
        self = object.__new__(cls)
        self._version_counter = [0]
        if requires_grad:
            if not (data.is_floating_point() or data.is_complex()):
                raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
            self.requires_grad = True
        return self

    def __init__(self, data, mask, requires_grad=False):
        if data.layout != mask.layout:
            raise TypeError("data and mask must have the same layout.")
        if data.layout is not _torch().strided:
            raise TypeError(f"data layout of {data.layout} is not supported (ember's MaskedTensor holds strided "
                            "data only).")
        self._data = data.detach().clone()._data
        self._masked_mask = mask.detach().clone()
        self._validate_members()

    def _validate_members(self):
        mask = self._masked_mask
        if type(mask) is not Tensor:
            raise TypeError(f"data and mask must have the same type. Got {Tensor} and {type(mask)}")
        if mask.dtype is not _dtype.bool_:
            raise TypeError("mask must have dtype bool.")
        if self.dtype not in _SUPPORTED:
            raise TypeError(f"{self.dtype} is not supported in MaskedTensor.")
        if self._data.ndim != mask.dim():
            raise ValueError("data.dim() must equal mask.dim()")
        if tuple(self._data.shape) != tuple(mask.shape):
            raise ValueError("data.size() must equal mask.size()")

    @staticmethod
    def _from_values(data, mask):
        """The differentiable constructor (``as_masked_tensor``): gradients reach ``data`` as MaskedTensors."""
        from ._ops_refs import Constructor
        return Constructor.apply(data, mask)

    def _set_data_mask(self, data, mask):
        self._data = data._data
        self._masked_mask = mask
        self._validate_members()

    @property
    def _masked_data(self):
        """The data, masked-out values included, as a plain tensor outside the graph."""
        return _plain(self).detach()

    def get_data(self):
        """The data as a plain tensor (masked-out values included); its gradient comes back as a MaskedTensor."""
        return _plain(self)

    def get_mask(self):
        """The boolean mask (True where an element is specified)."""
        return self._masked_mask

    def to_tensor(self, value):
        """A plain tensor: the data with masked-out elements set to ``value``."""
        return self.get_data().masked_fill(~self.get_mask(), value)

    def is_sparse_coo(self):
        """Whether the data is a sparse COO tensor (never: ember's MaskedTensor holds strided data)."""
        return self.layout == _torch().sparse_coo

    def is_sparse_csr(self):
        """Whether the data is a sparse CSR tensor (never: ember's MaskedTensor holds strided data)."""
        return self.layout == _torch().sparse_csr

    @property
    def is_sparse(self):
        """Whether the data is sparse (COO or CSR)."""
        return self.is_sparse_coo() or self.is_sparse_csr()

    @property
    def grad(self):
        """The accumulated gradient, a MaskedTensor with this tensor's mask."""
        return self.__dict__.get("_masked_grad")

    @grad.setter
    def grad(self, value):
        self.__dict__["_masked_grad"] = None if value is None else self._as_gradient(value)

    def _as_gradient(self, gradient):
        """``gradient`` (a plain tensor for this one) as a MaskedTensor with this tensor's mask, its graph kept;
        ``autograd.grad`` hands gradients back through it too."""
        if is_masked_tensor(gradient):
            return gradient
        result = _as_class(gradient, MaskedTensor)
        result._masked_mask = self._masked_mask
        return result

    def __repr__(self):
        formatter = "{0:8.4f}"
        if self.dim() == 0:
            value = self.get_data().item()
            text = formatter.format(value) if isinstance(value, float) else str(value)
            if not self.get_mask().item():
                text = "--"
            return "MaskedTensor(" + text + ", " + str(self.get_mask().item()) + ")"
        text = _masked_tensor_str(self._masked_data, self.get_mask(), formatter)
        return "MaskedTensor(\n" + "\n".join("  " + line for line in text.split("\n")) + "\n)"

    __str__ = __repr__

    _pickles_itself = True   # pickle and torch.save store the data, the mask and requires_grad

    def __reduce_ex__(self, protocol):
        return _rebuild, (self._masked_data, self.get_mask(), self.requires_grad)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        from ._ops_refs import dispatch
        return dispatch(func, args, kwargs or {})
