"""Comparing ember with PyTorch: the same call on both, then values, dtypes, shapes, gradients and errors.

``check(fn, *args)`` runs ``fn(ember, *ember_args)`` and ``fn(torch, *torch_args)``; ``args`` are NumPy arrays
(or nested lists/tuples of them, or plain Python values) turned into tensors of each library. Arrays of floating
type become tensors that require grad when ``grad=True``, and the gradients of a random weighting of the outputs
are compared too.

Where a CUDA device is at hand (``ember.cuda.is_available()``; ``EMBER_TEST_CUDA=0`` turns it off), ``check`` and
``check_error`` run every sample a second time on ``cuda`` tensors and compare that with PyTorch's CPU result too.
"""
import contextlib
import os
import re
import warnings

import numpy
import torch

import ember
from ember.ops import random as random_ops

CUDA = os.environ.get("EMBER_TEST_CUDA", "1") != "0" and ember.cuda.is_available()
"""Whether the oracle repeats each sample on a CUDA device."""

TOLERANCES = {numpy.float16: (1e-3, 1e-2), numpy.float32: (1e-5, 1e-5), numpy.float64: (1e-10, 1e-10),
              numpy.complex64: (1e-5, 1e-5), numpy.complex128: (1e-10, 1e-10)}


def to_ember(value, requires_grad=False, device="cpu"):
    """A NumPy array (or nested structure of them) as ember tensors on ``device``; other values pass through."""
    if isinstance(value, numpy.ndarray):
        t = ember.from_numpy(value)
        if device != "cpu":
            t = t.to(device)
        if requires_grad and value.dtype.kind in "fc":
            t.requires_grad_(True)
        return t
    if isinstance(value, (list, tuple)):
        return type(value)(to_ember(v, requires_grad, device) for v in value)
    return value


def to_torch(value, requires_grad=False):
    """A NumPy array (or nested structure of them) as torch tensors; other values pass through."""
    if isinstance(value, numpy.ndarray):
        t = torch.tensor(value)
        if requires_grad and value.dtype.kind in "fc":
            t.requires_grad_(True)
        return t
    if isinstance(value, (list, tuple)):
        return type(value)(to_torch(v, requires_grad) for v in value)
    return value


def as_numpy(t):
    """An ember or torch tensor's values as a NumPy array (bfloat16 as float32)."""
    if isinstance(t, torch.Tensor):
        t = t.detach().resolve_conj()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.numpy()
    if isinstance(t, ember.Tensor):
        data = t.detach().cpu()._data
    else:
        data = t.get() if hasattr(t, "get") and not isinstance(t, numpy.ndarray) else numpy.asarray(t)
    if data.dtype.name == "bfloat16":
        data = data.astype(numpy.float32)
    return data


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def assert_same(e, t, rtol=None, atol=None, equal_nan=True, check_dtype=True, path="output"):
    """Asserts that an ember result matches a torch result: structure, shape, dtype and values."""
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t), f"{path}: {type(e)} vs {type(t)}"
        for i, (ei, ti) in enumerate(zip(e, t)):
            assert_same(ei, ti, rtol, atol, equal_nan, check_dtype, f"{path}[{i}]")
        return
    if not isinstance(t, torch.Tensor):
        if isinstance(t, float):
            assert numpy.isclose(e, t, rtol=rtol or 1e-6, atol=atol or 1e-6, equal_nan=True), f"{path}: {e} != {t}"
        else:
            assert e == t, f"{path}: {e!r} != {t!r}"
        return
    assert isinstance(e, ember.Tensor), f"{path}: expected a Tensor, got {type(e)}"
    assert tuple(e.shape) == tuple(t.shape), f"{path}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"
    if check_dtype:
        assert dtype_name(e) == dtype_name(t), f"{path}: dtype {e.dtype} != torch {t.dtype}"
    a, b = as_numpy(e), as_numpy(t)
    if b.dtype.kind in "fc":
        default_rtol, default_atol = TOLERANCES.get(b.dtype.type, (1e-2, 1e-2))
        numpy.testing.assert_allclose(a, b, rtol=rtol or default_rtol, atol=atol or default_atol,
                                      equal_nan=equal_nan, err_msg=path)
    else:
        numpy.testing.assert_array_equal(a, b, err_msg=path)


def _flat_tensors(value, kind):
    if isinstance(value, kind):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flat_tensors(v, kind)]
    return []


