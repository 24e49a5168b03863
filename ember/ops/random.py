"""Random numbers: generators with seeds and savable state, sampling functions and in-place fills.

Every stream comes from a NumPy ``Generator(PCG64)``; samples are drawn on the host and moved to the tensor's
device. The same seed gives the same numbers, though not PyTorch's numbers.
"""
import contextlib
import numbers
import secrets
import sys

import numpy

from .. import _backend, _dtype
from .._tensor import Tensor, _make
from ..autograd.grad_mode import state
from ._inplace import assign_inplace
from ._util import shape_arg, tensor_method, write_out

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
           "normal", "bernoulli", "multinomial", "poisson"]

_DEFAULT_SEED = 67280421310721
_UINT64 = (1 << 64) - 1
_STATE_BYTES = 56


class Generator:
    """A random number stream with its own seed and state: pass it as ``generator=`` to sampling functions."""

    def __init__(self, device="cpu"):
        self.device = _backend.as_device(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        """Restarts the stream from ``seed`` (any integer; negative ones wrap as in PyTorch); returns self."""
        if isinstance(seed, float) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        self._seed = int(seed) & _UINT64
        self._numpy = numpy.random.Generator(numpy.random.PCG64(self._seed))
        return self

    def seed(self):
        """Restarts the stream from a fresh non-deterministic seed and returns that seed."""
        fresh = secrets.randbits(63)
        self.manual_seed(fresh)
        return fresh

    def initial_seed(self):
        """The seed the stream was last started from."""
        return self._seed

    def get_state(self):
        """The full state as a ByteTensor; ``set_state`` of it continues the stream from this point."""
        state = self._numpy.bit_generator.state
        words = (state["state"]["state"], state["state"]["inc"])
        raw = b"".join(w.to_bytes(16, "little") for w in words) + bytes([state["has_uint32"]]) + bytes(7) + \
            int(state["uinteger"]).to_bytes(8, "little") + self._seed.to_bytes(8, "little")
        return _make(numpy.frombuffer(raw, numpy.uint8).copy())

    def set_state(self, new_state):
        """Restores a state returned by ``get_state``; returns self."""
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dtype.uint8:
            raise TypeError("RNG state must be a ember.ByteTensor")
        if new_state.numel() != _STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} but found the input RNG "
                               f"state size to be {new_state.numel()}")
        raw = _backend.move(new_state._data, _backend.CPU).tobytes()
        bit_generator = numpy.random.PCG64()
        bit_generator.state = {"bit_generator": "PCG64",
                               "state": {"state": int.from_bytes(raw[0:16], "little"),
                                         "inc": int.from_bytes(raw[16:32], "little")},
                               "has_uint32": raw[32], "uinteger": int.from_bytes(raw[40:48], "little")}
        self._numpy = numpy.random.Generator(bit_generator)
        self._seed = int.from_bytes(raw[48:56], "little")
        return self

    def __repr__(self):
        return f"<ember.Generator object at {hex(id(self))}>"


default_generator = Generator()
default_generator.seed()


def manual_seed(seed):
    """Seeds the default generator (so runs repeat exactly) and returns it."""
    return default_generator.manual_seed(seed)


def seed():
    """Seeds the default generator non-deterministically and returns the seed."""
    return default_generator.seed()


def initial_seed():
    """The seed the default generator was last started from."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a ByteTensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restores the default generator's state from a ByteTensor returned by ``get_rng_state``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Context manager: random numbers drawn inside do not advance the default generator outside."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


# ember.random mirrors torch.random (manual_seed, seed, fork_rng, ...): this module serves under that name too.
sys.modules.setdefault(__name__.rpartition(".")[0].rpartition(".")[0] + ".random", sys.modules[__name__])


# --- helpers --------------------------------------------------------------------------------------------------
def _stream(generator):
    return (generator if generator is not None else default_generator)._numpy


def _float_dtype(dtype, kernel):
    """The requested dtype (default float), with PyTorch's error for integer types a kernel cannot fill."""
    d = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
    if not (d.is_floating_point or d.is_complex):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(d)}\'')
    return d


def _place(array, d, device, requires_grad=False):
    """A tensor of dtype ``d`` on ``device`` from host samples."""
    with numpy.errstate(over="ignore", invalid="ignore"):
        array = numpy.asarray(array).astype(d.numpy, copy=False)
    out = _make(_backend.move(array, _backend.as_device(device)))
    return out.requires_grad_(True) if requires_grad else out


def _uniform(stream, shape, d):
    """Uniform samples in [0, 1) of dtype ``d`` (never rounding up to 1 in narrow float types)."""
    if d is _dtype.float32 or d is _dtype.float64:
        return stream.random(shape, dtype=d.numpy)
    values = stream.random(shape)
    if d.is_complex:
        return values + 1j * stream.random(shape)
    below_one = numpy.nextafter(numpy.array(1, d.numpy), numpy.array(0, d.numpy)).astype(numpy.float64)
    return numpy.minimum(values, below_one)


