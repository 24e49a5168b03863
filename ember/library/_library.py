"""``Library``: PyTorch's handle for defining operators in a namespace and registering their kernels. What a
library registered lives as long as the library (``_destroy`` or garbage collection removes it), as in PyTorch.

Dispatch keys ember uses: ``CPU``/``CUDA`` (backend kernels), ``CompositeExplicitAutograd`` (the backend kernel for
every device), ``CompositeImplicitAutograd`` (also ``""``: a kernel written with ember ops, differentiated through
them), ``Autograd``/``AutogradCPU``/``AutogradCUDA`` (runs in place of autograd; the kernel records its own graph)
and ``Meta`` (the fake kernel). Other PyTorch keys are accepted and kept, as kernels for backends ember lacks."""
import importlib.util
import sys
import warnings
import weakref

from . import _ops
from ._schema import parse_schema

RESERVED_NAMESPACES = ("prim",)
_DISPATCH_KEYS = {"", "CPU", "CUDA", "Meta", "CompositeExplicitAutograd", "CompositeImplicitAutograd",
                  "CompositeExplicitAutogradNonFunctional", "Autograd", "AutogradCPU", "AutogradCUDA",
                  "AutogradOther", "BackendSelect", "ADInplaceOrView", "Python", "Functionalize",
                  "FuncTorchBatched", "AutocastCPU", "AutocastCUDA", "XLA", "MPS", "XPU", "HPU", "Lazy",
                  "PrivateUse1", "AutogradXLA", "AutogradMPS", "AutogradXPU", "AutogradPrivateUse1"}

_DEVICE_KEYS = {"default": "CompositeExplicitAutograd", "cpu": "CPU", "cuda": "CUDA", "meta": "Meta", "xla": "XLA",
                "mps": "MPS", "xpu": "XPU", "hpu": "HPU", "lazy": "Lazy", "privateuseone": "PrivateUse1"}

_kernel_tables = {}
"""``ns::op.overload`` (no ``.overload`` for the default) -> {dispatch key -> kernel}; an op may get kernels
before its definition, as in PyTorch."""

_def_libraries = {"aten": "aten/src/ATen/RegisterSchema.cpp:6"}   # namespace -> where its DEF library was made


def kernel_table(qualname):
    """The kernels registered for ``qualname`` (``ns::op`` or ``ns::op.overload``), by dispatch key."""
    name, _, overload = qualname.partition(".")
    return _kernel_tables.setdefault(name + (f".{overload}" if overload not in ("", "default") else ""), {})


