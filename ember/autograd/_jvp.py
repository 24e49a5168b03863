"""The dispatch hook of forward-mode AD: the tangents of each op's outputs, computed eagerly when it runs with a
dual input, from rules that hold for every op.

- An op whose output aliases its one tensor input (a view) is linear: its tangent is the same op on the input's
  tangent, a view of that tangent, as in PyTorch.
- An in-place write (``AssignInplace``) writes the result's tangent into the target's tangent in place (a target
  without one, or a view of a base without one, gets zeros first, so the base's tangent sees the write).
- Every other op takes its Jacobian-vector product from its backward: the vector-Jacobian product ``u -> J^T u``
  is linear in ``u``, so differentiating it with respect to ``u`` along the tangents gives ``J v``.
- Composites pass through (the primitives inside them dispatch here; views they make directly get views of the
  tangent); ``autograd.Function``s of user code need their own ``jvp``, as in PyTorch.
"""
import contextlib

from .. import _alias
from .._backend import xp_of
from .._dtype import promote_types
from .._tensor import Tensor, _make, grad_state
from . import _dual as _fw
from .engine import _conform, grad as _grad
from . import function as _function
from .function import Composite, Function, Primitive

_state = {"suspended": 0}


@contextlib.contextmanager
def suspended():
    """Ops run inside compute no tangents (the hook's own work, aliases ``unpack_dual`` hands out)."""
    _state["suspended"] += 1
    try:
        yield
    finally:
        _state["suspended"] -= 1


@contextlib.contextmanager
def _unpacked():
    """The hook's own runs of ops save nothing through the user's saved-tensor hooks (they see the user's graph)."""
    state = _function.saved_tensors_hooks_state
    if not _function._pushed or not state.stack or state.stack[-1] is None:
        yield
        return
    stack, state.stack = state.stack, state.stack + (None,)
    try:
        yield
    finally:
        state.stack = stack


def forward_hook(cls, args, kwargs, proceed):
    """Runs the op and gives its outputs their tangents when an input has one."""
    if _state["suspended"] or grad_state.inference:
        return proceed(args, kwargs)
    tangents = None
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            tangent = _fw.tangent_of(a)
            if tangent is not None:
                if tangents is None:
                    tangents = {}
                tangents[i] = tangent
    if tangents is None:
        return proceed(args, kwargs)
    unsupported = _NO_FORWARD_AD.get(cls.__name__)
    if unsupported is not None:
        _refuse(unsupported, args, kwargs)
    constant = _CONSTANT_IN.get(cls.__name__)
    if constant is not None:   # PyTorch's formula is zeros for these inputs: no J v computed (no -0.0 from 0 * v)
        tangents = {i: t for i, t in tangents.items() if i not in constant}
        if not tangents:
            return _zero_tangents(proceed(args, kwargs))
    if cls.__name__ == "AssignInplace" and issubclass(cls, Composite):
        return _assign(args, kwargs, proceed, tangents)
    if not issubclass(cls, Function):
        return _composite(args, kwargs, proceed, tangents)
    if not issubclass(cls, Primitive) and not _alias.is_ember_module(cls.__module__):
        return _custom_function(cls, args, kwargs, proceed, tangents)
    return _primitive(cls, args, kwargs, proceed, tangents)


def _composite(args, kwargs, proceed, tangents):
    """A composite's outputs: the ops inside it gave them their tangents, except views it made of a dual input
    directly (a fast path outside any primitive), which get the matching view of that input's tangent."""
    output = proceed(args, kwargs)
    for out in output if isinstance(output, tuple) else (output,):
        if isinstance(out, Tensor) and out._data.dtype.kind in "fc" and _fw.tangent_of(out) is None:
            for i, tangent in tangents.items():
                source = args[i]._data
                if xp_of(source).may_share_memory(out._data, source):
                    view = _fw.view_of_tangent(out, args[i], tangent)
                    if view is not None:
                        _fw.set_tangent(out, view)
                        break
    return output


