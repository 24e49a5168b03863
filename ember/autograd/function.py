"""Function and Node: how one op's forward runs and how its backward joins the graph.

``Function.apply`` is the single dispatch point of ember. Ops subclass ``Primitive``, whose forward runs on raw
arrays of ``ctx.xp``; user code subclasses ``Function``, whose forward receives Tensors as in PyTorch. Both record
a ``Node`` (the ``ctx``) when an input requires grad. Backwards are written with Tensor ops, so they can be
differentiated again when ``create_graph=True``.
"""
import collections
import itertools
import threading
import weakref
from collections import OrderedDict

import numpy

from .. import _alias, _backend, _meta
from .._meta import MetaArray as _MetaArray
from .._warnings import transparent
from .._tensor import Tensor, _make, _wrap, add_hook, grad_state
from .grad_mode import no_grad, state
from ._saved import (SavedTensor, _freed_error, _modified_error, _pack, _pack_saved, _unpack, _unpack_packed,
                     saved_leaf_node, saved_tensors_hooks_state)

registry = {}
"""Op name -> Primitive class, for autocast, tracing and export."""

_sequence = itertools.count(1)   # recording order of graph nodes (PyTorch's sequence numbers)
dispatch_hooks = []
"""Callables ``hook(cls, args, kwargs, proceed)`` wrapping every apply while active (autocast, tracing, anomaly)."""

_ndarray = numpy.ndarray
_new = object.__new__


_pushed = 0   # levels pushed on any thread: the one test the op path makes before reading its thread's stack
_pushed_lock = threading.Lock()


def push_saved_tensors_hooks(hooks):
    """Makes ``hooks`` (a ``(pack_hook, unpack_hook)`` pair, or None for none) the innermost on this thread."""
    global _pushed
    state = saved_tensors_hooks_state
    if state.disabled is not None:
        raise RuntimeError(state.disabled)
    state.stack = state.stack + (hooks,)
    with _pushed_lock:
        _pushed += 1


def pop_saved_tensors_hooks():
    """Removes this thread's innermost level of saved-tensor hooks."""
    global _pushed
    state = saved_tensors_hooks_state
    state.stack = state.stack[:-1]
    with _pushed_lock:
        _pushed -= 1


def overwriting(tensor, function, args, kwargs):
    """``function(tensor, *args, **kwargs)`` for an in-place method that will write its result into ``tensor``:
    ops that save ``tensor`` meanwhile pack a copy of it (PyTorch's in-place ops save the original's clone)."""
    state = saved_tensors_hooks_state
    previous, state.overwriting = state.overwriting, tensor
    try:
        return function(tensor, *args, **kwargs)
    finally:
        state.overwriting = previous


class FunctionCtx:
    """The type of the ``ctx`` a Function's forward, ``setup_context`` and backward receive (PyTorch's name, for
    annotations and ``isinstance``); its methods are Node's, the ctx ember records."""


