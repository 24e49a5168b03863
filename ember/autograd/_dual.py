"""Where tangents live while a dual level is open: beside their primals in ``tangents`` (by the primal's id, dropped
with the primal or when the level exits), never on the Tensor, so tensors outside a level pay nothing."""
import weakref

from .._backend import xp_of
from .._compat import as_strided
from .. import _tensor_str
from .._tensor import _make

tangents = {}   # id(primal) -> (weak reference to the primal, tangent, whether earlier views share it)


def tangent_of(tensor):
    """The tangent of ``tensor`` at the open level, or None. A view made before its base got a tangent by an
    in-place write answers with the matching view of the base's tangent (made once, then kept), as in PyTorch;
    views made later got theirs when they were made."""
    entry = tangents.get(id(tensor))
    if entry is not None and entry[0]() is tensor:
        return entry[1]
    base = tensor._base
    if base is None:
        return None
    entry = tangents.get(id(base))
    if entry is None or not entry[2] or entry[0]() is not base:
        return None
    view = view_of_tangent(tensor, base, entry[1])
    if view is not None:
        set_tangent(tensor, view)
    return view


_tensor_str.tangent_of = tangent_of


def set_tangent(tensor, tangent, shared=False):
    """Stores ``tangent`` as ``tensor``'s tangent until the tensor dies or the level exits; ``shared``: views of
    ``tensor`` made before now see it too (a tangent that an in-place write gave)."""
    key = id(tensor)
    tangents[key] = (weakref.ref(tensor, lambda _, key=key: tangents.pop(key, None)), tangent, shared)


def view_of_tangent(view, base, base_tangent):
    """The elements of ``base_tangent`` at the places ``view``'s elements have in ``base`` (a tensor whose memory
    holds the view's; the result is a view of the tangent sharing its memory), or None where the layouts do not
    allow it (base and tangent laid out differently, a view that reinterprets the dtype, negative strides)."""
    array, root, space = view._data, base._data, base_tangent._data
    if array.dtype != root.dtype or not same_layout(space, root) or any(s < 0 for s in root.strides + array.strides):
        return None
    itemsize = root.itemsize
    offset = (_address(array) - _address(root)) // itemsize
    extent = 1 + sum((n - 1) * s // itemsize for n, s in zip(root.shape, root.strides)) if root.size else 0
    if offset < 0 or offset >= extent:
        return None
    xp = xp_of(space)
    flat = as_strided(xp, space, (extent,), (space.itemsize,), writeable=True)[offset:]
    strides = tuple(s // itemsize * space.itemsize for s in array.strides)
    return _make(as_strided(xp, flat, array.shape, strides, writeable=True), base=base_tangent)


def same_layout(a, b):
    """Whether two arrays of one shape put their elements at the same element offsets."""
    return a.shape == b.shape and all(sa // a.itemsize == sb // b.itemsize or n <= 1
                                      for sa, sb, n in zip(a.strides, b.strides, a.shape))


def _address(array):
    interface = getattr(array, "__array_interface__", None) or array.__cuda_array_interface__
    return interface["data"][0]
