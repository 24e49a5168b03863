"""Which of PyTorch's ATen ops an ember op call stands for, for ``flop_counter``.

PyTorch's counter sees ATen ops below autograd: ``linear`` arrives as ``addmm``, ``matmul`` as ``mm`` or ``bmm``
(or ``mv``, which has no formula), and each backward node runs its own ATen ops. Ember's public ops are its
composites (``linear``, ``matmul``, ``conv2d``, ...), so each rule here takes one composite call and says which
ATen calls PyTorch's CPU kernels would make for it. A call is ``(key, args, kwargs, out)`` with shapes in place
of tensors, the way the formulas read them. A rule returns the forward's calls and a function
``backward(needed) -> calls``, or None: ``needed(i)`` says whether the backward that runs wants the gradient of
input ``i`` of the op's main node (the first ``MAIN`` primitive it ran), as PyTorch's backward kernels compute
only the gradients their graph task needs.
"""
import math
from collections import namedtuple

import numpy

from .. import _dtype
from .._tensor import Tensor
from ..backends.cuda import _sdp

_Operand = namedtuple("_Operand", "shape strides requires_grad")


def _operand(t, transposed=False):
    """What ``at::matmul``'s choices read of a tensor (or of its ``.t()``/``.mT``)."""
    shape, strides = tuple(t.shape), tuple(t.stride())
    if transposed:
        shape = shape[:-2] + shape[:-3:-1]
        strides = strides[:-2] + strides[:-3:-1]
    return _Operand(shape, strides, bool(t.requires_grad))


def _should_fold(a, b):
    """``at::matmul``'s should_fold: multiply an N-D operand by a matrix or vector as one folded 2-D product."""
    a_larger = len(a.shape) >= len(b.shape)
    t1 = a if a_larger else _Operand(b.shape[:-2] + b.shape[:-3:-1], b.strides[:-2] + b.strides[:-3:-1], False)
    dim_t2 = len(b.shape) if a_larger else len(a.shape)
    if not (len(t1.shape) >= 3 and dim_t2 <= 2):
        return False
    if (b if a_larger else a).requires_grad:   # folding spares the backward a large bmm
        return True
    if len(a.shape) == 2:
        return False
    if math.prod(t1.shape) == 0:
        return True
    return all(t1.strides[i] == t1.strides[i + 1] * t1.shape[i + 1] for i in range(len(t1.shape) - 2))


def matmul_product(a, b):
    """``(key, left shape, right shape)`` of the product ``at::matmul(a, b)`` runs, or None for ``dot``/``mv``
    (which PyTorch does not count)."""
    da, db = len(a.shape), len(b.shape)
    if db == 1 and da <= 2:
        return None
    if da <= 2 and db == 2:
        return "aten.mm", (a.shape if da == 2 else (1,) + a.shape), b.shape
    if _should_fold(a, b):
        t1, t2 = (a.shape, b.shape) if da >= db else (b.shape[:-2] + b.shape[:-3:-1], a.shape[::-1])
        if len(t2) == 1:
            return None
        return "aten.mm", (math.prod(t1[:-1]), t1[-1]), t2
    n, m = (a.shape[-2] if da > 1 else 1), a.shape[-1]
    p = b.shape[-1] if db > 1 else 1
    count = math.prod(numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2] if db > 1 else ()))
    return "aten.bmm", (count, n, m), (count, m, p)


def _product_backward(key, left, right, needs_left, needs_right):
    """The backward's ATen products of ``left @ right`` (``mm`` after ``mm``/``addmm``, ``bmm`` after
    ``bmm``/``baddbmm``): grad @ right^T for the left operand, left^T @ grad for the right one."""
    key = "aten.bmm" if key in ("aten.bmm", "aten.baddbmm") else "aten.mm"
    out = left[:-1] + right[-1:]
    calls = []
    if needs_left:
        calls.append((key, (out, right[:-2] + right[:-3:-1]), {}, None))
    if needs_right:
        calls.append((key, (left[:-2] + left[:-3:-1], out), {}, None))
    return calls


