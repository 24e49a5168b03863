"""The differentiation transforms of ``ember.func``. Each differentiated argument enters the function as a fresh
alias that requires grad (a leaf at the outermost level, a view of the outer alias when nested), and gradients are
taken with ``create_graph`` whenever an enclosing transform is differentiating, so transforms nest."""
import contextlib
import functools

from .. import autograd
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from . import _active, _vmap
from .._dtype import promote_types
from ..utils._pytree import tree_flatten, treespec_pprint
from ._pytree import _flatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]


def _alias(t):
    """The tensor ``t`` as a differentiable input of this level. Inside vmap the alias is batched at every active
    level (its physical leaf kept as ``_leaf``), so that gradients come out per example."""
    if not isinstance(t, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(t)}")
    levels = list(_vmap._levels)
    if levels:
        leaf = _plain_alias(_vmap.physical(t, levels))
        alias = _vmap.rewrap(leaf, levels)
        alias._leaf, alias._levels = leaf, levels
        return alias
    return _plain_alias(t)


def _plain_alias(t):
    if t.requires_grad and is_grad_enabled():
        return t.view_as(t)
    return t.detach().requires_grad_(True)


def _autograd_grad(outputs, inputs, grad_outputs, *, is_grads_batched=False, **options):
    """``autograd.grad`` on logical tensors: inside vmap it differentiates their physical tensors (the inputs being
    aliases made by ``_alias``) and returns the gradients batched again."""
    levels = list(_vmap._levels)
    if not levels:
        return autograd.grad(outputs, inputs, grad_outputs, is_grads_batched=is_grads_batched, **options)
    if is_grads_batched:
        from .. import stack
        rows = [_autograd_grad(outputs, inputs, [g[b] for g in grad_outputs], **options)
                for b in range(grad_outputs[0].shape[0])]
        return [None if row[0] is None else stack(list(row)) for row in zip(*rows)]
    cotangents = [_vmap.physical(c if c is not None else o.new_ones(o.shape), levels)
                  for o, c in zip(outputs, grad_outputs)]
    made = getattr(inputs[0], "_levels", []) if inputs else levels
    if len(made) < len(levels):
        return _outside_grad(outputs, inputs, cotangents, made, levels, options)
    physical = [_vmap.physical(o, levels) for o in outputs]
    grads = autograd.grad(physical, [i._leaf for i in inputs], cotangents, **options)
    return [None if g is None else _vmap.rewrap(g, levels) for g in grads]


def _outside_grad(outputs, inputs, cotangents, made, levels, options):
    """Gradients for inputs made under only the outer ``made`` of the active vmap ``levels`` (``vjp_fn`` called
    inside a vmap entered after ``vjp``): the graph holds no examples of the inner levels, so it is differentiated once
    per inner example of the cotangents."""
    outer, inner = len(made), len(levels) - len(made)
    front, back = list(range(inner)), list(range(outer, outer + inner))
    physical = [_vmap.physical(o, made) if made else o for o in outputs]
    flat = [c.movedim(back, front).reshape((-1,) + tuple(p.shape)) for p, c in zip(physical, cotangents)]
    grads = autograd.grad(physical, [i._leaf if made else i for i in inputs], flat, is_grads_batched=True, **options)
    sizes = tuple(level.size for level in levels[outer:])
    return [None if g is None else _vmap.rewrap(g.reshape(sizes + tuple(g.shape[1:])).movedim(front, back), levels)
            for g in grads]


def _outer_tracking(leaves):
    return is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in leaves)


def _captured_tracking(outputs, aliases, grad_enabled):
    """Whether ``outputs`` depend on a tensor requiring grad that is none of this transform's ``aliases`` (a module
    parameter the function captured): PyTorch's results then stay in the caller's graph (a gradient penalty
    differentiates ``grad``'s result with respect to the parameters), so the gradients are taken with a graph."""
    if not grad_enabled:   # grad mode outside the transform
        return False
    inner = {id(getattr(a, "_leaf", a)) for a in aliases}
    stack, seen = [], set()
    for o in outputs:
        if isinstance(o, Tensor) and o.requires_grad:
            if o.grad_fn is None:
                if id(getattr(o, "_value", o)) not in inner:
                    return True
            else:
                stack.append(o.grad_fn)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in getattr(node, "_edges", None) or ():
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Tensor):
                if id(target) not in inner:
                    return True
            elif target is not None:
                stack.append(target)
    return False