def _primitive(cls, args, kwargs, proceed, tangents):
    """A primitive's outputs with their tangents: a view op's from the op on the tangent, others from J v."""
    user_graph = grad_state.enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args)
    leaves, inner, connected = {}, list(args), {}
    for i, a in enumerate(args):
        if i in tangents:
            leaves[i] = inner[i] = _make(a._data, requires_grad=True)
        elif isinstance(a, Tensor) and a.requires_grad:
            inner[i] = _make(a._data, requires_grad=user_graph)
        if user_graph and isinstance(a, Tensor) and a.requires_grad:
            connected[i] = inner[i]   # the tangents depend on it (reverse over forward): see _Reconnect
    previous, grad_state.enabled = grad_state.enabled, True
    try:
        with _unpacked():
            recorded = proceed(tuple(inner), kwargs)
    finally:
        grad_state.enabled = previous
    single = not isinstance(recorded, tuple)
    recorded_outputs = (recorded,) if single else recorded
    if user_graph:
        output = proceed(args, kwargs)
        _save_outputs_as_tensors(output)
    else:
        output = _detached(recorded) if single else tuple(_detached(o) for o in recorded)
    outputs = (output,) if single else output
    if len(tangents) == 1 and _is_view(recorded_outputs, args, tangents):
        (i, tangent), = tangents.items()
        with suspended():
            viewed = proceed(args[:i] + (tangent,) + args[i + 1:], kwargs)
        for out, t in zip(outputs, (viewed,) if single else viewed):
            if isinstance(out, Tensor) and isinstance(t, Tensor) and out._data.dtype.kind in "fc":
                t._version_counter = tangent._version_counter
                t._base = tangent._base if tangent._base is not None else tangent
                _fw.set_tangent(out, t)
        return output
    with _unpacked():
        jvps = _jvp(recorded_outputs, leaves, tangents, bool(connected))
    widen = _widened_dtype(args, tangents)
    # PyTorch's formulas for products reference the other factor's primal: their tangents join the inputs' graph
    # (with zero gradients where the value does not depend on them), as every tangent that depends on them does
    joined = connected and cls.__name__ in _PRODUCTS and (cls.__name__ != "Div" or isinstance(args[1], Tensor))
    for out, t in zip(outputs, jvps):
        if t is not None:
            t = _own(t, tangents)
            if widen is not None:
                t = _widen(t, widen)
            if connected and (t.requires_grad or joined):
                with suspended(), _unpacked():
                    t = _Reconnect.apply(t, [connected[i] for i in connected], *(args[i] for i in connected))
                if joined:   # PyTorch's node for a product's tangent: the sum of its two terms
                    t.grad_fn.__class__ = _product_node()
            _fw.set_tangent(out, t)
    return output


class _Reconnect(Function):
    """A tangent computed from stand-ins of the op's inputs, joined to the inputs themselves: its gradient reaches
    each input requiring grad through the stand-in's (zeros where the tangent does not depend on one), as PyTorch's
    tangents are differentiable in the primals."""

    @staticmethod
    def forward(ctx, tangent, standins, *inputs):
        ctx.tangent, ctx.standins = tangent, standins
        return _make(tangent._data)

    @staticmethod
    def backward(ctx, grad):
        grads = [None] * len(ctx.standins)
        if ctx.tangent.requires_grad:
            grads = _grad(ctx.tangent, ctx.standins, grad, retain_graph=True, allow_unused=True,
                          create_graph=grad_state.enabled)
        zeros = [_make(xp_of(s._data).zeros_like(s._data)) if g is None else g for g, s in zip(grads, ctx.standins)]
        return (grad if ctx.tangent.requires_grad else None, None) + tuple(zeros)


_product_nodes = []


def _product_node():
    """The class of a product's tangent node: ``_Reconnect``'s, shown under PyTorch's name ``AddBackward0``."""
    if not _product_nodes:
        base = _Reconnect._node_cls
        _product_nodes.append(type("AddBackward0", (base,), {"_python_function": False, "__module__": base.__module__}))
    return _product_nodes[0]


# primitives whose tangents PyTorch computes from the other factor's primal (``self_t * other_p + other_t * self_p``);
# a division by a Python number is left out: it is how mean divides its sum (PyTorch's mean references no primal)
_PRODUCTS = frozenset(("Mul", "Div", "Matmul", "Linear", "Outer", "Einsum"))


def _own(tangent, tangents):
    """``tangent``, copied where it shares memory with an input's tangent (an op whose backward passes the gradient
    through, clone's or an addition's, gives the input's tangent itself): an in-place op on the output must not
    write into the input's tangent, as in PyTorch."""
    xp = xp_of(tangent._data)
    for other in tangents.values():
        if xp.may_share_memory(tangent._data, other._data):
            if tangent.requires_grad:
                with suspended():
                    return tangent.clone()
            return _make(tangent._data.copy())
    return tangent


