"""Random numbers bit-identical to PyTorch's CPU generator: generators, sampling functions and in-place fills.

Every stream is PyTorch's Mersenne Twister (``_mt19937``), and every sampler consumes it as PyTorch's CPU kernel
does (``_samplers``), so ``manual_seed(s)`` followed by the same calls gives PyTorch's numbers, and states move
between the two libraries. Samples are drawn on the host and moved to the tensor's device, except ``bernoulli_``
with a scalar probability (dropout's masks) on a CUDA tensor: that hashes (seed, fill number, element index) on the
GPU (``device_streams``), seeded by ``manual_seed`` (PyTorch's CUDA generator is another one too, so its numbers
never equal the CPU stream's).
"""
import contextlib
import math
import numbers
import secrets
import sys

import numpy

from .._warnings import transparent, warn
from .. import _alias, _backend, _dtype, _meta
from .._dtype_info import finfo
from .._tensor import Tensor, _make
from ..autograd.function import Primitive, dispatch_hooks
from ..autograd.grad_mode import check_inference_write, state
from . import _samplers
from .creation import _dtype_arg, _factory, _like, _like_layout, _requires_grad_arg
from ._inplace import assign_inplace
from ._kernel_dtypes import cpp_type_name, refuse_complex
from ._mt19937 import STATE_BYTES, Engine
from ._util import argument_error, check_same_device, shape_arg, tensor_method, write_out

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
           "normal", "bernoulli", "multinomial", "poisson"]

_DEFAULT_SEED = 67280421310721


class Generator:
    """A random number stream with its own seed and state: pass it as ``generator=`` to sampling functions."""

    def __init__(self, device="cpu"):
        self.device = _backend.as_device(device)
        self._engine = Engine(_DEFAULT_SEED)

    def manual_seed(self, seed):
        """Restarts the stream from ``seed`` (an integer in [-2**63, 2**64); negative ones wrap); returns self."""
        if isinstance(seed, float) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -2 ** 63 <= seed < 2 ** 64:
            raise ValueError("Overflow when unpacking long long")
        self._engine.reseed(seed & (2 ** 64 - 1))
        return self

    def seed(self):
        """Restarts the stream from a fresh non-deterministic 64-bit seed and returns that seed."""
        fresh = secrets.randbits(64)
        self._engine.reseed(fresh)
        return fresh

    def initial_seed(self):
        """The seed the stream was last started from."""
        return self._engine.seed

    def get_state(self):
        """The full state as PyTorch's 5056-byte ``ByteTensor`` (``torch.Generator.set_state`` accepts it)."""
        return _make(self._engine.get_state())

    def set_state(self, new_state):
        """Restores a state from ``get_state`` (ember's or PyTorch's, as a uint8 tensor); returns self."""
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dtype.uint8:
            raise TypeError("RNG state must be a ember.ByteTensor")
        if new_state.numel() != STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {STATE_BYTES} but found the input RNG "
                               f"state size to be {new_state.numel()}")
        self._engine.set_state(_backend.move(new_state._data, _backend.CPU).tobytes())
        return self

    def __repr__(self):
        return f"<{'torch._C' if _alias.installed else 'ember'}.Generator object at {hex(id(self))}>"

    def __reduce__(self):   # as PyTorch's: torch._C.Generator(device), then (seed, offset, state) set on it
        return Generator, (self.device,), (self.initial_seed(), None, self.get_state())

    def __setstate__(self, state):
        if isinstance(state, dict):   # pickled by ember before it pickled generators as PyTorch does
            self.__dict__.update(state)
            return
        seed, _offset, new_state = state
        self.manual_seed(seed)
        self.set_state(new_state)


Generator.__module__ = "ember._C"   # PyTorch's class is torch._C.Generator (how pickles name it)


default_generator = Generator()
default_generator.seed()


def manual_seed(seed):
    """Seeds the default generator and the GPUs' streams (so runs repeat exactly); returns the default generator."""
    device_streams.clear()
    return default_generator.manual_seed(seed)


device_streams = {}
"""CUDA device index -> [seed, fills drawn]: the stream dropout's masks come from on that GPU. Each fill's uniforms
are a hash of (seed, fill number, element index) (``_counter_uniform``), so this pair is the whole state: it can be
saved and restored (``ember.cuda.get_rng_state``, checkpoint's recomputation, ``fork_rng``: ``all_states``)."""
device_draws = [0]
"""How many fills have drawn on a GPU's stream (tests compare only the rest with PyTorch's CPU numbers)."""

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def _splitmix(x):
    """splitmix64's finaliser on a Python int (Steele, Lea and Flood's mixing)."""
    x = (x ^ (x >> 30)) * _MIX1 & _MASK64
    x = (x ^ (x >> 27)) * _MIX2 & _MASK64
    return x ^ (x >> 31)


def device_stream(index):
    """CUDA device ``index``'s stream as [seed, fills drawn]; one not drawn from since ``manual_seed`` starts at
    that seed plus the index."""
    stream = device_streams.get(index)
    if stream is None:
        stream = device_streams[index] = [(default_generator.initial_seed() + index) & _MASK64, 0]
    return stream


