"""The ``__torch_dispatch__`` protocol at ember's one dispatch point.

PyTorch calls ``__torch_dispatch__(func, types, args, kwargs)`` below autograd for every ATen op while a
``TorchDispatchMode`` is on or an argument's type overrides it. ember's ops are Primitives (and Composites), so while
either is the case one dispatch hook (``autograd.function.dispatch_hooks``) turns each application into the ATen
calls PyTorch would make (``_dispatch_table``) and hands them to the handlers: the modes, innermost first, each
popped while its handler runs; then the overriding types of the arguments, subclasses first. A handler's ``func``
called with the arguments it was given runs the application itself (autograd records it as without a mode); called
with other arguments it runs that ATen operator's ember op. The hook is installed only while a mode is on or an
instance of such a subclass lives, so programs without either keep the fast path.
"""
import sys
import threading
import weakref

import numpy

from ._tensor import Tensor, _instance_dict, _wrap, all_subclasses, subclass_hooks
from .autograd import engine as _engine, function as _function
from .autograd.grad_mode import state as _grad


class _ThreadState(threading.local):
    """Per thread, as PyTorch's: the dispatch mode stack (innermost last), the ATen calls being handed to handlers
    (``(func, args, kwargs, run)``, innermost last) and how deep ops run below every handler (their inner
    applications go straight to their op)."""

    def __init__(self):
        self.modes, self.pending, self.below = [], [], 0


state = _ThreadState()

_live = [0]      # instances of __torch_dispatch__ subclasses alive: the hook stays while any is, or a mode is on
_modes_on = [0]  # modes on, all threads together
_installed = [False]


def _disabled_torch_dispatch_impl(func, types, args=(), kwargs=None):
    """``Tensor.__torch_dispatch__``: the plain tensor takes no part in dispatch (PyTorch's
    ``_disabled_torch_dispatch_impl``)."""
    return NotImplemented


Tensor.__torch_dispatch__ = staticmethod(_disabled_torch_dispatch_impl)


class _Dispatching:
    """``Tensor._dispatches`` of a subclass that overrides ``__torch_dispatch__``: what ember's ops outside the
    dispatch point use to hand it ops (``aten``) and to note its new instances (``track``)."""

    @staticmethod
    def aten(name, *args):
        """``torch.ops.aten.<name>.default(*args)`` handed to the handlers (``detach``)."""
        from .library._aten import aten
        return getattr(aten, name).default(*args)

    @staticmethod
    def track(tensor):
        """Starts the hook for a new instance made outside ``_make_wrapper_subclass`` (``as_subclass``)."""
        return _track(tensor)


_DISPATCHING = _Dispatching()


def _on_subclass(cls):
    """Marks a Tensor subclass that overrides ``__torch_dispatch__`` (``Tensor._dispatches``) and gives it the
    ``_data`` attribute of its own that PyTorch's tensors leave free."""
    if getattr(cls, "__torch_dispatch__", _disabled_torch_dispatch_impl) is not _disabled_torch_dispatch_impl:
        cls._dispatches = _DISPATCHING
        if "_data" not in cls.__dict__:
            cls._data = _OWN_DATA


_array_slot = Tensor._data   # ember's array: the slot every op reads


def _get_data(tensor):
    own = _instance_dict.__get__(tensor).get("_data", _array_slot)
    if own is _array_slot or sys._getframe(1).f_globals.get("__name__", "").startswith("ember"):
        return _array_slot.__get__(tensor)
    return own


def _set_data(tensor, value):
    if isinstance(value, Tensor) or not hasattr(value, "shape"):
        _instance_dict.__get__(tensor)["_data"] = value   # the subclass's own (PyG's Index keeps its indices here)
    else:
        _array_slot.__set__(tensor, value)


_OWN_DATA = property(_get_data, _set_data, doc="""ember's array to ember's code; to the subclass's code, what it set
as ``_data`` (PyTorch's tensors have no such attribute, so wrapper subclasses such as PyG's ``Index`` use the name
for their inner tensor).""")


