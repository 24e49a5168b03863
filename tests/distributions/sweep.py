"""The differential sweep's machinery: one call run on ember and on torch 2.13, its outcome (tensors' dtypes, shapes
and values; sizes, texts, flags; or the exception's type and message) compared within the dtype's tolerance."""
import warnings

import numpy
import torch

import ember

TOLERANCE = {"float64": (1e-7, 1e-9), "float32": (2e-5, 2e-6), "float16": (2e-3, 2e-3)}


def _text(value):
    """A repr or message as torch words it: ember names its own module where torch does."""
    return value.replace("ember.", "torch.")


def normalize(value):
    """A library's result as plain Python and NumPy values that compare across libraries."""
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        dtype = str(value.dtype).split(".")[-1]
        data = value.detach()
        if dtype in ("float16", "bfloat16"):
            data = data.float()
        return "tensor", dtype, tuple(value.shape), data.cpu().numpy().copy()
    if isinstance(value, (torch.Size, ember.Size)):
        return "size", tuple(value)
    if isinstance(value, (tuple, list)):
        return type(value).__name__, [normalize(v) for v in value]
    if isinstance(value, dict):
        return "dict", [normalize((k, value[k])) for k in sorted(value)]
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return "object", type(value).__name__, _text(repr(value))


def outcome(lib, fn):
    """``fn(lib)``'s normalized result, or ("error", type name, message) for what it raised; warnings are quiet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return normalize(fn(lib))
        except Exception as error:   # noqa: BLE001 - the error is the outcome compared
            # torch.linalg.LinAlgError is torch._C._LinAlgError: the same public class under another name
            return "error", type(error).__name__.lstrip("_"), _text(str(error))


def difference(mine, theirs, path="result"):
    """Where two normalized outcomes differ (a sentence), or None when they agree within the dtype's tolerance."""
    if isinstance(theirs, tuple) and theirs and theirs[0] == "tensor":
        if not (isinstance(mine, tuple) and mine and mine[0] == "tensor"):
            return f"{path}: ember {_short(mine)}, torch a tensor"
        if mine[1:3] != theirs[1:3]:
            return f"{path}: ember {mine[1]}{list(mine[2])}, torch {theirs[1]}{list(theirs[2])}"
        a, b = mine[3], theirs[3]
        if b.dtype.kind in "fc":
            rtol, atol = TOLERANCE.get(theirs[1], (1e-2, 1e-2))
            if not numpy.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
                bad = ~numpy.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
                return f"{path}: values differ at {int(bad.sum())} of {b.size}: ember {a[bad][:3]}, torch {b[bad][:3]}"
        elif not numpy.array_equal(a, b):
            return f"{path}: values differ: ember {a.ravel()[:6]}, torch {b.ravel()[:6]}"
        return None
    if isinstance(theirs, tuple) and len(theirs) == 2 and theirs[0] in ("tuple", "list", "dict"):
        if not (isinstance(mine, tuple) and len(mine) == 2 and mine[0] == theirs[0] and len(mine[1]) == len(theirs[1])):
            return f"{path}: ember {_short(mine)}, torch {_short(theirs)}"
        for i, (m, t) in enumerate(zip(mine[1], theirs[1])):
            found = difference(m, t, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(theirs, float) and isinstance(mine, float):
        return None if numpy.isclose(mine, theirs, rtol=1e-7, atol=1e-12, equal_nan=True) else \
            f"{path}: ember {mine!r}, torch {theirs!r}"
    if mine != theirs:
        return f"{path}: ember {_short(mine)}, torch {_short(theirs)}"
    return None


def _short(value):
    if isinstance(value, tuple) and value and value[0] == "tensor":
        return f"tensor {value[1]}{list(value[2])}"
    text = repr(value)
    return text if len(text) < 400 else text[:400] + "..."


def compare(fn):
    """Runs ``fn`` on ember and on torch: None when the outcomes agree, else where they differ."""
    return difference(outcome(ember, fn), outcome(torch, fn))


def tensors(lib, arrays, grad=False):
    """NumPy arrays (in a dict, list or alone) as ``lib`` tensors; float ones require grad when ``grad``."""
    if isinstance(arrays, dict):
        return {k: tensors(lib, v, grad) for k, v in arrays.items()}
    if isinstance(arrays, (list, tuple)):
        return type(arrays)(tensors(lib, v, grad) for v in arrays)
    if isinstance(arrays, numpy.ndarray):
        return lib.tensor(arrays, requires_grad=grad and arrays.dtype.kind == "f")
    return arrays


def leaves(value):
    """The tensors that require grad in ``value`` (a dict, list or tensor), in order."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in leaves(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in leaves(v)]
    return [value] if getattr(value, "requires_grad", False) else []


def gradients(lib, output, inputs):
    """The gradients of a fixed weighting of ``output`` with respect to ``inputs`` (zeros where unused)."""
    weights = numpy.random.default_rng(7).uniform(0.5, 1.5, tuple(output.shape))
    total = (output * lib.tensor(weights, dtype=output.dtype)).sum()
    found = lib.autograd.grad(total, inputs, allow_unused=True)
    return [lib.zeros_like(x) if g is None else g for x, g in zip(inputs, found)]