def start_device_stream(index, seed, drawn=0):
    """Restarts CUDA device ``index``'s stream at ``seed`` (64 bits kept), ``drawn`` fills in."""
    device_streams[index] = [seed & _MASK64, drawn]


def _next_device_key(device):
    """The key of the next fill on CUDA device ``device``, advancing its stream."""
    stream = device_stream(device.index or 0)
    key = _splitmix((stream[0] + _splitmix(stream[1] * _GOLDEN & _MASK64)) & _MASK64)
    stream[1] += 1
    device_draws[0] += 1
    return key


def _counter_uniform(xp, shape, key):
    """float32 uniforms in [0, 1) of ``shape``: splitmix64 of ``key`` plus each element's index times the golden
    gamma, the top 24 bits scaled. Stateless whole-array integer passes, so the same on NumPy and CuPy."""
    x = xp.arange(math.prod(shape), dtype=numpy.uint64)
    x *= numpy.uint64(_GOLDEN)
    x += numpy.uint64(key)
    x ^= x >> numpy.uint64(30)
    x *= numpy.uint64(_MIX1)
    x ^= x >> numpy.uint64(27)
    x *= numpy.uint64(_MIX2)
    x ^= x >> numpy.uint64(31)
    x >>= numpy.uint64(40)
    return (x.astype(numpy.float32) * numpy.float32(2.0 ** -24)).reshape(shape)


def all_states():
    """The default generator's state and a copy of every GPU stream's, for ``restore_all_states``."""
    return get_rng_state(), {index: list(stream) for index, stream in device_streams.items()}


def restore_all_states(states):
    """Puts the default generator and the GPU streams back as ``all_states`` returned them."""
    set_rng_state(states[0])
    device_streams.clear()
    device_streams.update({index: list(stream) for index, stream in states[1].items()})


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
    saved = all_states()
    try:
        yield
    finally:
        restore_all_states(saved)


# ember.random mirrors torch.random (manual_seed, seed, fork_rng, ...): this module serves under that name too.
sys.modules.setdefault(__name__.rpartition(".")[0].rpartition(".")[0] + ".random", sys.modules[__name__])


# --- helpers --------------------------------------------------------------------------------------------------
draw_hooks = []
"""Callables run before every random draw (vmap's randomness modes)."""


def _engine(generator):
    for hook in draw_hooks:
        hook()
    return (generator if generator is not None else default_generator)._engine


def _float_dtype(dtype, kernel):
    """The requested dtype (default float), with PyTorch's error for integer types a kernel cannot fill."""
    d = _dtype.get_default_dtype() if dtype is None else _dtype_arg(dtype)
    if not (d.is_floating_point or d.is_complex):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(d)}\'')
    return d


def _real(d):
    """The dtype a kernel fills: complex tensors are filled through their real view, as in PyTorch."""
    return {"complex64": _dtype.float32, "complex128": _dtype.float64}.get(d.name, d) if d.is_complex else d


def _place(array, d, device, requires_grad=False):
    """A tensor of dtype ``d`` on ``device`` from host samples."""
    with numpy.errstate(over="ignore", invalid="ignore"):
        array = numpy.asarray(array).astype(d.numpy, copy=False)
    out = _make(_backend.move(array, _backend.as_device(device)))
    if requires_grad is not True and requires_grad:
        _requires_grad_arg(requires_grad)
    return out.requires_grad_(True) if requires_grad else out


def _on_meta(device):
    """True when ``device`` (None: the default device) is the meta device: samplers there draw no numbers, as
    PyTorch's (its generator does not advance)."""
    return (_backend.default_device if device is None else _backend.as_device(device)).type == "meta"


def _meta_samples(shape, d, requires_grad=False):
    """A sampler's result on the meta device: shape and dtype, no numbers drawn."""
    out = _make(_meta.empty(shape, d.numpy))
    return out.requires_grad_(True) if requires_grad else out


def _new(shape, d, samples):
    """Host samples (flat, in fill order, of ``d``'s real dtype for complex ``d``) shaped as a new tensor."""
    samples = numpy.ascontiguousarray(samples)
    return (samples.view(d.numpy) if d.is_complex else samples).reshape(shape)


def _numel(shape, d=None):
    return math.prod(shape) * (2 if d is not None and d.is_complex else 1)


# --- the kernels, as PyTorch's CPU kernels draw ---------------------------------------------------------------
def _uniform(engine, n, d, low, high, out=None):
    return _samplers.uniform(engine, n, _real(d).numpy, low, high, out)


def _normal(engine, n, d, mean, std, contiguous=True, out=None):
    """``normal_``: the blocked Box-Muller fill for contiguous tensors of 16 or more elements, else serial draws.
    ``out``, if given, is a flat float32 or float64 array of n elements that receives the blocked fill's values."""
    real = _real(d)
    if d.is_complex:
        std = std / math.sqrt(2)
    if n >= 16 and contiguous:
        return _samplers.normal_fill(engine, n, real.numpy, mean, std, out)
    with numpy.errstate(over="ignore"):
        return _samplers.normal_serial(engine, n, mean, std).astype(real.numpy)