def _widened_dtype(args, tangents):
    """The dtype an op's output tangents take when a tangent's dtype is not its primal's (PyTorch keeps a float64
    tangent of a float32 primal in float64 through every formula), or None when all match."""
    widest = None
    for i, tangent in tangents.items():
        mine, theirs = tangent._data.dtype, args[i]._data.dtype
        if mine != theirs and mine.kind == "f" and theirs.kind == "f":
            widest = tangent.dtype if widest is None else promote_types(widest, tangent.dtype)
    return widest


def _widen(tangent, dtype):
    """``tangent`` promoted with ``dtype`` (a float tangent only: complex results keep theirs)."""
    if tangent._data.dtype.kind != "f":
        return tangent
    target = promote_types(tangent.dtype, dtype)
    if target is tangent.dtype:
        return tangent
    with suspended():
        return tangent.to(target)


# ops PyTorch has no forward derivative for: the ATen name its error gives (a function of the arguments where it
# depends on them); names in "aten::" form are ops without any derivative, with the shorter message
def _cdist_name(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or compute_mode in (
        None, "use_mm_for_euclid_dist_if_necessary") and (x1.shape[-2] > 25 or x2.shape[-2] > 25))
    return "_euclidean_dist" if mm else "_cdist_forward"


def _grid_name(input, *args, **kwargs):
    return "grid_sampler_3d" if input.dim() == 5 else "grid_sampler_2d"