class Node(FunctionCtx):
    """A recorded op: the ctx its forward filled, its backward, and edges to the nodes of its inputs."""

    _function = None
    _num_outputs = 1
    _output_meta = None   # (shape, dtype) per output; recorded for multi-output nodes, which may get None grads
    _saved = None
    _freed = False
    _output_hooks = None
    _retained = None
    _non_differentiable = ()
    _kept_versions = ()   # (tensor, version) pairs whose arrays the node holds (_saved.keep_versions)
    _trace = None
    _hooked = False       # set once any hook or retain_grad is registered: the engine's fast path checks only this
    _backward_on_arrays = False   # a Primitive's node with an array_backward
    _python_function = False      # the node of a user's autograd.Function
    _sequence = 0         # when the node was recorded (later: larger); the engine runs ready nodes latest first
    _shown_positions = None   # which inputs next_functions lists (None: as the class's graph_inputs give them)
    materialize_grads = True
    xp = numpy

    def name(self):
        """The node's name, such as ``MulBackward0``."""
        return type(self).__name__

    def _sequence_nr(self):
        """The node's place in recording order, which sets the order backward runs nodes in (later first)."""
        return self._sequence

    def __getattr__(self, name):
        """PyTorch's ``_saved_<name>`` attributes of an op's node: what its primitive saved for backward, under the
        names the primitive's ``saved_names`` give them (``_saved_self``, ``_saved_other``, ``_saved_result``, ...);
        None for one this call did not need. Reading one unpacks it as backward does. The primitive's
        ``saved_values`` add PyTorch's saved arguments (``_saved_dim``, ``_saved_alpha``: a value, or a function of
        the node); a composite's node shows what PyTorch's node for the whole op saves (``name_node``'s ``saved``)."""
        if name.startswith("_saved_"):
            key = name[7:]
            shown = self.__dict__.get("_shown_saved")
            if shown is not None:
                if key in shown:
                    value = shown[key]
                    if value is RELEASED:
                        raise _freed_error()
                    return value
            else:
                names = getattr(self._function, "saved_names", ())
                if key in names:
                    if self._freed:
                        raise _freed_error()
                    index, saved = names.index(key), self._saved
                    entry = saved[index] if saved and index < len(saved) else None
                    return None if entry is None else _unpack(self, entry)
                values = _saved_arguments(self)
                if key in values:
                    value = values[key]
                    return value(self) if callable(value) else value
        if name.startswith("_raw_saved_") and "_shown_saved" not in self.__dict__:
            names = getattr(self._function, "saved_names", ())
            if name[11:] in names:
                return SavedTensor(self, names.index(name[11:]))
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __dir__(self):
        shown = self.__dict__.get("_shown_saved")
        if shown is not None:
            names = tuple(shown)
        else:
            names = tuple(getattr(self._function, "saved_names", ())) + tuple(_saved_arguments(self))
        return sorted(set(super().__dir__()) | {"_saved_" + n for n in names})

    def __repr__(self):
        if self._python_function:   # a custom Function's node is a Python class of autograd.function, as PyTorch's
            return f"<{_alias.package()}.autograd.function.{type(self).__qualname__} object at {hex(id(self))}>"
        return f"<{type(self).__name__} object at {hex(id(self))}>"   # CopySlices, whose name() is qualified

    # --- what forward records -----------------------------------------------------------------
    def save_for_backward(self, *values):
        """Keeps inputs or outputs (arrays in a Primitive, Tensors in a Function) for backward."""
        self._saved = values

    def save_for_forward(self, *tensors):
        """Keeps tensors for a custom Function's ``jvp`` (forward-mode AD), which reads them as ``saved_tensors``."""
        self._saved_for_forward = tensors

    def mark_non_differentiable(self, *outputs):
        """Declares outputs that have no gradient (indices, masks)."""
        self._non_differentiable = tuple(id(o) for o in outputs)

    def mark_dirty(self, *tensors):
        """Declares inputs that forward modified in place."""
        for tensor in tensors:
            tensor._version_counter[0] += 1
        self._dirty = tuple(tensors)

    def set_materialize_grads(self, value):
        """When False, backward receives None instead of zeros for outputs that got no gradient."""
        self.materialize_grads = value

    @property
    def saved_tensors(self):
        """What forward saved, as Tensors; raises if an in-place op changed one of them since."""
        if self._freed:
            raise _freed_error()
        saved = self._saved
        if not saved:
            return ()
        tensors = []
        for entry in saved:
            tensors.append(_unpack(self, entry))
        return tuple(tensors)

    @property
    def saved_arrays(self):
        """What a Primitive's forward saved, as the arrays it saved (for ``array_backward``); checked as
        ``saved_tensors`` is."""
        if self._freed:
            raise _freed_error()
        saved = self._saved
        if not saved:
            return ()
        arrays = []
        for entry in saved:
            if entry is None:
                arrays.append(None)
                continue
            kind, value, version = entry
            if kind == "tensor":
                if value._version_counter[0] != version:
                    raise _modified_error(value, value._version_counter, version)
                arrays.append(value._data)
            elif kind == "output":
                counter, array, nr = value
                if counter[0] != version:
                    output = _make(array, requires_grad=True, grad_fn=self, output_nr=nr)
                    raise _modified_error(output, counter, version)
                arrays.append(array)
            elif kind == "packed":
                unpacked = _unpack_packed(self, value)
                arrays.append(unpacked if unpacked.is_sparse else unpacked._data)
            else:
                arrays.append(value)
        return arrays

    @property
    def next_functions(self):
        """Per input of the op as PyTorch's node lists them (its differentiable tensor inputs: a Primitive's
        ``graph_inputs``, a Function's tensor arguments), the node its gradient flows to and that node's output
        number; ``(None, 0)`` for an input that needs no gradient. A composite op's node lists the composite's
        inputs (``shown_inputs``), not the inner ops it recorded."""
        edges = self.__dict__.get("_shown_edges")
        if edges is None:
            edges = self._edges
            positions = self._shown_positions
            if positions is None and self._function is not None and self._function._array_level:
                positions = _graph_inputs(self._function)
            if callable(positions):   # a layout of PyTorch's nodes for the op, made once per node
                edges = self._shown_edges = tuple(positions(self, edges))
            elif positions is not None:
                edges = edges[positions] if type(positions) is slice else \
                    [edges[i] for i in positions if i < len(edges)]   # trailing defaults were not passed
        functions = []
        for edge in edges:
            if edge is None:
                functions.append((None, 0))
            elif isinstance(edge[0], Tensor):
                functions.append((AccumulateGrad(edge[0]), 0))
            else:
                functions.append(edge)
        return tuple(functions)

    @property
    def metadata(self):
        if "_metadata" not in self.__dict__:
            self._metadata = {}
        return self._metadata

    # --- hooks ----------------------------------------------------------------------------------
    def _register_output_hook(self, output_nr, hook):
        if self._output_hooks is None:
            self._output_hooks = {}
        hooks = self._output_hooks.setdefault(output_nr, OrderedDict())
        self._hooked = True
        return add_hook(hooks, hook)

    def _retain(self, tensor, output_nr=None):
        """Makes ``tensor``, this node's output ``output_nr`` (its own by default), keep its ``.grad``."""
        import weakref
        if self._retained is None:
            self._retained = {}
        self._retained[tensor._output_nr if output_nr is None else output_nr] = weakref.ref(tensor)
        self._hooked = True

    def register_hook(self, hook):
        """Calls ``hook(grad_inputs, grad_outputs)`` after this node's backward ran."""
        hooks = self.__dict__.setdefault("_post_hooks", OrderedDict())
        self._hooked = True
        return add_hook(hooks, hook)

    def register_prehook(self, hook):
        """Calls ``hook(grad_outputs)`` before this node's backward runs; a returned tuple replaces them."""
        hooks = self.__dict__.setdefault("_pre_hooks", OrderedDict())
        self._hooked = True
        return add_hook(hooks, hook)

    # --- lifetime -------------------------------------------------------------------------------
    def _release(self):
        """Frees what forward saved (after a backward without retain_graph)."""
        if self._saved is not None:
            self._saved = None
            self._freed = True

    def _snapshot_input(self, tensor, copy_array, whole_views=False):
        """Replaces saved references to ``tensor`` by a copy (made by ``copy_array``): an in-place op is about to
        overwrite its memory. What saved-tensor hooks packed from ``tensor`` itself is packed again from the copy.
        ``whole_views``: saved views of all of ``tensor``'s elements too (the batch-first view a vmap batching rule
        computed on)."""
        if not self._saved:
            return
        entries = list(self._saved)
        for i, entry in enumerate(entries):
            if entry is None:
                continue
            if entry[0] == "tensor" and (entry[1] is tensor or whole_views and _whole_view(entry[1], tensor)):
                saved = entry[1]
                copy = _make(copy_array(saved._data), saved.requires_grad, saved.grad_fn, saved._output_nr)
                entries[i] = ("tensor", copy, 0)
            elif entry[0] == "packed" and entry[1].source == id(tensor):
                copy = _make(copy_array(tensor._data), tensor.requires_grad, tensor.grad_fn, tensor._output_nr)
                entries[i] = ("packed", _pack(entry[1].hooks, copy, "tensor", self, None), 0)
        self._saved = tuple(entries)