# C++ names PyTorch's bounds messages give each dtype
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
              "int8": "signed char", "uint8": "unsigned char", "int16": "short int", "int32": "int",
              "int64": "long int", "uint16": "unsigned short", "uint32": "unsigned int", "uint64": "unsigned long",
              "bool": "bool"}
_FLOAT_LIMITS = {"float16": (11, 65504.0), "bfloat16": (8, 3.3895313892515355e38),
                 "float32": (24, 3.4028234663852886e38), "float64": (53, sys.float_info.max)}


def _to_float(value, digits):
    """The integer ``value`` rounded to ``digits`` significant bits, to nearest even (C++'s integer-to-float cast)."""
    shift = abs(value).bit_length() - digits
    if shift <= 0:
        return value
    q, r = divmod(abs(value), 1 << shift)
    half = 1 << (shift - 1)
    q += r > half or (r == half and q & 1)
    return (q << shift) * (1 if value > 0 else -1)


def _spacing(value, digits):
    """The gap between floats of ``digits`` significant bits just below ``abs(value)``'s next power of two."""
    return 1 << max(abs(value).bit_length() - digits, 0)


def _from_to(d, low, high):
    """``random_(from, to)``'s checks and range: for float dtypes ``from``/``to`` move to integers the dtype holds
    (PyTorch's ``update_from``/``update_to``); both ends must fit the dtype. Returns ``(from, to - from)``."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    name = d.name
    if name in _FLOAT_LIMITS:
        digits, largest = _FLOAT_LIMITS[name]
        # where from + 1 or to - 1 rounds out of [from, to), the next representable integer inside it
        if abs(low + 1) <= largest and _to_float(low + 1, digits) < low:
            low = _to_float(low + 1, digits) + _spacing(low + 1, digits)
        if abs(high - 1) <= largest and _to_float(high - 1, digits) >= high:
            high = _to_float(high - 1, digits) - _spacing(high - 1, digits)
        if low >= high:
            raise RuntimeError("random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, but got "
                               f"from={low} >= to={high}")
        smallest = -largest
    else:
        info = numpy.iinfo(d.numpy) if d is not _dtype.bool_ else numpy.iinfo(numpy.uint8)
        smallest, largest = int(info.min), (1 if d is _dtype.bool_ else int(info.max))
    for value, what in ((low, "from"), (high - 1, "to - 1")):
        if not smallest <= value <= largest:
            raise RuntimeError(f"{what} is out of bounds for {_CPP_NAMES.get(name, name)}")
    if name in _FLOAT_LIMITS:
        for value, what in ((low, "from"), (high - 1, "to - 1")):
            if abs(value) > 1 << digits:
                warn(f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                     f"{_CPP_NAMES[name]} can support discrete uniform distribution only within this "
                     "range. This warning will become an error in version 1.7 release, please fix the "
                     "code in advance", UserWarning, stacklevel=3)
    return low, high - low


# --- sampling functions ---------------------------------------------------------------------------------------
factory_hooks = []
"""vmap's hook ``hook(function, args, kwargs)``, run in place of a sampling function (rand, randn, randint, randperm,
normal, bernoulli, poisson, the in-place fills) called inside vmap, so that randomness='different' draws every
example's samples at once."""


def _vmappable(function):
    """Lets the hook in ``factory_hooks`` (installed by vmap) run ``function``; the wrapper is transparent (to
    warnings' stacklevel and the argument errors' frame walk)."""
    @transparent
    def run(*args, **kwargs):
        if factory_hooks:
            return factory_hooks[-1](function, args, kwargs)
        try:
            return function(*args, **kwargs)
        except Exception:   # arguments of the wrong types (a keyword PyTorch lacks too) get PyTorch's TypeError
            from .. import _arg_parser   # (loaded on errors only)
            _arg_parser.check_call(function, args, kwargs)
            raise
    run.__name__, run.__qualname__, run.__doc__, run.__wrapped__ = (function.__name__, function.__qualname__,
                                                                    function.__doc__, function)
    return run


def with_leading_size(function, size, args, kwargs):
    """The arguments of a call to the sampling function ``function`` drawing ``size`` times its samples: its
    ``size`` argument with ``size`` put in front (what vmap's randomness='different' draws)."""
    name = getattr(function, "__name__", "")
    if kwargs.get("size") is not None:
        return args, dict(kwargs, size=(size, *shape_arg((kwargs["size"],))))
    if name in ("rand", "randn"):
        return ((size, *shape_arg(args)),), kwargs
    at = {"randint": len(args) - 1, "normal": 2}[name]
    return args[:at] + ((size, *shape_arg((args[at],))),) + args[at + 1:], kwargs


