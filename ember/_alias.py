"""PyTorch's module names (``torch``, ``torchvision``, ...) resolved to ember's modules: the import hook behind
``ember run`` and ``ember.install_torch_alias()``.

Each aliased name maps to one ember module object (``torch.nn is ember.nn``); only a top-level name gets a thin
module of its own, so ``torch.__version__`` can be the PyTorch API version while ``ember.__version__`` stays ember's.
"""
import functools
import importlib
import importlib.machinery
import importlib.util
import sys
import types

# PyTorch-family name -> ember module; the longest matching prefix wins.
ALIASES = {"torch": "ember", "torchvision": "ember.vision", "torchaudio": "ember.audio", "torchtext": "ember.text",
           "lightning.pytorch": "ember.lightning", "lightning": "ember.lightning",
           "pytorch_lightning": "ember.lightning", "torchsummary": "ember.utils.summary.torchsummary",
           "torchinfo": "ember.utils.summary", "functorch": "ember.functorch",
           "lightning.fabric": "lightning_fabric"}   # the unified package's Fabric is lightning_fabric itself
API_VERSIONS = {"torch": "2.13.0", "torchvision": "0.28.0"}
"""The versions of PyTorch's packages whose API ember follows (what ``torch.__version__`` reports under the alias)."""

REPORT = "if PyTorch has it, please report the name and the line that uses it in ember's issue tracker"
installed = False
"""True once the alias is active in this process."""


def package():
    """The package name that PyTorch-facing reprs print (dtypes, ``Size``, ``x.type()``, legacy tensor types):
    ``'torch'`` once the alias is installed, ``'ember'`` otherwise."""
    return "torch" if installed else "ember"


def is_ember_module(name):
    """Whether a ``__module__`` names one of ember's modules: ``ember.*``, or once the alias is installed the
    PyTorch-family name its classes show (``torch.nn.modules.linear``)."""
    if not isinstance(name, str):
        return False
    if name == "ember" or name.startswith("ember."):
        return True
    return installed and (ember_name(name) or "").split(".")[0] == "ember"


def ember_module_name(name):
    """The ember module a class's ``__module__`` names (``torch.nn.modules.linear`` -> ``ember.nn.modules.linear``
    under the alias), or None when the class is not ember's."""
    if not is_ember_module(name):
        return None
    return name if name == "ember" or name.startswith("ember.") else ember_name(name)


def _is_op_layer(module_name):
    return module_name == "ember.ops" or module_name.startswith("ember.ops.")


def _shows_public_name(module_name):
    # ember.ops has no counterpart in torch: its classes show the public module exporting them, its nodes builtins
    return (module_name == "ember" or module_name.startswith("ember.")) and not _is_op_layer(module_name)


def _show_public_names(module):
    """Gives the classes in ``module`` their PyTorch-family module name, so ``type(layer)`` prints ``<class
    'torch.nn.modules.linear.Linear'>`` and libraries reading ``__module__`` see torch's; a class of a private
    module that ember exports at the top (``finfo``, ``layout``, ``qscheme``) shows ``torch``, as PyTorch's C-defined
    ones do (``ember._C`` stands for ``torch._C`` itself), and a class of ember's op layer shows the public module
    exporting it (``torch.linalg.LinAlgError``)."""
    for value in list(vars(module).values()):
        if issubclass(type(value), type):   # (isinstance would read __class__)
            _show_public_name(value, module.__name__)


def _show_public_name(cls, exporter=None):
    """Gives one class its PyTorch-family ``__module__`` (see ``_show_public_names``); ``exporter`` names the module
    it was found in."""
    name = cls.__module__
    if not isinstance(name, str):
        return
    if _is_op_layer(name):
        if exporter is not None and _shows_public_name(exporter) and not _is_autograd_class(cls):
            cls.__module__ = public_name(exporter)
        return
    if not _shows_public_name(name):
        return
    root = sys.modules.get("ember")
    exported = root is not None and (vars(root).get(cls.__name__) is cls or   # or exported on first use:
                                     f"ember.{vars(root)['_LAZY_NAMES'].get(cls.__name__)}" == name)
    if exported and "._" in name and name != "ember._C":
        cls.__module__ = "torch"
    else:
        cls.__module__ = public_name(name)


def _is_autograd_class(cls):
    """Whether ``cls`` is an op (an autograd Function, registered by its module) or a node: their names stay."""
    function = sys.modules.get("ember.autograd.function")
    return function is not None and issubclass(cls, (function.Function, function.Node))