def _whole_view(saved, tensor):
    """Whether ``saved`` is a view of all of ``tensor``'s elements (it shares its version counter and size)."""
    return saved._version_counter is tensor._version_counter and saved._data.size == tensor._data.size


def _saved_arguments(node):
    """The primitive's ``saved_values`` for ``node`` (declared as a dict, or a function of the node giving one)."""
    values = getattr(node._function, "saved_values", None)
    return (values(node) if callable(values) else values) or {}


_shown_node_classes = {}


def shown_node(name, edges):
    """A node named ``name`` whose ``next_functions`` lists ``edges``, or None where every edge is None: one of the
    nodes PyTorch records for an op that ember computes as one primitive (``TBackward0`` of Linear's weight under
    its ``AddmmBackward0``), shown where a primitive's ``graph_inputs`` lays out PyTorch's nodes. It is never run:
    the primitive's own node computes the gradients, so hooks registered on it are not called."""
    if all(edge is None for edge in edges):
        return None
    cls = _shown_node_classes.get(name)
    if cls is None:
        cls = _shown_node_classes[name] = type(name, (Node,), {"__module__": __name__})
    node = cls()
    node._edges = tuple(edges)
    node._shown_edges = node._edges
    return node


RELEASED = type("Released", (), {"__slots__": (), "__repr__": lambda self: "RELEASED"})()
"""In place of a tensor a composite's node showed as saved (``_shown_saved``), once backward freed the graph."""


class GradientEdge(collections.namedtuple("GradientEdge", ("node", "output_nr", "ownership_token"), defaults=(None,))):
    """An edge of the autograd graph: output ``output_nr`` of ``node`` (for a leaf, its ``AccumulateGrad`` and 0),
    where a tensor's gradient is computed. ``autograd.grad`` and ``backward`` take these as outputs and inputs.
    ``ownership_token`` is there for PyTorch's signature; ember's edges hold their node, which holds its graph."""

    __slots__ = ()
    __module__ = "ember.autograd.graph"