def _sample_shape(size):
    """The shape of a sampling function's ``size`` arguments, with PyTorch's error for a negative size."""
    shape = shape_arg(size)
    negative = next((s for s in shape if s < 0), None)
    if negative is not None:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative}: {list(shape)}")
    return shape


def _drawn_dtype(dtype, out):
    """The dtype a factory draws in: ``out``'s where one is given (PyTorch's factories take it from there, so
    ``rand(3, out=double_tensor)`` draws float64 samples), refusing a ``dtype`` that differs from it."""
    if out is None:
        return dtype
    asked = out.dtype if dtype is None else _dtype_arg(dtype)
    if asked is not out.dtype:
        raise RuntimeError(f"dtype {_dtype.scalar_type_name(asked)} does not match dtype of out parameter "
                           f"({_dtype.scalar_type_name(out.dtype)})")
    return out.dtype


@_vmappable
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform samples from [0, 1) of the given shape."""
    d = _float_dtype(_drawn_dtype(dtype, out), "check_uniform_bounds")
    shape = _sample_shape(size)
    if _on_meta(device):
        return write_out(out, _meta_samples(shape, d, requires_grad), "rand")
    samples = _uniform(_engine(generator), _numel(shape, d), d, 0.0, 1.0)
    return write_out(out, _place(_new(shape, d, samples), d, device, requires_grad), "rand", warn_resize=False)


@_vmappable
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """Standard normal samples of the given shape."""
    d = _float_dtype(_drawn_dtype(dtype, out), "normal_kernel_cpu")
    shape = _sample_shape(size)
    if _on_meta(device):
        return write_out(out, _meta_samples(shape, d, requires_grad), "randn")
    samples = _normal(_engine(generator), _numel(shape, d), d, 0.0, 1.0)
    return write_out(out, _place(_new(shape, d, samples), d, device, requires_grad), "randn", warn_resize=False)


@_vmappable
def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if isinstance(low, float) or isinstance(high, float):   # PyTorch's bounds are ints (int() would truncate)
        argument_error()
        raise TypeError("randint(): bounds must be int, not float")
    if size is None:
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if not isinstance(size, (tuple, list)):
        argument_error()   # PyTorch's size is a tuple of ints: randint(0, 10, 3) is refused
    dtype = _drawn_dtype(dtype, out)
    d = _dtype.int64 if dtype is None else _dtype_arg(dtype)
    low, span = _from_to(d, int(low), int(high))
    shape = _sample_shape((size,))
    if _on_meta(device):
        return write_out(out, _meta_samples(shape, d, requires_grad), "randint")
    samples = _samplers.from_to(_engine(generator), _numel(shape), low, span).reshape(shape)
    return write_out(out, _place(samples, d, device, requires_grad), "randint", warn_resize=False)


@_vmappable
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of 0..n-1 (PyTorch's shuffle, so the same seed gives PyTorch's permutation)."""
    if isinstance(n, float):   # an int, as PyTorch's parser takes it (int() would truncate)
        argument_error()
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dtype = _drawn_dtype(dtype, out)
    d = _dtype.int64 if dtype is None else _dtype_arg(dtype)
    if _on_meta(device):
        return write_out(out, _meta_samples((int(n),), d, requires_grad), "randperm")
    perm = _samplers.randperm(_engine(generator), int(n))
    return write_out(out, _place(perm, d, device, requires_grad), "randperm", warn_resize=False)


def _laid_out_like(input, dtype, device, memory_format):
    """An uninitialised tensor like ``input`` for a ``*_like`` sampler when its layout is not row-major (a dense
    permuted input under ``preserve_format``, or a format asked for), else None. PyTorch fills such a tensor in
    memory order, as ember's in-place fills do, so filling this one gives PyTorch's values."""
    order, strides = _like_layout(input, memory_format)
    if order is None:
        return None
    return _factory(input.shape, None, *_like(input, dtype, device), False, order, strides)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
              generator=None):
    """Uniform samples from [0, 1) with the shape (and by default dtype, device and layout) of ``input``."""
    out = _laid_out_like(input, dtype, device, memory_format)
    if out is not None:
        return out.uniform_(generator=generator).requires_grad_(requires_grad)
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None,
               generator=None):
    """Standard normal samples with the shape (and by default dtype, device and layout) of ``input``."""
    out = _laid_out_like(input, dtype, device, memory_format)
    if out is not None:
        return out.normal_(generator=generator).requires_grad_(requires_grad)
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None, generator=None):
    """Integers from [low, high) with the shape (and by default dtype, device and layout) of ``input``."""
    if high is None:
        low, high = 0, low
    out = _laid_out_like(input, dtype, device, memory_format)
    if out is not None:
        return out.random_(low, high, generator=generator).requires_grad_(requires_grad)
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


class _Normal(Primitive):
    """The noise ``normal(mean, std)`` returned, recorded so that, as in PyTorch, mean and std get zero gradients."""

    @staticmethod
    def forward(ctx, noise, mean, std):
        return noise

    @staticmethod
    def backward(ctx, grad):
        zero = grad.new_zeros(grad.shape)   # PyTorch's zeros (+0 for a negative gradient)
        return None, zero if ctx.needs_input_grad[1] else None, zero if ctx.needs_input_grad[2] else None


