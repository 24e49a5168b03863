"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict, and the deprecated Container."""
import operator
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..._scripting import is_scripting
from ..._tensor import grad_state
from ..parameter import Parameter
from . import _conv_eval
from .module import Module

_CONTAINER_DEPRECATED = ("`nn.Container` is deprecated. All of its functionality is now implemented in `nn.Module`. "
                         "Subclass that instead.")


class Container(Module):
    """Deprecated: a Module with each keyword argument as a submodule. Warns (FutureWarning) when made and when
    subclassed, as PyTorch's ``typing_extensions.deprecated`` class does."""

    __deprecated__ = _CONTAINER_DEPRECATED

    def __new__(cls, *args, **kwargs):
        if cls is Container:   # instances of subclasses do not warn: their class statement did
            warnings.warn(_CONTAINER_DEPRECATED, FutureWarning, stacklevel=2)
        return super().__new__(cls)

    def __init_subclass__(cls, **kwargs):
        warnings.warn(_CONTAINER_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init_subclass__(**kwargs)

    def __init__(self, **kwargs):
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)


class _NumberedModules(Module):
    """Submodules kept in order under the keys "0", "1", ...: indexing, append/extend/insert, deletion with
    renumbering, length and iteration."""

    def _index(self, index):
        size = len(self)
        index = operator.index(index)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range")
        return index % size

    def __delitem__(self, index):
        keys = list(self._modules.keys())
        for key in (keys[index] if isinstance(index, slice) else [keys[self._index(index)]]):
            del self._modules[key]
        self._renumber(list(self._modules.values()))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def _renumber(self, modules):
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def append(self, module):
        """Adds a module at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Adds modules at the end."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Inserts a module before ``index``."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)


class Sequential(_NumberedModules):
    """Calls its modules in order, each on the previous one's output."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[self._index(index)]

    def __setitem__(self, index, module):
        key = list(self._modules.keys())[self._index(index)]
        setattr(self, key, module)

    @staticmethod
    def _added(other):
        """``other``'s modules, for ``+`` and ``+=``, which take only a Sequential (with PyTorch's ValueError)."""
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")  # noqa: TRY004
        return list(other)

    def __add__(self, other):
        return Sequential(*self, *self._added(other))

    def __iadd__(self, other):
        return self.extend(self._added(other))

    def _factor(self, other):
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")
        return other

    def __mul__(self, other):
        """A Sequential of this one's modules (the same objects) ``other`` times over."""
        return Sequential(*(list(self) * self._factor(other)))

    __rmul__ = __mul__

    def __imul__(self, other):
        modules = list(self) * self._factor(other)
        self._renumber(modules)
        return self

    def insert(self, index, module):
        """Inserts a module before ``index``."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        if not -len(self) <= index <= len(self):
            raise IndexError(f"Index out of range: {index}")
        super().insert(index, module)
        return self

    def pop(self, key):
        """Removes and returns the module (or Sequential of a slice's modules) at ``key``."""
        module = self[key]
        del self[key]
        return module

    def forward(self, input):
        if not grad_state.enabled and not is_scripting():   # evaluation: conv, batch norm, activation chains as one
            return _conv_eval.sequential(self._modules.values(), input)
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_NumberedModules):
    """Holds submodules in a list; indexing, iteration, append, extend and insert work as on a list."""

    def __repr__(self):
        """PyTorch's printed form: runs of children that print alike are one line, ``(3-5): 3 x Linear(...)``."""
        texts = [repr(module) for module in self._modules.values()]
        if not texts:
            return self._get_name() + "()"
        runs = []   # [first index, last index, text]
        for index, text in enumerate(texts):
            if runs and runs[-1][2] == text:
                runs[-1][1] = index
            else:
                runs.append([index, index, text])
        lines = [(f"({first}): " if first == last else f"({first}-{last}): {last - first + 1} x ") +
                 text.replace("\n", "\n  ") for first, last, text in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(self._index(index))]

    def __setitem__(self, index, module):
        setattr(self, str(self._index(index)), module)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def extend(self, modules):
        """Adds modules at the end."""
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        return super().extend(modules)

    def pop(self, key):
        """Removes and returns the module (or ModuleList of a slice's modules) at ``key``."""
        module = self[key]
        del self[key]
        return module