class AccumulateGrad:
    """Stands for a leaf tensor in ``next_functions``: gradients reaching it accumulate into ``.grad``. As
    PyTorch's, a leaf has one while anything holds it (the leaf keeps it weakly), so graph walkers can compare
    nodes by identity; its hooks are the leaf's gradient hooks (``register_prehook``) and post-accumulate hooks
    (``register_hook``)."""

    _live = {}   # id(variable) -> a weak reference to its accumulator

    def __new__(cls, variable):
        key = id(variable)
        ref = cls._live.get(key)
        node = None if ref is None else ref()
        if node is not None and node.variable is variable:
            return node
        node = object.__new__(cls)
        node.variable = variable
        node.next_functions = ()
        live = cls._live
        live[key] = weakref.ref(node, lambda ref, key=key: live.pop(key, None) if live.get(key) is ref else None)
        return node

    def name(self):
        return "torch::autograd::AccumulateGrad"   # PyTorch's name, which graph-walking tools compare against

    def _sequence_nr(self):
        return 2 ** 64 - 1   # PyTorch's: an accumulator is not recorded in sequence (UINT64_MAX)

    @property
    def metadata(self):
        if "_metadata" not in self.__dict__:
            self._metadata = {}
        return self._metadata

    def register_prehook(self, hook):
        """Calls ``hook(grad_outputs)`` with the leaf's gradient before it accumulates into ``.grad``; a returned
        tuple replaces it."""
        def run(grad):
            replaced = hook((grad,))
            return None if replaced is None else replaced[0]
        return self.variable.register_hook(run)

    def register_hook(self, hook):
        """Calls ``hook(grad_inputs, grad_outputs)``, ``()`` and the leaf's gradient, once it accumulated into
        ``.grad``."""
        variable, arrived = self.variable, []

        def after(tensor):
            hook((), (arrived.pop() if arrived else None,))
        handle = variable.register_post_accumulate_grad_hook(after)
        if variable._hooks is None:
            variable._hooks = OrderedDict()
        variable._hooks[handle.id] = arrived.append   # the gradient as it arrives, under the same handle
        handle.extra_dict_ref = (weakref.ref(variable._hooks),)
        return handle

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"

    # made afresh on each request (PyTorch keeps one per leaf): two for the same leaf are the same node
    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return hash(id(self.variable))


_TENSOR_PARAMETERS = frozenset((
    "a", "b", "x", "w", "g", "grad", "input", "other", "weight", "bias", "p", "t", "target", "src", "source",
    "real", "imag", "query", "value", "h", "c", "h0", "c0", "gi", "w_ih", "w_hh", "b_ih", "b_hh", "w_hr",
    "log_probs", "pos_weight", "per_sample_weights", "linear_weight", "linear_bias", "result", "saved", "columns",
    "s", "q", "ld", "root", "factor", "values", "samples"))
"""Names of a Primitive's forward parameters that are tensors PyTorch's node lists in ``next_functions``, for the
classes that do not declare ``graph_inputs``."""

_graph_inputs_of = {}


def _graph_inputs(cls):
    """The positions of ``cls.forward``'s arguments its nodes list in ``next_functions``: ``cls.graph_inputs`` where
    declared, else the parameters named as tensors (all but the last of a ``*args``); found once per class."""
    positions = _graph_inputs_of.get(cls)
    if positions is None:
        positions = cls.graph_inputs
        if positions is None:
            import inspect
            parameters = list(inspect.signature(cls.forward).parameters.values())[1:]
            if parameters and parameters[0].kind is inspect.Parameter.VAR_POSITIONAL:
                positions = slice(None, -1)
            else:
                positions = tuple(i for i, p in enumerate(parameters) if p.name in _TENSOR_PARAMETERS)
        _graph_inputs_of[cls] = positions
    return positions


def relink_view(view):
    """Points a view whose base changed in place since its grad_fn was set at "its elements of the base as it is
    now", as PyTorch regenerates such a view's grad_fn (``ops._inplace`` installs the function that does it)."""
    _relink_view[0](view)


_relink_view = [None]


def current_grad_fn(tensor):
    """``tensor.grad_fn``, re-linked first where it is a view whose base changed in place since (Primitive._apply
    makes the same check inline, on its hot path)."""
    if tensor._base is not None and tensor._version_counter[0] != tensor._view_version:
        relink_view(tensor)
    return tensor.grad_fn


def _edge(tensor):
    """Where the gradient for ``tensor`` goes: its grad_fn output, or the leaf itself."""
    node = current_grad_fn(tensor)
    if node is not None:
        return (node, tensor._output_nr)
    return (tensor, 0)