def _argnums_tuple(argnums, count, name=None):
    """``(single, argnums as a tuple of non-negative positions)``, with PyTorch's checks and messages."""
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    single = isinstance(argnums, int)
    nums = (argnums,) if single else argnums
    wrapped = []
    for n in nums:
        if not isinstance(n, int):
            raise RuntimeError(f"argnum must be int, got: {type(n)}")
        if not -count <= n < count:
            raise RuntimeError(f"Got argnum={n}, but only {count} positional inputs")
        wrapped.append(n % count)
    if not single:
        if not wrapped:
            raise RuntimeError("argnums must be non-empty")
        if len(set(wrapped)) != len(wrapped):
            raise RuntimeError(f"argnums elements must be unique, got {tuple(wrapped)}")
    return single, tuple(wrapped)


def _tensor_outputs(leaves, api):
    """PyTorch's check that a transformed function returned tensors (and something)."""
    if (len(leaves) == 1 and leaves[0] is None) or not leaves:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = {leaves})")
    for o in leaves:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(o)}")


def _split_aux(result, api, check_aux=True):
    """(output, aux) of a ``has_aux`` function's result; ``check_aux``: refuse an aux that is not tensors now."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    if check_aux:
        _tensor_aux(result[1])
    return result


def _tensor_aux(aux):
    """PyTorch's check that a ``has_aux`` function's aux holds only tensors (in tuples, lists and dicts)."""
    for leaf in tree_flatten(aux)[0]:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(leaf)}")


def _differentiable_outputs(leaves):
    """vjp's check that every output has a floating-point or complex dtype (jacrev's too, being made of vjp)."""
    for o in leaves:
        if not (o.is_floating_point() or o.is_complex()):
            raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got Tensor "
                               f"with dtype {o.dtype}")


def _differentiable_primals(leaves):
    """make_dual's check that every primal has a floating-point or complex dtype (jvp's and jacfwd's)."""
    for p in leaves:
        if isinstance(p, Tensor) and not (p.is_floating_point() or p.is_complex()):
            raise ValueError(f"Expected primal to be floating point or complex, but got: {p.dtype}")


def _refuse_complex(name, tree, is_input):
    for index, leaf in enumerate(_flatten(tree)[0]):
        if isinstance(leaf, Tensor) and leaf.is_complex():
            raise RuntimeError(f"{name}: Expected all {'inputs' if is_input else 'outputs'} to be real but received "
                               f"complex tensor at flattened input idx: {index}")