def check(fn, *args, grad=True, rtol=None, atol=None, check_dtype=True, kwargs=None):
    """Runs ``fn(lib, *args)`` on ember and torch and compares outputs and (for float inputs) gradients; where a
    GPU is at hand, ember runs the sample on ``cuda`` too."""
    kwargs = kwargs or {}
    t_args = to_torch(args, grad)
    t_out = fn(torch, *t_args, **kwargs)
    t_outs = [o for o in _flat_tensors(t_out, torch.Tensor) if o.requires_grad] if grad else []
    t_grads = weights = None
    if t_outs:
        t_inputs = [t for t in _flat_tensors(t_args, torch.Tensor) if t.requires_grad]
        rng = numpy.random.default_rng(1)
        weights = [rng.standard_normal(tuple(o.shape)).astype(as_numpy(o).dtype) for o in t_outs]
        t_grads = torch.autograd.grad(t_outs, t_inputs, [torch.tensor(w) for w in weights], allow_unused=True)
    result = None
    on_cuda = CUDA and _has_arrays(args)
    pristine = _copied(args) if on_cuda else args   # the CPU run may write into the arrays it shares
    random_state = ember.get_rng_state() if on_cuda else None
    for device in ("cpu", "cuda") if on_cuda else ("cpu",):
        where = "" if device == "cpu" else "cuda "
        e_args = to_ember(args if device == "cpu" else pristine, grad, device)
        if device == "cpu":
            e_out = fn(ember, *e_args, **kwargs)
        else:
            ember.set_rng_state(random_state)   # the same draws as the CPU run
            draws = random_ops.device_draws[0]
            with _default_device("cuda"):   # tensors the sample makes itself go where its inputs are
                e_out = fn(ember, *e_args, **kwargs)
            if random_ops.device_draws[0] != draws:   # GPU samples (dropout masks) never equal PyTorch's CPU ones
                for e, t in zip(_flat_tensors(e_out, ember.Tensor), _flat_tensors(t_out, torch.Tensor), strict=True):
                    assert tuple(e.shape) == tuple(t.shape) and dtype_name(e) == dtype_name(t)
                _check_device(e_out, device, where)
                continue
        assert_same(e_out, t_out, rtol, atol, check_dtype=check_dtype, path=f"{where}output")
        _check_device(e_out, device, where)
        if device == "cpu":
            result = e_out, t_out
        if not grad:
            continue
        e_outs = [o for o in _flat_tensors(e_out, ember.Tensor) if o.requires_grad]
        assert len(t_outs) == len(e_outs), f"{len(e_outs)} ember outputs require grad, torch has {len(t_outs)}"
        if not t_outs:
            continue
        e_inputs = [t for t in _flat_tensors(e_args, ember.Tensor) if t.requires_grad]
        e_grads = ember.autograd.grad(e_outs, e_inputs, [ember.tensor(w, device=device) for w in weights],
                                      allow_unused=True)
        for i, (eg, tg) in enumerate(zip(e_grads, t_grads)):
            if tg is None:
                assert eg is None or not as_numpy(eg).any(), f"{where}grad[{i}]: torch has none, ember has {eg}"
            else:
                assert eg is not None, f"{where}grad[{i}]: ember has no gradient, torch has one"
                assert_same(eg, tg, rtol, atol, path=f"{where}grad[{i}]")
                _check_device(eg, device, where)
    return result


def _has_arrays(value):
    if isinstance(value, numpy.ndarray):
        return True
    return isinstance(value, (list, tuple)) and any(_has_arrays(v) for v in value)


@contextlib.contextmanager
def _default_device(device):
    previous = ember.get_default_device()
    ember.set_default_device(device)
    try:
        yield
    finally:
        ember.set_default_device(previous)