@_vmappable
def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False):
    """Normal samples: elementwise from tensors of means and/or standard deviations (broadcast), or of ``size``
    from scalar ``mean`` and ``std``. As in PyTorch, ``mean`` and ``std`` receive zero gradients."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if size is not None and tensors and all(t.ndim == 0 and not t.requires_grad for t in tensors):
        # PyTorch's parser takes such 0-d tensors as the floats of normal(float mean, float std, size)
        mean, std, tensors = *(v.item() if isinstance(v, Tensor) else v for v in (mean, std)), []
    if size is not None and (tensors or not isinstance(size, (tuple, list))):
        argument_error()   # PyTorch's signatures take a size (a tuple of ints) with number mean and std only
    if any(t.is_meta for t in tensors):
        check_same_device(*tensors)
        shape = tuple(numpy.broadcast_shapes(*(t.shape for t in tensors)))
        return write_out(out, _meta_samples(shape, tensors[0].dtype), "normal")
    if not tensors:
        if size is None:
            raise TypeError("normal() missing required argument 'size' when mean and std are numbers")
        if not std >= 0:   # (NaN too)
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        d = _float_dtype(dtype, "normal_kernel_cpu")
        shape = shape_arg((size,))
        if _on_meta(device):
            return write_out(out, _meta_samples(shape, d, requires_grad), "normal")
        samples = _normal(_engine(generator), _numel(shape, d), d, float(mean), float(std))
        return write_out(out, _place(_new(shape, d, samples), d, device, requires_grad), "normal")
    if isinstance(std, Tensor):
        if (std._data < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif not std >= 0:   # (NaN too)
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    d = mean.dtype if isinstance(mean, Tensor) else std.dtype
    _float_dtype(d, "normal_kernel_cpu")
    shape = tuple(numpy.broadcast_shapes(*(t.shape for t in tensors)))
    from ..autograd.grad_mode import no_grad
    with no_grad():
        if isinstance(std, Tensor):   # PyTorch: normal_(0, 1), then mul_(std), then add_(mean)
            noise = _place(_new(shape, d, _normal(_engine(generator), _numel(shape, d), d, 0.0, 1.0)), d,
                           tensors[0].device)
            values = noise.mul_(std).add_(mean)
        else:                          # PyTorch: normal_(0, std), then add_(mean)
            noise = _place(_new(shape, d, _normal(_engine(generator), _numel(shape, d), d, 0.0, float(std))), d,
                           mean.device)
            values = noise.add_(mean)
    result = _Normal.apply(values, mean, std) if any(t.requires_grad for t in tensors) else values
    return write_out(out, result, "normal")


def _check_probabilities(p):
    if ((p < 0) | (p > 1)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


def _bernoulli_tensor(engine, shape, p, order=None):
    """PyTorch's ``bernoulli_(p_tensor)``: float64 uniforms for float64 p, float32 uniforms otherwise; drawn
    along the axes in ``order`` (the filled tensor's memory order), returned flat in that order."""
    probabilities = numpy.broadcast_to(_backend.move(p._data, _backend.CPU), shape)
    double = probabilities.dtype == numpy.float64
    if order is not None:
        probabilities = probabilities.transpose(order)
    probabilities = probabilities.astype(numpy.float64).ravel()
    _check_probabilities(probabilities)
    return _samplers.bernoulli(engine, probabilities, float32_p=not double)


@tensor_method
@_vmappable
def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples (in ``input``'s dtype) that are 1 with probability ``input`` (or ``p`` when given)."""
    shape = tuple(input.shape)
    refuse_complex("bernoulli_tensor_cpu_self_" if p is None else "bernoulli_scalar_cpu_", input)
    if input.is_meta:
        return write_out(out, _meta_samples(shape, input.dtype), "bernoulli")
    if p is None:
        samples = _bernoulli_tensor(_engine(generator), shape, input).reshape(shape)
    else:
        _check_probabilities(numpy.float64(p))
        samples = _samplers.bernoulli_scalar(_engine(generator), _numel(shape), float(p)).reshape(shape)
    return write_out(out, _place(samples, input.dtype, input.device), "bernoulli")


def _check_distributions(weights):
    """Rejects bad rows as PyTorch's CPU kernel for draws with replacement does: row by row, an entry that is not
    >= 0 (NaN included), then an infinite entry, then a sum that is not positive."""
    for row in weights:
        if not (row >= 0).all():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if numpy.isinf(row).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
        if row.astype(numpy.float64).sum() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


@tensor_method
@_vmappable
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices sampled from the categories of each row of non-negative weights ``input`` (1-D or 2-D), drawn as
    PyTorch's CPU kernel draws them."""
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if input.is_meta:
        return write_out(out, _meta_samples(tuple(input.shape[:-1]) + (num_samples,), _dtype.int64), "multinomial")
    host = _backend.move(input._data, _backend.CPU)
    weights = host.reshape(math.prod(input.shape[:-1]), input.shape[-1])
    categories = weights.shape[1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if replacement and num_samples > 1:
        _check_distributions(weights)
    elif not numpy.isfinite(weights).all() or (weights < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (weights.astype(numpy.float64).sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    engine = _engine(generator)
    if not replacement or num_samples == 1:
        # PyTorch's Gumbel-style race: argmax / top-k of p / q with q ~ Exp(1) in p's dtype.
        if weights.dtype == numpy.float32:
            q = _exponential_float32(engine, weights.size).reshape(weights.shape)
        else:
            q = _samplers.exponential(engine, weights.size, 1.0).astype(weights.dtype).reshape(weights.shape)
        with numpy.errstate(divide="ignore", invalid="ignore"):
            keys = weights / q
        indices = numpy.argmax(keys, axis=1)[:, None] if num_samples == 1 else _largest(keys, num_samples)
    else:
        cdf = numpy.cumsum(weights, axis=1, dtype=weights.dtype)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1
        draws = _samplers.unit(engine, weights.shape[0] * num_samples, numpy.float64).reshape(-1, num_samples)
        indices = numpy.empty(draws.shape, numpy.int64)   # (a stack of the rows fails where there are none)
        for i, (row, u) in enumerate(zip(cdf.astype(numpy.float64), draws)):
            indices[i] = numpy.searchsorted(row, u, side="left")
    indices = indices.reshape(input.shape[:-1] + (num_samples,))
    return write_out(out, _place(indices, _dtype.int64, input.device), "multinomial")


def _largest(keys, k):
    """The first ``k`` columns of ``numpy.argsort(-keys, axis=1, kind="stable")`` (each row's largest keys, ties in
    column order; a key is NaN only where the row's weight and draw are both 0): for k up to half a row, the rows'
    k-th largest keys by a partition, then a stable sort of the keys at or above them alone (64 rows of 1000,
    k = 10: 0.6 ms against 3.2 ms)."""
    if 2 * k > keys.shape[1]:
        return numpy.argsort(-keys, axis=1, kind="stable")[:, :k]
    kth = -numpy.partition(-keys, k - 1, axis=1)[:, k - 1:k]
    rows, columns = numpy.nonzero(keys >= kth)   # row by row, in column order
    counts = numpy.bincount(rows, minlength=keys.shape[0])
    if (counts < k).any():   # NaN keys among a row's k largest
        return numpy.argsort(-keys, axis=1, kind="stable")[:, :k]
    order = numpy.lexsort((-keys[rows, columns], rows))   # by row, then key descending; stable
    starts = numpy.cumsum(counts) - counts
    return columns[order][starts[:, None] + numpy.arange(k)]


def _exponential_float32(engine, n):
    """``_samplers.exponential(engine, n, 1.0)`` rounded to float32, the same values and draws: NumPy's float64
    log1p (SIMD, off the C library's in the last bits of ~7 % of values, but 64 Ki of them in 0.45 ms against ~5 ms
    one by one through ``math``) rounds to the C library's float32 wherever it lies more than 2**-40 (relative)
    from a float32 rounding boundary; the rest (about 1 in 2**16, and powers of two, whose boundary below is
    nearer) are recomputed through the C library's."""
    u = _samplers.unit(engine, n, numpy.float64)
    exact = -numpy.log1p(-u)
    q = exact.astype(numpy.float32)
    unsure = numpy.spacing(q).astype(numpy.float64) / 2 - numpy.abs(exact - q) <= exact * 2.0 ** -40
    unsure |= q.view(numpy.int32) & 0x7FFFFF == 0
    unsure = numpy.flatnonzero(unsure)
    q[unsure] = -1.0 * _samplers._libm(math.log1p, -u[unsure])
    return q


@_vmappable
def poisson(input, generator=None):
    """Samples from Poisson distributions with rates ``input`` (in ``input``'s dtype)."""
    refuse_complex("poisson_cpu", input)
    if input.is_meta:
        return _meta_samples(tuple(input.shape), input.dtype)
    rates = _backend.move(input._data, _backend.CPU).astype(numpy.float64)
    if (rates < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    samples = _samplers.poisson(_engine(generator), rates.ravel()).reshape(rates.shape)
    return _place(samples, input.dtype, input.device)


# --- in-place fills -------------------------------------------------------------------------------------------
def _fill(self, samples):
    """Writes flat host samples into self in the order PyTorch's kernels visit elements: memory order."""
    if self.is_meta:
        return self
    data = self._data
    if self.dtype.is_complex:
        samples = numpy.ascontiguousarray(samples).view(self.dtype.numpy)
    order = _memory_order(data)
    samples = samples.reshape([data.shape[i] for i in order]).transpose(numpy.argsort(order))
    return assign_inplace(self, _place(samples, self.dtype, self.device))


def _memory_order(data):
    """self's axes from outermost to innermost in memory (largest stride first; ties keep their order)."""
    return sorted(range(data.ndim), key=lambda i: -abs(data.strides[i]))


def _direct_target(self):
    """self's array when samples can be written straight into it (a contiguous host array outside autograd's
    view, and no dispatch hook (tracing, forward AD, profiling) that must see the write), else None. Parameter
    initialisation takes this path: it skips a copy and keeps building models quick."""
    data = self._data
    if type(data) is not numpy.ndarray or not data.flags.c_contiguous or not data.flags.writeable or dispatch_hooks:
        return None
    if state.enabled and (self.requires_grad or (self._base is not None and self._base.requires_grad)):
        return None
    return data


def _fill_fast(self, samples):
    """``_fill`` through the direct path when it applies."""
    data = _direct_target(self)
    if data is None or self.dtype.is_complex:
        return _fill(self, samples)
    data.reshape(-1)[...] = samples
    self._version_counter[0] += 1
    return self


def _fill_in_place(self, sample):
    """Fills self with ``sample(out)``: float32 and float64 samplers write straight into self's array (``out``)
    when the direct path applies, others return their samples (``out`` None) for ``_fill_fast``."""
    check_inference_write(self)
    if self.is_meta:   # no data to fill, no numbers drawn
        return self
    data = _direct_target(self)
    if data is None or self.dtype not in (_dtype.float32, _dtype.float64):
        return _fill_fast(self, sample(None))
    flat = data.reshape(-1)
    samples = sample(flat)
    if samples is not flat:   # a sampler without the direct path
        flat[...] = samples
    self._version_counter[0] += 1
    return self


def _float_fill(self, kernel):
    _float_dtype(self.dtype, kernel)
    return _numel(tuple(self.shape), self.dtype)


@tensor_method
@_vmappable
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fills self with samples from N(mean, std**2)."""
    if not std >= 0:   # (NaN too)
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    if self.numel() == 0:   # PyTorch's kernel, which refuses other dtypes, does not run
        return self
    n = _float_fill(self, "normal_kernel_cpu")
    engine = _engine(generator)
    return _fill_in_place(self, lambda out: _normal(engine, n, self.dtype, float(mean), float(std),
                                                     self.is_contiguous(), out))


def _bounds(op, args, kwargs, defaults):
    """Positional or keyword ``from``/``to`` arguments (``from`` is a Python keyword, so it arrives in kwargs), with
    PyTorch's TypeError for the method ``op`` called with others."""
    names = ("from", "to")
    if len(args) > 2 or any(name not in names for name in kwargs):
        from .. import _arg_parser   # (loaded on errors only)
        _arg_parser.raise_for(op, args, kwargs, method=True)
        raise TypeError(f"{op}() got an unexpected keyword argument '{next(k for k in kwargs if k not in names)}'")
    values = list(defaults)
    for i, value in enumerate(args):
        values[i] = value
    for name, value in kwargs.items():
        if names.index(name) < len(args):
            raise TypeError(f"{op}() got multiple values for argument '{name}'")
        values[names.index(name)] = value
    return values


@tensor_method
@_vmappable
def uniform_(self, *args, generator=None, **kwargs):
    """Fills self with samples from the uniform distribution on [from, to) (default [0, 1))."""
    low, high = _bounds("uniform_", args, kwargs, (0.0, 1.0))
    if not all(isinstance(bound, (numbers.Real, Tensor)) for bound in (low, high)):
        from .. import _arg_parser   # (loaded on errors only)
        _arg_parser.raise_for("uniform_", args, kwargs, method=True)
    n = _float_fill(self, "check_uniform_bounds")
    low, high = _check_uniform_bounds(self.dtype, float(low), float(high))
    engine = _engine(generator)
    return _fill_in_place(self, lambda out: _uniform(engine, n, self.dtype, float(low), float(high), out))


def _check_uniform_bounds(d, low, high):
    """PyTorch's check_uniform_bounds for a fill of dtype ``d`` (a complex one's real parts): both bounds within the
    dtype's range, ordered, and their difference finite in it; returns them clamped to the range."""
    if d.is_complex:
        d = _dtype.float64 if d is _dtype.complex128 else _dtype.float32
    info = finfo(d)
    for name, bound in (("from", low), ("to", high)):
        if not info.min <= bound <= info.max:
            raise RuntimeError(f"{name} is out of bounds for {cpp_type_name(d)}")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low:g} > to={high:g}")
    if high - low > info.max:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{_dtype.scalar_type_name(d)}>::max(), but "
                           f"found to={high:g} and from={low:g} which result in to-from to exceed the limit")
    return low, high


def _random_upper(d):
    """One past the largest value ``random_(from)`` draws for dtype ``d`` (exact integers in floats)."""
    if d.is_floating_point:
        return min(1 << {"float16": 11, "bfloat16": 8, "float32": 24}.get(d.name, 53), 2 ** 63 - 1) + 1
    if d is _dtype.bool_:
        return 2
    return int(numpy.iinfo(d.numpy).max) + 1


@tensor_method
@_vmappable
def random_(self, *args, generator=None, **kwargs):
    """Fills self with integers: ``random_()`` over the dtype's range, ``random_(to)`` or ``random_(from, to)``."""
    if self.dtype.is_complex:
        if args or kwargs:
            raise RuntimeError("check_random_bounds handles only integral, floating-point and boolean types")
        refuse_complex("random_kernel_cpu", self)
    if len(args) == 1 and "to" not in kwargs and "from" not in kwargs:
        args = (0, args[0])
    if self.is_meta:
        return self
    engine, n = _engine(generator), self.numel()
    if not args and not kwargs:
        return _fill(self, _samplers.default_int(engine, n, self.dtype.numpy))
    low, high = _bounds("random_", args, kwargs, (0, None))
    low = int(low)
    if high is None and low == -2 ** 63:
        return _fill(self, _samplers.full_range(engine, n))
    high = _random_upper(self.dtype) if high is None else int(high)
    low, span = _from_to(self.dtype, low, high)
    return _fill(self, _samplers.from_to(engine, n, low, span))


@tensor_method
@_vmappable
def bernoulli_(self, p=0.5, *, generator=None):
    """Fills self with 0/1 samples that are 1 with probability ``p`` (a number or a broadcastable tensor)."""
    shape = tuple(self.shape)
    refuse_complex("bernoulli_tensor_cpu_self_" if isinstance(p, Tensor) else "bernoulli_scalar_cpu_", self)
    if isinstance(p, Tensor):
        refuse_complex("bernoulli_tensor_cpu_p_", p)
        if self.is_meta:
            return self
        return _fill(self, _bernoulli_tensor(_engine(generator), shape, p, _memory_order(self._data)))
    _check_probabilities(numpy.float64(p))
    if self.device.type == "cuda" and generator is None:
        uniform = _counter_uniform(_backend.xp_of(self._data), shape, _next_device_key(self.device))
        return assign_inplace(self, _make((uniform < p).astype(self._data.dtype)))
    engine, n, p = _engine(generator), self.numel(), float(p)
    return _fill_in_place(self, lambda out: _samplers.bernoulli_scalar(engine, n, p, out))


def _require_continuous(distribution, self, type_name):
    """PyTorch's error for filling a tensor not of a floating dtype from a continuous distribution."""
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"{distribution} distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {type_name}")


@tensor_method
@_vmappable
def exponential_(self, lambd=1.0, *, generator=None):
    """Fills self with samples from the exponential distribution of rate ``lambd``."""
    if not lambd > 0:   # (NaN too)
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    if self.numel() == 0:   # PyTorch's kernel, which refuses other dtypes, does not run
        return self
    _require_continuous("Exponential", self, _dtype.scalar_type_name(self.dtype))
    n = _float_fill(self, "exponential_cpu")
    if self.is_meta:
        return self
    return _fill(self, _samplers.exponential(_engine(generator), n, float(lambd)))


@tensor_method
@_vmappable
def geometric_(self, p, *, generator=None):
    """Fills self with the number of Bernoulli(p) trials up to and including the first success."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    if self.numel() == 0:   # PyTorch's kernel, which refuses complex dtypes, does not run
        return self
    refuse_complex("geometric_cpu", self)
    if self.is_meta:
        return self
    return _fill(self, _samplers.geometric(_engine(generator), self.numel(), float(p)))


@tensor_method
@_vmappable
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fills self with samples from the Cauchy distribution."""
    if not sigma > 0:   # (NaN too)
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    _require_continuous("Cauchy", self, cpp_type_name(self.dtype))
    n = _float_fill(self, "cauchy_cpu")
    if self.is_meta:
        return self
    return _fill(self, _samplers.cauchy(_engine(generator), n, float(median), float(sigma)))


@tensor_method
@_vmappable
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fills self with samples whose logarithm is N(mean, std**2)."""
    if not std > 0:   # (NaN too)
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    if self.numel() == 0:   # PyTorch's kernel, which refuses other dtypes, does not run
        return self
    refuse_complex("log_normal_cpu", self)
    n = _float_fill(self, "log_normal_cpu")
    if self.is_meta:
        return self
    return _fill(self, _samplers.log_normal(_engine(generator), n, float(mean), float(std)))


def _rrelu_noise(input, lower, upper, generator=None):
    """PyTorch's CPU ``rrelu`` slopes: a float64 uniform in [lower, upper) (bounds first rounded to float32 for
    all but float64 input) for each element <= 0 in row-major order, no draw for the others, whose slope is 1."""
    values = _backend.move(input._data, _backend.CPU)
    negative = values <= 0
    bounds = numpy.array([lower, upper], numpy.float64 if input.dtype is _dtype.float64 else numpy.float32)
    lower, upper = (float(b) for b in bounds)
    slopes = numpy.ones(values.shape, numpy.float64)
    draws = _samplers.unit(_engine(generator), int(negative.sum()), numpy.float64)
    slopes[negative] = draws * (upper - lower) + lower
    return _place(slopes, input.dtype, input.device)
