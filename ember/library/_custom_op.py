"""``custom_op`` and ``CustomOpDef``: a Python function made an operator (``torch.ops.<ns>.<name>``), with
kernels per device type, a fake kernel, and an autograd formula."""
import contextlib
import inspect
import logging

from .._tensor import Tensor
from ._autograd import make_autograd_impl
from ._infer import infer_schema
from ._library import _DEVICE_KEYS, Library
from ._ops import lookup

log = logging.getLogger(__name__)

_libraries = {}   # "ns::name" -> the Library holding its registrations (replaced when the op is made again)


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None):
    """Wraps ``fn`` (type-hinted) into the operator ``name`` ("namespace::name"); ``mutates_args`` names the
    arguments it writes ("unknown": all). Used as a decorator or called; returns a ``CustomOpDef``."""
    def inner(fn):
        schema_str = infer_schema(fn, mutates_args=mutates_args) if schema is None else schema
        namespace, opname = name.split("::")
        result = CustomOpDef(namespace, opname, schema_str, fn)
        if schema is not None:
            expected = {a.name for a in result._opoverload._schema.arguments
                        if a.alias_info is not None and a.alias_info.is_write}
            if expected != set(mutates_args):
                raise ValueError(f"Attempted to create a custom op with `mutates_args={mutates_args}` and "
                                 f"`schema={schema}. The schema suggests that the op mutates {expected}which is "
                                 f"different from what was provided to us in `mutates_args`. Please make these "
                                 f"consistent.")
        result.register_kernel(device_types)(fn)
        return result
    if fn is None:
        return inner
    return inner(fn)