def _unique_name(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    return "_unique2" if dim is None else "unique_dim"


_NO_FORWARD_AD = {
    "cdist": _cdist_name, "pdist": "_pdist_forward", "embedding_bag": "_embedding_bag", "unique": _unique_name,
    "unique_consecutive": "unique_consecutive", "ctc_loss": "_ctc_loss", "multi_margin_loss": "multi_margin_loss",
    "multilabel_margin_loss": "multilabel_margin_loss_forward", "GridSampler2D": _grid_name,
    "GridSampler3D": _grid_name, "grid_sampler": _grid_name, "Igamma": "igamma", "Igammac": "igammac",
    "Zeta": "special_zeta", "ormqr": "ormqr", "Geqrf": "geqrf", "bincount": "aten::bincount",
    "histogram": "aten::histogram", "histogramdd": "aten::_histogramdd_bin_edges",
    "LDLFactor": "aten::linalg_ldl_factor_ex",
}


# primitives whose output does not vary with the inputs at these positions (PyTorch: zeros_like tangents)
_CONSTANT_IN = {"Fill": (0,), "CopyFrom": (0,), "Round": (0,), "Sign": (0,)}


def _zero_tangents(output):
    for out in output if isinstance(output, tuple) else (output,):
        if isinstance(out, Tensor) and out._data.dtype.kind in "fc":
            _fw.set_tangent(out, _make(xp_of(out._data).zeros_like(out._data)))
    return output


forward_transforms = [0]
"""How many forward-mode function transforms (``func.jvp``, ``func.jacfwd``) are running their function: there the
tensors requiring grad stand for PyTorch's dual tensors (``func`` counts them)."""


def refuse_duals(name, *tensors):
    """PyTorch's error for an op without a forward derivative (``name``, ATen's) when a tensor has a tangent (or,
    inside a forward-mode transform, requires grad); for ops written outside the dispatch point (a function, not a
    composite). Nothing is looked up outside a level or a transform."""
    if _fw.tangents and any(isinstance(t, Tensor) and _fw.tangent_of(t) is not None for t in tensors) or \
            forward_transforms[0] and any(isinstance(t, Tensor) and t.requires_grad for t in tensors):
        _refuse(name, (), {})


def refuse_in_transform(cls, args, kwargs):
    """Inside a forward-mode transform: PyTorch's error for an op without a forward derivative on an argument that
    requires grad."""
    unsupported = _NO_FORWARD_AD.get(cls.__name__)
    if unsupported is not None and any(isinstance(a, Tensor) and a.requires_grad for a in args):
        _refuse(unsupported, args, kwargs)


def _refuse(name, args, kwargs):
    """PyTorch's error for an op without a forward derivative run on a dual tensor."""
    if callable(name):
        name = name(*args, **kwargs)
    if name.startswith("aten::"):
        raise NotImplementedError(f"Trying to use forward AD with {name} that does not support it.")
    raise NotImplementedError(f"Trying to use forward AD with {name} that does not support it because it has not "
                              "been implemented yet.\nPlease file an issue to PyTorch at "
                              "https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml so that we "
                              "can prioritize its implementation or submit a PR adding the implementation to "
                              "derivatives.yaml")


def _save_outputs_as_tensors(output):
    """Makes the node of ``output`` keep its outputs as the tensors themselves where it saved them, so a backward
    run inside the level (forward over reverse) reads them with their tangents; a saved output is otherwise read
    back as a fresh tensor on its array."""
    outputs = output if isinstance(output, tuple) else (output,)
    node = next((o.grad_fn for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None), None)
    saved = getattr(node, "_saved", None)
    if not saved or not any(entry is not None and entry[0] == "output" for entry in saved):
        return
    node._saved = [("tensor", outputs[entry[1][2]], entry[2]) if entry is not None and entry[0] == "output" else entry
                   for entry in saved]


def _jvp(outputs, leaves, tangents, connected=False):
    """Per output, ``J v`` (None for outputs that are not differentiable), by differentiating the backward; with
    its own graph where a tangent requires grad or ``connected`` inputs do."""
    differentiable = [o for o in outputs if isinstance(o, Tensor) and o.requires_grad]
    if not differentiable:
        return [None] * len(outputs)
    graph = grad_state.enabled and (connected or any(t.requires_grad for t in tangents.values()))
    positions = list(leaves)
    with suspended():
        previous, grad_state.enabled = grad_state.enabled, True
        try:
            # ones, not zeros: J^T u is linear in u, but a backward may compute it through log|u| (logcumsumexp's)
            dummies = [_make(xp_of(o._data).ones_like(o._data), requires_grad=True) for o in differentiable]
            vjps = _node_vjps(outputs, dummies, [leaves[i] for i in positions], positions)
            pairs = [(g, _cast(tangents[i], g)) for g, i in zip(vjps, positions) if g is not None and g.requires_grad]
            grad_state.enabled = graph
            jvps = _grad([g for g, _ in pairs], dummies, [v for _, v in pairs], create_graph=graph,
                         allow_unused=True) if pairs else [None] * len(dummies)
        finally:
            grad_state.enabled = previous
    results, n = [], 0
    for o in outputs:
        if isinstance(o, Tensor) and o.requires_grad:
            t = jvps[n]
            results.append(_make(xp_of(o._data).zeros_like(o._data)) if t is None else t)
            n += 1
        else:
            results.append(None)
    return results


def _node_vjps(outputs, dummies, leaves, positions):
    """``J^T u`` for the leaves: the one node the stand-in forward recorded, run with a graph (as the engine would
    run it, without the engine's set-up: its output gradients, then each input's summed back to its shape)."""
    node = next(o.grad_fn for o in outputs if isinstance(o, Tensor) and o.requires_grad)
    grads, n = [], 0
    for o in outputs:
        if isinstance(o, Tensor) and o.requires_grad:
            grads.append(dummies[n])
            n += 1
        else:
            grads.append(None if not isinstance(o, Tensor) or not node.materialize_grads
                         else _make(xp_of(o._data).zeros_like(o._data)))
    vjps = node._function.backward(node, *grads)
    vjps = vjps if isinstance(vjps, tuple) else (vjps,)
    return [None if vjps[i] is None else _conform(vjps[i], leaf._data.shape, leaf._data.dtype, node, i)
            for i, leaf in zip(positions, leaves)]


def _assign(args, kwargs, proceed, tangents):
    """An in-place write: the primal written, then the result's tangent (zeros if none) into the target's."""
    target = args[0]
    with suspended():
        written = proceed(args, kwargs)
    source = tangents.get(1)
    tangent = tangents.get(0)
    if tangent is None:
        tangent = _new_tangent(target)
    if tangent is None:   # no tangent storage shared with the base: the target gets one of its own
        tangent = _make(xp_of(target._data).zeros_like(target._data))
        _fw.set_tangent(target, tangent)
    with suspended():
        if source is None:
            tangent._data[...] = 0
            tangent._version_counter[0] += 1
        elif grad_state.enabled and (source.requires_grad or tangent.requires_grad):
            tangent.copy_(source)
        else:
            tangent._data[...] = source._data
            tangent._version_counter[0] += 1
    if written is not target:
        _fw.set_tangent(written, tangent)
    return written


def _new_tangent(target):
    """Zeros as the tangent of ``target`` that is about to be written into; for a view, the view of a tangent of
    its base (zeros too, if the base had none), so the base sees the write as in PyTorch."""
    base = target._base
    if base is None:
        tangent = _make(xp_of(target._data).zeros_like(target._data))
        _fw.set_tangent(target, tangent, shared=True)
        return tangent
    base_tangent = _fw.tangent_of(base)
    if base_tangent is None:
        base_tangent = _make(xp_of(base._data).zeros_like(base._data))
        _fw.set_tangent(base, base_tangent, shared=True)
    return _fw.tangent_of(target)


def _custom_function(cls, args, kwargs, proceed, tangents):
    """A user ``autograd.Function`` with a dual input: forward, then its ``jvp`` on the ctx forward filled."""
    if "jvp" not in _defined(cls):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it with "
                                  "forward mode AD.")
    leaves, inner = {}, list(args)
    for i in tangents:
        leaves[i] = inner[i] = _make(args[i]._data, requires_grad=True)
    user_graph = grad_state.enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args)
    previous, grad_state.enabled = grad_state.enabled, True
    try:
        with suspended(), _unpacked():
            recorded = proceed(tuple(inner), kwargs)
    finally:
        grad_state.enabled = previous
    single = not isinstance(recorded, tuple)
    recorded_outputs = (recorded,) if single else recorded
    ctx = next(o.grad_fn for o in recorded_outputs if isinstance(o, Tensor) and o.grad_fn is not None)
    originals = {id(leaf): args[i] for i, leaf in leaves.items()}
    with suspended():
        result = cls.jvp(_ForwardContext(ctx, originals), *(_input_tangent(a, tangents.get(i))
                                                              for i, a in enumerate(args)))
    if user_graph:
        output = proceed(args, kwargs)
    else:
        output = _detached(recorded) if single else tuple(_detached(o) for o in recorded)
    results = result if isinstance(result, tuple) else (result,)
    if len(results) != len(recorded_outputs):
        raise RuntimeError(f"Function's jvp returned an invalid number of forward gradients (expected "
                           f"{len(recorded_outputs)} but got {len(results)})")
    for out, t in zip((output,) if single else output, results):
        if isinstance(out, Tensor) and isinstance(t, Tensor):
            _fw.set_tangent(out, t)
    return output


