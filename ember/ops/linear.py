"""The affine map of ``nn.Linear`` as one primitive: y = x W^T + b, with its three gradients."""
import math

import numpy

from .. import _dtype
from ..autograd.function import Primitive, composite, shown_node
from . import _blas, _buffers, _parallel
from ._kernel_dtypes import FLOATING, cpp_type_name, require_dtype
from ._summation import sum_array
from ._util import name_node, quiet
from .linalg.products import folded_matmul, matrix_product

__all__ = []


def _affine(xp, input, weight, bias=None):
    """``input @ weight.T``, plus ``bias`` where it is given (a vector of the output features or None). In float32
    with fewer rows than output features it is computed as ``(weight @ input.T).T`` and made C-contiguous: OpenBLAS's
    sgemm blocks the longer side as the rows of its result, which measured 0.67-0.83x the time of the direct product
    at batch 8-64 with 256-1000 features (and 1.3-3.3x with the batch the longer side, which keeps the direct
    product). cuBLAS (CuPy arrays) takes the direct product. A direct product the BLAS can start from the bias
    (``_blas.adds_bias``: PyTorch's addmm) is; else the bias is added after (in parts at once where large: the
    Transformer's token classifier, 2M elements)."""
    features = weight.shape[0]
    rows = math.prod(input.shape[:-1])
    if 1 < rows < features and input.dtype == numpy.float32 and xp is numpy:
        product = xp.matmul(weight, input.reshape(rows, input.shape[-1]).T).T
        output = xp.ascontiguousarray(product).reshape(input.shape[:-1] + (features,))
    elif bias is not None and xp is numpy and (input.ndim == 2 or input.flags.c_contiguous) and \
            _blas.adds_bias(matrix := input.reshape(rows, input.shape[-1]), weight.T, bias):
        output = _buffers.empty(xp, (rows, features), input.dtype)
        return _blas.matmul(matrix, weight.T, output, bias=bias).reshape(input.shape[:-1] + (features,))
    else:
        output = folded_matmul(xp, input, weight.T)
    if bias is not None:
        _parallel.ufunc(xp.add, output, bias, out=output)
    return output


def _torch_nodes(node, edges):
    """Linear's node as PyTorch records linear, for ``next_functions``: ``addmm(bias, input, weight.t())`` of a
    matrix input (``mm`` without a bias), of the input viewed as one (and the result viewed back) otherwise."""
    input, weight = edges[0], edges[1]
    bias = edges[2] if len(edges) > 2 else None
    weight_t = _shown("TBackward0", weight)
    name = node.name()
    if name == "AddmmBackward0":
        return bias, input, weight_t
    if name == "MmBackward0":
        return input, weight_t
    if name == "ViewBackward0":
        return (_shown("AddmmBackward0", bias, _shown("ViewBackward0", input), weight_t),)
    if name == "UnsafeViewBackward0":
        return (_shown("MmBackward0", _shown("ViewBackward0", input), weight_t),)
    if name == "SqueezeBackward4":
        return (_shown("MmBackward0", _shown("UnsqueezeBackward0", input), weight_t),)
    return edges


def _shown(name, *edges):
    node = shown_node(name, edges)
    return None if node is None else (node, 0)


class Linear(Primitive):
    graph_inputs = staticmethod(_torch_nodes)

    @staticmethod
    @quiet
    def forward(ctx, input, weight, bias=None):
        needs = ctx.needs_input_grad   # each operand only where the other's gradient is wanted, as PyTorch's addmm
        if needs[0] or needs[1]:
            ctx.save_for_backward(input if needs[1] else None, weight if needs[0] else None)
        return _blas.product(input.shape[-1], _affine, ctx.xp, input, weight, bias)   # (one BLAS thread when busy)

    @staticmethod
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_input = grad.matmul(weight) if needs[0] else None
        rows = grad.reshape(-1, grad.shape[-1])
        grad_weight = rows.t().matmul(input.reshape(-1, input.shape[-1])) if needs[1] else None
        grad_bias = rows.sum(0) if len(needs) > 2 and needs[2] else None
        return grad_input, grad_weight, grad_bias

    @staticmethod
    @quiet
    def array_backward(ctx, grad):
        input, weight = ctx.saved_arrays
        needs = ctx.needs_input_grad
        grad_input = _blas.product(grad.shape[-1], folded_matmul, ctx.xp, grad, weight) if needs[0] else None
        rows = grad.reshape(math.prod(grad.shape[:-1]), grad.shape[-1])
        grad_weight = _blas.product(rows.shape[0], matrix_product, ctx.xp, rows.T,
                                    input.reshape(rows.shape[0], input.shape[-1])) if needs[1] else None
        grad_bias = None
        if len(needs) > 2 and needs[2]:
            if rows.dtype.itemsize == 2:   # half precision sums accumulate in float32, as Sum's forward
                grad_bias = rows.sum(0, dtype=numpy.float32).astype(rows.dtype)
            else:
                grad_bias = sum_array(rows, 0)   # PyTorch's order of adds
        return grad_input, grad_weight, grad_bias


