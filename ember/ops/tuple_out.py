"""``out=`` for the ops that return several tensors ((values, indices) and the like): each result written into its
out tensor, with PyTorch's dtype checks, worded as each op's kernel words them."""
from .. import _dtype
from .._tensor import Tensor
from ._kernel_dtypes import exact_out_dtype, legacy_type_name
from ._util import write_out


_VALUES_INDICES_OUT_ERRORS = {
    "kthvalue": (lambda want, got: "output values must be of same type as input",
                 lambda got: "output indices must be of scalar type Long"),
    "mode": (lambda want, got: f"expected scalar type '{_dtype.scalar_type_name(want)}' but got "
                               f"'{_dtype.scalar_type_name(got)}' for values output",
             lambda got: f"expected scalar type 'Long' but got '{_dtype.scalar_type_name(got)}' for indices output"),
    "median": (lambda want, got: f"Expected tensor for 'values' to have the same type as tensor for argument #2 "
                                 f"'self'; but type {legacy_type_name(got)} does not equal "
                                 f"{legacy_type_name(want)} (while checking arguments for median)",
               lambda got: f"Expected tensor for argument #1 'indices' to have scalar type Long; but got "
                           f"{legacy_type_name(got)} instead (while checking arguments for median)"),
    "cumulative": (lambda want, got: f"expected scalar_type {_dtype.scalar_type_name(want)} but found "
                                     f"{_dtype.scalar_type_name(got)}",
                   lambda got: f"expected scalar_type Long but found {_dtype.scalar_type_name(got)}"),
}
"""How each (values, indices) op's kernel refuses ``out=`` tensors of other dtypes than the input's and int64:
messages for the values and the indices, keyed by the kernel family."""


def write_tuple(out, result, exact=False):
    """``out=`` for ops that return several tensors: writes each one into outs of exactly their dtypes where
    ``exact`` (True: PyTorch's max, min, sort, topk, aminmax; a ``_VALUES_INDICES_OUT_ERRORS`` key: the (values,
    indices) ops whose kernels word the refusal their own way)."""
    if out is None:
        return result
    name = type(result).__name__ if hasattr(result, "_fields") else "op"
    if exact is True:
        for target, value in zip(out, result):
            exact_out_dtype(target, value.dtype)
    elif exact:
        values, (values_out, indices_out) = result[0], out
        values_error, indices_error = _VALUES_INDICES_OUT_ERRORS[exact]
        wrong_values = isinstance(values_out, Tensor) and values_out.dtype is not values.dtype
        wrong_indices = isinstance(indices_out, Tensor) and indices_out.dtype is not _dtype.int64
        if wrong_indices and (exact == "median" or not wrong_values):   # median's kernel checks the indices first
            raise RuntimeError(indices_error(indices_out.dtype))
        if wrong_values:
            raise RuntimeError(values_error(values.dtype, values_out.dtype))
    for target, value in zip(out, result):
        write_out(target, value, name)
    return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