def _standard_normal(stream, shape, d):
    """Standard normal samples; complex ones have variance 1/2 in each part, as in PyTorch."""
    if d.is_complex:
        scale = numpy.sqrt(0.5)
        return scale * stream.standard_normal(shape) + 1j * scale * stream.standard_normal(shape)
    if d is _dtype.float32 or d is _dtype.float64:
        return stream.standard_normal(shape, dtype=d.numpy)
    return stream.standard_normal(shape)


# --- sampling functions ---------------------------------------------------------------------------------------
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform samples from [0, 1) of the given shape."""
    d = _float_dtype(dtype, "check_uniform_bounds")
    result = _place(_uniform(_stream(generator), shape_arg(size), d), d, device, requires_grad)
    return write_out(out, result, "rand")


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """Standard normal samples of the given shape."""
    d = _float_dtype(dtype, "normal_kernel_cpu")
    result = _place(_standard_normal(_stream(generator), shape_arg(size), d), d, device, requires_grad)
    return write_out(out, result, "randn")


def _check_range(low, high):
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    low, high = int(low), int(high)
    _check_range(low, high)
    d = _dtype.int64 if dtype is None else _dtype.as_dtype(dtype)
    samples = _stream(generator).integers(low, high, shape_arg((size,)), dtype=numpy.int64)
    return write_out(out, _place(samples, d, device, requires_grad), "randint")


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of 0..n-1."""
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    d = _dtype.int64 if dtype is None else _dtype.as_dtype(dtype)
    return write_out(out, _place(_stream(generator).permutation(int(n)), d, device, requires_grad), "randperm")


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
              generator=None):
    """Uniform samples from [0, 1) with the shape (and by default dtype and device) of ``input``."""
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
               generator=None):
    """Standard normal samples with the shape (and by default dtype and device) of ``input``."""
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None, generator=None):
    """Integers from [low, high) with the shape (and by default dtype and device) of ``input``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False):
    """Normal samples: elementwise from tensors of means and/or standard deviations (broadcast), or of ``size``
    from scalar ``mean`` and ``std``. Gradients flow to tensor ``mean`` and ``std``."""
    stream = _stream(generator)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal() missing required argument 'size' when mean and std are numbers")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        d = _float_dtype(dtype, "normal_kernel_cpu")
        samples = float(mean) + float(std) * _standard_normal(stream, shape_arg((size,)), d)
        return write_out(out, _place(samples, d, device, requires_grad), "normal")
    if isinstance(std, Tensor):
        if (std._data < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    d = _dtype.result_type(*tensors)
    _float_dtype(d, "normal_kernel_cpu")
    shape = numpy.broadcast_shapes(*(t.shape for t in tensors))
    noise = _place(_standard_normal(stream, shape, d), d, tensors[0].device)
    return write_out(out, mean + std * noise, "normal")


def _check_probabilities(p):
    if ((p < 0) | (p > 1)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


@tensor_method
def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples (in ``input``'s dtype) that are 1 with probability ``input`` (or ``p`` when given)."""
    if p is None:
        probabilities = _backend.move(input._data, _backend.CPU)
        if input.dtype._category < _dtype._FLOAT:
            probabilities = probabilities.astype(numpy.float64)
    else:
        probabilities = numpy.full(input.shape, float(p))
    _check_probabilities(probabilities)
    samples = _stream(generator).random(input.shape) < probabilities
    return write_out(out, _place(samples, input.dtype, input.device), "bernoulli")