def _track(tensor):
    """Starts the hook for an instance of a ``__torch_dispatch__`` subclass, until every such instance is gone."""
    if isinstance(tensor, Tensor) and type(tensor)._dispatches:
        _live[0] += 1
        weakref.finalize(tensor, _released)
        _engine.dispatch_check[0] = _check_gradients
        _install()
    return tensor


def _released():
    _live[0] -= 1   # (the hook removes itself at its next call: a finalizer may run while it is in use)


def _check_gradients(node, grads):
    """Refuses a wrapper subclass's gradient reaching a primitive's backward that reads arrays (the placeholder's)
    rather than handing ops to the subclass's handler."""
    function = node._function
    if function is None or not function._array_level:
        return
    from ._dispatch_table import WRAPPER_BACKWARDS
    if function.__name__ in WRAPPER_BACKWARDS:
        return
    for g in grads:
        if isinstance(g, Tensor) and type(g)._dispatches:
            raise RuntimeError(f"ember cannot compute the backward of {function.__name__} for a gradient of the "
                               f"__torch_dispatch__ subclass {type(g).__name__}: its formula reads arrays, which the "
                               "subclass does not have. Differentiate this part on plain tensors.")


def _install():
    if not _installed[0]:
        from . import _dispatch_factories, _dispatch_inplace
        _function.dispatch_hooks.insert(0, _hook)   # outermost: other hooks see what the handlers run
        _dispatch_factories.install()
        _dispatch_inplace.install()
        _installed[0] = True


def _unneeded():
    return not _modes_on[0] and not _live[0] and not state.pending and not state.below


def _uninstall():
    if _installed[0] and _unneeded():
        from . import _dispatch_factories, _dispatch_inplace
        _function.dispatch_hooks.remove(_hook)
        _dispatch_factories.uninstall()
        _dispatch_inplace.uninstall()
        _installed[0] = False
        _engine.dispatch_check[0] = None


def push_mode(mode):
    """Makes ``mode`` the innermost dispatch mode."""
    state.modes.append(mode)
    _modes_on[0] += 1
    _install()


def pop_mode():
    """Removes the innermost dispatch mode and returns it."""
    if not state.modes:
        raise RuntimeError("Trying to pop from an empty mode stack")
    mode = state.modes.pop()
    _modes_on[0] -= 1
    _uninstall()
    return mode


def _overloaded(value, found):
    if isinstance(value, Tensor):
        if type(value)._dispatches and type(value) not in found:
            found.append(type(value))
    elif isinstance(value, (list, tuple)):
        for item in value:
            _overloaded(item, found)
    return found


def _types(args, kwargs):
    """The overriding types among the arguments, each subclass before its bases (PyTorch's order)."""
    found = []
    for a in args:
        _overloaded(a, found)
    for a in kwargs.values():
        _overloaded(a, found)
    ordered = []
    for t in found:
        at = next((i for i, o in enumerate(ordered) if issubclass(t, o)), len(ordered))
        ordered.insert(at, t)
    return tuple(ordered)


def _hook(cls, args, kwargs, proceed):
    if state.below or (not state.modes and not _types(args, kwargs)):
        if _unneeded():   # the last subclass instance is gone: the fast path again
            at = _function.dispatch_hooks.index(_hook)
            _uninstall()
            return _function._dispatch(cls, args, kwargs, at)   # the hooks after this one, as proceed would
        return proceed(args, kwargs)
    from . import _dispatch_table
    return _dispatch_table.dispatch(cls, args, kwargs, proceed)


def below(run, *args):
    """``run(*args)`` below every handler: the applications inside it go straight to their op."""
    state.below += 1
    try:
        return run(*args)
    finally:
        state.below -= 1