class Library:
    """``Library(ns, kind, dispatch_key="")``: ``kind`` "DEF" (the one library defining ``ns``), "FRAGMENT" (more
    definitions for it) or "IMPL" (kernels only); ``dispatch_key`` is the default key of ``impl``."""

    def __init__(self, ns, kind, dispatch_key=""):
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind}")
        if ns in RESERVED_NAMESPACES and kind in ("DEF", "FRAGMENT"):
            raise ValueError(f"{ns} is a reserved namespace. Please try creating a library with another name.")
        frame = sys._getframe(1)
        location = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        if kind != "IMPL":
            _check_reachable(ns)
        if kind == "DEF":
            if ns in _def_libraries:
                raise RuntimeError(
                    f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; please put all of "
                    f"your definitions in a single TORCH_LIBRARY block.  If you were trying to specify "
                    f"implementations, consider using TORCH_LIBRARY_IMPL (which can be duplicated).  If you really "
                    f"intended to define operators for a single namespace in a distributed way, you can use "
                    f"TORCH_LIBRARY_FRAGMENT to explicitly indicate this.  Previous registration of TORCH_LIBRARY "
                    f"was registered at {_def_libraries[ns]}; latest registration was registered at {location}")
            _def_libraries[ns] = location
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._location = location
        self._op_defs = set()
        self._op_impls = []
        self._destroyed = False
        self._finalizer = weakref.finalize(self, _remove, ns if kind == "DEF" else None, self._op_defs,
                                           self._op_impls)

    def __repr__(self):
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema, alias_analysis="", *, tags=()):
        """Defines an operator from a schema string such as ``"foo(Tensor x, *, float alpha=1) -> Tensor"``;
        returns its name as written, without the overload."""
        if alias_analysis not in ("", "FROM_SCHEMA", "CONSERVATIVE"):
            raise RuntimeError(f"Invalid alias_analysis type {alias_analysis}")
        self._check_alive()
        parsed = parse_schema(schema)
        written_name = parsed.name
        if self.kind == "IMPL":
            raise RuntimeError(f'def("{parsed.name}"): Cannot define an operator inside of a TORCH_LIBRARY_IMPL '
                               f'block.  All def()s should be placed in the (unique) TORCH_LIBRARY block for their '
                               f'namespace.  (Error occurred while processing TORCH_LIBRARY_IMPL block at '
                               f'{self._location})')
        if "::" in parsed.name:
            ns, _ = parsed.name.split("::")
            if ns != self.ns:
                raise RuntimeError(
                    f"Explicitly provided namespace ({ns}) in schema string does not match namespace of enclosing "
                    f"TORCH_LIBRARY block ({self.ns}).  Move this definition to the (unique) TORCH_LIBRARY block "
                    f"corresponding to this namespace (and consider deleting the namespace from your schema "
                    f"string.)  (Error occurred while processing TORCH_LIBRARY block at {self._location})")
        else:
            parsed.name = f"{self.ns}::{parsed.name}"
        existing = _ops.operators.get(parsed.name, {}).get(parsed.overload_name)
        if existing is not None:
            raise RuntimeError(
                f"Tried to register an operator ({parsed}) with the same name and overload name multiple times. "
                f"Each overload's schema should only be registered with a single call to def(). Duplicate "
                f"registration: registered at {self._location}. Original registration: registered at "
                f"{existing.location}")
        op = _ops.OpOverload(self.ns, parsed, self._location, kernel_table(f"{parsed.name}.{parsed.overload_name}"))
        op.tags = tuple(tags) if isinstance(tags, (tuple, list)) else (tags,)
        _ops.add(op)
        self._op_defs.add((parsed.name, parsed.overload_name))
        return written_name

    def impl(self, op_name, fn, dispatch_key="", *, with_keyset=False, allow_override=True):
        """Registers ``fn`` as the kernel of ``op_name`` (a name in this namespace or an OpOverload) for
        ``dispatch_key`` (the library's own when empty; CompositeImplicitAutograd when both are)."""
        if not callable(fn):
            raise TypeError(f"Input function is required to be a callable but found type {type(fn)}")
        if dispatch_key == "":
            dispatch_key = self.dispatch_key
        name = _resolve_op_name(op_name, "impl")
        if dispatch_key not in _DISPATCH_KEYS:
            raise RuntimeError(f"could not parse dispatch key: {dispatch_key}")
        if with_keyset:
            raise ValueError("ember.library: with_keyset=True passes a C++ DispatchKeySet, which ember has none of")
        self._check_alive()
        key = dispatch_key or "CompositeImplicitAutograd"
        qualname = name if "::" in name else f"{self.ns}::{name}"
        table = kernel_table(qualname)
        if key in table:
            if not allow_override:
                raise RuntimeError(f"This is not allowed since there's already a kernel registered from python "
                                   f"overriding {name.split('::')[-1]}'s behavior for {dispatch_key} dispatch key "
                                   f"and {self.ns} namespace.")
            _warn_override(qualname, key)
        table[key] = fn
        self._op_impls.append((table, key, fn))

    def _register_fake(self, op_name, fn):
        """Registers ``fn`` as the op's fake (shape and dtype) kernel."""
        self.impl(op_name, fn, "Meta")

    def _check_alive(self):
        if self._destroyed:
            raise AssertionError("Library object has been destroyed")

    def _destroy(self):
        """Removes every definition and kernel this library registered."""
        self._finalizer()   # runs once: garbage collection later removes nothing more
        self._destroyed = True


_override_warned = []


def _warn_override(qualname, key):
    """PyTorch's warning for a kernel replacing another, given once per process as PyTorch gives it."""
    if not _override_warned:
        _override_warned.append(True)
        warnings.warn(f"Warning only once for all operators,  other operators may also be overridden.\n  Overriding "
                      f"a previously registered kernel for the same operator and the same dispatch key\n  operator: "
                      f"{qualname}\n  dispatch key: {key}", UserWarning, stacklevel=3)


def _remove(def_namespace, op_defs, op_impls):
    for table, key, fn in op_impls:
        if table.get(key) is fn:
            del table[key]
    op_impls.clear()
    for name, overload in op_defs:
        _ops.remove(name, overload)
    op_defs.clear()
    if def_namespace is not None:
        _def_libraries.pop(def_namespace, None)


def _resolve_op_name(op_name, api_name):
    if isinstance(op_name, str):
        return op_name
    if isinstance(op_name, _ops.OpOverload):
        schema = op_name._schema
        return schema.name + (f".{schema.overload_name}" if schema.overload_name else "")
    raise RuntimeError(f"{api_name} should be passed either a name or an OpOverload object as the first argument, "
                       f"got {type(op_name)}")


def _check_reachable(ns):
    """``ember.ops`` is both ember's ops package and ``torch.ops``: a namespace named as one of its modules or
    attributes could not be reached as ``torch.ops.<ns>``, so ember refuses it."""
    ops = sys.modules.get("ember.ops")
    if not ns.isidentifier():   # no module or attribute has such a name
        return
    if (ops is not None and ns in vars(ops)) or importlib.util.find_spec(f"ember.ops.{ns}") is not None:
        raise ValueError(f"ember.library: the namespace {ns!r} is the name of a module of ember.ops, so its "
                         f"operators could not be reached as torch.ops.{ns}; please use another namespace.")
