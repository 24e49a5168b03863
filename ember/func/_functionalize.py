"""``func.functionalize``: a function whose results are what PyTorch's functionalization gives when run eagerly: an
input the function mutates is still mutated, but no output aliases it (returned, it comes back as a new tensor; an
unmutated input returned comes back as itself); views of inputs left unmutated stay views, unless
``remove="mutations_and_views"``, where no output but a returned input aliases an input."""
import functools

import numpy

from .._tensor import Tensor
from ..utils._pytree import tree_leaves, tree_map
from . import _active
from ._vmap import BatchedTensor

__all__ = ["functionalize", "debug_unwrap"]

_MODES = ("mutations", "mutations_and_views")


def functionalize(func, *, remove="mutations"):
    """``func`` run so that its results are PyTorch's functionalized results (see the module's docstring)."""
    if remove not in _MODES:
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}. Valid options "
            f"are:\n     remove='mutations': all inplace and out= operators will be removed from the program, and "
            f"replaced with their out-of-place equivalents.\n     remove='mutations_and_views': In addition to the "
            f"above, all aliasing operators {{view}} will be replaced with their non-aliasing counterparts, "
            f"{{view}}_copy.\n")

    @functools.wraps(func)
    def functionalized(*args, **kwargs):
        inputs = [leaf for leaf in tree_leaves((args, kwargs)) if isinstance(leaf, Tensor)]
        versions = [tensor._version for tensor in inputs]
        with _active.running():
            outputs = func(*args, **kwargs)
        # Functionalized, a mutated input is a new value: views of it are computed from that, not aliases of it.
        kept = [] if remove == "mutations_and_views" else \
            [tensor for tensor, version in zip(inputs, versions) if tensor._version == version]

        def fresh(output):
            if not isinstance(output, Tensor):
                return output
            if any(output is tensor for tensor in inputs):   # an input returned: itself unless it was mutated
                unmutated = any(output is tensor and tensor._version == version
                                for tensor, version in zip(inputs, versions))
                return output if unmutated else output.clone()
            if any(_aliases(output, tensor) for tensor in inputs if not any(tensor is k for k in kept)):
                return output.clone()
            return output
        return tree_map(fresh, outputs)
    return functionalized


def _aliases(a, b):
    """Whether two tensors may share memory."""
    if isinstance(a._data, numpy.ndarray) and isinstance(b._data, numpy.ndarray):
        return numpy.may_share_memory(a._data, b._data)
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def debug_unwrap(tensor, *, recurse=True):
    """The tensor inside a vmap wrapper: a batched tensor's physical tensor, with the batch dim (``recurse``: through
    every vmap level). ember's other transforms pass plain tensors, which come back as they are."""
    while type(tensor) is BatchedTensor:
        tensor = tensor._value
        if not recurse:
            break
    return tensor