class _FunctionMeta(type):
    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        array_level = getattr(cls, "_array_level", False)
        cls._node_cls = type(name + ("Backward0" if array_level else "Backward"), (Node,),
                             {"_function": cls, "__module__": cls.__module__ if array_level else __name__,
                              "_python_function": not array_level,
                              "_backward_on_arrays": array_level and getattr(cls, "array_backward", None) is not None})
        if array_level and name != "Primitive":
            registry[name] = cls


class Function(FunctionCtx, metaclass=_FunctionMeta):
    """Base for custom autograd ops: define ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` on Tensors,
    then call ``YourFunction.apply(*args)``."""

    _array_level = False
    array_backward = None
    """A Primitive may define ``array_backward(ctx, grad)``: the same gradients as ``backward``, computed on arrays
    of ``ctx.xp`` (reading ``ctx.saved_arrays``). The engine calls it for single-output Primitive nodes when the
    gradients' own graph is not wanted (no create_graph, no dispatch hook), saving a dispatch and a Tensor per
    intermediate."""

    def __call__(self, *args, **kwargs):
        """PyTorch's legacy (instance) call, refused as PyTorch refuses it."""
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           "new-style autograd function with static forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    def __init__(self, *args, **kwargs):
        from .._warnings import warn
        warn(f"{self.__class__} should not be instantiated. Methods on autograd functions are all static, so you "
             "should invoke them on the class itself. Instantiating an autograd function will raise an error in a "
             "future version of PyTorch.", DeprecationWarning, stacklevel=2)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward to be differentiated")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional (PyTorch 2 style): fill ctx here and define forward without a ctx argument."""

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs forward and, when an input requires grad, records the backward in the graph."""
        if dispatch_hooks:
            if len(dispatch_hooks) == 1:   # one feature active: its hook proceeds straight to the op
                return dispatch_hooks[0](cls, args, kwargs, cls._apply)
            return _dispatch(cls, args, kwargs, 0)
        return cls._apply(args, kwargs)

    @classmethod
    def _apply(cls, args, kwargs):
        ctx = cls._node_cls()
        grad_on = state.enabled
        needs = tuple(grad_on and isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx.needs_input_grad = needs
        with no_grad():
            if cls.setup_context is not Function.setup_context:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        if not any(needs):
            ctx._saved = None
            return output
        ctx._sequence = next(_sequence)
        inputs = {id(a) for a in args if isinstance(a, Tensor)}
        dirty = _checked_dirty(ctx, outputs)
        ctx._edges = tuple(_edge(a) if need else None for a, need in zip(args, needs))
        results = []
        for nr, out in enumerate(outputs):
            if not isinstance(out, Tensor):
                results.append(out)
                continue
            if id(out) in inputs and id(out) not in dirty:
                out = _make(out._data, base=out)
            if id(output if single else outputs[nr]) not in ctx._non_differentiable and \
                    (out.dtype.is_floating_point or out.dtype.is_complex):
                out.requires_grad, out.grad_fn, out._output_nr = True, ctx, nr
            results.append(out)
        ctx._num_outputs = len(outputs)
        if len(inputs) < len(args):   # next_functions lists the tensor arguments only, as PyTorch's
            ctx._shown_positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        ctx._input_meta = tuple((a._data.shape, a._data.dtype) if need else None for a, need in zip(args, needs))
        ctx._output_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in results)
        for i, t in enumerate(ctx._saved or ()):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        ctx._saved = tuple(None if t is None else ("tensor", t, t._version_counter[0]) for t in ctx._saved or ())
        if _pushed and ctx._saved:
            _pack_saved(ctx, results)
        return results[0] if single else tuple(results)


def _checked_dirty(ctx, outputs):
    """The ids of the inputs ``mark_dirty`` declared (each returned, none a leaf requiring grad) that are not views:
    those outputs are the input tensors themselves, now recorded as this node's outputs, as PyTorch's."""
    dirty = ctx.__dict__.get("_dirty", ())
    returned = {id(o) for o in outputs}
    if any(id(t) not in returned for t in dirty):
        raise RuntimeError("Some elements marked as dirty during the forward method were not returned as output. The "
                           "inputs that are modified inplace must all be outputs of the Function.")
    if any(t.requires_grad and t.grad_fn is None and t._base is None for t in dirty):
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
    return {id(t) for t in dirty if t._base is None}


FunctionMeta = _FunctionMeta   # PyTorch's name for the metaclass of Function


class InplaceFunction(Function):
    """A Function that may write its input in place, as its ``inplace`` attribute says (PyTorch's base for such
    user Functions)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class _SavedLeaf(Function):
    """Where gradients through an unpacked saved leaf go: to the leaf (PyTorch's unpacked leaf shares the leaf's
    gradient accumulator; an ember leaf is its own edge, so the unpacked tensor reaches it through this node)."""

    @staticmethod
    def backward(ctx, grad):
        return grad