def _node_module(cls):
    """The ``__module__`` an autograd node class shows under the alias: PyTorch's nodes are C++ classes with none
    (``<class 'AddBackward0'>``, ``builtins``); a custom Function's node is a Python class of
    torch.autograd.function."""
    return public_name(cls.__module__) if getattr(cls, "_python_function", False) else "builtins"


def _show_node_names():
    """Gives autograd's node classes PyTorch's ``__module__`` (``_node_module``): those made so far, and, through
    ``Node.__init_subclass__``, those ember makes later (a renamed or hooked node class is made on first use)."""
    from .autograd import function
    node, pending = function.Node, [function.Node]
    function.AccumulateGrad.__module__ = "builtins"   # a C++ node in PyTorch too
    while pending:
        for cls in pending.pop().__subclasses__():
            cls.__module__ = _node_module(cls)
            pending.append(cls)
    original = node.__dict__.get("__init_subclass__")

    def __init_subclass__(cls, **kwargs):
        if original is not None:
            original.__func__(cls, **kwargs)
        else:
            super(node, cls).__init_subclass__(**kwargs)
        cls.__module__ = _node_module(cls)
    node.__init_subclass__ = classmethod(__init_subclass__)


def _list_public_name(name, module):
    """Lists an ember module in ``sys.modules`` under its PyTorch-family name too (``torch.nn.modules.linear``), as
    importing it through the alias would: tools that look a class's ``__module__`` up there (cloudpickle, which
    otherwise pickles ``torch.nn.Linear`` by value; ``inspect.getmodule``) find it. Top-level names stay the alias's
    own modules, made on import."""
    public = public_name(name)
    if public != name and "." in public and public not in sys.modules and public not in _unlisted:
        sys.modules[public] = module


_unlisted = set()


def unlist(name):
    """Keeps the module ``name`` (``torch.distributed.run``) out of ``sys.modules`` until imported, for ``ember run
    -m name``: runpy warns about a module listed before it runs it, and finds its code through the alias's finder."""
    _unlisted.add(name)
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__name__", name) != name:
        del sys.modules[name]


class _PublicNamesLoader(importlib.machinery.SourceFileLoader):
    """Loads an ember module as usual, then gives its classes their PyTorch-family module names, the module the
    missing-name ``__getattr__`` and its PyTorch-family name in ``sys.modules``, as modules imported through the alias
    get."""

    def exec_module(self, module):
        super().exec_module(module)
        _show_public_names(module)
        _add_missing_name_error(module.__name__, module)
        _list_public_name(module.__name__, module)


