"""The ``*_copy`` functions (``torch.view_copy``, ``permute_copy``, ...): each view op's result as a fresh tensor
with its own memory, differentiable as the view, with ``out=``. Exported and functionalized programs call them."""
from .._memory_format import contiguous_format
from .._tensor import Tensor
from ._kernel_dtypes import refuse_complex_autograd
from ._util import write_out
from .complex import view_as_complex, view_as_real
from .tuple_out import write_tuple


def _slice(input, dim=0, start=None, end=None, step=1):
    refuse_complex_autograd("slice_copy", input)
    return input[(slice(None),) * (dim % input.ndim) + (slice(start, end, step),)]


_VIEWS = {
    "alias_copy": lambda input: input.view_as(input),
    "as_strided_copy": Tensor.as_strided,
    "diagonal_copy": Tensor.diagonal,
    "expand_copy": lambda input, size, *, implicit=False: input.expand(size),
    "permute_copy": Tensor.permute,
    "select_copy": Tensor.select,
    "slice_copy": _slice,
    "split_copy": Tensor.split,
    "split_with_sizes_copy": Tensor.split_with_sizes,
    "squeeze_copy": Tensor.squeeze,
    "t_copy": Tensor.t,
    "transpose_copy": Tensor.transpose,
    "unbind_copy": Tensor.unbind,
    "unfold_copy": Tensor.unfold,
    "unsqueeze_copy": Tensor.unsqueeze,
    "view_copy": Tensor.view,
    "view_as_real_copy": view_as_real,
    "view_as_complex_copy": view_as_complex,
}


def _copy_function(name, view):
    def function(input, *args, out=None, **kwargs):
        result = view(input, *args, **kwargs)
        if isinstance(result, (tuple, list)):   # new row-major memory, as PyTorch's copies
            return write_tuple(out, tuple(part.clone(memory_format=contiguous_format) for part in result))
        return write_out(out, result.clone(memory_format=contiguous_format), name)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"A copy of ``{name[:-5]}``'s result in new memory (differentiable as the view)."
    return function


for _name, _view in _VIEWS.items():
    globals()[_name] = _copy_function(_name, _view)
__all__ = list(_VIEWS)