class CustomOpDef:
    """An operator made by ``custom_op``: call it like the function; add kernels, a fake kernel and an autograd
    formula with its ``register_*`` methods."""

    def __init__(self, namespace, name, schema, fn):
        self._namespace, self._name, self._schema, self._init_fn = namespace, name, schema, fn
        self._backend_fns = {}
        self._abstract_fn = None
        self._setup_context_fn = None
        self._backward_fn = None
        self._disabled_kernel = set()
        qualname = self._qualname
        if qualname in _libraries:
            _libraries.pop(qualname)._destroy()
        self._lib = _libraries[qualname] = Library(namespace, "FRAGMENT")
        schema_str = name + schema
        self._lib.define(schema_str)
        self._opoverload = op = lookup(self._qualname)
        if any(a.kwarg_only and a.is_tensor_like for a in op._schema.arguments):
            self._lib._destroy()
            raise NotImplementedError(f"custom_op with kwarg-only Tensor args. Please make your tensors not "
                                      f"kwarg-only. Got: {schema_str}")
        op.opdef = self
        self._lib._register_fake(name, self._fake_impl)
        self._lib.impl(name, make_autograd_impl(op, self), "Autograd")

    @property
    def _qualname(self):
        return f"{self._namespace}::{self._name}"

    def __repr__(self):
        return f"<CustomOpDef({self._qualname})>"

    def __call__(self, *args, **kwargs):
        return self._opoverload(*args, **kwargs)

    def _fake_impl(self, *args, **kwargs):
        if self._abstract_fn is None:
            if not self._opoverload._schema.returns:
                return None
            raise RuntimeError(f"There was no fake impl registered for {self}. This is necessary for torch.compile/"
                               f"export/fx tracing to work. Please use `{self._init_fn.__name__}.register_fake` to "
                               f"add an fake impl.")
        return self._abstract_fn(*args, **kwargs)

    @contextlib.contextmanager
    def set_kernel_enabled(self, device_type, enabled=True):
        """Within the block, the kernel registered for ``device_type`` is disabled (the function the op was made
        from runs instead) or enabled again."""
        action = "enable" if enabled else "disable"
        originally_disabled = device_type in self._disabled_kernel
        if device_type not in self._backend_fns:
            log.warning("Attempted to %s kernel for %s but no kernel was registered for this device type.",
                        action, device_type)
        if not enabled:
            if originally_disabled:
                log.warning("Attempted to disable kernel for %s but it was already disabled.", device_type)
            self._disabled_kernel.add(device_type)
        else:
            if not originally_disabled:
                log.warning("Attempted to enable kernel for  %s but it was already enabled.", device_type)
            self._disabled_kernel.discard(device_type)
        try:
            yield
        finally:
            if originally_disabled:
                self._disabled_kernel.add(device_type)
            else:
                self._disabled_kernel.discard(device_type)

    def register_kernel(self, device_types, fn=None, /):
        """Registers ``fn`` as the op's implementation for ``device_types`` ("cpu", "cuda", a sequence of them,
        or None: every device); usable as a decorator."""
        def inner(fn):
            kinds = [device_types] if device_types is None or isinstance(device_types, str) else list(device_types)
            for kind in kinds:
                if kind not in self._backend_fns:
                    key = "CompositeExplicitAutograd" if kind is None else _DEVICE_KEYS.get(kind, kind)
                    self._lib.impl(self._name, self._backend_impl(kind), key)
                self._backend_fns[kind] = self._wrapped(kind, fn)
            return fn
        if device_types is not None and not any(a.is_tensor_like for a in self._opoverload._schema.arguments):
            if not any(a.base == "Device" for a in self._opoverload._schema.arguments):
                raise ValueError("Functions without tensor inputs are required to have a `device: torch.device` "
                                 "argument")
        if fn is None:
            return inner
        return inner(fn)

    def _wrapped(self, kind, fn):
        def wrapped_fn(*args, **kwargs):
            if kind in self._disabled_kernel:
                return self._init_fn(*args, **kwargs)
            return fn(*args, **kwargs)
        return wrapped_fn

    def _backend_impl(self, kind):
        def backend_impl(*args, **kwargs):
            result = self._backend_fns[kind](*args, **kwargs)
            _check_aliasing(self, args, kwargs, result, inspect.getmodule(backend_impl))
            return result
        return backend_impl

    def register_fake(self, fn, /):
        """Registers ``fn`` as the fake kernel: from the inputs, outputs of the right shape and dtype without
        computing values (``opcheck`` compares them with the real outputs)."""
        self._abstract_fn = fn
        return fn

    def register_autograd(self, backward, /, *, setup_context=None):
        """Makes the op differentiable: ``setup_context(ctx, inputs, output)`` saves what ``backward(ctx,
        *grads)`` needs; backward returns one gradient per input."""
        schema = self._opoverload._schema
        if schema.is_mutable or any(r.alias_info is not None for r in schema.returns):
            raise RuntimeError(f"Cannot register autograd formula for non-functional operator {self} with schema "
                               f"{schema}. Please create a functional operator and register an autograd formula "
                               f"for that.")
        self._backward_fn = backward
        self._setup_context_fn = setup_context


def _check_aliasing(opdef, args, kwargs, result, module):
    """PyTorch's rule for custom ops: no output is, or shares memory with, an input or another output."""
    inputs = {_root(t._data) for t in _tensors((args, tuple(kwargs.values())))}
    seen = set()
    for out in _tensors(result):
        root = _root(out._data)
        if root in inputs or root in seen:
            raise RuntimeError(
                f"{opdef._name} (with implementation in {module}): The output of this custom operator (1) must not "
                f"also be an input to this custom operator and (2) may not alias any inputs to this custom operator "
                f"or other returns. The most common way to trigger this error is if we have y = custom_op(x) and y "
                f"and x are the same Tensor. Please instead return a clone of the offending output tensor(s) (e.g. "
                f"return x.clone()) or refactor the custom operator to not return y.")
        seen.add(root)


def _tensors(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors(v)


def _root(array):
    """The id of the memory an array views (the end of its ``base`` chain)."""
    while getattr(array, "base", None) is not None:
        array = array.base
    return id(array)