def _copied(value):
    if isinstance(value, numpy.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    return value


def _check_device(value, device, where):
    for i, t in enumerate(_flat_tensors(value, ember.Tensor)):
        assert t.device.type == device, f"{where}output {i} is on {t.device}, expected {device}"


def check_error(fn, *args, match=None, kwargs=None):
    """Asserts that ember raises the same exception type as torch for ``fn(lib, *args)``; returns ember's."""
    kwargs = kwargs or {}
    import pytest
    with pytest.raises(Exception) as torch_error:
        fn(torch, *to_torch(args), **kwargs)
    with pytest.raises(type(torch_error.value), match=match) as ember_error:
        fn(ember, *to_ember(args), **kwargs)
    if CUDA and _has_arrays(args):
        with pytest.raises(type(torch_error.value), match=match), _default_device("cuda"):
            fn(ember, *to_ember(_copied(args), device="cuda"), **kwargs)
    return ember_error.value


def check_same_error(fn, *args, kwargs=None):
    """Asserts that ember raises what torch raises for ``fn(lib, *args)``: the same type and the same message."""
    import pytest
    with pytest.raises(Exception) as expected:
        fn(torch, *to_torch(args), **(kwargs or {}))
    return check_error(fn, *args, match="^" + re.escape(str(expected.value)) + "$", kwargs=kwargs)


def gradcheck(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3, gradgrad=True):
    """Finite-difference check of ember gradients (and second gradients) of ``fn(ember, *tensors)`` in float64."""
    inputs = tuple(ember.tensor(numpy.asarray(a, dtype=numpy.float64), requires_grad=True) for a in arrays)
    assert ember.autograd.gradcheck(lambda *xs: fn(ember, *xs), inputs, eps=eps, atol=atol, rtol=rtol)
    if gradgrad:
        assert ember.autograd.gradgradcheck(lambda *xs: fn(ember, *xs), inputs, eps=eps, atol=atol, rtol=rtol)


def sample(shape, dtype=numpy.float32, low=-3, high=3, seed=0):
    """A reproducible random array of ``shape`` and ``dtype`` (ints in [low, high), bools half true)."""
    rng = numpy.random.default_rng(seed)
    dtype = numpy.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(max(low, 0) if dtype.kind == "u" else low, high, shape).astype(dtype)
    values = rng.uniform(low, high, shape)
    if dtype.kind == "c":
        values = values + 1j * rng.uniform(low, high, shape)
    return values.astype(dtype)


def noncontiguous(array):
    """The same values as a non-contiguous (transposed-copy) array, for testing strided inputs."""
    if array.ndim < 2:
        doubled = numpy.repeat(array, 2)
        return doubled[::2]
    return numpy.ascontiguousarray(array.swapaxes(0, 1)).swapaxes(0, 1)


def count_calls(monkeypatch, module, names):
    """Wraps ``module``'s functions ``names`` so that each call is counted; returns the {name: calls} dict (names
    not called are absent)."""
    counted = {}
    for name in names:
        def counting(*args, _name=name, _original=getattr(module, name)):
            counted[_name] = counted.get(_name, 0) + 1
            return _original(*args)
        monkeypatch.setattr(module, name, counting)
    return counted


def check_conv(name, x_shape, w_shape, options, dtype, bias_size=None):
    """``lib.nn.functional.<name>`` of sampled input, weight (and bias) against PyTorch, values and gradients, at
    the dtype's tolerance; returns the sampled arrays."""
    tolerance = 1e-4 if dtype == numpy.float32 else 1e-10
    arrays = [sample(x_shape, dtype, seed=1), sample(w_shape, dtype, seed=2) / 3]
    if bias_size is not None:
        arrays.append(sample((bias_size,), dtype, seed=3))
    check(lambda lib, *a: getattr(lib.nn.functional, name)(*a, **options), *arrays, rtol=tolerance, atol=tolerance)
    return arrays


def assert_fast_path_matches(run, threads, calls, expected_calls):
    """``run(fast)`` returns arrays by a fast path (``fast`` True) or the general one: the fast path's on ``threads``
    intra-op threads must have the bits of its run on one thread, and the general path's values to 1e-12 (float64
    round-off); after the first run, ``calls`` (``count_calls``' dict) must be ``expected_calls``. The thread count
    is restored after."""
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(threads)
        fast = run(True)
        assert calls == expected_calls
        ember.set_num_threads(1)
        one_thread = run(True)
        general = run(False)
    finally:
        ember.set_num_threads(before)
    for got, same, want in zip(fast, one_thread, general):
        numpy.testing.assert_array_equal(got, same)
        numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def outcome(lib, fn):
    """What ``fn(lib)`` gives, to compare across libraries: ("error", type name, message), a text result as is, or
    the result's arrays (a tensor, array or None, or a tuple/list of them; 16-bit floats read as float32)."""
    try:
        result = fn(lib)
    except Exception as error:   # noqa: BLE001 (the type and message are what is compared)
        return "error", type(error).__name__, str(error)
    if isinstance(result, str):
        return result
    return [_outcome_array(lib, r) for r in (result if isinstance(result, (tuple, list)) else (result,))]


def _outcome_array(lib, value):
    if value is None or isinstance(value, numpy.ndarray):
        return value
    value = value.detach()
    return (value.float() if value.dtype in (lib.float16, lib.bfloat16) else value).numpy()


def same_outcome(fn, rtol=1e-7, atol=0.0):
    """Asserts ``fn(ember)`` and ``fn(torch)`` have the same ``outcome``: the same error or text, or arrays of equal
    shapes and dtypes, their values within ``rtol``/``atol``."""
    mine, theirs = outcome(ember, fn), outcome(torch, fn)
    if not isinstance(mine, list) or not isinstance(theirs, list):
        assert mine == theirs
        return
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert (a is None) == (b is None)
        if b is not None:
            assert a.shape == b.shape and a.dtype == b.dtype
            numpy.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def listing(lib, fn):
    """What ``fn(lib)`` gives, exactly, with warnings silenced: a tensor's dtype name and values as lists, another
    result's repr, or the exception's type and message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn(lib)
    except Exception as error:   # noqa: BLE001 (the type and message are what is compared)
        return type(error).__name__, str(error)
    if isinstance(result, lib.Tensor):
        return str(result.dtype).split(".")[1], result.tolist()
    return repr(result)


def same_listing(fn):
    """Asserts ``fn(ember)`` and ``fn(torch)`` give the same ``listing``: equal dtypes and values, reprs or errors."""
    assert listing(ember, fn) == listing(torch, fn)