def _input_tangent(arg, tangent):
    """What a custom ``jvp`` receives for one input: its tangent, zeros for a float or complex tensor without one
    (PyTorch materializes them), None for anything else."""
    if tangent is None and isinstance(arg, Tensor) and arg._data.dtype.kind in "fc":
        return _make(xp_of(arg._data).zeros_like(arg._data))
    return tangent


class _ForwardContext:
    """The ctx a custom ``jvp`` receives: forward's ctx, whose ``saved_tensors`` are what ``save_for_forward`` kept."""

    def __init__(self, ctx, originals):
        self.__dict__["_ctx"] = ctx
        self.__dict__["_originals"] = originals   # the inputs forward saw as requiring grad, by their stand-ins

    def __getattr__(self, name):
        return getattr(self._ctx, name)

    def __setattr__(self, name, value):
        setattr(self._ctx, name, value)

    def __delattr__(self, name):
        delattr(self._ctx, name)

    @property
    def saved_tensors(self):
        saved = self._ctx.__dict__.get("_saved_for_forward", ())
        return tuple(self._originals.get(id(t), t) for t in saved)


def _defined(cls):
    names = set()
    for klass in cls.__mro__:
        if klass is Function:
            break
        names.update(vars(klass))
    return names


def _is_view(outputs, args, tangents):
    """Whether the op returned views of its one dual input (its only tensor argument)."""
    (i,) = tangents
    if sum(isinstance(a, Tensor) for a in args) != 1:
        return False
    source = args[i]._data
    xp = xp_of(source)
    for o in outputs:
        if isinstance(o, Tensor) and o._data.size and xp.may_share_memory(o._data, source):
            return True
    return False


def _detached(value):
    return _make(value._data) if isinstance(value, Tensor) else value


def _cast(tangent, like):
    return tangent if tangent._data.dtype == like._data.dtype else tangent.to(like.dtype)
