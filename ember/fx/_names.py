"""The names generated code and graph printouts give functions, as torch.fx gives them (``torch.relu``,
``torch.nn.functional.relu``, ``torch._C._nn.gelu``, ``operator.add``), and the object through which generated code
reaches ember's functions by those names.

The package root prints as ``torch`` under the torch alias (``ember run``) and as ``ember`` otherwise."""
import builtins
import importlib
import inspect
import types

from .. import _alias
from ..overrides import unwrapped
from ._torch_names import TORCH_BOOLEAN_DISPATCH, TORCH_CALL_FORMS, TORCH_PYTHON_TENSOR_METHODS, TORCH_QUALIFIED_NAMES

# ember's public op namespaces, in the order a function found in several is named by.
_NAMESPACES = ("", "nn.functional", "linalg", "fft", "special")
_public_paths = None


def _namespace(suffix):
    return importlib.import_module("ember" + ("." + suffix if suffix else ""))


def public_functions():
    """``{id(function): (function, 'torch.<path>')}`` for the functions of ember's public op namespaces (the functions
    themselves, not their __torch_function__ dispatching wrappers)."""
    global _public_paths
    if _public_paths is None:
        paths = {}
        for suffix in _NAMESPACES:
            module = _namespace(suffix)
            prefix = "torch." + suffix + "." if suffix else "torch."
            for name, value in list(vars(module).items()):
                value = unwrapped(value)
                if (not name.startswith("_") and isinstance(value, types.FunctionType)
                        and value.__module__.startswith("ember")):
                    paths.setdefault(id(value), (value, prefix + name))
        _public_paths = paths
    return _public_paths


def public_entry(func):
    """``(function, 'torch.<path>')`` for one of ember's public op functions (or its __torch_function__ dispatching
    wrapper), else None."""
    original = unwrapped(func)
    entry = public_functions().get(id(original))
    return entry if entry is not None and entry[0] is original else None


def is_from_ember(obj):
    """True for objects of ember's core (torch's namespace), which generated code names through the package root;
    not for satellites such as ``ember.vision`` (torchvision's), which it names by a global as torch.fx does."""
    module = _alias.ember_module_name(getattr(obj, "__module__", None))
    if module is None:
        return False
    return _alias.public_name(module).split(".")[0] == "torch"


def public_class_name(cls):
    """``'ember.Tensor'`` (``'torch.Tensor'`` under the alias) for a class of ember's top-level namespace, else
    None."""
    if isinstance(cls, type) and vars(importlib.import_module("ember")).get(cls.__name__) is cls:
        return f"{_alias.package()}.{cls.__name__}"
    return None


def tensor_method_name(func):
    """``name`` when ``func`` is Tensor's method of that name and not also one of ember's public functions (ember's
    ``Tensor.relu`` is ``ember.relu`` itself, named as that), else None."""
    name = getattr(func, "__name__", None)
    tensor = importlib.import_module("ember").Tensor
    if name is None or getattr(tensor, name, None) is not func or public_entry(func) is not None:
        return None
    return name


def is_torch_c_tensor_method(func):
    """True for a Tensor method torch writes in C, which generated code reaches through a global of its own
    (``torch_Tensor_add``) as torch.fx's does; torch's Python-level ones it names ``torch.Tensor.split``."""
    name = tensor_method_name(func)
    return name is not None and name not in TORCH_PYTHON_TENSOR_METHODS


def qualified_name(func):
    """The dotted name torch.fx gives ``func`` (``getattr``, ``torch.relu``, ``__main__.my_fn``)."""
    name = func.__name__
    if getattr(builtins, name, None) is func:
        return name
    entry = public_entry(func)
    if entry is not None:
        path = TORCH_QUALIFIED_NAMES.get(entry[1], entry[1])
        return _alias.package() + path[len("torch"):]
    if isinstance(func, type) and public_class_name(func) is not None:
        return public_class_name(func)
    if tensor_method_name(func) is not None:
        return f"{_alias.package()}.Tensor.{name}"
    fixed = getattr(func, "_fx_qualified_name", None)
    if fixed is not None:
        return _alias.package() + fixed[len("torch"):]
    module = func.__module__
    if _alias.package() == "torch" and _alias.is_ember_module(module):
        module = _alias.public_name(_alias.ember_module_name(module))
    return f"{module}.{name}"


