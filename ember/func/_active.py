"""Whether a function transform is running (``torch._C._are_functorch_transforms_active``): a vmap level is active,
or a grad, vjp, jvp or functionalize call is running its function (jacrev, jacfwd and hessian run through these).
While one runs, a dispatch hook checks the user ``autograd.Function``s it applies, as PyTorch's transforms do."""
import contextlib

from .. import _alias
from ..autograd import _jvp, engine as _engine, function as _function
from . import _vmap

_depth = [0]   # grad / vjp / jvp / functionalize calls now running their function
_forward = [0]   # of them, jvp calls (forward mode)
_vmapped = [0]   # of them, jacfwd calls (PyTorch vmaps its jvp)

_EXTENDING = "For more details, please see https://pytorch.org/docs/main/notes/extending.func.html"


@contextlib.contextmanager
def running(forward=False, vmapped=False, func=None, args=()):
    """The region in which a transform runs the function it transforms (``forward``: a forward-mode one;
    ``vmapped``: one PyTorch computes under vmap, jacfwd). Given ``func`` and its ``args`` (grad, vjp, jvp and the
    Jacobians), in-place writes into tensors ``func`` captured are refused, as PyTorch's transforms refuse them."""
    captured = captured_tensors(func, args) if func is not None else None
    if not _depth[0]:
        _function.dispatch_hooks.append(_check_functions)
    _captured.append(captured)
    _depth[0] += 1
    _forward[0] += forward
    _jvp.forward_transforms[0] += forward
    _vmapped[0] += vmapped
    try:
        yield
    finally:
        _depth[0] -= 1
        _forward[0] -= forward
        _jvp.forward_transforms[0] -= forward
        _vmapped[0] -= vmapped
        _captured.pop()
        if not _depth[0]:
            _function.dispatch_hooks.remove(_check_functions)
            _last[0] = None


def transforms_active():
    """True inside any function transform, as PyTorch's functorch levels answer."""
    return bool(_depth[0] or _vmap._levels)


_engine.transforms_active[0] = transforms_active   # backward() refuses to run inside a transform, as PyTorch's


def user_function(cls):
    """Whether ``cls`` is an ``autograd.Function`` of user code (not one of ember's own ops)."""
    return (isinstance(cls, type) and issubclass(cls, _function.Function)
            and not issubclass(cls, _function.Primitive) and not _alias.is_ember_module(cls.__module__))


def check_setup_context(cls):
    """PyTorch's error for a Function without ``setup_context`` (forward taking ctx) inside a transform."""
    if cls.setup_context is _function.Function.setup_context:
        raise RuntimeError("In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, "
                           f"...), it must override the setup_context staticmethod. {_EXTENDING}")


def check_vmap_support(cls):
    """PyTorch's error for a Function without a vmap rule under vmap."""
    if not (defines(cls, "vmap") or getattr(cls, "generate_vmap_rule", False)):
        raise RuntimeError(f"You tried to vmap over {cls.__name__}, but it does not have vmap support. Please override "
                           "and implement the vmap staticmethod or set generate_vmap_rule=True. " + _EXTENDING)


def defines(cls, name):
    """Whether a user Function class defines the staticmethod ``name`` itself (not inherited from Function)."""
    for klass in cls.__mro__:
        if klass is _function.Function:
            return False
        if name in vars(klass):
            return True
    return False


def _check_functions(cls, args, kwargs, proceed):
    """The dispatch hook while a transform runs: user Functions need ``setup_context`` (and ``jvp`` under jvp);
    under jvp, ops PyTorch has no forward derivative for raise its error."""
    if _forward[0]:
        _jvp.refuse_in_transform(cls, args, kwargs)
    if user_function(cls):
        check_setup_context(cls)
        if _vmapped[0]:
            check_vmap_support(cls)
        if _forward[0] and not defines(cls, "jvp"):
            raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                      "with forward mode AD.")
    captured = _captured[-1]
    if captured and cls.__name__ == "AssignInplace":
        method = _captured_write(args[0], captured)
        if method is not None:
            raise RuntimeError(f"During a grad (vjp, jvp, grad, etc) transform, the function provided attempted to "
                               f"call in-place operation ({_inplace_name(method, _last[0])}) that would mutate a "
                               f"captured Tensor. This is not supported; please rewrite the function being "
                               f"transformed to explicitly accept the mutated Tensor(s) as inputs.")
    result = proceed(args, kwargs)
    _last[0] = cls
    return result


