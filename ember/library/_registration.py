"""``torch.library``'s functions that register on an operator named by its qualified name ("ns::op"), an
OpOverload or a CustomOpDef: ``define``, ``impl``, ``register_kernel``, ``register_fake``, ``register_autograd``."""
import re

from . import _ops
from ._autograd import make_autograd_impl
from ._custom_op import CustomOpDef
from ._library import _DEVICE_KEYS, _DISPATCH_KEYS, Library

_keep_alive = []   # libraries made for registrations given no ``lib``: they live as long as the process
_NAMELESS_SCHEMA = re.compile(r"\(.*\) -> .*")


def parse_namespace(qualname):
    """``("ns", "name")`` from ``"ns::name"``, with PyTorch's error otherwise."""
    splits = qualname.split("::")
    if len(splits) != 2:
        raise ValueError(f'Expected `qualname` to be of the form "namespace::name", but got {qualname}. The qualname '
                         f'passed to the torch.library APIs must consist of a namespace and a name, e.g. aten::sin')
    return splits[0], splits[1]


def _library_for(namespace, lib):
    if lib is not None:
        return lib
    lib = Library(namespace, "FRAGMENT")
    _keep_alive.append(lib)
    return lib


def define(qualname, schema, *, lib=None, tags=()):
    """Defines the operator ``qualname`` ("ns::name") with ``schema`` ("(Tensor x) -> Tensor"). The older form
    ``define(lib, schema, alias_analysis="")`` returns a decorator that defines and registers the function."""
    if isinstance(qualname, Library):
        library, alias_analysis = qualname, lib or ""

        def wrap(function):
            library.impl(library.define(schema, alias_analysis), function)
            return function
        return wrap
    if not isinstance(qualname, str):
        raise ValueError(f"define(qualname, schema): expected qualname to be instance of str, got {type(qualname)}")
    namespace, name = parse_namespace(qualname)
    lib = _library_for(namespace, lib)
    if not _NAMELESS_SCHEMA.fullmatch(schema):
        raise ValueError(f'define(qualname, schema, ...): expected schema to look like e.g. "(Tensor x) -> Tensor" '
                         f'but got "{schema}"')
    lib.define(name + schema, alias_analysis="", tags=tags)


def impl(qualname, types, func=None, *, lib=None):
    """Registers ``func`` as the kernel of ``qualname`` for device types ("cpu", "cuda", "default") or dispatch
    keys; a decorator when ``func`` is omitted. The older form ``impl(lib, name, dispatch_key="")`` is a
    decorator too."""
    if isinstance(qualname, Library):
        library, name, dispatch_key = qualname, types, func or ""

        def wrap(function):
            library.impl(name, function, dispatch_key)
            return function
        return wrap
    return _impl(qualname, types, func, lib=lib)


def _impl(qualname, types, func, *, lib):
    keys = {typ if typ in _DISPATCH_KEYS else _DEVICE_KEYS.get(typ, typ)
            for typ in ((types,) if isinstance(types, str) else types)}

    def register(function):
        namespace, _ = parse_namespace(qualname)
        use_lib = _library_for(namespace, lib)
        for key in keys:
            use_lib.impl(qualname, function, key)
    if func is None:
        return register
    register(func)
    return None


def _resolve(op, registration_name):
    if not isinstance(op, (str, _ops.OpOverload, CustomOpDef)):
        raise ValueError(f"{registration_name}({op}): got unexpected type for op: {type(op)}")
    if isinstance(op, _ops.OpOverload):
        op = op.name()
    if isinstance(op, str):
        found = _ops.lookup(op)
        if found is not None and found.opdef is not None:
            return found.opdef
    return op


def register_kernel(op, device_types, func=None, /, *, lib=None):
    """Registers ``func`` as the op's implementation for ``device_types`` (None: every device)."""
    op = _resolve(op, "register_kernel")
    if isinstance(op, CustomOpDef):
        return op.register_kernel(device_types, func)
    return _impl(op, "CompositeExplicitAutograd" if device_types is None else device_types, func, lib=lib)


def register_fake(op, func=None, /, *, lib=None):
    """Registers ``func`` as the op's fake kernel (outputs of the right shape and dtype)."""
    op = _resolve(op, "register_fake")
    if isinstance(op, CustomOpDef):
        return op.register_fake if func is None else op.register_fake(func)

    def register(function):
        namespace, op_name = parse_namespace(op)
        if _ops.lookup(op) is None:
            raise RuntimeError(f"operator {op} does not exist")
        _library_for(namespace, lib)._register_fake(op_name, function)
        return function
    return register if func is None else register(func)


class _Info:
    """The backward and setup_context an autograd kernel calls."""

    def __init__(self, backward, setup_context):
        self._backward_fn, self._setup_context_fn = backward, setup_context


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    """Makes the op differentiable with ``backward(ctx, *grads)`` (and ``setup_context(ctx, inputs, output)``)."""
    op = _resolve(op, "register_autograd")
    if isinstance(op, CustomOpDef):
        op.register_autograd(backward, setup_context=setup_context)
        return
    namespace, name = parse_namespace(op)
    overload = getattr(getattr(_ops.OpNamespace(namespace), name.split(".")[0]),
                       name.split(".")[1] if "." in name else "default")
    schema = overload._schema
    if schema.is_mutable or any(r.alias_info is not None for r in schema.returns):
        raise RuntimeError(f"Cannot register autograd formula for non-functional operator {overload} with schema "
                           f"{schema}. Please create a functional operator and register an autograd formula for "
                           f"that.")
    _library_for(namespace, lib).impl(name, make_autograd_impl(overload, _Info(backward, setup_context)), "Autograd")