_signatures = {}


def recorded_call(func, args, kwargs):
    """The ``(args, kwargs)`` torch.fx records for a call of ``func``: as passed, except for the functions torch
    writes in Python, whose calls it records in one fixed form (``F.relu(x)`` as ``relu(x, inplace=False)``)."""
    entry = public_entry(func)
    form = TORCH_CALL_FORMS.get(entry[1]) if entry is not None else None
    if form is None:
        return args, kwargs
    params, positional, keywords = form
    if params not in _signatures:
        _signatures[params] = inspect.signature(eval(f"lambda {params}: None"))  # noqa: S307  (table text)
    try:
        bound = _signatures[params].bind(*args, **kwargs)
    except TypeError:
        return args, kwargs
    bound.apply_defaults()
    values = bound.arguments
    new_args = tuple(values[name] for name in positional.split(", ") if name)
    new_kwargs = {}
    for item in filter(None, keywords.split(", ")):
        key, _, param = item.partition("=")
        new_kwargs[key] = values[param or key]
    return new_args, new_kwargs


def dispatched_function(func, args, kwargs):
    """The function torch.fx records for a call of ``func``: ``func`` itself, except for torch's flag-dispatched
    functions, whose call with the flag set it records as the function that flag selects
    (``F.max_pool2d(x, 2, return_indices=True)`` as ``F.max_pool2d_with_indices``)."""
    entry = public_entry(func)
    rule = TORCH_BOOLEAN_DISPATCH.get(entry[1]) if entry is not None else None
    if rule is None:
        return func
    flag_name, flag_index, default, if_true = rule
    flag = kwargs[flag_name] if flag_name in kwargs else args[flag_index] if flag_index < len(args) else default
    if not flag:
        return func
    chosen = _resolve(if_true)
    return getattr(chosen, "_fx_original", chosen)   # the function itself, not a trace's stand-in for it


def pretty_target(target):
    """A node's target as graph printouts show it: ``builtins.getattr``, ``operator.add``, ``torch.relu``."""
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", None)
    if module == "builtins":
        return f"builtins.{target.__name__}"
    if module == "_operator":
        return f"operator.{target.__name__}"
    return qualified_name(target)


class PackageRoot:
    """What the package root (``torch`` or ``ember``) means in generated code: ember's modules, plus the
    functions torch.fx names by a private path (``torch._C._nn.gelu`` reaches ``ember.nn.functional.gelu``).
    Functions are looked up on every call, so stand-ins put in place by a trace are seen when a GraphModule is
    traced again; namespaces are looked up once."""

    def __init__(self, path="torch"):
        self._path = path   # spelled with torch's root whatever the printed root, as the private names are

    def __getattr__(self, name):
        path = f"{self._path}.{name}"
        private, prefixes = _private_paths()
        if path in private:
            return _resolve(private[path])
        if path in prefixes:
            child = PackageRoot(path)
            object.__setattr__(self, name, child)
            return child
        return _resolve(path)

    def __repr__(self):
        return f"<fx package root {self._path}>"


_reverse = None


def _private_paths():
    """torch.fx's printed names -> the public paths they stand for, and the set of their dotted prefixes."""
    global _reverse
    if _reverse is None:
        private = {}
        for public, printed in TORCH_QUALIFIED_NAMES.items():
            private.setdefault(printed, public)
        private["torch._assert"] = "torch.fx._symbolic_trace._assert"   # torch._assert, ember's lives in fx
        prefixes = {key.rsplit(".", i)[0] for key in private for i in range(1, key.count("."))}
        _reverse = private, prefixes
    return _reverse


_owners = {}   # dotted path -> the ember module (or class) it names


def _resolve(path):
    """The object at a torch-rooted dotted path in ember (``torch.nn.functional.relu``)."""
    parent, _, name = path.rpartition(".")
    owner = _owners.get(parent)
    if owner is None:
        owner = importlib.import_module("ember")
        for part in parent.split(".")[1:]:
            try:
                owner = getattr(owner, part)
            except AttributeError:
                owner = importlib.import_module(f"{owner.__name__}.{part}")
        _owners[parent] = owner
    try:
        return getattr(owner, name)
    except AttributeError:
        if not isinstance(owner, types.ModuleType):
            raise
        return importlib.import_module(f"{owner.__name__}.{name}")