saved_leaf_node[0] = _SavedLeaf._node_cls


class Primitive(Function):
    """Base of ember's own ops: forward receives and returns arrays of ``ctx.xp`` (NumPy or CuPy)."""

    _array_level = True
    meta_passthrough = False   # True: forward takes meta inputs' MetaArrays as they are (moving between devices)
    graph_inputs = None
    """The positions of forward's arguments that PyTorch's node for the op lists in ``next_functions`` (its
    differentiable tensor inputs, in its order; a slice for a variable number), or None: the parameters named as
    tensors (``_TENSOR_PARAMETERS``); or a function of the node and its edges (one per argument) giving the edges to
    list, where PyTorch records the op as several nodes (``shown_node``). Read only by ``next_functions``, never on
    the op's path."""

    @classmethod
    def _apply(cls, args, kwargs):
        ctx = cls._node_cls()
        # plain loops: in the hot path a comprehension's extra frame costs more than the work it does. Each input
        # that needs grad gets its edge (where its gradient goes) and its shape and dtype (which the engine checks
        # gradients against) in the same pass.
        arrays = []
        edges = None
        grad_on = state.enabled
        i = 0
        off_host = False
        for a in args:
            if isinstance(a, Tensor):
                data = a._data
                if type(data) is not _ndarray:
                    off_host = True
                arrays.append(data)
                if grad_on and a.requires_grad:
                    if edges is None:
                        edges, meta, needs = [None] * len(args), [None] * len(args), [False] * len(args)
                    needs[i] = True
                    if a._base is not None and a._version_counter[0] != a._view_version:
                        relink_view(a)
                    node = a.grad_fn
                    edges[i] = (a, 0) if node is None else (node, a._output_nr)
                    meta[i] = (data.shape, data.dtype)
            else:
                arrays.append(a)
            i += 1
        if off_host:
            ctx.xp = _on_one_device(cls, args, arrays)
            if ctx.xp is None:   # meta tensors among the inputs: shapes and dtypes only
                return _meta_apply(cls, ctx, args, arrays, kwargs, edges, meta if edges else None,
                                   needs if edges else None)
        if edges is None:
            ctx.needs_input_grad = _NO_GRADS[i] if i < 8 else (False,) * i
        else:
            ctx.needs_input_grad = needs
            ctx._sequence = next(_sequence)
        try:
            output = cls.forward(ctx, *arrays, **kwargs)
        except ValueError:
            broadcast = _broadcast_error(args)
            if broadcast is None:
                raise
            raise broadcast from None   # PyTorch's error alone, not NumPy's beneath it
        if type(output) is tuple:
            if edges is None:
                return tuple(_wrap(o if type(o) is _ndarray else _as_array(o, ctx.xp)) for o in output)
            return tuple(_connect(ctx, args, edges, meta, output))
        # one output: wrapped and linked into the graph here, written out (this runs once per op)
        if type(output) is not _ndarray:
            output = _output_array(ctx, output)
        tensor = _new(Tensor)
        tensor._data = output
        tensor._version_counter = [0]
        if grad_state.inference:
            tensor._inference = True
        if edges is None:
            return tensor
        if output.dtype.kind in "fcV" and (not ctx._non_differentiable or id(output) not in ctx._non_differentiable):
            tensor.requires_grad = True
            tensor.grad_fn = ctx
        ctx._edges = edges
        ctx._input_meta = meta
        saved = ctx._saved
        if saved:
            entries = []
            for array in saved:
                entries.append(_saved_entry(array, args, tensor))
            ctx._saved = entries
        if _pushed:
            _pack_saved(ctx, (tensor,))
        return tensor


_NO_GRADS = tuple((False,) * n for n in range(8))


def _connect(ctx, args, edges, meta, outputs):
    """Wraps the outputs of a Primitive that needs grad and links its node into the graph; returns the tensors."""
    results = []
    for nr, out in enumerate(outputs):
        if type(out) is not _ndarray:
            out = _output_array(ctx, out)
        tensor = _wrap(out)
        if out.dtype.kind in "fcV" and (not ctx._non_differentiable or id(out) not in ctx._non_differentiable):
            tensor.requires_grad = True
            tensor.grad_fn = ctx
            if nr:
                tensor._output_nr = nr
        results.append(tensor)
    ctx._edges = edges
    ctx._input_meta = meta
    if len(results) > 1:
        ctx._num_outputs = len(results)
        ctx._output_meta = [(r._data.shape, r._data.dtype) for r in results]
    if ctx._saved:
        ctx._saved = [_saved_entry(array, args, *results) for array in ctx._saved]
    if _pushed:
        _pack_saved(ctx, results)
    return results