def call(func, args, kwargs, run):
    """Hands the ATen call ``func(*args, **kwargs)`` to the handlers; ``run()`` computes it where none takes it.
    Handlers run below autograd, as PyTorch's: the ops they call record no graph (``run`` keeps the grad mode of
    the call)."""
    types = _types(args, kwargs)
    tried = []
    enabled = _grad.enabled
    modes = state.modes
    if modes:
        mode = modes.pop()
        _grad.enabled = False
        try:
            result = mode.__torch_dispatch__(func, types, args, kwargs)
        finally:
            modes.append(mode)
            _grad.enabled = enabled
        if result is not NotImplemented:
            return result
        tried.append(f"mode object {mode!r}")
    for t in types:
        _grad.enabled = False
        try:
            result = t.__torch_dispatch__(func, types, args, kwargs)
        finally:
            _grad.enabled = enabled
        if result is not NotImplemented:
            return result
        tried.append(f"tensor subclass {t!r}")
    if tried:
        listed = "".join(f"  - {t}\n" for t in tried)
        raise TypeError(f"Multiple dispatch failed for '{_function_name(func)}'; all __torch_dispatch__ handlers "
                        f"returned NotImplemented:\n\n{listed}\nFor more information, try re-running with "
                        "TORCH_LOGS=not_implemented")
    return below(run)


def _function_name(func):
    return f"torch._ops.{func}"


def handed(func, args, kwargs, run):
    """``call`` for the ATen call an application is handed to the handlers as: while it is pending, ``func`` called
    with these same arguments goes on to the next handler and finally to ``run``."""
    run = _keeping_grad(run)
    state.pending.append((func, args, kwargs, run))
    try:
        return call(func, args, kwargs, run)
    finally:
        state.pending.pop()


def _keeping_grad(run):
    """``run`` made to run in the grad mode in effect now (handlers in between run with it off)."""
    enabled = _grad.enabled

    def in_mode():
        previous, _grad.enabled = _grad.enabled, enabled
        try:
            return run()
        finally:
            _grad.enabled = previous
    return in_mode


def _same(a, b):
    if a is b:
        return True
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


def overload_called(func, args, kwargs):
    """``torch.ops.<ns>.<op>.<overload>(*args, **kwargs)``: the pending application it continues, else the ATen call
    handed to the handlers (while any is on), else the ember op computing it."""
    if state.pending:
        pfunc, pargs, pkwargs, run = state.pending[-1]
        if pfunc is func and _same(tuple(pargs), tuple(args)) and _same(sorted(pkwargs.items()),
                                                                       sorted(kwargs.items())):
            return call(func, args, kwargs, run)
    run = func._overloadpacket._run
    if state.below or (not state.modes and not _types(args, kwargs)):
        return run(args, kwargs)
    return call(func, args, kwargs, _keeping_grad(lambda: run(args, kwargs)))


