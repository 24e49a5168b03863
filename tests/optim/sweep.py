"""Running one program on ember and on torch 2.13 and comparing what it gives: tensors (dtype, shape, values within
the dtype's tolerance), dicts (state_dict contents), numbers, texts, the exception's type and message, and the
warnings raised on the way. Messages are compared with ember's own name read as torch's (ember.float32 is how ember
names torch.float32)."""
import math
import re
import warnings

import numpy
import torch

import ember

TOLERANCE = {"float32": 2e-5, "float64": 1e-8, "complex64": 2e-5, "complex128": 1e-8}


def seen(lib, fn):
    """``fn(lib)``'s result (or its exception's type and message) in library-free form, and the warnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = plain(lib, fn(lib))
        except Exception as error:   # noqa: BLE001 (the type and message are what is compared)
            result = ("error", type(error).__name__, _named(lib, str(error)))
    return result, sorted({(w.category.__name__, _named(lib, _untriggered(str(w.message)))) for w in caught})


def _untriggered(text):
    """A warning's text without the source location PyTorch's C++ warnings end with."""
    return re.sub(r" \(Triggered internally at .*\)$", "", text)


def _named(lib, text):
    return text.replace("ember.", "torch.") if lib is ember else text


def plain(lib, value):
    """``value`` with tensors as ("tensor", dtype name, shape, array) and containers walked."""
    if isinstance(value, lib.Tensor):
        value = value.detach()
        if value.is_sparse:
            value = value.to_dense()
        dtype = str(value.dtype).split(".")[-1]
        values = value.float() if dtype in ("float16", "bfloat16") else value
        return "tensor", dtype, tuple(value.shape), values.resolve_conj().numpy().copy()
    if isinstance(value, dict):
        return {k: plain(lib, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [plain(lib, v) for v in value]
    if isinstance(value, (type(None), bool, int, float, str, complex)):
        return value
    return "object", type(value).__name__


def differences(mine, theirs, path="result", rtol=None):
    """The places where two ``plain`` values differ, as texts."""
    if isinstance(theirs, tuple) and len(theirs) == 4 and theirs[0] == "tensor":
        if not (isinstance(mine, tuple) and len(mine) == 4 and mine[0] == "tensor"):
            return [f"{path}: {_short(mine)} != torch tensor"]
        if mine[1:3] != theirs[1:3]:
            return [f"{path}: {mine[1]}{mine[2]} != torch {theirs[1]}{theirs[2]}"]
        tol = rtol or TOLERANCE.get(theirs[1], 0)
        if not numpy.allclose(mine[3], theirs[3], rtol=tol, atol=tol, equal_nan=True):
            return [f"{path}: {mine[3].ravel()[:4]} != torch {theirs[3].ravel()[:4]}"]
        return []
    if isinstance(theirs, dict):
        if not isinstance(mine, dict):
            return [f"{path}: {_short(mine)} != torch dict"]
        if list(mine) != list(theirs):
            return [f"{path}: keys {list(mine)} != torch {list(theirs)}"]
        return [d for k in theirs for d in differences(mine[k], theirs[k], f"{path}[{k!r}]", rtol)]
    if isinstance(theirs, tuple) and len(theirs) == 2 and theirs[0] in ("list", "tuple"):
        if not (isinstance(mine, tuple) and len(mine) == 2 and mine[0] == theirs[0] and len(mine[1]) == len(theirs[1])):
            return [f"{path}: {_short(mine)} != torch {_short(theirs)}"]
        return [d for i, (a, b) in enumerate(zip(mine[1], theirs[1])) for d in differences(a, b, f"{path}[{i}]", rtol)]
    if isinstance(theirs, float) and isinstance(mine, float):
        both_nan = mine != mine and theirs != theirs
        if both_nan or math.isclose(mine, theirs, rel_tol=rtol or 1e-9, abs_tol=rtol or 1e-12):
            return []
    elif type(mine) is type(theirs) and mine == theirs:
        return []
    return [f"{path}: {_short(mine)} != torch {_short(theirs)}"]


def _short(value):
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "..."


def compare(fn, rtol=None, warns=True):
    """The differences between ``fn(ember)`` and ``fn(torch)``: results, errors and (``warns``) warnings."""
    (mine, my_warnings), (theirs, their_warnings) = seen(ember, fn), seen(torch, fn)
    found = differences(mine, theirs, rtol=rtol)
    if warns and my_warnings != their_warnings:
        found.append(f"warnings: {my_warnings} != torch {their_warnings}")
    return found


def check(fn, rtol=None, warns=True):
    """Asserts ``fn(ember)`` and ``fn(torch)`` give the same (see ``compare``)."""
    found = compare(fn, rtol, warns)
    assert not found, "\n".join(found)