_captured = []   # per call running its function: ids of the tensors that function captured (None: not checked)
_last = [None]   # the op that finished last while a transform runs (the computation an in-place write stores)


def captured_tensors(func, args):
    """The ids of the tensors ``func`` reaches other than through ``args``: the parameters and buffers of the
    modules it uses and the tensors in its closures and the globals it names, followed through partials, bound
    methods and the user functions it refers to (PyTorch's transforms see these as captured: not wrapped at the
    transform's level)."""
    import functools
    import types
    from .._tensor import Tensor
    from ..nn.modules.module import Module
    from ..utils._pytree import tree_leaves
    found, seen, stack = set(), set(), [func]
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, Tensor):
            found.add(id(value))
        elif isinstance(value, Module):
            found.update(id(t) for t in value.parameters())
            found.update(id(t) for t in value.buffers())
        elif isinstance(value, functools.partial):
            stack += [value.func, *value.args, *value.keywords.values()]
        elif isinstance(value, types.MethodType):
            stack += [value.__self__, value.__func__]
        elif isinstance(value, types.FunctionType) and (value.__module__ or "").split(".")[0] not in _LIBRARIES:
            for cell in value.__closure__ or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:   # a cell not filled yet
                    pass
            names, codes = set(), [value.__code__]
            while codes:
                code = codes.pop()
                names.update(code.co_names)
                codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
            stack += [value.__globals__[name] for name in names if name in value.__globals__]
        elif isinstance(value, (list, tuple)) and len(value) <= _SCANNED:
            stack += value
        elif isinstance(value, dict) and len(value) <= _SCANNED:
            stack += value.values()
    for leaf in tree_leaves(args):
        found.discard(id(leaf))
    return found


def _captured_write(target, captured):
    """Where an in-place write into ``target`` (or the tensor it views) changes a captured tensor and the
    transformed function's code asked for it, the name of the method that writes ("" where not known); else None.
    (ember's ops updating what they are given, as batch norm's running statistics, are PyTorch's kernels, whose
    writes its transforms allow.)"""
    root = target
    while root._base is not None:
        root = root._base
    if id(target) not in captured and id(root) not in captured:
        return None
    import sys
    frame, method = sys._getframe(2), ""
    while frame is not None:   # the caller of the in-place method (past the wrappers around it)
        module, name = frame.f_globals.get("__name__", ""), frame.f_code.co_name
        if name.endswith("_") and not name.startswith("_") or name.startswith("__i") or \
                name in ("_setitem", "__setitem__"):
            method = name
        elif module not in _WRAPPERS:
            return None if module.startswith("ember.ops.") else method
        frame = frame.f_back
    return method


_SCANNED = 1024   # the longest list, tuple or dict looked into (not a data set's samples)
_LIBRARIES = ("ember", "torch", "torchvision", "torchaudio", "torchtext")   # (ember's modules, and their aliases)
_WRAPPERS = (__name__, "ember.autograd.function", "ember.ops._inplace", "ember.ops.deprecated_signatures",
             "ember.overrides", "ember._warnings")


def _inplace_name(method, cls):
    """PyTorch's name of the in-place op: by the method called, or by the op ``cls`` that computed the value
    written (``aten::add_.Tensor`` after ``Add``)."""
    from ..library._aten_nodes import overload_of_node
    special = {"copy_": "aten::copy_", "zero_": "aten::zero_", "fill_": "aten::fill_.Scalar"}
    if method in special:
        return special[method]
    named = overload_of_node(cls.__name__ + "Backward0") if cls is not None else None
    if named is None:
        return "aten::copy_"
    operator, overload = named
    return f"aten::{operator}_" + ("" if overload == "default" else f".{overload}")