class _PublicNamesFinder:
    """Once the alias is installed, finds ember's own modules (ember imports them lazily too) with
    ``_PublicNamesLoader``."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if not _shows_public_name(fullname):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _PublicNamesLoader(spec.loader.name, spec.loader.path)
        return spec


def ember_name(fullname):
    """The ember module an aliased name stands for (``torch.nn`` -> ``ember.nn``), or None for other names."""
    prefix = max((key for key in ALIASES if fullname == key or fullname.startswith(key + ".")), key=len, default=None)
    return None if prefix is None else ALIASES[prefix] + fullname[len(prefix):]


@functools.lru_cache(maxsize=None)   # asked on every attribute miss of a module (hasattr probes), with few names
def public_name(ember_module_name):
    """The PyTorch-family name of an ember module (``ember.vision.transforms`` -> ``torchvision.transforms``); other
    names (a class's module already shown as torch's) unchanged."""
    if not (ember_module_name == "ember" or ember_module_name.startswith("ember.")):
        return ember_module_name
    targets = sorted(set(ALIASES.values()) - {"ember"}, key=len, reverse=True)
    prefix = next((t for t in targets if ember_module_name == t or ember_module_name.startswith(t + ".")), "ember")
    alias = next(key for key, value in ALIASES.items() if value == prefix)
    return alias + ember_module_name[len(prefix):]


def object_repr(obj):
    """``object.__repr__`` as the PyTorch-family class prints: ``<torch.nn.utils.prune.L1Unstructured object at
    0x...>`` once the alias is installed (the class's module under its public name), its ember module otherwise."""
    kind = type(obj)
    module = public_name(kind.__module__) if installed else kind.__module__
    return f"<{module}.{kind.__qualname__} object at {hex(id(obj))}>"


def torch_reduce(obj):
    """``__reduce_ex__`` of an ember tensor (or layout) under the alias: PyTorch's globals and arguments
    (``ember/_torch_pickle.py``), so a plain pickle made by the program loads in a real-PyTorch process."""
    from ._torch_pickle import reduce
    return reduce(obj)


def _not_implemented(fullname, target):
    return ModuleNotFoundError(f"No module named '{fullname}': ember does not implement {fullname} (it would be "
                               f"{target}); {REPORT}", name=fullname)


def _find_module(target):
    """The ember module ``target`` names, imported; None when ember has no such module."""
    if target in sys.modules:
        return sys.modules[target]
    parent, _, child = target.rpartition(".")
    try:
        spec = importlib.util.find_spec(target)
    except ModuleNotFoundError:
        spec = None
    if spec is not None:
        return importlib.import_module(target)
    attribute = vars(sys.modules[parent]).get(child) if parent in sys.modules else None
    return attribute if isinstance(attribute, types.ModuleType) else None


class AliasModule(types.ModuleType):
    """A top-level alias (``torch``): every attribute read and write goes to the ember module it stands for."""

    def __init__(self, name, target, version=None):
        super().__init__(name, target.__doc__)
        object.__setattr__(self, "__ember_module__", target)
        for attribute in ("__file__", "__path__"):
            if hasattr(target, attribute):
                object.__setattr__(self, attribute, getattr(target, attribute))
        if version is not None:
            from .torch_version import TorchVersion
            object.__setattr__(self, "__version__", TorchVersion(version))

    def __getattr__(self, name):
        target = self.__dict__["__ember_module__"]
        if name == "__all__":
            return getattr(target, "__all__", [n for n in dir(target) if not n.startswith("_")])
        value = getattr(target, name)
        return self if value is target else value   # torch.torch is torch, the alias itself

    def __setattr__(self, name, value):
        if name.startswith("__") and name.endswith("__"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.__dict__["__ember_module__"], name, value)

    def __delattr__(self, name):
        if name in self.__dict__:
            object.__delattr__(self, name)
        else:
            delattr(self.__dict__["__ember_module__"], name)

    def __dir__(self):
        return sorted(set(self.__dict__) | set(dir(self.__dict__["__ember_module__"])))

    def __reduce__(self):   # by reference, as cloudpickle pickles an importable module (a function's global torch)
        return importlib.import_module, (self.__name__,)


class _Loader:
    """Hands out the ember module for an aliased name instead of loading a file."""

    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        module = _find_module(self.target)
        if module is None:
            raise _not_implemented(spec.name, self.target)
        if "." not in spec.name:
            return AliasModule(spec.name, module, API_VERSIONS.get(spec.name))
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module):
        if not isinstance(module, AliasModule):
            module.__spec__ = self._own_spec  # the import system set the alias's spec; keep the module's own
        _add_missing_name_errors()

    def get_code(self, fullname):
        """The ember module's code, for ``python -m torch.distributed.run`` and other aliased ``-m`` runs (runpy
        executes a module's code in ``__main__``, with the spec's origin as ``sys.argv[0]``: the ember file's)."""
        spec = importlib.util.find_spec(self.target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "get_code"):
            raise ImportError(f"No code object available for {fullname}", name=fullname)
        alias_spec = getattr(self, "alias_spec", None)
        if alias_spec is not None and alias_spec.origin is None:
            alias_spec.origin = spec.origin   # argparse's prog, __file__-relative paths
        return spec.loader.get_code(self.target)


