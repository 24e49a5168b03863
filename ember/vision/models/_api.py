"""torchvision's weights API: ``Weights`` (url, transforms, meta), the ``WeightsEnum`` every model's weights
derive from, and the model registry (``register_model``, ``list_models``, ``get_model``, ``get_model_weights``,
``get_weight``)."""
import fnmatch
import importlib
import inspect
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Callable, get_args

from ...hub import load_state_dict_from_url

__all__ = ["WeightsEnum", "Weights", "get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models"]


@dataclass
class Weights:
    """Pretrained weights: where they are (``url``), the preprocessing they expect (``transforms``, a constructor)
    and their ``meta`` data (categories, parameter count, accuracies, recipe)."""

    url: str
    transforms: Callable
    meta: dict

    def __eq__(self, other):
        # An enum's deep copy or unpickling compares the new value with the members; a deep-copied partial is not
        # equal to its original, so partials compare by their parts.
        if not isinstance(other, Weights):
            return NotImplemented
        if self.url != other.url or self.meta != other.meta:
            return False
        if isinstance(self.transforms, partial) and isinstance(other.transforms, partial):
            return (self.transforms.func == other.transforms.func and self.transforms.args == other.transforms.args
                    and self.transforms.keywords == other.transforms.keywords)
        return self.transforms == other.transforms


class WeightsEnum(Enum):
    """The parent of every model's weights enum; its members' values are :class:`Weights`."""

    @classmethod
    def verify(cls, obj):
        """``obj`` as a member of this enum: a member, its name (``"IMAGENET1K_V1"`` or ``"ResNet18_Weights.
        IMAGENET1K_V1"``) or None; another enum's member raises TypeError."""
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(
                    f"Invalid Weight class provided; expected {cls.__name__} but received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        """The state dict at ``url``, through ``ember.hub.load_state_dict_from_url`` (downloaded once, cached)."""
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        """Where the checkpoint is downloaded from."""
        return self.value.url

    @property
    def transforms(self):
        """The constructor of the preprocessing these weights expect: ``weights.transforms()``."""
        return self.value.transforms

    @property
    def meta(self):
        """The weights' meta data."""
        return self.value.meta


def get_weight(name):
    """The weights enum member of a full name such as ``"ResNet50_Weights.IMAGENET1K_V1"``."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    base_module = importlib.import_module(__name__.rsplit(".", 1)[0])
    model_modules = [base_module] + [module for _, module in inspect.getmembers(base_module, inspect.ismodule)
                                     if module.__file__.endswith("__init__.py")]
    for module in model_modules:
        candidate = module.__dict__.get(enum_name, None)
        if candidate is not None and issubclass(candidate, WeightsEnum):
            return candidate[value_name]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")


def get_model_weights(name):
    """The weights enum class of a model builder (or of the name it is registered under)."""
    model = get_model_builder(name) if isinstance(name, str) else name
    return _get_enum_from_fn(model)


def _get_enum_from_fn(fn):
    """The WeightsEnum in the annotation of ``fn``'s ``weights`` parameter."""
    sig = inspect.signature(fn)
    if "weights" not in sig.parameters:
        raise ValueError("The method is missing the 'weights' argument.")
    ann = sig.parameters["weights"].annotation
    if isinstance(ann, type) and issubclass(ann, WeightsEnum):
        return ann
    for t in get_args(ann):
        if isinstance(t, type) and issubclass(t, WeightsEnum):
            return t
    raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved. Make sure the typing info "
                     "is correct.")


BUILTIN_MODELS = {}


def register_model(name=None):
    """A decorator recording a model builder under ``name`` (default: its function name)."""
    def wrapper(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn
    return wrapper


def list_models(module=None, include=None, exclude=None):
    """The sorted names of the registered models, optionally those of one ``module`` and filtered by fnmatch
    patterns (``include`` first, then ``exclude``)."""
    all_models = {k for k, v in BUILTIN_MODELS.items()
                  if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        models = set()
        for include_filter in [include] if isinstance(include, str) else include:
            models |= set(fnmatch.filter(all_models, include_filter))
    else:
        models = all_models
    if exclude:
        for exclude_filter in [exclude] if isinstance(exclude, str) else exclude:
            models -= set(fnmatch.filter(all_models, exclude_filter))
    return sorted(models)


def get_model_builder(name):
    """The builder function registered under ``name``."""
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name, **config):
    """The model registered under ``name``, built with ``config`` (``weights=`` included)."""
    return get_model_builder(name)(**config)