def tensors(value):
    """The tensors in a result (a tensor, or a tuple or list of them)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in tensors(item)]
    return []


def record(op, args, kwargs, proceed, result):
    """Links ``result``, computed by a handler rather than by the application of ``op``, into the graph as the
    application's output when autograd needs it: the application runs below the handlers (on the placeholders of
    wrapper subclasses) to record its node, which then stands behind ``result``."""
    inputs = [a for a in args if isinstance(a, Tensor)]
    if not (_grad.enabled and any(a.requires_grad for a in inputs)):
        return result
    wrapped = next((type(a).__name__ for a in inputs if type(a)._dispatches), None)
    if wrapped and getattr(op, "_array_level", False):
        _check_recordable(op.__name__, wrapped)
    start = next(_function._sequence)
    with numpy.errstate(all="ignore"):
        made = below(proceed, args, kwargs)
    if wrapped:
        _one_node(op, made, start, wrapped)
    ids = {id(a) for a in inputs}
    for out, ours in zip(tensors(result), tensors(made)):
        node = ours.grad_fn
        if node is None or id(out) in ids or out.grad_fn is not None or out.requires_grad:
            continue
        out.requires_grad, out.grad_fn = True, node
        if ours._output_nr:
            out._output_nr = ours._output_nr
        _rebind_saved(node, ours, out, inputs, wrapped)
    return result


def _one_node(op, made, start, subclass):
    """A composite run on wrapper placeholders must have recorded a single node (one the wrappers can stand behind):
    inner nodes would keep values computed from the placeholders."""
    created = {id(t.grad_fn): t.grad_fn for t in tensors(made) if t.grad_fn is not None and t.grad_fn._sequence > start}
    stack = list(created.values())
    while stack:
        for edge in stack.pop()._edges or ():
            node = edge[0] if edge is not None else None
            if isinstance(node, _function.Node) and node._sequence > start and id(node) not in created:
                created[id(node)] = node
                stack.append(node)
    if len(created) > 1:
        raise RuntimeError(f"ember cannot differentiate {op.__name__} on the __torch_dispatch__ subclass {subclass}: "
                           "it is made of several ops whose backward reads values they compute. Run it under "
                           "no_grad, or on the subclass's inner tensors.")


def _check_recordable(name, subclass):
    from ._dispatch_table import WRAPPER_BACKWARDS
    if name not in WRAPPER_BACKWARDS:
        raise RuntimeError(f"ember cannot differentiate {name} on the __torch_dispatch__ subclass {subclass}: its "
                           "backward reads values its forward computes, which ember has only for plain tensors. Run it "
                           "under no_grad, or on the subclass's inner tensors.")


def _rebind_saved(node, ours, out, inputs, wrapped):
    """The node's saved output is the handler's result, as PyTorch's node saves what the handler returned. A node
    recorded on wrapper subclasses' placeholders keeps the wrappers themselves, so its backward's ops reach their
    handler; only primitives whose backward is made of such ops (``WRAPPER_BACKWARDS``) are recorded so."""
    if wrapped:
        _check_recordable(node._function.__name__, wrapped)
    entries = []
    for entry in node._saved or ():
        if entry is not None and entry[0] == "output" and entry[1][1] is ours._data:
            counter = out._version_counter
            entry = ("tensor", out, counter[0]) if wrapped else \
                ("output", (counter, out._data, entry[1][2]), counter[0])
        entries.append(entry)
    if node._saved:
        node._saved = entries
    if wrapped:
        node._backward_on_arrays = False   # (the engine would read the placeholders' arrays)


def make_wrapper_subclass(cls, size, strides=None, storage_offset=None, memory_format=None, dtype=None, layout=None,
                          device=None, pin_memory=False, requires_grad=False, dispatch_sizes_strides_policy=None,
                          dispatch_device=False, dispatch_layout=False, _extra_dispatch_keys=None, storage_size=None):
    """``Tensor._make_wrapper_subclass``: an instance of ``cls`` with this shape, dtype and strides and no data of its
    own (its ``__torch_dispatch__`` computes every op). ember gives it a zero-filled placeholder array, which the OS
    maps lazily, so sizes, strides and autograd's bookkeeping read as PyTorch's."""
    from . import _dtype
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from Tensor is not possible. "
                        "Make sure your class inherits from Tensor.")
    shape = tuple(int(s) for s in size)
    np_dtype = (dtype if dtype is not None else _dtype.get_default_dtype()).numpy
    if strides is None:
        array = numpy.zeros(shape, np_dtype)
    else:
        offset = int(storage_offset or 0)
        extent = offset + 1 + sum((s - 1) * abs(int(st)) for s, st in zip(shape, strides)) if all(shape) else 0
        flat = numpy.zeros(max(extent, int(storage_size or 0), 1), np_dtype)
        array = numpy.lib.stride_tricks.as_strided(flat[offset:], shape,
                                                   tuple(int(st) * flat.itemsize for st in strides))
    tensor = _wrap(array, cls=cls)
    if requires_grad:
        tensor.requires_grad = True
    return _track(tensor)


Tensor._make_wrapper_subclass = staticmethod(make_wrapper_subclass)
subclass_hooks.append(_on_subclass)
for _cls in list(all_subclasses()):
    _on_subclass(_cls)
