"""Parameter: a tensor that a Module registers as learnable; Buffer: a tensor it registers as state."""
from .._tensor import Tensor, _make, _TensorMeta
from ..overrides import _disabled_torch_function_impl


class _ParameterMeta(_TensorMeta):
    """Parameter's metaclass: a tensor subclass made a parameter (a DTensor marked ``_is_param``) is an instance,
    as in PyTorch."""

    def __instancecheck__(cls, instance):
        if cls is Parameter and isinstance(instance, Tensor) and instance.__dict__.get("_is_param"):
            return True
        return type.__instancecheck__(cls, instance)


class Parameter(Tensor, metaclass=_ParameterMeta):
    """A tensor that is a module parameter: assigned to a Module attribute, it appears in ``parameters()``."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        if requires_grad and not (data.dtype.is_floating_point or data.dtype.is_complex):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        if getattr(type(data), "_takes_over_calls", False):   # a DTensor stays one, marked _is_param
            parameter = data.detach()
            parameter.requires_grad = requires_grad
            parameter._is_param = True
            return parameter
        parameter = _make(data._data, cls=cls)
        parameter.requires_grad = requires_grad
        return parameter

    def __init__(self, data=None, requires_grad=True):
        pass

    __torch_function__ = _disabled_torch_function_impl   # ops on a parameter give plain tensors, as in PyTorch

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        from .. import _alias
        if _alias.installed:   # PyTorch's torch._utils._rebuild_parameter, so a real-PyTorch process loads it
            return _alias.torch_reduce(self)
        return (Parameter, (self.detach(), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(_make(self._data.copy()), self.requires_grad)
        memo[id(self)] = result
        return result


class _BufferMeta(_TensorMeta):
    """Buffer's metaclass: a tensor that ``Buffer(...)`` marked (``_is_buffer``) is an instance, as in PyTorch."""

    def __instancecheck__(cls, instance):
        if cls is Buffer and isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False):
            return True
        return type.__instancecheck__(cls, instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a module buffer when assigned to a Module attribute: as PyTorch's, a
    plain tensor sharing ``data``'s memory (its requires_grad kept) with ``persistent`` and ``_is_buffer`` set."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        buffer = data.detach().requires_grad_(data.requires_grad)
        buffer.persistent = persistent
        buffer._is_buffer = True
        return buffer

    __torch_function__ = _disabled_torch_function_impl


_UNINITIALIZED_SHAPE_ERROR = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in `load_state_dict` "
    "when trying to load an uninitialized parameter into an initialized one. Call `forward` to initialize the "
    "parameters before accessing their attributes.")


class UninitializedTensorMixin:
    """A placeholder whose shape is not known yet: ``materialize(shape)`` gives it storage and turns it into the
    class in ``cls_to_become``, keeping its identity (so optimizers holding it keep working)."""

    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Allocates storage of ``shape`` (uninitialised values) and becomes a regular parameter or buffer."""
        import ember   # the public empty, which a mode sees as in PyTorch
        if device is None:
            device = self._data_device()
        if dtype is None:
            dtype = self.dtype
        self._data = ember.empty(shape, device=device, dtype=dtype)._data
        self.__class__ = self.cls_to_become

    def _data_device(self):
        return Tensor.device.fget(self)

    @property
    def shape(self):
        raise RuntimeError(_UNINITIALIZED_SHAPE_ERROR)

    def size(self, dim=None):
        raise RuntimeError(_UNINITIALIZED_SHAPE_ERROR)

    def numel(self):
        raise RuntimeError(_UNINITIALIZED_SHAPE_ERROR)

    @property
    def ndim(self):
        raise RuntimeError(_UNINITIALIZED_SHAPE_ERROR)

    def dim(self):
        raise RuntimeError(_UNINITIALIZED_SHAPE_ERROR)

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    _pickles_itself = True   # ember.save stores the class and requires_grad, as torch.save does

    def __reduce_ex__(self, protocol):
        return (self.__class__, (self.requires_grad,))


def is_lazy(param):
    """Whether ``param`` is an uninitialized parameter or buffer."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is set on the lazy module's first forward."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from ..ops.creation import empty
        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        result = UninitializedParameter(self.requires_grad, self._data_device(), self.dtype)
        memo[id(self)] = result
        return result


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is set on the lazy module's first forward."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        from ..ops.creation import empty
        buffer = _make(empty(0, device=device, dtype=dtype)._data, cls=cls)
        buffer.requires_grad = requires_grad
        return buffer

    def __init__(self, requires_grad=False, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        result = UninitializedBuffer(self.requires_grad, self._data_device(), self.dtype)
        memo[id(self)] = result
        return result


