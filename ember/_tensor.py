"""The Tensor: an array plus what autograd needs to know about it.

Tensor methods for ops (add, sum, view, ...) are installed by the modules in ``ember.ops``; this file holds
only what every tensor is, so it never imports ops.
"""
import threading
import weakref
from collections import OrderedDict

import numpy

from . import _alias, _backend, _dtype, _meta


subclass_hooks = []
"""Called with each new Tensor subclass (registered by ``ember.overrides``, a higher layer)."""


def all_subclasses():
    """Every Tensor subclass defined so far."""
    found, pending = [], list(Tensor.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _owner(array):
    """The array owning ``array``'s memory: ``array`` followed through the arrays it is a view of."""
    while isinstance(array.base, type(array)):
        array = array.base
    return array


class _TensorMeta(type):
    """The metaclass of Tensor and its subclasses (``torch._C._TensorMeta``)."""


class TensorBase(metaclass=_TensorMeta):
    """``torch._C.TensorBase``, Tensor's base class: it holds the instance dictionary, where a tensor keeps its
    autograd state (the attributes whose defaults Tensor's class sets) beside any attributes a program adds."""

    __slots__ = ("__dict__",)
    __module__ = "ember._C"


_instance_dict = TensorBase.__dict__["__dict__"]


class _InstanceDict:
    """``tensor.__dict__``: the instance dictionary; assigning one (fastai's ``set_meta`` copies another tensor's)
    replaces the program's attributes only, as in PyTorch, where autograd state is not in the dictionary."""

    def __get__(self, tensor, cls=None):
        return self if tensor is None else _instance_dict.__get__(tensor, cls)

    def __set__(self, tensor, attributes):
        own = _instance_dict.__get__(tensor)
        state = {key: value for key, value in own.items() if _is_state(key)}
        _instance_dict.__set__(tensor, {**{key: value for key, value in dict(attributes).items()
                                          if not _is_state(key)}, **state})

    def __delete__(self, tensor):
        self.__set__(tensor, {})


def _is_state(key):
    """Whether ``key`` names autograd state: ``grad``, or an attribute whose plain default Tensor's class holds."""
    default = vars(Tensor).get(key, _is_state)
    return key == "grad" or default is not _is_state and not hasattr(default, "__get__") and not key.startswith("__")


class Tensor(TensorBase):
    """A multi-dimensional array that can record the operations applied to it for automatic differentiation."""

    __slots__ = ("_data", "_version_counter", "__weakref__")
    __module__ = "ember"   # as torch.Tensor's is 'torch': the class prints as <class 'ember.Tensor'>
    __dict__ = _InstanceDict()
    # Defaults live on the class so that making a tensor sets only its data and version counter.
    requires_grad = False
    grad = None
    grad_fn = None
    _output_nr = 0
    _base = None
    _view_creation = None
    _view_version = 0   # a view's: its base's version when the view's grad_fn was set
    _retains_grad = False
    _hooks = None

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for hook in subclass_hooks:   # ember.overrides: a subclass with __torch_function__ starts its dispatch
            hook(cls)

    _dispatches = None   # on a subclass whose own __torch_dispatch__ computes its ops: how ops outside ember's
    # dispatch point hand it ops and note its instances (ember._python_dispatch._Dispatching)

    # __init__, PyTorch's legacy constructor, is installed by ops.creation with the other ways to make tensors.

    # --- what the tensor is -------------------------------------------------------------------
    @property
    def shape(self):
        """The size of each dimension, as an ``ember.Size``."""
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the size of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def _all_data(self):
        """The array of every example's values (inside vmap, the physical one; ``_data`` there is one example's), for
        checks over a whole input (non-finite values, singular factors)."""
        return self._data

    @property
    def dtype(self):
        """The element type."""
        return _dtype.from_numpy(self._data.dtype)

    @property
    def device(self):
        """The device holding the data."""
        return _backend.device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    @property
    def is_meta(self):
        """True for a tensor on the meta device: a shape and a dtype, no data."""
        return type(self._data) is _backend.MetaArray

    @property
    def ndim(self):
        """The number of dimensions."""
        return self._data.ndim

    def dim(self):
        """The number of dimensions."""
        return self._data.ndim

    ndimension = dim

    def numel(self):
        """The number of elements."""
        return self._data.size

    nelement = numel

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        """Strides in elements (not bytes), as PyTorch reports them."""
        if type(self._data) is _backend.MetaArray:   # no memory: row-major strides (ember/_meta.py)
            strides = _meta.strides(self._data)
        elif self._data.size == 0 and not any(self._data.strides):   # NumPy gives a fresh empty array no strides
            strides = _meta.strides(self._data)
        else:
            strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self):
        """Offset in elements of the first element from the start of the underlying storage."""
        if not isinstance(self._data, numpy.ndarray):   # a CuPy array: its pointer and its allocation's start
            return (self._data.data.ptr - self._data.data.mem.ptr) // self._data.itemsize
        base = _owner(self._data)
        return (self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // self._data.itemsize

    def is_contiguous(self, *, memory_format=None):
        """True when elements are laid out without gaps in row-major order, or in ``memory_format``'s."""
        if memory_format is None:
            return type(self._data) is _backend.MetaArray or bool(self._data.flags.c_contiguous)
        from ._memory_format import is_laid_out, memory_format as format_type
        if not isinstance(memory_format, format_type):
            from . import _arg_parser   # (loaded on errors only)
            _arg_parser.check(1)
        if type(self._data) is _backend.MetaArray:
            return memory_format.name in ("contiguous_format", "preserve_format")
        return is_laid_out(self._data, memory_format)

    def data_ptr(self):
        """The address of the first element."""
        if type(self._data) is _backend.MetaArray:   # no memory, as PyTorch's meta tensors
            return 0
        if isinstance(self._data, numpy.ndarray):
            return self._data.__array_interface__["data"][0]
        return self._data.data.ptr

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (user-made tensors and parameters)."""
        return self.grad_fn is None

    def _is_view(self):
        """True for a view of another tensor's memory (one with a ``_base``), as PyTorch's ``Tensor._is_view``."""
        return self._base is not None

    def is_floating_point(self):
        """True for floating dtypes."""
        return self.dtype.is_floating_point

    def is_signed(self):
        """True for signed dtypes (everything but bool and the unsigned integers)."""
        return self.dtype.is_signed

    def is_complex(self):
        """True for complex dtypes."""
        return self.dtype.is_complex

    @property
    def layout(self):
        return "strided"

    @property
    def is_sparse(self):
        return False

    @property
    def is_quantized(self):
        return False

    @property
    def _version(self):
        """How many times the memory was modified in place (shared by views), as an int like PyTorch's."""
        if _made_in_inference(self):   # (PyTorch's inference tensors have no version counter)
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._version_counter[0]

    @property
    def data(self):
        """The same memory as a tensor outside the graph (prefer ``detach()``)."""
        return _make(self._data)

    @data.setter
    def data(self, value):
        if self.requires_grad and not (value.dtype.is_floating_point or value.dtype.is_complex):
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        self._data = value._data

    @property
    def _cdata(self):
        """An int naming this tensor's implementation, as PyTorch's address of its TensorImpl: equal for one tensor,
        kept across ``.data =``, different for views, ``detach()`` and ``.data`` (libraries compare it, e.g. Pyro's
        ``pyro.module``). ember's tensor object is its implementation, so this is its ``id``."""
        return id(self)

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def name(self):
        """None, read-only: PyTorch's ``TensorBase.name`` (an autograd name Python never sets; not a named tensor's
        names, which PyTorch 2.13 removed)."""
        return None

    @name.setter
    def name(self, value):
        raise AttributeError(f"attribute 'name' of '{_alias.package()}._C.TensorBase' objects is not writable")

    @name.deleter
    def name(self):
        raise AttributeError(f"attribute 'name' of '{_alias.package()}._C.TensorBase' objects is not writable")

    # --- autograd bookkeeping ---------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        """Sets whether autograd records ops on this leaf tensor; returns self."""
        if requires_grad is not True and requires_grad is not False:   # PyTorch's parser takes a bool only
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must be bool, not "
                            f"{type(requires_grad).__name__}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if requires_grad and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if requires_grad and not grad_state.inference and _made_in_inference(self):
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Makes a non-leaf tensor keep its ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            self.grad_fn._retain(self)

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """Calls ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._register_output_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = OrderedDict()
        return add_hook(self._hooks, hook)

    # --- conversion to Python and NumPy -----------------------------------------------------------
    def numpy(self, *, force=False):
        """The data as a NumPy array sharing memory (CPU tensors only); a tensor requiring grad only where grad mode
        is off (or with ``force``), as PyTorch's."""
        if self.requires_grad and not force and grad_state.enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if not isinstance(self._data, numpy.ndarray) or type(self._data) is _backend.MetaArray:
            if not force or type(self._data) is _backend.MetaArray:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                                "copy the tensor to host memory first.")
            return self._data.get()
        return self._data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item() if self.dtype.name != "bfloat16" else float(self._data.reshape(()))

    def tolist(self):
        """The data as (nested) Python lists of numbers."""
        data = _backend.move(self._data, _backend.CPU)
        if self.dtype.name == "bfloat16":
            data = data.astype(numpy.float32)
        return data.tolist()

    def __array__(self, dtype=None, copy=None):
        """The data as a NumPy array (NumPy's protocol): shared with a CPU tensor unless ``copy`` is True (as
        ``numpy.array`` asks) or ``dtype`` needs a conversion, which ``copy=False`` refuses. Refused for a tensor
        that requires grad while grad mode is on, as ``numpy()``."""
        if self.requires_grad and grad_state.enabled:
            self.numpy()   # PyTorch's RuntimeError: use detach() first
        if type(self._data) is _backend.MetaArray:
            self.numpy()   # PyTorch's TypeError: a meta tensor has no data to hand NumPy
        data = _backend.move(self._data, _backend.CPU)
        if dtype is not None and numpy.dtype(dtype) != data.dtype:
            if copy is False:
                raise ValueError("Unable to avoid copy while creating an array as requested.")
            return data.astype(dtype)
        return data.copy() if copy and data is self._data else data

    def __dlpack__(self, stream=None, **kwargs):
        """A DLPack capsule sharing the data (the protocol ``from_dlpack`` reads); refused, as PyTorch's, for a tensor
        that requires grad."""
        if self.requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(**kwargs) if stream is None else self._data.__dlpack__(stream=stream, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __bool__(self):
        if type(self._data) is _backend.MetaArray:
            self._data.item()   # PyTorch's error: no values
        if self._data.size != 1:
            values = "more than one value" if self._data.size else "no values"
            raise RuntimeError(f"Boolean value of Tensor with {values} is ambiguous")
        return bool(self._data.reshape(()))

    def _python_scalar(self):
        """The one element for float(), int() and complex(), which PyTorch refuses for other sizes with a ValueError
        (item()'s error is a RuntimeError)."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self):
        _warn_if_requires_grad(self)
        return float(_real_part(self._python_scalar(), "double"))

    def __int__(self):
        return int(_real_part(self._python_scalar(), "int64_t"))

    def __complex__(self):
        _warn_if_requires_grad(self)
        return complex(self._python_scalar())

    def __index__(self):
        if self.dtype._category > _dtype._INT or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __reversed__(self):
        return self.flip(0)

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0:   # as PyTorch: f"{loss}" shows the number
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __reduce_ex__(self, protocol):
        if _alias.installed:   # as PyTorch pickles it, so a real-PyTorch process loads the pickle
            return _alias.torch_reduce(self)
        array = self._data if type(self._data) is _backend.MetaArray else _backend.move(self._data, _backend.CPU)
        if type(self) is not Tensor:   # a subclass keeps its type and its own attributes, as PyTorch's
            return (_rebuild_from_array,
                    (array, self.requires_grad, str(self.device), type(self), subclass_state(self)))
        return (_rebuild_from_array, (array, self.requires_grad, str(self.device)))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                               "because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        clone = _make(self._data.copy(), requires_grad=self.requires_grad, cls=type(self))
        if self.grad is not None:
            clone.grad = self.grad.__deepcopy__(memo)
        for name, value in getattr(self, "__dict__", {}).items():
            import copy
            setattr(clone, name, copy.deepcopy(value, memo))
        memo[id(self)] = clone
        return clone


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``ember.Size([2, 3])``."""

    __module__ = "ember"   # <class 'torch.Size'> under the alias, as torch's

    def __repr__(self):
        return f"{_alias.package()}.Size({list(self)})"

    def numel(self):
        """The number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key):
        value = tuple.__getitem__(self, key)
        return Size(value) if isinstance(key, slice) else value

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))


class RemovableHandle:
    """What every ``register_*_hook`` returns (``torch.utils.hooks.RemovableHandle``): ``remove()``, or leaving a
    ``with`` block, takes the hook out of its ``hooks_dict`` (an OrderedDict keyed by ``id``) and ``extra_dict``."""

    __module__ = "ember.utils.hooks"
    id: int
    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref = ()
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def __repr__(self):
        return _alias.object_repr(self)

    def remove(self):
        """Unregisters the hook; does nothing the second time."""
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None and self.id in hooks:
                del hooks[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state):
        self.hooks_dict_ref = weakref.ref(OrderedDict() if state[0] is None else state[0])
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        extra = state[2] if len(state) > 2 and state[2] is not None else ()
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks, hook, prepend=False):
    """Registers ``hook`` in the OrderedDict ``hooks`` (first when ``prepend``); returns its RemovableHandle."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


_scalar_warned = []


def _made_in_inference(tensor):
    """``tensor.is_inference()`` read directly, not offered to a subclass's ``__torch_function__`` (DTensor and nested
    tensors have no rule for it; PyTorch answers it outside its dispatch too)."""
    base = tensor._base
    return (tensor if base is None else base)._inference


def _real_part(value, type_name):
    """A complex tensor's one value read as a real number: its real part, PyTorch's error where the imaginary part is
    not zero."""
    if isinstance(value, complex):
        if value.imag:
            raise RuntimeError(f"value cannot be converted to type {type_name} without overflow")
        return value.real
    return value


def _warn_if_requires_grad(tensor):
    """PyTorch's warning (once per process, TORCH_WARN_ONCE) when ``float()``/``complex()`` reads a tensor that
    autograd tracks, attributed to the line converting it."""
    if tensor.requires_grad and grad_state.enabled and not _scalar_warned:
        _scalar_warned.append(True)
        from ._warnings import warn   # skips the __torch_function__ dispatch wrapper a method may be called through
        warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
             "Consider using tensor.detach() first.", UserWarning, stacklevel=3)


