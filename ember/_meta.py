"""PyTorch's meta device: tensors with a shape and a dtype but no data.

A meta tensor's array is a ``MetaArray``: an ndarray subclass laid over one element with zero strides, so it has the
right shape, dtype and size but no memory, and nothing reads from or writes into it. ``_backend.device_of`` answers
"meta" for it; ``_backend.xp_for(meta)`` is ``xp`` below, which makes MetaArrays where NumPy would make arrays, so
the factory functions need no branch of their own. A primitive given a meta input (``autograd.function._meta_apply``)
runs its forward on plain stand-ins of the inputs (zero-stride arrays, never the MetaArrays themselves) and turns its
array results into MetaArrays of their shapes and dtypes. Writes into meta tensors (in-place ops, fills, ``copy_``,
``nn.init``) change nothing and draw no random numbers. Strides are row-major for every meta tensor (PyTorch's views
of meta tensors keep their view's strides).
"""
import numpy

__all__ = ["MetaArray", "is_meta", "empty", "like", "standin", "to_meta", "refuse_copy", "refuse_data_dependent",
           "xp"]


_COPY_OUT = "Cannot copy out of meta tensor; no data!"


class MetaArray(numpy.ndarray):
    """A meta tensor's array: shape and dtype, zero strides over one element. Answers its data
    questions with PyTorch's errors."""

    def item(self, *args):
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def __bool__(self):   # an op's data checks (`if (index < 0).any(): raise`) find nothing, as meta kernels check
        return False      # nothing; bool() of a meta tensor raises in Tensor.__bool__

    # An op's own data checks find nothing wrong, as PyTorch's meta kernels check nothing: whole-array any() is
    # False and all() is True (`if (index < 0).any(): raise`, `if not divisor.all(): raise`); along axes, meta.
    def any(self, axis=None, out=None, keepdims=False, **kwargs):
        if axis is None and out is None and not keepdims:
            return numpy.False_
        return like(numpy.ndarray.any(self.view(numpy.ndarray), axis=axis, keepdims=keepdims, **kwargs))

    def all(self, axis=None, out=None, keepdims=False, **kwargs):
        if axis is None and out is None and not keepdims:
            return numpy.True_
        return like(numpy.ndarray.all(self.view(numpy.ndarray), axis=axis, keepdims=keepdims, **kwargs))

    def tolist(self):
        raise NotImplementedError(_COPY_OUT)

    def copy(self, order="C"):
        return empty(self.shape, self.dtype)

    def astype(self, dtype, *args, **kwargs):
        return empty(self.shape, dtype)

    def __reduce__(self):
        return empty, (self.shape, self.dtype)


def is_meta(array):
    """True for a meta tensor's array."""
    return isinstance(array, MetaArray)


def empty(shape, dtype=numpy.float32):
    """A MetaArray of ``shape`` and ``dtype``."""
    shape = (int(shape),) if isinstance(shape, (int, numpy.integer)) else tuple(int(s) for s in shape)
    for s in shape:
        if s < 0:
            raise ValueError(f"negative dimensions are not allowed: {shape}")
    one = numpy.zeros(1, dtype)
    array = numpy.lib.stride_tricks.as_strided(one, shape, (0,) * len(shape))   # writes land on the one element
    return array.view(MetaArray)


def like(array, dtype=None):
    """A MetaArray shaped like ``array`` (any array or NumPy scalar)."""
    return empty(numpy.shape(array), numpy.result_type(array) if dtype is None else dtype)


_IDENTITY_LIMIT = 1 << 22
"""Elements up to which a matrix's second stand-in is an identity (the memory it takes)."""


def standin(array, second=False):
    """A plain array shaped like the MetaArray ``array``, what a forward computes on: zero strides over one element,
    zero for integers and booleans (a valid index), one for other types (no division by zero). The ``second``,
    for a forward the first failed: ones for integers, and for floating matrices identities (strided over one
    matrix), so factorizations succeed."""
    shape, dtype = array.shape, array.dtype
    if second and dtype.kind in "fc" and array.ndim >= 2 and shape[-2] * shape[-1] <= _IDENTITY_LIMIT:
        eye = numpy.eye(shape[-2], shape[-1], dtype=dtype)
        return numpy.lib.stride_tricks.as_strided(eye, shape, (0,) * (array.ndim - 2) + eye.strides)
    one = numpy.zeros(1, dtype) if dtype.kind in "biu" and not second else numpy.ones(1, dtype)
    return numpy.lib.stride_tricks.as_strided(one, shape, (0,) * array.ndim)


def to_meta(value):
    """A forward's array result as a MetaArray (other results as they are)."""
    if isinstance(value, MetaArray) or not isinstance(value, (numpy.ndarray, numpy.generic)):
        return value
    return empty(value.shape, value.dtype)


def strides(array):
    """A meta tensor's strides in elements: row-major."""
    out, step = [], 1
    for size in reversed(array.shape):
        out.append(step)
        step *= max(size, 1)
    return tuple(reversed(out))


def refuse_copy():
    """PyTorch's error for reading a meta tensor's values."""
    raise NotImplementedError(_COPY_OUT)


_NONZERO = ("The register_meta function for torch.nonzero() raises unimplemented by default, as a correct "
            "data-independent implementation does not exist. This implementation returns a fake value, assuming all "
            "elements of the tensor are non-zero. To enable this registration, please set "
            "'torch.fx.experimental._config.meta_nonzero_assume_all_nonzero' to True.")


def refuse_data_dependent(op, *tensors):
    """PyTorch's NotImplementedError for an op whose result's size or value comes from the data (``nonzero``,
    boolean masks, ``unique``, ``masked_select``, ``equal``) when a meta tensor is among ``tensors``."""
    if any(isinstance(getattr(t, "_data", t), MetaArray) for t in tensors):
        raise NotImplementedError(_NONZERO if op == "nonzero" else
                                  f"aten::{op}: attempted to run this operator with Meta tensors, but there was no "
                                  "fake impl or Meta kernel registered. You may have run into this message while "
                                  "using an operator with PT2 compilation APIs (torch.compile/torch.export); in order "
                                  "to use this operator with those APIs you'll need to add a fake impl. Please see "
                                  "the following for next steps:  "
                                  "https://pytorch.org/tutorials/advanced/custom_ops_landing_page.html")


def device_error(found, expected):
    return RuntimeError(f"Tensor on device {found} is not on the expected device {expected}!")


class _MetaNumpy:
    """The array module of the meta device: NumPy, whose functions making arrays make MetaArrays."""

    def __getattr__(self, name):
        return getattr(numpy, name)

    @staticmethod
    def empty(shape, dtype=float, *args, **kwargs):
        return empty(shape, dtype)

    zeros = ones = empty

    @staticmethod
    def full(shape, fill_value, dtype=None, *args, **kwargs):
        return empty(shape, numpy.result_type(fill_value) if dtype is None else dtype)

    @staticmethod
    def eye(n, m=None, k=0, dtype=float, *args, **kwargs):
        return empty((n, n if m is None else m), dtype)

    @staticmethod
    def arange(*args, dtype=None, **kwargs):
        return like(numpy.arange(*args, dtype=dtype, **kwargs))

    @staticmethod
    def asarray(array, dtype=None, *args, **kwargs):
        return like(array, dtype)

    array = ascontiguousarray = asarray

    @staticmethod
    def empty_like(array, dtype=None, *args, **kwargs):
        return like(array, dtype)

    zeros_like = ones_like = empty_like

    @staticmethod
    def full_like(array, fill_value, dtype=None, *args, **kwargs):
        return like(array, dtype)


xp = _MetaNumpy()