def _output_array(ctx, output):
    """A forward's NumPy-scalar output as a 0-d array, put in its place where forward saved it too."""
    original, output = output, _as_array(output, ctx.xp)
    if ctx._saved:
        ctx._saved = [output if s is original else s for s in ctx._saved]
    return output


def _inference_saved():
    """PyTorch's error for an inference tensor saved for backward."""
    name = _alias.package()
    return RuntimeError("Inference tensors cannot be saved for backward. Please do not use Tensors created in "
                        "inference mode in computation tracked by autograd. To work around this, you can make a clone "
                        f"to get a normal tensor and use it in autograd, or use `{name}.no_grad()` instead of "
                        f"`{name}.inference_mode()`.")


def _saved_entry(array, args, *results):
    """Records a saved array as the input or output tensor it is (so its version is checked), or as a constant."""
    if array is None:
        return None
    for a in args:
        if isinstance(a, Tensor) and a._data is array:
            if a._inference if a._base is None else a._base._inference:   # (is_inference(): the root's flag)
                raise _inference_saved()
            return ("tensor", a, a._version_counter[0])
    for r in results:
        if r._data is array:
            return ("output", (r._version_counter, array, r._output_nr), r._version_counter[0])
    if not hasattr(array, "shape"):
        return ("value", array, 0)
    if isinstance(array, numpy.generic):   # NumPy hands 0-d results back as scalars; a Tensor needs an array
        array = numpy.asarray(array)
    return ("array", array, 0)


def _on_one_device(cls, args, arrays):
    """The array module of a forward whose tensor inputs are not all NumPy arrays (some live on a GPU): 0-d CPU
    tensors join the GPU ones, as PyTorch treats them as scalars; other CPU tensors raise PyTorch's device error.
    Arguments that are not tensors (host arrays of lengths, indices) reach forward as they are."""
    for gpu in arrays:
        if type(gpu) is not _ndarray and hasattr(gpu, "__cuda_array_interface__"):
            break
    else:
        for a in arrays:
            if type(a) is _MetaArray:
                return None   # the meta device: _meta_apply
        return numpy   # NumPy subclasses (memory maps)
    xp = _backend._cupy   # loaded: one of its arrays is here
    for n, a in enumerate(arrays):
        if isinstance(a, _ndarray) and isinstance(args[n], Tensor):
            if a.ndim:
                where = next((t.device for t in args if isinstance(t, Tensor) and t._data is gpu), "cuda")
                raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                                   f"{where} and cpu! (when checking argument in {cls.__name__})")
            arrays[n] = xp.asarray(a)
    return xp


def _meta_apply(cls, ctx, args, arrays, kwargs, edges, meta, needs):
    """A primitive with meta inputs (``ember/_meta.py``): forward runs on plain zero-stride stand-ins of them, and
    its array results (and the arrays it saved) become MetaArrays of the same shapes and dtypes. A CPU tensor beside
    them (not 0-d: PyTorch takes those as scalars) raises PyTorch's device error; a primitive with
    ``meta_passthrough`` (moving between devices) gets the MetaArrays themselves."""
    expected = None
    for n, a in enumerate(args):
        if isinstance(a, Tensor) and arrays[n].ndim:
            device = _backend.device_of(arrays[n])
            if expected is None:
                expected = device
            elif device != expected:
                raise _meta.device_error(device, expected)
    given, failure = list(arrays), None
    # A forward that fails on the stand-ins' values (integer zeros divide nothing, equal elements make singular
    # matrices) runs once more on others: integer ones, identity matrices.
    for second in (False, True) if not cls.meta_passthrough else (False,):
        originals = {}
        if not cls.meta_passthrough:
            for n, a in enumerate(given):
                if type(a) is _MetaArray:
                    arrays[n] = stand = _meta.standin(a, second)
                    originals[id(stand)] = a
        if second:
            ctx = cls._node_cls()   # a fresh node: the failed forward may have filled the first
        ctx.xp = numpy
        if edges is None:
            ctx.needs_input_grad = (False,) * len(args)
        else:
            ctx.needs_input_grad = needs
            ctx._sequence = next(_sequence)
        try:
            output = cls.forward(ctx, *arrays, **kwargs)
            break
        except Exception as error:
            if isinstance(error, ValueError) and _broadcast_error(args) is not None:
                raise _broadcast_error(args) from None
            if second or cls.meta_passthrough:
                raise failure or error   # the first attempt's error
            failure = error
    ctx.xp = _meta.xp   # what backward makes is meta too, computed on tensors (no array_backward)
    ctx._backward_on_arrays = False
    single = type(output) is not tuple
    raw = (output,) if single else output
    outputs = [_meta.to_meta(_as_array(o, numpy)) for o in raw]
    if ctx._saved:
        for o, m in zip(raw, outputs):
            originals[id(o)] = m
        ctx._saved = [originals[id(a)] if id(a) in originals else _meta.to_meta(a) for a in ctx._saved]
    if edges is None:
        results = [_wrap(o) for o in outputs]
    else:
        for name, value in vars(ctx).items():   # arrays kept for backward (probabilities, indices) are meta too
            if isinstance(value, (tuple, list)):
                setattr(ctx, name, type(value)(_meta.to_meta(v) for v in value))
            elif isinstance(value, numpy.ndarray):
                setattr(ctx, name, _meta.to_meta(value))
        results = _connect(ctx, args, edges, meta, outputs)
    return results[0] if single else tuple(results)