def _wrap_dim(dim, ndim):
    """Turns a possibly negative dim into 0..ndim-1, with PyTorch's IndexError when out of range."""
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})")
    return dim + bound if dim < 0 else dim


NO_GRAD_VIEW = "no_grad"
"""A view's ``_view_creation`` when made in no_grad mode (PyTorch's CreationMeta::NO_GRAD_MODE): in-place changes to
it with grad mode on are refused; a view returned by a function of several views holds (op name, output index)."""


def _init(tensor, array, requires_grad=False, grad_fn=None, output_nr=0, base=None):
    tensor._data = array
    if requires_grad:
        tensor.requires_grad = True
    if grad_fn is not None:
        tensor.grad_fn = grad_fn
        tensor._output_nr = output_nr
    if base is not None:
        tensor._version_counter = base._version_counter
        tensor._base = base._base if base._base is not None else base
        tensor._view_version = base._version_counter[0]
        if not grad_state.enabled:
            tensor._view_creation = NO_GRAD_VIEW
    else:
        tensor._version_counter = [0]
    if grad_state.inference:
        tensor._inference = True
    return tensor


def _rebuild_from_array(array, requires_grad, device, cls=None, state=None):
    """Rebuilds a tensor pickled by ``Tensor.__reduce_ex__`` (plain pickle, copy, multiprocessing): a subclass
    instance (``cls``) gets its attributes ``state`` back."""
    tensor = _make(_backend.move(array, _backend.as_device(device)), requires_grad=requires_grad, cls=cls or Tensor)
    if state:
        tensor.__dict__.update(state)
    return tensor


