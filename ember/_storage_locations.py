"""Where saved storages come from and loaded ones go: torch.serialization's registry of location taggers and
deserializers (``register_package``, ``location_tag``, ``default_restore_location``) and ``map_location``'s rules.
Storages here are ``ember.serialization.Storage``: ``.to(device)`` moves one."""
import functools
import re

from . import _backend

__all__ = [
    "default_restore_location",
    "device_for",
    "location_tag",
    "register_package",
    "restore_location",
    "validate_cuda_device",
    "validate_hpu_device",
]

_package_registry = []
"""``(priority, tagger, deserializer)``, lowest priority first, as torch.serialization keeps them."""


def register_package(priority, tagger, deserializer):
    """Registers ``tagger(storage) -> location or None`` (used by save) and ``deserializer(storage, location) ->
    storage or None`` (used by load), tried by ascending ``priority`` until one gives a value."""
    _package_registry.append((priority, tagger, deserializer))
    _package_registry.sort(key=lambda entry: entry[0])


def location_tag(storage):
    """The location string a storage is saved with (``'cpu'``, ``'cuda:0'``), from the first tagger that knows it."""
    for _, tagger, _ in _package_registry:
        location = tagger(storage)
        if location:
            return location
    raise RuntimeError(f"don't know how to determine data location of {_typename(storage)}")


def default_restore_location(storage, location):
    """``storage`` moved to ``location`` by the first registered deserializer that takes the location."""
    for _, _, deserializer in _package_registry:
        result = deserializer(storage, location)
        if result is not None:
            return result
    raise RuntimeError(f"don't know how to restore data location of {_typename(storage)} (tagged with {location})")


def _typename(obj):
    from .ops.tensor_utilities import typename
    return typename(obj)


def validate_cuda_device(location):
    """The index of the CUDA device ``location`` names, refused with PyTorch's errors where there is none."""
    return device_for(location).index or 0


def validate_hpu_device(location):
    """Refuses an HPU location: ember has no HPU device module."""
    raise RuntimeError("The HPU device module is not registered. If you are running on a CPU-only machine, please use "
                       f"{_package()}.load with map_location={_package()}.device('cpu') to map your storages to the "
                       "CPU.")


def _package():
    from ._alias import package
    return package()


def device_for(location):
    """The device a saved location tag or map_location value names, with PyTorch's errors for a CUDA one this
    machine lacks."""
    if isinstance(location, bytes):
        location = location.decode("ascii")
    device = _backend.as_device(location)
    if device.type == "cuda":
        if not _backend.cuda_available():
            raise RuntimeError("Attempting to deserialize object on a CUDA device but ember.cuda.is_available() is "
                               "False. If you are running on a CPU-only machine, please use ember.load with "
                               "map_location=ember.device('cpu') to map your storages to the CPU.")
        from . import cuda
        count = cuda.device_count()
        if (device.index or 0) >= count:
            raise RuntimeError(f"Attempting to deserialize object on CUDA device {device.index} but "
                               f"ember.cuda.device_count() is {count}. Please use ember.load with map_location to "
                               "map your storages to an existing device.")
    elif device.type not in ("cpu", "meta"):
        raise RuntimeError(f"don't know how to restore data location of a storage tagged with {device}")
    return device


def _tag(device_type, storage):
    device = storage.device
    if device.type == device_type:
        return device_type if device.index is None or device_type != "cuda" else f"cuda:{device.index}"
    return None


def _moved(storage, device):
    """``storage`` (of any storage class) on ``device``: itself when already there."""
    if storage.device == device:
        return storage
    return type(storage)(_backend.move(storage._data, device))


def _cpu_deserialize(storage, location):
    return storage if location == "cpu" else None


def _cuda_deserialize(storage, location):
    if location == "cuda" or re.match("cuda(:|[0-9]+)", location):
        return _moved(storage, device_for(location))
    return None


def _meta_deserialize(storage, location):
    return _moved(storage, _backend.device("meta")) if str(location).startswith("meta") else None


register_package(10, functools.partial(_tag, "cpu"), _cpu_deserialize)
register_package(20, functools.partial(_tag, "cuda"), _cuda_deserialize)
register_package(22, functools.partial(_tag, "meta"), _meta_deserialize)


def restore_location(storage, location, map_location):
    """A freshly read ``storage`` saved at ``location`` moved where ``map_location`` says, by PyTorch's rules: None
    restores the saved location, a str or device names the place, a dict maps saved locations, a callable is asked
    first (None from it: the saved location); every location goes through the registered deserializers."""
    if isinstance(location, bytes):
        location = location.decode("ascii")
    if map_location is None:
        return default_restore_location(storage, location)
    if isinstance(map_location, dict):
        return default_restore_location(storage, str(map_location.get(location, location)))
    if isinstance(map_location, (str, bytes)):
        return default_restore_location(storage, _text(map_location))
    if isinstance(map_location, _backend.device):
        return default_restore_location(storage, str(map_location))
    moved = map_location(storage, location)
    return default_restore_location(storage, location) if moved is None else moved


def _text(value):
    return value.decode("ascii") if isinstance(value, bytes) else value