def _product(key, left, right, extra=()):
    """Forward calls and backward of one product whose operands are the main node's inputs 0 and 1 (``extra``:
    the leading ``self`` of addmm/baddbmm)."""
    def backward(needed):
        return _product_backward(key, left, right, needed(0), needed(1))
    return [(key, (*extra, left, right), {}, None)], backward


def _arg(args, kwargs, index, name, default=None):
    return args[index] if len(args) > index else kwargs.get(name, default)


def _needs(t):
    return isinstance(t, Tensor) and t.requires_grad


def _shape(t):
    return None if t is None else tuple(t.shape)


def mm_rule(args, kwargs, out, frame):
    a, b = args[0], args[1]
    return _product("aten.mm", _shape(a), _shape(b))


def bmm_rule(args, kwargs, out, frame):
    a, b = args[0], args[1]
    return _product("aten.bmm", _shape(a), _shape(b))


def addmm_rule(args, kwargs, out, frame):
    bias, a, b = args[:3]
    return _product("aten.addmm", _shape(a), _shape(b), (_shape(bias),))


def baddbmm_rule(args, kwargs, out, frame):
    bias, a, b = args[:3]
    return _product("aten.baddbmm", _shape(a), _shape(b), (_shape(bias),))


def addbmm_rule(args, kwargs, out, frame):
    """PyTorch's addbmm kernel has no formula, but its backward runs two ``bmm``s."""
    _, a, b = args[:3]
    return [], _product("aten.bmm", _shape(a), _shape(b))[1]


def matmul_rule(args, kwargs, out, frame):
    a, b = _operand(args[0]), _operand(args[1])
    product = matmul_product(a, b)
    if product is None:
        return [], None
    return _product(*product)


def matmul_primitive_rule(args, kwargs, out, frame):
    """A product ember runs outside the public matmul ops (multi_dot): ``mm`` of matrices, else
    ``bmm`` over the broadcast batch, as their PyTorch kernels; products of vectors are not counted."""
    a, b = args[0], args[1]
    if a.ndim < 2 or b.ndim < 2:
        return [], None
    if a.ndim == 2 and b.ndim == 2:
        return _product("aten.mm", _shape(a), _shape(b))
    return matmul_rule(args, kwargs, out, frame)


def tensordot_rule(args, kwargs, out, frame):
    """``at::tensordot``: one ``mm`` of the operands permuted and reshaped to matrices (a 1 x 1 result, a full
    contraction, is PyTorch's ``dot``: not counted)."""
    if not frame.calls:
        return [], None
    left, right = (tuple(t.shape) for t in frame.calls[0][1][:2])
    if left[0] == 1 and right[-1] == 1:
        return [], None
    return _product("aten.mm", left, right)


def einsum_rule(args, kwargs, out, frame):
    """``at::einsum`` without opt_einsum: operands contracted left to right, each pair with summed dims as one
    ``bmm`` (batch dims, dims of the left only, summed dims, dims of the right only); dims that one operand alone
    carries and no later one needs are summed first, and a pair with nothing to sum is a plain product."""
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:   # the sublist form: einsum(op1, [0, 1], op2, [1, 2], [0, 2])
        letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        operands = args[0::2] if len(args) % 2 == 0 else args[0:-1:2]
        parts = ["".join("..." if i is Ellipsis else letters[i] for i in part) for part in args[1::2]]
        equation = ",".join(parts[:len(operands)]) + ("->" + parts[-1] if len(parts) > len(operands) else "")
    labels, output = _einsum_labels(equation, operands)
    sizes = [dict(zip(subs, op.shape)) for subs, op in zip(labels, operands)]
    last = {label: i for i, subs in enumerate(labels) for label in subs}
    kept = set(output)
    current = {label: size for label, size in sizes[0].items() if label in kept or last[label] > 0}
    forward, products = [], []
    for i in range(1, len(operands)):
        right = {label: size for label, size in sizes[i].items()
                 if label in kept or last[label] > i or label in current}
        summed = [label for label in right if label in current and last[label] == i and label not in kept]
        contracted = [label for label in summed if current[label] != 1 and right[label] != 1]
        if contracted:
            batch = [c for c in right if c in current and c not in summed and right[c] != 1 and current[c] != 1]
            b = math.prod(right[c] for c in batch)
            m = math.prod(size for c, size in current.items() if c not in summed and c not in batch)
            k = math.prod(current[c] for c in contracted)
            n = math.prod(size for c, size in right.items() if c not in summed and c not in batch)
            forward.append(("aten.bmm", ((b, m, k), (b, k, n)), {}, None))
            products.append((i, (b, m, k), (b, k, n)))
        for label, size in right.items():
            current[label] = max(current.get(label, 1), size)
        for label in summed:
            del current[label]

    def backward(needed):   # operand i is the Einsum node's input i; the running product needs any before it
        calls = []
        for i, left, right in reversed(products):
            calls += _product_backward("aten.bmm", left, right, any(needed(j) for j in range(i)), needed(i))
        return calls
    return forward, backward