def _rebuild_from_type_v2(func, new_type, args, state):
    """torch._tensor._rebuild_from_type_v2, which plain pickles of a Tensor subclass or of a tensor with attributes
    name: ``func(*args)`` as a ``new_type`` given ``state`` (by the class's own ``__setstate__``, if it has one)."""
    tensor = func(*args)
    if type(tensor) is not new_type:
        tensor = _make(tensor._data, requires_grad=tensor.requires_grad, cls=new_type)
    if getattr(new_type, "__setstate__", None) is not None:
        tensor.__setstate__(state)
        return tensor
    for attributes in (state if isinstance(state, tuple) else (state,)):   # __dict__, or (__dict__, slots)
        for name, value in (attributes or {}).items():
            setattr(tensor, name, value)
    return tensor


_AUTOGRAD_ATTRIBUTES = frozenset(("requires_grad", "grad_fn", "grad"))


def subclass_state(tensor):
    """A Tensor subclass instance's own public attributes (a bounding box's ``format``...), which pickling and
    DataLoader workers carry beside its data; autograd's attributes are not among them."""
    return {key: value for key, value in vars(tensor).items()
            if not key.startswith("_") and key not in _AUTOGRAD_ATTRIBUTES}



def _make(array, requires_grad=False, grad_fn=None, output_nr=0, base=None, cls=Tensor):
    """Wraps an array in a new tensor without copying. ``base`` makes it a view sharing base's version counter."""
    return _init(object.__new__(cls), array, requires_grad, grad_fn, output_nr, base)


def _wrap(array, new=object.__new__, cls=Tensor):
    """The fastest ``_make(array)``: a tensor outside the graph."""
    tensor = new(cls)
    tensor._data = array
    tensor._version_counter = [0]
    if grad_state.inference:
        tensor._inference = True
    return tensor


class _GradState(threading.local):
    """The grad modes, per thread as in PyTorch (a new thread records a graph, outside inference mode): whether ops
    record a graph (``no_grad``, ``set_grad_enabled``), and whether inference mode is on (tensors made then answer
    ``is_inference()`` True). Set by ``autograd.grad_mode``; ember's intra-op threads take their caller's."""
    enabled = True
    inference = False


grad_state = _GradState()
