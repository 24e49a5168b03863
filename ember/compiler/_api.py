"""``compile`` with ``torch.compile``'s signature: argument checks, the ``OptimizedModule`` wrapper of a module, the
wrapper of a function, and the per-callable cache of captures keyed by guards."""
import functools
import logging
import sys
import weakref

from .. import _dtype, _dynamo
from ..autograd import function as _function
from . import _capture, _guards, _stance
from ._replay import Executable

log = logging.getLogger("ember._dynamo")

MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
_compiled = weakref.WeakSet()   # every compiled callable, for reset()
_compiling = [0]                 # > 0 while a capture runs (is_compiling)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None, name=None,
            disable=False, recompile_limit=None, isolate_recompiles=False):
    """Captures ``model`` (a Module or function) on its first call and replays it as a flat program of array
    kernels, guarded on its inputs and module state; as a decorator with or without arguments."""
    if model is None:
        def decorate(model):
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode, options=options,
                           name=name, disable=disable, recompile_limit=recompile_limit,
                           isolate_recompiles=isolate_recompiles)
        return decorate
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if isinstance(backend, str):
        if backend not in _dynamo.list_backends(None):
            raise _dynamo.exc.InvalidBackend(backend)
    elif backend is None:
        backend = "inductor"
    else:
        raise RuntimeError("ember.compile runs its own capture and replay; a custom backend callable would need "
                           "PyTorch's FX graphs, which ember does not build. Pass a backend name instead")
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    settings = {"fullgraph": fullgraph, "dynamic": dynamic, "backend": backend, "mode": mode or "default",
                "options": options, "name": name, "disable": disable, "recompile_limit": recompile_limit}
    from ..nn.modules.module import Module
    if isinstance(model, Module):
        from ._module import OptimizedModule
        return OptimizedModule(model, settings)
    return _function_wrapper(model, settings)


class _Compiled:
    """The compiled form of one callable: captures by guard key, at most ``recompile_limit`` of them."""

    def __init__(self, function, module, settings):
        self.function, self.module, self.settings = function, module, settings
        self.guard = None if module is None else _guards.ModuleGuard(module)
        self.cache = {}
        self.limit_hit = False
        self.called = False
        _compiled.add(self)

    def __call__(self, *args, **kwargs):
        stance, first, self.called = _stance.current["stance"], not self.called, True
        # eager under autocast, tracing, profiling, an enclosing capture, or saved-tensor hooks (a replay packs nothing)
        if self.settings["disable"] or _function.dispatch_hooks or _compiling[0] or stance == "force_eager" or \
                first and stance in ("eager_then_compile", "aot_eager_then_compile") or \
                _function.saved_tensors_hooks_state.stack:
            return self.function(*args, **kwargs)
        if self.guard is not None:
            _, state, parameters, hooked = self.guard.state()
            if hooked:
                return self.function(*args, **kwargs)
        else:
            state, parameters = (), []
        try:
            tensors, arguments = _guards.flatten_arguments(args, kwargs)
        except _guards.Unguardable:
            return self._eager("an argument that cannot be guarded (unhashable)", args, kwargs)
        key = (_guards.grad_mode(), _dtype.get_default_dtype(), arguments, state)
        entry = self.cache.get(key)
        if entry is None:
            return self._compile(key, args, kwargs, tensors, parameters)
        if isinstance(entry, str):
            return self.function(*args, **kwargs)
        for read, tensor in entry.checks:
            if read() is not tensor:   # a global or closure tensor the capture read was replaced: capture again
                del self.cache[key]
                return self._compile(key, args, kwargs, tensors, parameters)
        outputs = entry.run(tensors)
        return _capture.rebuild(entry.program.outputs, outputs)

    def _eager(self, reason, args, kwargs):
        if self.settings["fullgraph"]:
            raise _dynamo.exc.Unsupported(f"torch.compile(fullgraph=True) cannot capture this program: {reason}")
        return self.function(*args, **kwargs)

    def _compile(self, key, args, kwargs, tensors, parameters):
        if self.cache and _stance.current["stance"] == "eager_on_recompile":
            return self.function(*args, **kwargs)
        if self.cache and _stance.current["stance"] == "fail_on_recompile":
            _stance.recompile_refused(self.function)
        limit = self.settings["recompile_limit"] or _dynamo.config.recompile_limit
        if len(self.cache) >= limit:
            if self.settings["fullgraph"]:
                raise _dynamo.exc.FailOnRecompileLimitHit(
                    "recompile_limit reached with fullgraph=True. Excessive recompilations can degrade performance "
                    "due to the compilation overhead of each recompilation. To monitor recompilations, enable "
                    "TORCH_LOGS=recompiles. If recompilations are expected, consider increasing "
                    "torch._dynamo.config.recompile_limit to an appropriate value.")
            if not self.limit_hit:
                self.limit_hit = True
                log.warning("ember.compile hit config.recompile_limit (%d) for %s: further guard misses run eagerly",
                            limit, getattr(self.function, "__qualname__", self.function))
            return self.function(*args, **kwargs)
        constants = _constants_of(self.function, self.module)
        _compiling[0] += 1
        try:
            output, result = _capture.capture(self.function, args, kwargs, tensors, parameters, constants,
                                              self.settings["fullgraph"])
        finally:
            _compiling[0] -= 1
        if isinstance(result, str):
            if self.settings["fullgraph"]:
                raise _dynamo.exc.Unsupported(f"torch.compile(fullgraph=True) cannot capture this program: {result}")
            log.debug("ember.compile runs %s eagerly: %s", self.function, result)
            self.cache[key] = result
        else:
            self.cache[key] = Executable(result)
        return output

    def reasons(self):
        """Why each refused capture was refused (for tests and debugging)."""
        return [entry for entry in self.cache.values() if isinstance(entry, str)]