def _einsum_labels(equation, operands):
    """Each operand's labels and the output's, with '...' as labels of its own per broadcast dim."""
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    inputs = lhs.split(",")
    dims = max((op.ndim - len(subs.replace("...", "")) for subs, op in zip(inputs, operands) if "..." in subs),
               default=0)
    fresh = [f"...{i}" for i in range(dims)]

    def expand(subs, ndim):
        if "..." not in subs:
            return list(subs)
        before, after = subs.split("...")
        count = ndim - len(before) - len(after)
        return list(before) + fresh[dims - count:] + list(after)
    labels = [expand(subs, op.ndim) for subs, op in zip(inputs, operands)]
    if arrow:
        return labels, expand(rhs, len(rhs.replace("...", "")) + dims)
    letters = [label for subs in labels for label in subs if not label.startswith("...")]
    return labels, fresh + sorted(label for label in set(letters) if letters.count(label) == 1)


def linear_rule(args, kwargs, out, frame):
    """``at::linear``: ``addmm`` for a matrix or contiguous input with a bias (flattened), else ``matmul``."""
    input, weight = args[0], args[1]
    bias = _arg(args, kwargs, 2, "bias")
    if bias is not None and weight.ndim == 2 and (input.ndim == 2 or input.is_contiguous() and
                                                  (input.ndim == 3 or bias.ndim == 1)):
        rows = (math.prod(input.shape[:-1]), input.shape[-1])
        return _product("aten.addmm", rows, _shape(weight)[::-1], (_shape(bias),))
    product = matmul_product(_operand(input), _operand(weight, transposed=weight.ndim >= 2))
    if product is None:
        return [], None
    return _product(*product)


def convolution_rule(args, kwargs, out, frame):
    """``aten.convolution`` for what the composite's convolution primitive ran (a batched, padded input), and
    ``aten.convolution_backward`` with PyTorch's output mask (input, weight, bias)."""
    cls, inner, result = frame.calls[0]
    transposed = cls.__name__ == "ConvolutionInput"
    x, w = inner[0], inner[1]
    stride, padding, dilation, groups = inner[3:7] if transposed else inner[2:6]
    bias = _arg(args, kwargs, 2, "bias")
    output_padding = _arg(args, kwargs, 5, "output_padding", 0) if transposed else 0
    if not isinstance(output_padding, (tuple, list)):
        output_padding = (output_padding,) * (w.ndim - 2)
    options = (stride, padding, dilation, transposed, tuple(output_padding), groups)
    shapes = (_shape(x), _shape(w), _shape(bias))
    out_shape = _shape(result)
    forward = [("aten.convolution", (*shapes, *options), {}, out_shape)]
    fused_bias = not transposed and len(inner) > 6   # the bias is the node's input 6, else added after it
    bias_needs = _needs(bias)

    def backward(needed):
        mask = [needed(0), needed(1), needed(6) if fused_bias else bias_needs]
        return [("aten.convolution_backward", (out_shape, *shapes, *options, mask), {}, shapes)]
    return forward, backward