class _Finder:
    """A meta-path finder placed first, so no installed torch/torchvision/... is ever loaded beside ember."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        ember = ember_name(fullname)
        if ember is None:
            return None
        loader = _Loader(ember)
        loader.alias_spec = importlib.machinery.ModuleSpec(fullname, loader, is_package=_is_package(ember))
        return loader.alias_spec

    @staticmethod
    def find_distributions(context=None):
        """The package metadata of an aliased PyTorch package that has an API version (``torch``, ``torchvision``),
        found before any installed one: ``importlib.metadata.version("torch")`` is ``torch.__version__``, so
        libraries' version checks (lightning_utilities' ``RequirementCache("torch>=2.1")``, transformers'
        ``is_torch_available``) see the PyTorch ember stands for, installed or not. Listing every distribution
        (no name asked) leaves them out."""
        name = getattr(context, "name", None)
        if name is None:
            return iter(())
        wanted = name.lower().replace("-", "_").replace(".", "_")
        return iter([_distribution(key, version) for key, version in API_VERSIONS.items() if key == wanted])


def _distribution(name, version):
    """An ``importlib.metadata.Distribution`` with only a name and a version (imported here: ``import ember`` stays
    quick)."""
    import importlib.metadata

    class AliasDistribution(importlib.metadata.Distribution):
        def read_text(self, filename):
            if filename == "METADATA":
                return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            return None

        def locate_file(self, path):
            return None

    return AliasDistribution()


def _is_package(target):
    """Whether the ember module ``target`` is a package (runpy looks for ``__main__`` in a package); True where it
    cannot tell (a name ember lacks: the import then fails naming it)."""
    module = sys.modules.get(target)
    if module is not None:
        return hasattr(module, "__path__")
    try:
        spec = importlib.util.find_spec(target)
    except (ImportError, ValueError):
        return True
    return spec is None or spec.submodule_search_locations is not None


def _missing_name_hook(module, original):
    """A module ``__getattr__`` that imports a submodule on first use, as PyTorch does, and otherwise names the gap."""
    def __getattr__(name):
        if original is not None:
            try:
                value = original(name)
            except AttributeError:
                pass
            else:
                if issubclass(type(value), type):   # a class the module makes on first use (AveragedModel)
                    _show_public_name(value, module.__name__)
                return value
        public = public_name(module.__name__)
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module '{public}' has no attribute '{name}'")
        if hasattr(module, "__path__"):
            submodule = _find_module(f"{module.__name__}.{name}")
            if submodule is not None:
                return submodule
        raise AttributeError(f"module '{public}' has no attribute '{name}': ember does not implement "
                             f"{public}.{name}; {REPORT}")
    __getattr__.ember_alias = True
    return __getattr__


def _add_missing_name_errors():
    """Gives every public ember module imported so far the missing-name ``__getattr__``."""
    for name, module in list(sys.modules.items()):
        _add_missing_name_error(name, module)


def _add_missing_name_error(name, module):
    if not (name == "ember" or name.startswith("ember.")) or "._" in name or not isinstance(module, types.ModuleType):
        return
    original = module.__dict__.get("__getattr__")
    if not getattr(original, "ember_alias", False):
        module.__getattr__ = _missing_name_hook(module, original)


class _InstallInChild:
    """Unpickled first in a spawned child (with multiprocessing's preparation data), it installs the alias there
    before the child re-imports the parent's ``__main__``."""

    def __reduce__(self):
        return install_torch_alias, ()


def _pass_alias_to_children():
    import multiprocessing.spawn as spawn
    original = spawn.get_preparation_data
    if getattr(original, "ember_alias", False):
        return

    def get_preparation_data(name):
        data = original(name)
        data["ember_torch_alias"] = _InstallInChild()
        return data
    get_preparation_data.ember_alias = True
    spawn.get_preparation_data = get_preparation_data


def install_torch_alias():
    """Makes ``import torch`` (and ``torch.*``, ``torchvision``, ``torchaudio``, ``torchtext``, ``lightning.pytorch``,
    ``pytorch_lightning``, ``torchsummary``, ``torchinfo``) import ember's modules in this process and the processes
    it spawns. Call it before the first ``import torch``, e.g. at the top of a notebook."""
    global installed
    if installed:
        return
    clashes = [name for name, module in sys.modules.items()
               if module is not None and ember_name(name) is not None and not _is_ember(module)]
    if clashes:
        raise RuntimeError(f"{', '.join(sorted(clashes)[:3])} already imported from PyTorch; call "
                           "ember.install_torch_alias() before importing torch (restart the kernel/interpreter)")
    sys.meta_path.insert(0, _Finder)
    sys.meta_path.insert(1, _PublicNamesFinder)
    _pass_alias_to_children()
    _add_missing_name_errors()
    from ._backend import device
    from ._dtype import dtype
    from ._tensor import Size, Tensor
    for cls in (Tensor, Size, device, dtype):
        cls.__module__ = "torch"   # type(x) prints <class 'torch.Tensor'> (torch.Size, ...), as in PyTorch
    installed = True
    for name, module in list(sys.modules.items()):
        if _shows_public_name(name) and isinstance(module, types.ModuleType):
            _show_public_names(module)
            _list_public_name(name, module)
    _show_node_names()


def _is_ember(module):
    return isinstance(module, AliasModule) or getattr(module, "__name__", "").split(".")[0] == "ember"
