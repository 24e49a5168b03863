"""Higher-level autograd on functions: vjp, jvp, jacobian, hessian, vhp and hvp, as ``torch.autograd.functional``.

All are built from reverse mode, except ``strategy="forward-mode"`` Jacobians (forward-mode AD, as PyTorch's).
``jvp`` and ``hvp`` use the double-backward trick: the vector-Jacobian product
``u -> J^T u`` is linear in ``u``, so differentiating it with respect to ``u`` along ``v`` gives ``J v``. Results
come back as a single Tensor or a tuple exactly where PyTorch returns one.
"""
from .._backend import xp_of
from .._tensor import Tensor, _make
from .engine import grad as _autograd_grad_raw
from .function import registry
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """The outputs of ``func(*inputs)`` and the vector-Jacobian product ``v^T J`` with respect to ``inputs``."""
    with enable_grad():
        inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        outputs_are_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            v = _grad_preprocess(_as_tuple(v, "v", "vjp")[1], create_graph, need_graph=False)
            _validate_v(v, outputs, outputs_are_tuple)
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single Tensor "
                               "with a single element.")
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "back")
    return (_unpack(_grad_postprocess(outputs, create_graph), outputs_are_tuple),
            _unpack(_grad_postprocess(result, create_graph), inputs_are_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """The outputs of ``func(*inputs)`` and the Jacobian-vector product ``J v`` (by the double-backward trick)."""
    with enable_grad():
        inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        v = _checked_v(v, inputs, inputs_are_tuple, create_graph, "jvp")
        outputs = func(*inputs)
        outputs_are_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        dummies = tuple(_zeros_like(out).requires_grad_(True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, dummies, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        grads = _autograd_grad(grad_inputs, dummies, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, outputs, strict, create_graph, "back_trick")
    return (_unpack(_grad_postprocess(outputs, create_graph), outputs_are_tuple),
            _unpack(_grad_postprocess(result, create_graph), outputs_are_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: entry ``[i][j]`` has shape ``outputs[i].shape + inputs[j].shape``.

    ``vectorize`` is accepted for PyTorch compatibility and computes the same rows. ``strategy="forward-mode"``
    builds the Jacobian column by column from Jacobian-vector products.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                             'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, '
                             'prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        return _forward_jacobian(func, inputs, create_graph, strict, vectorize)
    with enable_grad():
        inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        outputs_are_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        if vectorize and not sum(o.nelement() for o in outputs) and any(o.requires_grad for o in outputs):
            raise IndexError("index 0 is out of bounds for dimension 0 with size 0")   # PyTorch's empty batch
        result = tuple(_jacobian_of_output(i, out, inputs, create_graph, strict, vectorize)
                       for i, out in enumerate(outputs))
        if vectorize and create_graph:
            result = _one_tensor_per_input(result, outputs, inputs)
        result = tuple(_grad_postprocess(per_input, create_graph) for per_input in result)
        return _unpack_nested(result, outputs_are_tuple, inputs_are_tuple)


def _one_tensor_per_input(blocks, outputs, inputs):
    """The blocks of each input as views of one tensor of all outputs' rows, as PyTorch's vectorized Jacobian splits
    them (so with ``create_graph`` a block that is zero still requires grad when another of its input does)."""
    columns = []
    for j, x in enumerate(inputs):
        parts = [blocks[i][j].reshape((out.nelement(),) + tuple(x.shape)) for i, out in enumerate(outputs)]
        if not any(p.requires_grad for p in parts) or not all(out.nelement() for out in outputs):
            columns.append([blocks[i][j] for i in range(len(outputs))])
            continue
        rows = registry["Cat"].apply(*parts, 0) if len(parts) > 1 else parts[0]   # ops register Cat
        start, column = 0, []
        for out in outputs:
            column.append(rows[start:start + out.nelement()].reshape(tuple(out.shape) + tuple(x.shape)))
            start += out.nelement()
        columns.append(column)
    return tuple(tuple(column[i] for column in columns) for i in range(len(outputs)))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar function ``func`` at ``inputs``: entry ``[i][j]`` is ``d2f / dx_i dx_j``."""
    inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_function(*args):
        out = func(*args)
        out_is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        if out_is_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single "
                               "element")
        return out.reshape(())

    def gradient_function(*args):
        if outer_jacobian_strategy == "forward-mode":
            args = tuple(a.requires_grad_(True) for a in args)
        gradient = jacobian(scalar_function, args, create_graph=True)
        _check_requires_grad(gradient, "jacobian", strict)
        return gradient

    result = jacobian(gradient_function, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return _unpack_nested(result, inputs_are_tuple, inputs_are_tuple)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """The output of the scalar function ``func(*inputs)`` and the vector-Hessian product ``v^T H``."""
    with enable_grad():
        inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        v = _checked_v(v, inputs, inputs_are_tuple, create_graph, "vhp")
        outputs, outputs_are_tuple = _scalar_outputs(func, inputs, strict, "vhp")
        gradient = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(gradient, "jacobian", strict)
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        grads = _autograd_grad(gradient, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back")
    return (_unpack(_grad_postprocess(outputs, create_graph), outputs_are_tuple),
            _unpack(_grad_postprocess(result, create_graph), inputs_are_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """The output of the scalar function ``func(*inputs)`` and the Hessian-vector product ``H v``."""
    with enable_grad():
        inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        v = _checked_v(v, inputs, inputs_are_tuple, create_graph, "hvp")
        outputs, outputs_are_tuple = _scalar_outputs(func, inputs, strict, "hvp")
        gradient = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(gradient, "jacobian", strict)
        dummies = tuple(_zeros_like(x).requires_grad_(True) for x in inputs)
        double_back = _autograd_grad(gradient, inputs, dummies, create_graph=True)
        _check_requires_grad(gradient, "hessian", strict)
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        grads = _autograd_grad(double_back, dummies, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back_trick")
    return (_unpack(_grad_postprocess(outputs, create_graph), outputs_are_tuple),
            _unpack(_grad_postprocess(result, create_graph), inputs_are_tuple))


# --- Jacobian rows and columns ------------------------------------------------------------------------------------
def _jacobian_of_output(i, out, inputs, create_graph, strict, vectorize=False):
    """Output ``i``'s Jacobian blocks, one per input, stacked from one vector-Jacobian product per output element
    (``vectorize``: PyTorch's rows of all outputs at once, where an empty output's blocks are empty)."""
    if vectorize and not out.nelement():
        return tuple(_make(xp_of(x._data).zeros(tuple(out.shape) + tuple(x.shape), x._data.dtype)) for x in inputs)
    rows = tuple([] for _ in inputs)
    for k in range(out.nelement()):
        grads = _autograd_grad((out,), inputs, (_basis(out, k),), retain_graph=True, create_graph=create_graph)
        for j, (g, x) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. This "
                                       "is not allowed in strict mode.")
                g = _zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. This is "
                                   "not allowed in strict mode when create_graph=True.")
            rows[j].append(g)
    return tuple(_rows_to_block(r, out, x, create_graph) for r, x in zip(rows, inputs))


def _forward_jacobian(func, inputs, create_graph, strict, vectorize):
    """Jacobian from one forward-mode product per input element (PyTorch's ``strategy="forward-mode"``: dual inputs
    carrying one basis direction each, the outputs' tangents as columns). The blocks keep the tangents' graph, and
    come back as PyTorch's lists where inputs or outputs are tuples."""
    if create_graph:
        raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` and "
                                  '`strategy="forward-mode"` are not supported together (yet). Please either set '
                                  '`create_graph=False` or `strategy="reverse-mode"`.')
    if strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not '
                           'supported together (yet). Please either set `strict=False` or `strategy="reverse-mode"`.')
    inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian isonly "
                                  "implemented for `vectorize=True`.")
    from . import forward_ad
    columns, outputs, outputs_are_tuple = [], None, False
    for j, x in enumerate(inputs):
        for k in range(x.nelement()):
            with forward_ad.dual_level():
                duals = tuple(forward_ad.make_dual(y, _basis(y, k) if m == j else _zeros_like(y))
                              for m, y in enumerate(inputs))
                outputs_are_tuple, outs = _as_tuple(func(*duals), "outputs", None)
                column, outputs = [], []
                for out in outs:
                    primal, tangent = forward_ad.unpack_dual(out)
                    outputs.append(primal)
                    column.append(_zeros_like(primal) if tangent is None else tangent)
            columns.append(column)
    blocks = []
    for i, out in enumerate(outputs):
        stacked = _stacked([c[i] for c in columns], 0)
        per_input, start = [], 0
        for x in inputs:
            part = stacked[start:start + x.nelement()]
            start += x.nelement()
            per_input.append(part.permute(*range(1, part.dim()), 0).reshape(tuple(out.shape) + tuple(x.shape)))
        blocks.append(per_input)
    if not inputs_are_tuple:
        blocks = tuple(b[0] for b in blocks)
    return blocks if outputs_are_tuple else blocks[0]


def _stacked(tensors, dim):
    """``tensors`` stacked along ``dim``, through the graph where one requires grad."""
    if any(t.requires_grad for t in tensors):
        return registry["Stack"].apply(*tensors, dim)   # ops register Stack; autograd sits below them
    return _make(xp_of(tensors[0]._data).stack([t._data for t in tensors], axis=dim))


def _basis(x, k):
    """A tensor shaped like ``x``, zero except for a one at flat position ``k``."""
    data = xp_of(x._data).zeros(x._data.size, x._data.dtype)
    data[k] = 1
    return _make(data.reshape(x._data.shape))


def _rows_to_block(rows, out, x, create_graph):
    """Vector-Jacobian products for each output element, as the ``out.shape + x.shape`` block."""
    shape = tuple(out.shape) + tuple(x.shape)
    if not rows:   # PyTorch stacks the rows of an output without elements
        raise RuntimeError("stack expects a non-empty TensorList")
    if create_graph and len(rows) == 1:
        return rows[0].reshape(shape)
    if create_graph and rows:
        return registry["Stack"].apply(*rows, 0).reshape(shape)   # ops register Stack; autograd sits below them
    xp = xp_of(x._data)
    data = xp.stack([r._data for r in rows])
    return _make(data.reshape(shape))


def _zeros_like(x):
    return _make(xp_of(x._data).zeros_like(x._data))


# --- PyTorch's argument handling ----------------------------------------------------------------------------------
def _as_tuple(value, arg_name, fn_name):
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for i, element in enumerate(values):
        if not isinstance(element, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the "
                            f"{where} has type {type(element)}.")
    return is_tuple, values


def _unpack(values, as_tuple):
    return values if as_tuple else values[0]


def _unpack_nested(blocks, outer_tuple, inner_tuple):
    if not inner_tuple:
        blocks = tuple(block[0] for block in blocks)
    return blocks if outer_tuple else blocks[0]


def _grad_preprocess(inputs, create_graph, need_graph):
    """Fresh graph roots for the inputs: views that stay in the caller's graph when a graph is wanted, else detached."""
    return tuple(x.view(x.shape) if create_graph and x.requires_grad else x.detach().requires_grad_(need_graph)
                 for x in inputs)


def _grad_postprocess(values, create_graph):
    return values if create_graph else tuple(v.detach() for v in values)


def _checked_v(v, inputs, inputs_are_tuple, create_graph, fn_name):
    if v is not None:
        v = _grad_preprocess(_as_tuple(v, "v", fn_name)[1], create_graph, need_graph=False)
        _validate_v(v, inputs, inputs_are_tuple)
    elif len(inputs) != 1 or inputs[0].nelement() != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single "
                           "Tensor with a single element.")
    return v


def _validate_v(v, other, other_is_tuple):
    if len(other) != len(v):
        if other_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (element, reference) in enumerate(zip(v, other)):
        if element.shape != reference.shape:
            prefix = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {reference.size()} but got {element.size()}.")


def _scalar_outputs(func, inputs, strict, fn_name):
    outputs = func(*inputs)
    outputs_are_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    if outputs_are_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")
    return outputs, outputs_are_tuple


_INDEPENDENT = {
    "hessian": "The hessian of the user-provided function with respect to input {i} is independent of the input. "
               "This is not allowed in strict mode. You should ensure that your function is thrice differentiable "
               "and that the hessian depends on the inputs.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function with respect to "
                "input {i} is independent of the input. This is not allowed in strict mode. You should ensure that "
                "your function is twice differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the user-provided "
                   "function. This is not allowed in strict mode.",
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs must be computed in "
               "a differentiable manner from the input when running in strict mode.",
}


def _check_requires_grad(values, kind, strict):
    if not strict:
        return
    for i, value in enumerate(values):
        if value is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode.")
        if not value.requires_grad:
            raise RuntimeError(_INDEPENDENT[kind].format(i=i))


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` over the outputs that require grad; None for every input when none does."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(out, g) for out, g in zip(outputs, grad_outputs) if out is not None and out.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _autograd_grad_raw(tuple(p[0] for p in pairs), inputs, tuple(p[1] for p in pairs), retain_graph=retain_graph,
                              create_graph=create_graph, allow_unused=True)


_STRICT_MISSING = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict "
            "mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when using "
                  "the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                   "strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. "
                         "This is not allowed in strict mode as it prevents from using the double backward trick to "
                         "replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    result = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT_MISSING[stage].format(i=i))
            g = _zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        result.append(g)
    return tuple(result)