@tensor_method
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices sampled from the categories of each row of non-negative weights ``input`` (1-D or 2-D)."""
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    weights = _backend.move(input._data, _backend.CPU).astype(numpy.float64).reshape(-1, input.shape[-1])
    categories = weights.shape[1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if not numpy.isfinite(weights).all() or (weights < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (weights.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    stream = _stream(generator)
    rows = numpy.arange(weights.shape[0])[:, None]
    if replacement:
        cdf = numpy.cumsum(weights, axis=1)
        cdf /= cdf[:, -1:]
        # One searchsorted over all rows: row r's cdf lives in [r, r + 1], so the rows stay sorted end to end.
        draws = stream.random((weights.shape[0], num_samples)) + rows
        indices = numpy.searchsorted((cdf + rows).ravel(), draws.ravel(), side="right").reshape(draws.shape)
        indices = numpy.minimum(indices - rows * categories, categories - 1)
    else:
        # Exponential race: the smallest Exp(1)/weight keys are a weighted sample without replacement.
        with numpy.errstate(divide="ignore"):
            keys = stream.standard_exponential(weights.shape) / weights
        indices = numpy.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    indices = indices.reshape(input.shape[:-1] + (num_samples,))
    return write_out(out, _place(indices, _dtype.int64, input.device), "multinomial")


def poisson(input, generator=None):
    """Samples from Poisson distributions with rates ``input`` (in ``input``'s dtype)."""
    rates = _backend.move(input._data, _backend.CPU).astype(numpy.float64)
    return _place(_stream(generator).poisson(rates), input.dtype, input.device)


# --- in-place fills -------------------------------------------------------------------------------------------
def _fill(self, samples):
    """Writes host samples into self (no gradient flows through random fills)."""
    return assign_inplace(self, _place(samples, self.dtype, self.device))


def _direct_target(self):
    """self's array when samples can be drawn straight into it (a contiguous float32/float64 host array outside
    autograd's view), else None. Parameter initialisation takes this path: drawing in place, without float64
    temporaries or a copy, keeps building large models quick."""
    data = self._data
    if type(data) is not numpy.ndarray or data.dtype.type not in (numpy.float32, numpy.float64) or \
            not data.flags.c_contiguous or not data.flags.writeable:
        return None
    if state.enabled and (self.requires_grad or (self._base is not None and self._base.requires_grad)):
        return None
    return data


def _scale_in_place(self, data, scale, shift):
    """``data * scale + shift`` written back into data; bumps self's version as any in-place op does."""
    if scale != 1:
        data *= scale
    if shift != 0:
        data += shift
    self._version_counter[0] += 1
    return self


def _float_fill(self, kernel):
    _float_dtype(self.dtype, kernel)
    return tuple(self.shape)


@tensor_method
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fills self with samples from N(mean, std**2)."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    shape = _float_fill(self, "normal_kernel_cpu")
    data = _direct_target(self)
    if data is not None:
        _stream(generator).standard_normal(dtype=data.dtype, out=data)
        return _scale_in_place(self, data, std, mean)
    return _fill(self, mean + std * _standard_normal(_stream(generator), shape, self.dtype))


def _bounds(args, kwargs, defaults):
    """Positional or keyword ``from``/``to`` arguments (``from`` is a Python keyword, so it arrives in kwargs)."""
    names = ("from", "to")
    values = list(defaults)
    for i, value in enumerate(args):
        values[i] = value
    for name, value in kwargs.items():
        if name not in names:
            raise TypeError(f"got an unexpected keyword argument '{name}'")
        values[names.index(name)] = value
    return values


@tensor_method
def uniform_(self, *args, generator=None, **kwargs):
    """Fills self with samples from the uniform distribution on [from, to) (default [0, 1))."""
    low, high = _bounds(args, kwargs, (0.0, 1.0))
    shape = _float_fill(self, "check_uniform_bounds")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
    data = _direct_target(self)
    if data is not None:
        _stream(generator).random(dtype=data.dtype, out=data)
        return _scale_in_place(self, data, high - low, low)
    return _fill(self, low + (high - low) * _uniform(_stream(generator), shape, self.dtype))


def _random_upper(d):
    """One past the largest integer ``random_`` draws by default for dtype ``d`` (exact integers in floats)."""
    if d.is_floating_point:
        return {"float16": 2 ** 11, "bfloat16": 2 ** 8, "float32": 2 ** 24}.get(d.name, 2 ** 53) + 1
    if d is _dtype.bool_:
        return 2
    return int(numpy.iinfo(d.numpy).max) + 1


@tensor_method
def random_(self, *args, generator=None, **kwargs):
    """Fills self with integers from [from, to): ``random_()``, ``random_(to)`` or ``random_(from, to)``."""
    if len(args) == 1 and "to" not in kwargs:
        args = (0, args[0])
    low, high = _bounds(args, kwargs, (0, None))
    high = _random_upper(self.dtype) if high is None else int(high)
    _check_range(int(low), high)
    return _fill(self, _stream(generator).integers(int(low), high, tuple(self.shape), dtype=numpy.int64))


@tensor_method
def bernoulli_(self, p=0.5, *, generator=None):
    """Fills self with 0/1 samples that are 1 with probability ``p`` (a number or a broadcastable tensor)."""
    probabilities = _backend.move(p._data, _backend.CPU).astype(numpy.float64) if isinstance(p, Tensor) else \
        numpy.float64(p)
    _check_probabilities(numpy.asarray(probabilities))
    return _fill(self, _stream(generator).random(tuple(self.shape)) < probabilities)


@tensor_method
def exponential_(self, lambd=1.0, *, generator=None):
    """Fills self with samples from the exponential distribution of rate ``lambd``."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    shape = _float_fill(self, "exponential_cpu")
    return _fill(self, _stream(generator).standard_exponential(shape) / lambd)


@tensor_method
def geometric_(self, p, *, generator=None):
    """Fills self with the number of Bernoulli(p) trials up to and including the first success."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(self, _stream(generator).geometric(p, tuple(self.shape)))


@tensor_method
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fills self with samples from the Cauchy distribution."""
    shape = _float_fill(self, "cauchy_cpu")
    return _fill(self, median + sigma * _stream(generator).standard_cauchy(shape))


@tensor_method
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fills self with samples whose logarithm is N(mean, std**2)."""
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    shape = _float_fill(self, "log_normal_cpu")
    return _fill(self, _stream(generator).lognormal(mean, std, shape))