def _grads(outputs, inputs, cotangents, create_graph):
    """Gradients of ``outputs`` (weighted by ``cotangents``) for ``inputs``; zeros where an input is unused."""
    needs = [o for o in outputs if o.requires_grad]
    if not needs:
        return [i.detach() * 0 for i in inputs]
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    for _, c in pairs:   # autograd.grad's check, which PyTorch's transforms reach
        if c is not None and not isinstance(c, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got {type(c).__name__}")
    grads = _autograd_grad([o for o, _ in pairs], inputs, [c for _, c in pairs], retain_graph=True,
                           create_graph=create_graph, allow_unused=True)
    return [g if g is not None else i.detach() * 0 for g, i in zip(grads, inputs)]


def _detach_unless(tree, keep):
    if keep:
        return tree
    leaves, rebuild = _flatten(tree)
    return rebuild([t.detach() if isinstance(t, Tensor) else t for t in leaves])


# --- grad ------------------------------------------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of ``func``'s scalar output for the ``argnums`` arguments, the output)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args), "grad_and_value")
        args = list(args)
        outer = _outer_tracking(_flatten([args[n] for n in nums])[0])
        grad_enabled = is_grad_enabled()
        with enable_grad():
            rebuilds = {}
            for n in nums:
                leaves, rebuild = _flatten(args[n])
                aliases = [_alias(t) for t in leaves]
                rebuilds[n] = (aliases, rebuild)
                args[n] = rebuild(aliases)
            with _active.running(func=func, args=(args, kwargs)):
                result = func(*args, **kwargs)
            aux = None
            if has_aux:
                result, aux = _split_aux(result, "grad_and_value(f)(*args)", check_aux=False)
            if not isinstance(result, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{type(result)}")
            if result.dim() != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor "
                                   f"with {result.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            inputs = [a for n in nums for a in rebuilds[n][0]]
            outer = outer or _captured_tracking([result], inputs, grad_enabled)
            grads = _grads([result], inputs, [None], create_graph=outer)
            if has_aux:
                _tensor_aux(aux)
        out, start = [], 0
        for n in nums:
            aliases, rebuild = rebuilds[n]
            out.append(rebuild(grads[start:start + len(aliases)]))
            start += len(aliases)
        gradient = out[0] if single else tuple(out)
        value = _detach_unless(result, outer)
        if has_aux:
            return gradient, (value, _detach_unless(aux, outer))
        return gradient, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of ``func``'s scalar output for its ``argnums`` arguments (and ``aux``)."""
    transformed = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradient, value = transformed(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient
    return wrapper


# --- vjp / jvp -------------------------------------------------------------------------------------------------------
def vjp(func, *primals, has_aux=False):
    """(``func(*primals)``, vjp_fn[, aux]): ``vjp_fn(cotangents)`` returns the vector-Jacobian products, one per
    primal."""
    leaves, rebuild = _flatten(primals)
    outer = _outer_tracking(leaves)
    grad_enabled = is_grad_enabled()
    with enable_grad():
        aliases = [_alias(t) for t in leaves]
        with _active.running(func=func, args=primals):
            result = func(*rebuild(aliases))
        aux = None
        if has_aux:
            result, aux = _split_aux(result, "vjp(f, *primals)")
    out_leaves, out_spec = tree_flatten(result)
    _tensor_outputs(out_leaves, "vjp(f, *primals)")
    outer = outer or _captured_tracking(out_leaves, aliases, grad_enabled)
    _differentiable_outputs(out_leaves)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        cot_leaves, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of outputs "
                               f"to the function. cotangents: {treespec_pprint(cot_spec)}, primal output: "
                               f"{treespec_pprint(out_spec)}")
        if create_graph is None:
            create_graph = outer or _outer_tracking(cot_leaves)
        with enable_grad():
            grads = _grads(out_leaves, aliases, cot_leaves, create_graph=create_graph)
        return rebuild(grads)
    result = _detach_unless(result, outer)
    return (result, vjp_fn, _detach_unless(aux, outer)) if has_aux else (result, vjp_fn)


_JVP = "jvp(f, primals, tangents)"


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(``func(*primals)``, the Jacobian-vector product along ``tangents``), by differentiating the linear map
    u -> J^T u with respect to u."""
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    leaves, spec = tree_flatten(primals)
    rebuild = spec.unflatten
    tangent_leaves, tangent_spec = tree_flatten(tangents)
    if spec != tangent_spec:
        raise RuntimeError(f"{_JVP}: Expected primals and tangents to have the same python structure. For example, "
                           f"if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{spec} and tangents with structure {tangent_spec}")
    for name, values in (("primals", leaves), ("tangents", tangent_leaves)):
        if not values:
            raise RuntimeError(f"{_JVP}: Expected {name} to contain at least one Tensor.")
        for value in values:
            if not isinstance(value, Tensor):
                raise RuntimeError(f"{_JVP}: Expected {name} to only contain Tensors, got {type(value)}")
    for p, t in zip(leaves, tangent_leaves):   # make_dual's checks, in its order
        for what, value in (("primal", p), ("tangent", t)):
            if not (value.is_floating_point() or value.is_complex()):
                raise ValueError(f"Expected {what} to be floating point or complex, but got: {value.dtype}")
        if p.shape != t.shape:
            raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                               f"Tensor, this is not supported. Tensor is of size {list(p.shape)} while the given "
                               f"forward gradient is of size {list(t.shape)}.")
    outer = _outer_tracking(leaves)
    differentiating = outer or _outer_tracking(tangent_leaves)
    grad_enabled = is_grad_enabled()
    with enable_grad():
        aliases = [_alias(t) for t in leaves]
        with _active.running(forward=True, func=func, args=primals):
            result = func(*rebuild(aliases))
        aux = None
        if has_aux:
            result, aux = _split_aux(result, _JVP)
        out_leaves, out_spec = tree_flatten(result)
        _tensor_outputs(out_leaves, _JVP)
        if strict and not any(o.requires_grad for o in out_leaves):
            raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is independent of the inputs. "
                               "This is not allowed with strict=True.")
        if _captured_tracking(out_leaves, aliases, grad_enabled):
            outer = differentiating = True
        floats = [o for o in out_leaves if o.is_floating_point() or o.is_complex()]
        dummies = [_alias(o.detach().new_zeros(o.shape)) for o in floats]
        vjps = _grads(floats, aliases, dummies, create_graph=True)
        products = iter(_grads(vjps, dummies, tangent_leaves, create_graph=differentiating))
        # integer and bool outputs have no derivative: PyTorch gives them zero tangents of their dtype
        tangents_out = [next(products) if o.is_floating_point() or o.is_complex() else o.detach().new_zeros(o.shape)
                        for o in out_leaves]
    widest = _widest_tangent(leaves, tangent_leaves)
    if widest is not None:
        tangents_out = [t.to(promote_types(t.dtype, widest)) if t.is_floating_point() else t for t in tangents_out]
    if outer:
        tangents_out = [_joined(t, o, aliases) for t, o in zip(tangents_out, out_leaves)]
    outputs = (_detach_unless(result, outer), out_spec.unflatten(tangents_out))
    return outputs + (_detach_unless(aux, outer),) if has_aux else outputs


def _joined(tangent, output, aliases):
    """``tangent`` joined to the graph of the primals (zero gradients) where PyTorch's would be: its forward
    formulas for products read the other factor's primal, so a product's tangent requires grad even where its value
    does not depend on the primals (a linear layer's tangent along its weights)."""
    if tangent.requires_grad or not output.requires_grad or not _has_product(output):
        return tangent
    from ..autograd._jvp import _Reconnect, _product_node
    joined = _Reconnect.apply(tangent, aliases, *aliases)
    joined.grad_fn.__class__ = _product_node()
    return joined


def _has_product(output):
    """Whether ``output``'s graph holds a product (mul, matmul, linear, ...)."""
    from ..autograd._jvp import _PRODUCTS
    stack, seen = [output.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if getattr(getattr(node, "_function", None), "__name__", None) in _PRODUCTS:
            return True
        stack.extend(edge[0] for edge in getattr(node, "_edges", None) or () if edge is not None
                     and not isinstance(edge[0], Tensor))
    return False


def _widest_tangent(primals, tangents):
    """The widest float dtype of tangents whose dtype differs from their primal's (None when all match): PyTorch's
    tangent outputs take it (a float64 tangent of a float32 primal gives float64 products)."""
    widest = None
    for p, t in zip(primals, tangents):
        if t.dtype != p.dtype and t.is_floating_point() and p.is_floating_point():
            widest = t.dtype if widest is None else promote_types(widest, t.dtype)
    return widest


# --- Jacobians --------------------------------------------------------------------------------------------------------
def _jacobian(func, argnums, has_aux, name, column_products, randomness="same"):
    api = "vjp(f, *primals)" if name == "jacrev" else _JVP   # PyTorch's jacrev is made of vjp, jacfwd of jvp

    @functools.wraps(func)
    def wrapper(*args):
        single, nums = _argnums_tuple(argnums, len(args), name)
        args = list(args)
        _refuse_complex(name, [args[n] for n in nums], True)
        if name == "jacfwd":
            _differentiable_primals(_flatten([args[n] for n in nums])[0])
        outer = _outer_tracking(_flatten([args[n] for n in nums])[0])
        grad_enabled = is_grad_enabled()
        with enable_grad():
            aliases, rebuilds = [], []
            for n in nums:
                leaves, rebuild = _flatten(args[n])
                args[n] = rebuild([_alias(t) for t in leaves])
                aliases += _flatten(args[n])[0]
                rebuilds.append((len(leaves), rebuild))
            with _random_draws(randomness), _active.running(forward=name == "jacfwd", vmapped=name == "jacfwd",
                                                            func=func, args=args):
                result = func(*args)
            aux = None
            if has_aux:
                result, aux = _split_aux(result, api)
            out_leaves, out_rebuild = _flatten(result)
            _tensor_outputs(out_leaves, api)
            if name == "jacrev":
                _differentiable_outputs(out_leaves)
            _refuse_complex(name, out_leaves, False)
            outer = outer or _captured_tracking(out_leaves, aliases, grad_enabled)
            per_output = [column_products(out, aliases, outer) for out in out_leaves]

        def per_argument(blocks):   # the blocks of one output, arranged as the differentiated arguments
            trees, start = [], 0
            for count, rebuild in rebuilds:
                trees.append(rebuild(blocks[start:start + count]))
                start += count
            return trees[0] if single else tuple(trees)
        jac = out_rebuild([per_argument(blocks) for blocks in per_output])
        return (jac, _detach_unless(aux, outer)) if has_aux else jac
    return wrapper


def _basis(t):
    """The identity as a stack of t-shaped one-hot tensors, shape (numel,) + t.shape."""
    from ..ops.creation import eye
    n = t.numel()
    return eye(n, dtype=t.dtype, device=t.device).reshape((n,) + tuple(t.shape))


def _reverse_blocks(out, inputs, create_graph):
    """d out / d input for each input, by one batched vector-Jacobian product per output element."""
    if not out.requires_grad or out.numel() == 0:
        return [out.new_zeros(tuple(out.shape) + tuple(i.shape)) for i in inputs]
    rows = _autograd_grad([out], inputs, [_basis(out)], retain_graph=True, create_graph=create_graph,
                         allow_unused=True, is_grads_batched=True)
    return [(r if r is not None else out.new_zeros((out.numel(),) + tuple(i.shape))).reshape(
        tuple(out.shape) + tuple(i.shape)) for r, i in zip(rows, inputs)]


def _forward_blocks(out, inputs, create_graph):
    """d out / d input for each input, by one batched Jacobian-vector product per input element."""
    if not out.requires_grad:
        return [out.new_zeros(tuple(out.shape) + tuple(i.shape)) for i in inputs]
    dummy = _alias(out.detach().new_zeros(out.shape))
    vjps = _autograd_grad([out], inputs, [dummy], retain_graph=True, create_graph=True, allow_unused=True)
    blocks = []
    for v, i in zip(vjps, inputs):
        if v is None or not v.requires_grad or i.numel() == 0:
            blocks.append(out.new_zeros(tuple(out.shape) + tuple(i.shape)))
            continue
        columns, = _autograd_grad([v], [dummy], [_basis(i)], retain_graph=True, create_graph=create_graph,
                                 allow_unused=True, is_grads_batched=True)
        if columns is None:
            blocks.append(out.new_zeros(tuple(out.shape) + tuple(i.shape)))
            continue
        columns = columns.reshape((i.numel(), out.numel()))
        blocks.append(columns.T.reshape(tuple(out.shape) + tuple(i.shape)))
    return blocks


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function returning the Jacobian of ``func`` for its ``argnums`` arguments, by reverse mode: entry shape
    ``output.shape + input.shape``."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian(func, argnums, has_aux, "jacrev", _reverse_blocks)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """A function returning the Jacobian of ``func`` for its ``argnums`` arguments, column by column (forward
    products): entry shape ``output.shape + input.shape``. ``randomness`` is vmap's (PyTorch vmaps the products):
    'error' refuses random ops in ``func``, 'same' runs it once; 'different' vmaps ``jvp`` over the columns as
    PyTorch does, so each column draws its own numbers."""
    if randomness == "different":
        return _vmapped_jacfwd(func, argnums, has_aux)
    return _jacobian(func, argnums, has_aux, "jacfwd", _forward_blocks, randomness)


def _vmapped_jacfwd(func, argnums, has_aux):
    """jacfwd as PyTorch computes it: ``jvp`` vmapped (randomness='different') over the standard basis."""
    from .. import eye

    @functools.wraps(func)
    def wrapper(*args):
        single, nums = _argnums_tuple(argnums, len(args), "jacfwd")
        _refuse_complex("jacfwd", [args[n] for n in nums], True)
        primals = tuple(args[n] for n in nums)
        flat, spec = tree_flatten(primals)
        sizes = [p.numel() for p in flat]
        total = sum(sizes)
        basis, start = [], 0
        for p, size in zip(flat, sizes):
            basis.append(eye(total, dtype=p.dtype, device=p.device)[:, start:start + size].reshape(total, *p.shape))
            start += size

        def push(*tangents):
            def partial(*diff):
                full = list(args)
                for n, value in zip(nums, diff):
                    full[n] = value
                return func(*full)
            out = jvp(partial, primals, spec.unflatten(tangents), has_aux=has_aux)
            return (out[1], out[2]) if has_aux else out[1]
        results = _vmap.vmap(push, randomness="different")(*basis)
        aux = None
        if has_aux:
            results, aux = results
            aux = _flatten(aux)[1]([a[0] for a in _flatten(aux)[0]])
        leaves, out_rebuild = _flatten(results)
        blocks = []
        for leaf in leaves:
            columns = leaf.movedim(0, -1).split(sizes, dim=-1)
            per_input = [c.reshape(*c.shape[:-1], *p.shape) for c, p in zip(columns, flat)]
            per_arg = spec.unflatten(per_input)
            blocks.append(per_arg[0] if single else per_arg)
        jac = out_rebuild(blocks)
        return (jac, aux) if has_aux else jac
    return wrapper


@contextlib.contextmanager
def _random_draws(randomness):
    """Random draws in the function jacfwd differentiates, as vmap's ``randomness`` allows them."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if randomness != "error":
        yield
        return
    from ..ops import random
    random.draw_hooks.append(_vmap.refuse_random)
    try:
        yield
    finally:
        random.draw_hooks.remove(_vmap.refuse_random)


def hessian(func, argnums=0):
    """A function returning the Hessian of ``func``'s output for its ``argnums`` arguments (jacfwd of jacrev)."""
    return jacfwd(jacrev(func, argnums), argnums)


def linearize(func, *primals):
    """(``func(*primals)``, ``jvp_fn``): ``jvp_fn(*tangents)`` gives the Jacobian-vector products of ``func`` at
    ``primals`` along tangents shaped (and typed) as the primals."""
    output = func(*primals)
    flat_primals, structure = tree_flatten(primals)

    def jvp_fn(*tangents):
        flat_tangents, tangent_structure = tree_flatten(tangents)
        if tangent_structure != structure:
            raise RuntimeError(f"Expected the tangents {tangent_structure} to have the same argspec as the primals "
                               f"{structure}")
        for index, (t, p) in enumerate(zip(flat_tangents, flat_primals)):
            for what, mine, theirs in (("shape", t.shape, p.shape), ("device", t.device, p.device),
                                       ("dtype", t.dtype, p.dtype)):
                if mine != theirs:
                    raise RuntimeError(f"tangent:{index} with {what} {mine} in flattened pytree doesn't match the "
                                       f"{what} {theirs} of the corresponding primal.")
        return jvp(func, primals, tangents)[1]
    return output, jvp_fn

