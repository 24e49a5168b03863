"""``ember.ao`` (``torch.ao``): quantization — quantized tensors, observers, fake quantization, dynamic quantization.

Its subpackages load on first use, so quantized tensors alone do not load ``ember.nn``.
"""
import importlib

_SUBMODULES = ("nn", "quantization")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
