"""The operator registry behind ``torch.ops.<namespace>.<op>``: ``OpOverload`` (one schema and its kernels),
``OpOverloadPacket`` (an op's overloads by name) and the namespace objects ``ember.ops`` hands out."""
import os

from ..autograd.function import Composite, registry
from ._dispatch import call, call_packet

operators = {}
"""``"ns::name"`` -> {overload name ("" for the default) -> OpOverload}, for every defined operator."""

loaded_libraries = set()
"""Paths given to ``load_library`` that loaded (always empty: ember has no C++ dispatcher to register into)."""


class OpOverload:
    """One overload of an operator: its schema, its kernels by dispatch key, where it was defined, and the
    ``CustomOpDef`` that made it, if any. Calling it goes through ember's dispatch point as one op named
    ``ns::op`` (so tracing records the call, not the kernel's insides), then ``library._dispatch.call``."""

    def __init__(self, namespace, schema, location, kernels):
        self.namespace = namespace
        self._schema = schema
        self._opname = schema.name.split("::")[-1]
        self._overloadname = schema.overload_name or "default"
        self.location, self.kernels = location, kernels
        self.opdef = None
        self.dispatched = type(self.name(), (Composite,), {"function": staticmethod(self._call),
                                                           "__module__": __name__})

    def _call(self, *args, **kwargs):
        return call(self, args, kwargs)

    def name(self):
        """``ns::op`` or ``ns::op.overload``, as the dispatcher names it."""
        overload = self._schema.overload_name
        return f"{self.namespace}::{self._opname}" + (f".{overload}" if overload else "")

    @property
    def __name__(self):
        return f"{self._opname}.{self._overloadname}"

    @property
    def overloadpacket(self):
        """The ``OpOverloadPacket`` this overload belongs to."""
        return OpOverloadPacket(self.namespace, self._opname)

    def __repr__(self):
        return f"<OpOverload(op='{self.namespace}.{self._opname}', overload='{self._overloadname}')>"

    def __str__(self):
        return f"{self.namespace}.{self._opname}.{self._overloadname}"

    def __call__(self, *args, **kwargs):
        return self.dispatched.apply(*args, **kwargs)


class OpOverloadPacket:
    """An operator by name (``torch.ops.ns.op``): its overloads as attributes (``.default``); calling it picks
    the overload whose schema the arguments match."""

    def __init__(self, namespace, name):
        self._namespace, self.__name__ = namespace, name
        self._qualified_op_name = f"{namespace}::{name}"

    def __repr__(self):
        return f"<OpOverloadPacket(op='{self._namespace}.{self.__name__}')>"

    def __str__(self):
        return f"{self._namespace}.{self.__name__}"

    def _overloads(self):
        return operators.get(self._qualified_op_name, {})

    def overloads(self):
        """The overload names, ``default`` for the unnamed one."""
        return [name or "default" for name in self._overloads()]

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        overload = self._overloads().get("" if name == "default" else name)
        if overload is None:
            raise AttributeError(f"The underlying op of '{self}' has no overload name '{name}'")
        return overload

    def __eq__(self, other):
        return isinstance(other, OpOverloadPacket) and other._qualified_op_name == self._qualified_op_name

    def __hash__(self):
        return hash(self._qualified_op_name)

    def __call__(self, *args, **kwargs):
        return call_packet(list(self._overloads().values()), args, kwargs)


class OpNamespace:
    """``torch.ops.<namespace>``: its operators as ``OpOverloadPacket`` attributes."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<module 'ember.ops.{self.name}' from 'ember.ops'>"

    def __getattr__(self, op_name):
        if not op_name.startswith("__") and f"{self.name}::{op_name}" in operators:
            return OpOverloadPacket(self.name, op_name)
        raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{op_name}'")

    def __dir__(self):
        prefix = self.name + "::"
        return sorted(q[len(prefix):] for q in operators if q.startswith(prefix))


def namespace(name):
    """The namespace object for ``name`` when some operator is defined there, else None."""
    prefix = name + "::"
    if any(q.startswith(prefix) for q in operators):
        return OpNamespace(name)
    return None


def add(op):
    """Registers ``op``: reachable through ``torch.ops`` and, by its name, in ember's op registry (tracing and
    loading traced programs find it there)."""
    operators.setdefault(op._schema.name, {})[op._schema.overload_name] = op
    registry[op.name()] = op.dispatched


def remove(name, overload):
    """Unregisters the overload ``overload`` of ``name`` ("ns::op")."""
    overloads = operators.get(name, {})
    op = overloads.pop(overload, None)
    if not overloads:
        operators.pop(name, None)
    if op is not None and registry.get(op.name()) is op.dispatched:
        del registry[op.name()]


def lookup(qualname):
    """The OpOverload named ``ns::op`` or ``ns::op.overload``, or None."""
    name, _, overload = qualname.partition(".")
    return operators.get(name, {}).get("" if overload == "default" else overload)


def load_library(path):
    """``torch.ops.load_library``: ember runs no C++, so a shared library cannot register operators; raises
    OSError as PyTorch does for a path that does not load, and RuntimeError for one that exists."""
    path = os.path.realpath(path)
    if not os.path.isfile(path):
        raise OSError(f"Could not load this library: {path}")
    raise RuntimeError(f"ember cannot load {path}: operators compiled for PyTorch's C++ dispatcher do not run in "
                       f"ember. Define them in Python with ember.library.custom_op or ember.library.Library.")