def _constants_of(function, module):
    """The tensors a capture may read as constants, by id, each with a getter that reads its place again (checked at
    every call): tensor attributes of the modules, the function's globals, closure cells and defaults."""
    from .._tensor import Tensor
    places = {}
    for m in _guards.modules_of(module) if module is not None else ():
        for name, value in vars(m).items():
            if isinstance(value, Tensor):
                places[id(value)] = lambda namespace=vars(m), name=name: namespace.get(name)
    target = getattr(function, "__func__", function)
    code_owner = getattr(target, "__wrapped__", target)
    namespace = getattr(code_owner, "__globals__", {})
    for name, value in namespace.items():
        if isinstance(value, Tensor):
            places[id(value)] = lambda name=name: namespace.get(name)
    for value in getattr(code_owner, "__defaults__", None) or ():
        if isinstance(value, Tensor):
            places[id(value)] = lambda value=value: value
    for cell in getattr(code_owner, "__closure__", None) or ():
        if _filled(cell) and isinstance(cell.cell_contents, Tensor):
            places[id(cell.cell_contents)] = lambda cell=cell: cell.cell_contents if _filled(cell) else None
    return places


def _filled(cell):
    try:
        return cell.cell_contents is not cell   # reads the cell: an empty one raises
    except ValueError:
        return False


def _function_wrapper(function, settings):
    compiled = _Compiled(function, None, settings)

    @functools.wraps(function)
    def compiled_function(*args, **kwargs):
        return compiled(*args, **kwargs)
    compiled_function._torchdynamo_orig_callable = function
    compiled_function._ember_compiled = compiled
    return compiled_function


def compile_in_place(module, *args, **kwargs):
    """``Module.compile()``: the module's calls run through ``compile`` from now on; its structure is unchanged."""
    settings = compile(_nothing, *args, **kwargs)._ember_compiled.settings

    def eager_call(*args, **kwargs):
        if not (module._forward_pre_hooks or module._forward_hooks or module._backward_hooks or
                module._backward_pre_hooks):
            return module.forward(*args, **kwargs)
        return module._call_with_hooks(args, kwargs)
    object.__setattr__(module, "_compiled_call_impl", _Compiled(eager_call, module, settings))


def _nothing():
    """Stands in for the callable while ``Module.compile`` validates its arguments."""


def reset():
    """Forgets every capture of every compiled callable."""
    for compiled in list(_compiled):
        compiled.cache.clear()
        compiled.limit_hit = False


def is_compiling():
    """True while ``compile`` captures a program or ``export`` traces one (PyTorch's both run Dynamo)."""
    return bool(_compiling[0]) or is_exporting()


def is_exporting():
    """True while ``export`` traces a program."""
    trace = sys.modules.get("ember.export._trace")   # not loaded: nothing is exporting
    return trace is not None and trace.exporting[0]