class ModuleDict(Module):
    """Holds submodules in an ordered dict."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def update(self, modules):
        """Adds modules from a mapping or an iterable of (name, module) pairs."""
        for key, module in _update_pairs("ModuleDict", modules, sort_dicts=False):
            self[key] = module


class ParameterList(Module):
    """Holds parameters in a list; tensors added become Parameters, other objects are kept as they are (modules as
    submodules)."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _attribute(self, index):
        """The attribute name that holds entry ``index`` (negative counts from the end)."""
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range")
        return str(index % len(self))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.__class__().extend([self[i] for i in range(len(self))[index]])
        return getattr(self, self._attribute(index))

    def __setitem__(self, index, value):
        setattr(self, self._attribute(index), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")

    def append(self, value):
        """Adds ``value`` at the end."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        """Adds each of ``values`` at the end."""
        from ..._tensor import Tensor
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return _entries_repr(enumerate(self), lambda p: str(p.dtype).replace("ember.", "torch."))


class ParameterDict(Module):
    """Holds parameters by string key, in insertion order; tensors stored become Parameters, other objects are kept
    as they are. A plain dict given to the constructor or ``update`` is added in sorted key order, as PyTorch's."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _attribute(key):
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not a string (type is "
                            f"'{type(key).__name__}'). Open an issue on github if you need non-string keys.")
        return key

    def __getitem__(self, key):
        return getattr(self, self._attribute(key))

    def __setitem__(self, key, value):
        self._keys[key] = None
        setattr(self, self._attribute(key), _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, self._attribute(key))

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self

    def copy(self):
        """A new ParameterDict holding the same parameters."""
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with each of ``keys`` set to ``default``."""
        return ParameterDict((key, default) for key in keys)

    def keys(self):
        """The keys, in order."""
        return self._keys.keys()

    def items(self):
        """(key, value) pairs, in order."""
        return ((k, self[k]) for k in self._keys)

    def values(self):
        """The values, in order."""
        return (self[k] for k in self._keys)

    def get(self, key, default=None):
        """The value at ``key``, or ``default``."""
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        """The value at ``key``, first storing ``default`` there if the key is absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        """Removes ``key`` and returns its value."""
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Removes the last entry and returns it as (key, value)."""
        if not self._keys:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self):
        """Removes every entry."""
        for key in list(self._keys):
            del self[key]

    def update(self, parameters):
        """Adds entries from a mapping (a plain dict in sorted key order) or an iterable of (key, value) pairs."""
        for key, value in _update_pairs("ParameterDict", parameters, sort_dicts=True):
            self[key] = value

    def extra_repr(self):
        return _entries_repr(self.items(), _tensor_type)


def _update_pairs(kind, values, sort_dicts):
    """The (key, value) pairs of a dict container's ``update`` argument, checked with PyTorch's errors: a mapping's
    items (a plain one's sorted when ``sort_dicts``, as ParameterDict does) or an iterable's pairs."""
    if not isinstance(values, Iterable):
        update = "ParametersDict.update" if kind == "ParameterDict" else f"{kind}.update"   # PyTorch's spelling
        raise TypeError(f"{update} should be called with an iterable of key/value pairs, but got "
                        + type(values).__name__)
    if sort_dicts and isinstance(values, Mapping) and not isinstance(values, OrderedDict):
        items = sorted(values.items())
    elif isinstance(values, (Mapping, ModuleDict, ParameterDict)):
        items = values.items()
    else:
        items = values
    pairs = []
    for j, pair in enumerate(items):
        if not isinstance(pair, Iterable):
            raise TypeError(f"{kind} update sequence element #{j} should be Iterable; is" + type(pair).__name__)
        if len(pair) != 2:
            raise ValueError(f"{kind} update sequence element #{j} has length {len(pair)}; 2 is required")
        pairs.append(pair)
    return pairs


def _as_parameter(value):
    from ..._tensor import Tensor
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _entries_repr(entries, type_name):
    """ParameterList's and ParameterDict's lines: each tensor's kind, type and size (and a CUDA device), each other
    object's class name."""
    from ..._tensor import Tensor
    lines = []
    for key, value in entries:
        if isinstance(value, Tensor):
            kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
            where = f" ({value.device})" if value.device.type == "cuda" else ""
            lines.append(f"  ({key}): {kind} containing: [{type_name(value)} of size "
                         f"{'x'.join(map(str, value.shape))}{where}]")
        else:
            lines.append(f"  ({key}): Object of type: {type(value).__name__}")
    return "\n".join(lines)


def _tensor_type(p):
    return p.type().replace("ember.", "torch.")