def check_dtypes(input, weight, bias=None):
    """PyTorch's errors for ``linear(input, weight, bias)`` of operands in different dtypes."""
    w = weight._data
    if bias is not None and bias._data.dtype != w.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_dtype.scalar_type_name(bias.dtype)} "
                           f"and {_dtype.scalar_type_name(weight.dtype)}")
    if input._data.dtype != w.dtype:   # with a bias PyTorch's addmm checks it, without its mm
        if bias is not None:
            raise RuntimeError("mat1 and mat2 must have the same dtype, but got "
                               f"{_dtype.scalar_type_name(input.dtype)} and {_dtype.scalar_type_name(weight.dtype)}")
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {cpp_type_name(input.dtype)} != "
                           f"{cpp_type_name(weight.dtype)}")


@composite("linear", trace_inside=True)
def linear(input, weight, bias=None):
    """input @ weight.T + bias."""
    x, w = input._data, weight._data   # the arrays' shapes and dtypes: no Size or dtype objects on the hot path
    if w.ndim != 2 or x.ndim == 0:
        output = input.matmul(weight.t())
        return output if bias is None else output + bias
    if x.shape[-1] != w.shape[1]:
        rows = 1
        for size in input.shape[:-1]:
            rows *= size
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and "
                           f"{weight.shape[1]}x{weight.shape[0]})")
    check_dtypes(input, weight, bias)
    if x.dtype.kind != "f":   # (NumPy's floating dtypes are all among the kernel's)
        require_dtype("addmm_impl_cpu_", input, _LINEAR_DTYPES)   # after the shape and dtype checks, as PyTorch
    if x.dtype.kind == "c":   # by matmul, whose gradients take the conjugate transposes Linear's do not
        output = input.matmul(weight.t())
        return output if bias is None else _named(output + bias, input, bias)
    if bias is None:
        return name_node(Linear.apply(input, weight), _UNBIASED_NODE_NAMES[min(x.ndim, 3)])
    if bias._data.shape[-1:] not in ((w.shape[0],), (1,)) or bias._data.ndim > 1:
        return _named(Linear.apply(input, weight).add(bias), input, bias)
    return _named(Linear.apply(input, weight, bias), input, bias)


_LINEAR_DTYPES = FLOATING + "liuc"
"""The dtypes PyTorch's CPU addmm kernel takes (``require_dtype``'s letters)."""


def _named(output, input, bias):
    """``output`` of ``linear`` with a bias, its node (where it records one) under PyTorch's name for it."""
    return output if output.grad_fn is None else name_node(output, _biased_node_name(input, bias))


_UNBIASED_NODE_NAMES = {1: "SqueezeBackward4", 2: "MmBackward0", 3: "UnsafeViewBackward0"}
"""PyTorch's node for ``linear`` without a bias by the input's rank (3: or more): matmul's by ``weight.t()``."""


def _biased_node_name(input, bias):
    """PyTorch's node for ``linear`` with a bias: addmm's for a matrix input; the view of an addmm of the flattened
    input where that is contiguous and the bias a contiguous vector (or squeezes to one); else matmul's result with
    the bias added in place."""
    if input.ndim == 2:
        return "AddmmBackward0"
    shape = bias._data.shape
    if (len(shape) == 1 or len(shape) - shape.count(1) == 1) and bias.is_contiguous() and input.is_contiguous():
        return "ViewBackward0"
    return "AddBackward0"