def _as_array(value, xp):
    """Turns a NumPy scalar (what NumPy reductions return for 0-d results) into a 0-d array."""
    if isinstance(value, numpy.generic) or not hasattr(value, "shape"):
        return xp.asarray(value)
    return value


def _broadcast_error(args):
    """PyTorch's message when tensor arguments cannot broadcast, or None when that was not the problem."""
    shapes = [a._data.shape for a in args if isinstance(a, Tensor)]
    if len(shapes) < 2:
        return None
    try:
        numpy.broadcast_shapes(*shapes)
    except ValueError:
        a = shapes[0]
        for b in shapes[1:]:   # the first operand that fails against the shape broadcast so far, as PyTorch
            try:
                a = numpy.broadcast_shapes(a, b)
            except ValueError:
                break
        for i in range(1, max(len(a), len(b)) + 1):
            size_a = a[-i] if i <= len(a) else 1
            size_b = b[-i] if i <= len(b) else 1
            if size_a != size_b and 1 not in (size_a, size_b):
                return RuntimeError(f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                                    f"at non-singleton dimension {max(len(a), len(b)) - i}")
        return RuntimeError(f"shapes {list(a)} and {list(b)} cannot be broadcast together")
    return None


def _dispatch(cls, args, kwargs, index):
    remaining = len(dispatch_hooks) - index
    if remaining == 1:   # the last hook proceeds straight to the op (the common case: one feature active)
        return dispatch_hooks[index](cls, args, kwargs, cls._apply)
    if remaining <= 0:
        return cls._apply(args, kwargs)
    return dispatch_hooks[index](cls, args, kwargs, lambda a, k: _dispatch(cls, a, k, index + 1))


def once_differentiable(backward):
    """Decorator for a custom backward that cannot itself be differentiated: runs it with grad recording off."""
    import functools

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)
    return wrapper


class Composite:
    """An op written with other ops that dispatch hooks see whole (tracing records it as one node, unless
    ``trace_inside``: then it records the ops it is built from)."""

    function = None
    trace_inside = False
    batch_inside = False

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs the op through the dispatch hooks when any is active."""
        if dispatch_hooks:
            return _dispatch(cls, args, kwargs, 0)
        return cls.function(*args, **kwargs)

    @classmethod
    def _apply(cls, args, kwargs):
        return cls.function(*args, **kwargs)


def composite(name, trace_inside=False, batch_inside=False):
    """Decorator: registers a public function built from other ops as the op ``name`` seen whole at dispatch
    (for ops whose inner steps depend on data outside the graph, such as max pooling's argmax or dropout's mask).
    ``trace_inside=True`` names an op only for hooks that key on op names (autocast's per-op policies): tracing
    records the ops it is built from. ``batch_inside=True``: vmap batches the ops it is built from (their rules
    cover it), while tracing still records it whole."""
    def register(function):
        import functools
        previous = registry.get(name)
        if previous is not None and previous.__module__ != function.__module__:
            # hooks and the registry key on the name: a second op of that name would replace the first at import
            raise RuntimeError(f"an op named {name!r} is already registered by {previous.__module__}")
        op = type(name, (Composite,), {"function": staticmethod(function), "__module__": function.__module__,
                                       "trace_inside": trace_inside, "batch_inside": batch_inside})
        registry[name] = op

        @transparent
        @functools.wraps(function)
        def dispatched(*args, **kwargs):
            if dispatch_hooks:
                if len(dispatch_hooks) == 1:
                    return dispatch_hooks[0](op, args, kwargs, op._apply)
                return _dispatch(op, args, kwargs, 0)
            try:
                return function(*args, **kwargs)
            except Exception:   # arguments of the wrong types get PyTorch's TypeError
                from .. import _arg_parser   # (loaded on errors only)
                _arg_parser.check_call(function, args, kwargs)
                raise
        dispatched.op = op
        return dispatched
    return register
