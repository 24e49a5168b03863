"""Running one torch.utils.data program on ember and on PyTorch and describing its outcome exactly, to compare.

A program is ``fn(lib)`` with ``lib`` the ember or torch module. Its outcome is the result described as plain data
(tensors by dtype, shape and values; containers by type name and contents; other objects by type name), or the
exception's type and message, together with the warnings it raised (category and message).
"""
import collections.abc
import re
import warnings

import numpy
import torch

import ember


def describe(value):
    """``value`` as plain, library-free data: equal descriptions mean equal values of equal kinds."""
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        values = value.detach().cpu()
        return (type(value).__name__, str(value.dtype).split(".")[-1], tuple(value.shape), value.requires_grad,
                values.tolist())
    if isinstance(value, numpy.ndarray):
        return "ndarray", value.dtype.str, value.shape, value.tolist()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value).__name__, value._fields, [describe(v) for v in value]
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [describe(v) for v in value]
    if isinstance(value, collections.abc.Mapping):
        return type(value).__name__, [(k, describe(v)) for k, v in value.items()]
    if value is None or isinstance(value, (bool, int, float, str, bytes, numpy.generic)):
        return type(value).__name__, repr(value)
    return "object", type(value).__name__


def outcome(lib, fn):
    """What ``fn(lib)`` gives: ("ok", description) or ("error", type name, message), and the warnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", describe(fn(lib)))
        except Exception as error:   # noqa: BLE001 (the type and message are what is compared)
            result = ("error", type(error).__name__, _named_torch(lib, str(error)))
    return result, sorted({(w.category.__name__, _named_torch(lib, str(w.message))) for w in caught})


def _named_torch(lib, message):
    """``message`` with ember's module name read as torch's (``<class 'ember.Tensor'>`` is torch's class) and
    objects' addresses left out."""
    message = re.sub(r" at 0x[0-9a-fA-F]+", " at 0x?", message)
    return message.replace("ember.", "torch.") if lib is ember else message


def same_outcome(fn):
    """Asserts ember and PyTorch give ``fn`` the same outcome, warnings included."""
    mine, theirs = outcome(ember, fn), outcome(torch, fn)
    assert mine == theirs, f"\nember: {mine}\ntorch: {theirs}"


def case_registry():
    """A dict of named programs and the decorator that adds one to it (``@case(name)``)."""
    cases = {}

    def case(name):
        def register(fn):
            cases[name] = fn
            return fn
        return register
    return cases, case


def gen(lib, seed=7):
    """A ``lib`` generator seeded with ``seed``."""
    return lib.Generator().manual_seed(seed)