def _t(shape):
    return (shape[1], shape[0]) + tuple(shape[2:])


def _convolution_call(x, w, out, transposed, options):
    stride, padding, dilation, groups = options
    return ("aten.convolution", (x, w, None, stride, padding, dilation, transposed, (0,) * (len(w) - 2), groups),
            {}, out)


def gradient_convolution_rule(cls, args, out):
    """The backward of a convolution a backward ran under ``create_graph`` (a second-order gradient): each
    gradient one ``aten.convolution``, as PyTorch's convolution double backward computes them. ``Convolution(x,
    w)``, ``ConvolutionInput(g, w)`` (its input gradient) and ``ConvolutionWeight(x, g)`` (its weight gradient)
    are each other's gradients."""
    name = cls.__name__
    if name == "Convolution":
        x, w, options = _shape(args[0]), _shape(args[1]), args[2:6]
        g = _shape(out)
    elif name == "ConvolutionInput":
        g, w, x, options = _shape(args[0]), _shape(args[1]), tuple(args[2]), args[3:7]
    else:
        x, g, w, options = _shape(args[0]), _shape(args[1]), tuple(args[2]), args[3:7]
    groups = options[3]
    input_grad = [_convolution_call(g, w, x, True, options)]      # of g with w, into x's shape
    # the weight gradient per group, batch and channels swapped (PyTorch runs one convolution per group)
    x_group, g_group = x[:1] + (x[1] // groups,) + x[2:], g[:1] + (g[1] // groups,) + g[2:]
    w_group = (w[0] // groups,) + w[1:]
    weight_grad = [_convolution_call(_t(x_group), _t(g_group), _t(w_group), False, options)] * groups
    output_grad = [_convolution_call(x, w, g, False, options)]    # of x-shaped with w-shaped, into g's shape
    calls = {"Convolution": (input_grad, weight_grad), "ConvolutionInput": (output_grad, weight_grad),
             "ConvolutionWeight": (input_grad, output_grad)}[name]

    def backward(needed):
        return [call for i, part in enumerate(calls) if needed(i) for call in part]
    return backward


def _flash_cpu(query, key, value, attn_mask, dropout_p, enable_gqa):
    """Whether PyTorch's CPU dispatch picks ``_scaled_dot_product_flash_attention_for_cpu`` (a kernel without a
    FLOP formula) over the math path (``bmm``s), by the conditions of its sdp_utils_cpp."""
    if not _sdp["flash"] or dropout_p > 0.0 or not query.ndim == key.ndim == value.ndim == 4:
        return False
    if attn_mask is not None and attn_mask.ndim not in (2, 4):
        return False
    if not query.shape[0] == key.shape[0] == value.shape[0] or key.shape[1] != value.shape[1]:
        return False
    if query.shape[1] != key.shape[1] and not (enable_gqa and query.shape[1] % key.shape[1] == 0):
        return False
    if not query.shape[-1] == key.shape[-1] == value.shape[-1]:
        return False
    if 0 in (query.shape[-2], key.shape[-2]):
        return False
    return all(t.stride()[-1] == 1 for t in (query, key, value))


def sdpa_rule(args, kwargs, out, frame):
    """Attention as PyTorch's kernels count it: on CUDA the fused kernels' formulas; on the CPU its flash kernel
    (not counted) where it applies, else the math path's two products forward and up to four backward."""
    query, key, value = args[:3]
    attn_mask = _arg(args, kwargs, 3, "attn_mask")
    dropout_p = _arg(args, kwargs, 4, "dropout_p", 0.0)
    enable_gqa = _arg(args, kwargs, 7, "enable_gqa", False)
    # the attention primitive's inputs are query, key, value and the mask; the 16-bit path's first node is the
    # product of query and key alone
    fused = bool(frame.calls) and frame.calls[0][0].__name__ == "ScaledDotProductFlashAttentionForCpu"
    value_needs, mask_needs = _needs(value), _needs(attn_mask)

    def wanted(needed):
        return (needed(0), needed(1), needed(2) if fused else value_needs, needed(3) if fused else mask_needs)
    if query.device.type == "cuda":
        kernel = "flash" if query.dtype in (_dtype.float16, _dtype.bfloat16) and attn_mask is None else "efficient"
        name = f"aten._scaled_dot_product_{kernel}_attention"
        shapes, out_shape = (_shape(query), _shape(key), _shape(value)), _shape(out)

        def fused_backward(needed):
            return [(name + "_backward", (out_shape,) + shapes, {}, None)] if any(wanted(needed)[:3]) else []
        return [(name, shapes, {}, out_shape)], fused_backward
    if _flash_cpu(query, key, value, attn_mask, dropout_p, enable_gqa):
        return [], None
    k_shape = _shape(key)
    if enable_gqa and query.ndim >= 3:
        k_shape = k_shape[:-3] + (query.shape[-3],) + k_shape[-2:]
    v_shape = _shape(value)[:-3] + k_shape[-3:-2] + _shape(value)[-2:] if enable_gqa else _shape(value)
    keys_t = k_shape[:-2] + k_shape[:-3:-1]
    first = matmul_product(_Operand(_shape(query), _contiguous(_shape(query)), _needs(query)),
                           _Operand(keys_t, _contiguous(keys_t), _needs(key)))
    weights = tuple(numpy.broadcast_shapes(query.shape[:-2], keys_t[:-2])) + (query.shape[-2], keys_t[-1])
    second = matmul_product(_Operand(weights, _contiguous(weights), True),
                            _Operand(v_shape, _contiguous(v_shape), _needs(value)))
    forward = [(product[0], product[1:], {}, None) for product in (first, second) if product]

    def backward(needed):
        q, k, v, mask = wanted(needed)
        calls = _product_backward(*second, q or k or mask, v) if second else []
        return calls + (_product_backward(*first, q, k) if first else [])
    return forward, backward


def _contiguous(shape):
    """Row-major strides of ``shape`` (the math path's intermediate products are fresh, contiguous tensors)."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def no_count_rule(args, kwargs, out, frame):
    """Ops PyTorch runs as one kernel without a formula (``mv``, ``dot``, ``vdot``, ``addmv``, ``addr``): nothing."""
    return [], None


COMPOSITES = {
    "mm": mm_rule, "bmm": bmm_rule, "addmm": addmm_rule, "baddbmm": baddbmm_rule, "addbmm": addbmm_rule,
    "matmul": matmul_rule, "linear": linear_rule, "tensordot": tensordot_rule, "einsum": einsum_rule,
    "conv1d": convolution_rule, "conv2d": convolution_rule, "conv3d": convolution_rule,
    "conv_transpose1d": convolution_rule, "conv_transpose2d": convolution_rule, "conv_transpose3d": convolution_rule,
    "scaled_dot_product_attention": sdpa_rule,
    "mv": no_count_rule, "dot": no_count_rule, "vdot": no_count_rule, "addmv": no_count_rule, "addr": no_count_rule,
}
"""Composite op name -> rule ``(args, kwargs, out, frame) -> (forward calls, backward or None)``."""

PRIMITIVES = {"Matmul": matmul_primitive_rule}
"""Primitives counted where they run outside the composites above (multi_dot's and chain_matmul's products)."""

GRADIENTS = {"Convolution": gradient_convolution_rule, "ConvolutionInput": gradient_convolution_rule,
             "ConvolutionWeight": gradient_convolution_rule}
"""Primitives a counted node's backward runs under ``create_graph`` whose own backward PyTorch counts, by their
rule ``(cls, args, out) -> backward``."""

MAIN = ("Matmul", "Einsum", "Linear", "Convolution", "ConvolutionInput", "ScaledDotProductFlashAttentionForCpu")
"""The primitives whose nodes a counted op's backward runs in: the first one a composite runs carries its
backward's count, and the backward of every one of them is counted only that way."""
