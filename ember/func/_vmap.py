"""``vmap``: runs a function written for one example on a whole batch, as ``torch.func.vmap``.

Inputs enter as ``BatchedTensor``s: a physical tensor (``_value``) with one extra dimension (``_bdim``) that belongs
to one vmap ``level``; everything else about them (shape, dtype, ndim) is the per-example, logical view. Every op
reaches the single dispatch point, where ``_batching_hook`` unwraps the inputs of the innermost level, runs the
op's batching rule (``_batching_rules``) on the physical tensors and wraps the result again. Nested vmaps nest the
wrappers; autograd records the physical ops, so gradients flow through vmap in both directions.
"""
import contextlib
import functools

import numpy

from .. import _alias, _dtype
from .._tensor import Tensor, _wrap_dim
from ..autograd import function as _function

__all__ = ["vmap", "BatchedTensor"]

_levels = []   # the active vmap levels, innermost last
batched_draw_depth = [0]   # > 0 while a batching rule draws random numbers for every example at once


class _Level:
    __slots__ = ("number", "size", "randomness")

    def __init__(self, number, size, randomness):
        self.number, self.size, self.randomness = number, size, randomness


class BatchedTensor(Tensor):
    """A tensor as one example sees it inside vmap; ``_value`` holds all examples along dimension ``_bdim``."""

    @property
    def _data(self):
        # the first example: what shape/dtype/device checks read; ops never compute on it (they dispatch)
        value = self._value._data
        if value.shape[self._bdim] == 0:
            shape = value.shape[:self._bdim] + value.shape[self._bdim + 1:]
            example = _xp(value).zeros(shape, value.dtype)
        else:
            example = value[(slice(None),) * self._bdim + (0, Ellipsis)]
        return example.view(_Example) if isinstance(example, numpy.ndarray) else example   # CuPy: unguarded

    @property
    def _all_data(self):
        return self._value._all_data

    @property
    def requires_grad(self):
        return self._value.requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self._value.requires_grad = value

    @property
    def grad_fn(self):
        return self._value.grad_fn

    @property
    def _output_nr(self):
        return self._value._output_nr

    def __repr__(self):
        inner = repr(self._value).replace("\n", "\n    ")
        return f"BatchedTensor(lvl={self._level}, bdim={self._bdim}, value=\n    {inner}\n)"

    def item(self):
        raise RuntimeError("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over "
                           "calling .item() on a Tensor, please try to rewrite what you're doing with other "
                           "operations. If error is occurring somewhere inside PyTorch internals, please file a bug "
                           "report.")

    def __bool__(self):
        raise RuntimeError("vmap: It looks like you're attempting to use a Tensor in some data-dependent control "
                           "flow. We don't support that yet, please file an issue at "
                           "https://github.com/pytorch/pytorch/issues .")

    def tolist(self):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")   # PyTorch's message

    def numpy(self, *, force=False):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def __array__(self, dtype=None, copy=None):
        return self.numpy()
    __float__ = __int__ = __complex__ = __index__ = item

    def detach(self):
        return batched(self._value.detach(), self._bdim, self._level)

    def __setitem__(self, key, value):
        """``self[key] = value`` written into every example (basic keys: ints, slices, None, Ellipsis; or tensor keys
        alone, written by ``index_put_``)."""
        key = key if isinstance(key, tuple) else (key,)
        if key and all(isinstance(k, Tensor) for k in key):   # tensor indices only: PyTorch's index_put_
            from .. import as_tensor
            self.index_put_(key, value if isinstance(value, Tensor) else as_tensor(value, dtype=self.dtype))
            return
        if not all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in key):
            raise RuntimeError("vmap: ember writes batched tensors through basic indices, or through tensor indices "
                               "alone (ints, slices, None, Ellipsis; or tensors); use index_put or where for a mix")
        if isinstance(value, Tensor) and level_of(value) > self._level:
            raise RuntimeError("vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a "
                               "Tensor `other` in extra_args that has more elements than `self`.")
        level = next(lv for lv in _levels if lv.number == self._level)
        target = self._value.movedim(self._bdim, 0) if self._bdim else self._value
        if type(value) is BatchedTensor and value._level == self._level:
            from ._batching_rules import _front_at_rank
            value = _front_at_rank(value, level, self._data[key].ndim)   # the written region of one example
        target[(slice(None),) + key] = value

    def backward(self, *args, **kwargs):
        raise RuntimeError("backward() called inside a functorch transform. This is not supported, please use "
                           "functorch.grad or functorch.vjp instead or call backward() outside of functorch "
                           "transforms.")


class _Example(numpy.ndarray):
    """The first example's array, handed to code that reads a batched tensor's ``_data`` for its shape and dtype;
    computing on it would silently give one example's answer, so NumPy computations on it raise instead."""

    _metadata = frozenset(("result_type", "can_cast", "shape", "ndim", "size", "broadcast_shapes", "may_share_memory",
                           "shares_memory", "iscomplexobj", "isrealobj", "min_scalar_type", "dtype"))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise _unbatchable(ufunc.__name__)

    def __setitem__(self, key, value):
        raise _unbatchable("__setitem__")

    def _reading(name):   # array methods that compute without a ufunc (NumPy's own C loops)
        def read(self, *args, **kwargs):
            raise _unbatchable(name)
        read.__name__ = name
        return read

    for _name in ("nonzero", "argsort", "sort", "argmax", "argmin", "argpartition", "partition", "searchsorted",
                  "take", "put", "repeat", "tolist", "item", "__int__", "__float__", "__index__", "__bool__"):
        locals()[_name] = _reading(_name)
    del _reading, _name

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in self._metadata:
            return super().__array_function__(func, tuple(t for t in types if t is not _Example) or (numpy.ndarray,),
                                              args, kwargs)
        raise _unbatchable(func.__name__)


def _holds_example(items):
    """Whether an op's arguments hold an array read out of a batched tensor (an index made from one): the op would
    apply the first example's index to every example."""
    return any(isinstance(o, _Example) or type(o) in (tuple, list) and _holds_example(o) for o in items)


class _Unbatchable(RuntimeError):
    """An ember op computed on one example's data (see ``_Example``); a composite op that raises it runs once per
    example instead."""


def _unbatchable(name):
    return _Unbatchable(f"vmap: an ember op computed '{name}' directly on the data of a batched tensor, outside the "
                        "dispatch point where batching rules run; it has no batching rule yet. Call it outside vmap "
                        "or loop over the examples.")


def _physical_method(name):
    """A Tensor method, computed by ember outside the dispatch point (on ``_data``), run on the physical tensors
    instead: these elementwise ops batch by aligning their operands as pointwise ops do."""
    def method(self, *args, **kwargs):
        from ._batching_rules import _aligned
        number = _top_level((self,) + args, kwargs)
        level = next(lv for lv in _levels if lv.number == number)
        aligned = _aligned([self, *args], level)
        return batched(getattr(aligned[0], name)(*aligned[1:], **kwargs), 0, number)
    method.__name__ = name
    return method


for _name in ("__invert__ __and__ __or__ __xor__ __rand__ __ror__ __rxor__ logical_not logical_and logical_or "
              "logical_xor bitwise_not bitwise_and bitwise_or bitwise_xor isnan isinf isfinite isposinf isneginf "
              "signbit isclose isreal").split():
    setattr(BatchedTensor, _name, _physical_method(_name))


def _xp(array):
    from .._backend import xp_of
    return xp_of(array)


def batched(value, bdim, level):
    """Wraps the physical tensor ``value`` as batched over its dimension ``bdim`` at vmap level number ``level``."""
    t = object.__new__(BatchedTensor)
    t._version_counter = value._version_counter
    t._value, t._bdim, t._level = value, bdim, level
    return t


def level_of(x):
    """The vmap level number a tensor is batched at (0 for a plain tensor)."""
    return x._level if type(x) is BatchedTensor else 0


def physical(t, levels):
    """``t`` as a plain tensor with one leading dim per active level (outermost first), then its logical dims:
    broadcast over the levels it is not batched at."""
    from ._batching_rules import _front
    for level in reversed(levels):
        t = _front(t, level)
    return t


def rewrap(p, levels):
    """The inverse of ``physical``: the plain tensor ``p`` seen inside ``levels``."""
    for level in levels:
        p = batched(p, 0, level.number)
    return p


# --- the dispatch hook --------------------------------------------------------------------------------------------
def _top_level(args, kwargs):
    top = 0
    for a in args:
        if type(a) is BatchedTensor:
            top = max(top, a._level)
        elif type(a) in (tuple, list):
            top = max(top, _top_level(a, {}))
    for a in kwargs.values():
        if type(a) is BatchedTensor or type(a) in (tuple, list):
            top = max(top, _top_level((a,), {}))
    return top


def _batching_hook(cls, args, kwargs, proceed):
    number = _top_level(args, kwargs)
    if not number:
        return proceed(args, kwargs)
    from ._batching_rules import rules
    level = next(lv for lv in _levels if lv.number == number)
    if _holds_example(args) or _holds_example(tuple(kwargs.values())):
        raise _unbatchable(f"{cls.__name__} with an index")
    if cls.__module__ is not None and not _alias.is_ember_module(cls.__module__):
        from . import _active
        if _active.user_function(cls):
            return _custom_function(cls, level, args, kwargs)
    rule = rules.get(cls.__name__)
    if rule is not None:
        result = rule(cls, level, args, kwargs)
        if result is not NotImplemented:
            return result
    elif getattr(cls, "trace_inside", False) or getattr(cls, "batch_inside", False):   # batch its inner ops
        try:
            return proceed(args, kwargs)
        except _Unbatchable:   # its body reads values (an index, a mask) out of an example: run it per example
            pass
    return fallback(cls, level, args, kwargs)


class _VmapInfo:
    """What a Function's ``vmap`` staticmethod receives first: the batch size and the randomness mode."""

    def __init__(self, batch_size, randomness):
        self.batch_size, self.randomness = batch_size, randomness

    def __repr__(self):
        return f"VmapInfo(batch_size={self.batch_size}, randomness='{self.randomness}')"


def _vmap_rule_result(result):
    """A Function's vmap staticmethod's (output, out_dims), checked as PyTorch checks them."""
    from . import _active
    from ._pytree import tree_flatten
    if not isinstance(result, tuple) or len(result) != 2:
        raise RuntimeError("Expected the vmap staticmethod to have two returns, an output and out_dims with pytree "
                           f"structure compatible with the output. Got a {type(result)} instead")
    output, out_dims = result
    if isinstance(out_dims, tuple) and (not isinstance(output, tuple) or len(output) != len(out_dims)):
        raise RuntimeError("The autograd.Function's vmap staticmethod returned an incompatible (output, out_dims) "
                           f"tuple. Expected out_dims={out_dims} to be compatible with the structure of `output`. "
                           f"out_dims has structure {tree_flatten(out_dims)[1]} but output has structure "
                           f"{tree_flatten(output)[1]}. {_active._EXTENDING}")
    return output, out_dims


def _custom_function(cls, level, args, kwargs):
    """A user ``autograd.Function`` applied to batched tensors, as PyTorch's vmap applies it: its ``vmap``
    staticmethod on the examples' tensors (with their batch dims), or, with ``generate_vmap_rule=True``, its forward on
    every example; otherwise PyTorch's errors."""
    from . import _active
    _active.check_setup_context(cls)
    if _active.defines(cls, "vmap") and getattr(cls, "generate_vmap_rule", False):
        raise RuntimeError(f"You tried to vmap over {cls.__name__}, but it has both generate_vmap_rule=True and an "
                           "overridden vmap staticmethod. Please set generate_vmap_rule=False or delete the overridden "
                           f"vmap staticmethod to avoid ambiguity. {_active._EXTENDING}")
    if _active.defines(cls, "vmap") and not (_grad_on() and any(
            isinstance(a, Tensor) and a.requires_grad for a in args)):
        in_dims = tuple(a._bdim if type(a) is BatchedTensor and a._level == level.number else None for a in args)
        values = [a._value if d is not None else a for a, d in zip(args, in_dims)]
        output, out_dims = _vmap_rule_result(cls.vmap(_VmapInfo(level.size, level.randomness), in_dims, *values,
                                                      **kwargs))
        if isinstance(output, tuple):
            dims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * len(output)
            return tuple(o if d is None else batched(o, d, level.number) for o, d in zip(output, dims))
        return output if out_dims is None else batched(output, out_dims, level.number)
    _active.check_vmap_support(cls)
    return _per_example(cls, level, args, kwargs)


def _grad_on():
    from ..autograd.grad_mode import is_grad_enabled
    return is_grad_enabled()


_warned = set()
fallback_calls = {}
"""Op name -> how many times the per-example fallback ran (for tests and profiling)."""


_INDEXING = ("getitem", "index_put", "Index", "IndexPut")   # ops whose boolean-mask index selects per example


def _batched_mask(items, level):
    """Whether ``items`` (an op's arguments, its index tuples walked) hold a boolean tensor batched at ``level``."""
    return any(type(a) is BatchedTensor and a._level == level.number and a.dtype is _dtype.bool_
               or type(a) in (tuple, list) and _batched_mask(a, level) for a in items)


def fallback(cls, level, args, kwargs):
    """Runs the op once per example and stacks the results: for ops without a batching rule (warns once per op)."""
    name = cls.__name__
    if name in _INDEXING and _batched_mask(args, level):   # each example would select its own number of elements
        raise RuntimeError("vmap: We do not support batching operators that can support dynamic shape. Attempting to "
                           "batch over indexing with a boolean mask.")
    fallback_calls[name] = fallback_calls.get(name, 0) + 1
    if name not in _warned:   # at the caller's line outside ember, as PyTorch's C++ warning
        _warned.add(name)
        from ..ops._util import warn_once
        warn_once(("vmap fallback", name), f"There is a performance drop because we have not yet implemented the "
                  f"batching rule for {name}. Please file us an issue on GitHub so that we can prioritize its "
                  "implementation.")
    return _per_example(cls, level, args, kwargs)


def _per_example(cls, level, args, kwargs):
    """The op run once per example, the results stacked."""
    name = cls.__name__
    per_example = []
    for b in range(level.size):
        def pick(a):
            if type(a) is BatchedTensor and a._level == level.number:
                return a._value.select(a._bdim, b)
            if type(a) in (tuple, list):
                return type(a)(pick(x) for x in a)
            return a
        per_example.append(cls.apply(*[pick(a) for a in args], **{k: pick(v) for k, v in kwargs.items()}))
    return _stacked(name, per_example, level)


def _stacked(name, parts, level):
    """The examples' results (tensors in nested tuples and lists) as one batched result."""
    from .. import stack
    first = parts[0]
    if isinstance(first, Tensor):
        return batched(stack(list(parts)), 0, level.number)
    if isinstance(first, (tuple, list)):
        items = [_stacked(name, [p[i] for p in parts], level) for i in range(len(first))]
        return type(first)(*items) if hasattr(first, "_fields") else type(first)(items)
    if any(p != first for p in parts[1:]):
        raise RuntimeError(f"vmap: {name} returned a Python value that differs between examples ({first!r}, ...); "
                           "it cannot be batched")
    return first


# --- vmap -----------------------------------------------------------------------------------------------------------
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Returns ``func`` vectorised over dimension ``in_dims`` of its inputs, with the batch at ``out_dims`` of its
    outputs; ``randomness`` ('error', 'different', 'same') says how random ops treat the examples."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        from .._functorch import vmap as impl   # its functions are found by name at each call, as PyTorch's
        return impl.vmap_impl(func, in_dims, out_dims, randomness, chunk_size, *args, **kwargs)

    return wrapped


@contextlib.contextmanager
def vmap_increment_nesting(batch_size, randomness):
    """A new innermost vmap level of ``batch_size`` examples while the block runs; gives its level number."""
    level = _Level((_levels[-1].number if _levels else 0) + 1, batch_size, randomness)
    _enter(level)
    try:
        yield level.number
    finally:
        _exit(level)


def _enter(level):
    if not _levels:
        _function.dispatch_hooks.append(_batching_hook)
        from ..ops import random
        random.draw_hooks.append(_random_check)
        random.factory_hooks.append(_sampling)
    _levels.append(level)


def _exit(level):
    _levels.remove(level)
    if not _levels:
        _function.dispatch_hooks.remove(_batching_hook)
        from ..ops import random
        random.draw_hooks.remove(_random_check)
        random.factory_hooks.remove(_sampling)


def _sampling(function, args, kwargs):
    """A sampling function (rand, randn, randint, randperm, normal, bernoulli, poisson, an in-place fill) called
    inside vmap. With randomness='different' every example gets its own samples, drawn as PyTorch draws them: one
    draw with the batch in front of the size, on the tensor arguments with their batch in front, or into the whole
    batched tensor being filled; 'same' draws one example's samples for all (and refuses batched tensor arguments of
    the out-of-place samplers, as PyTorch); 'error' refuses at the draw."""
    level = _levels[-1]
    name = function.__name__
    if batched_draw_depth[0]:
        return function(*args, **kwargs)
    if level.randomness == "error":   # before the function reads a batched argument's values
        refuse_random()
    if name.endswith("_"):
        return _fill_inplace(function, level, args, kwargs)
    batched_args = _top_level(args, kwargs) == level.number
    if level.randomness == "same":
        if batched_args:
            raise RuntimeError("Vmap does not currently support same randomness with a batched tensor input. Please "
                               "file an issue with functorch")
        return function(*args, **kwargs)
    from ._batching_rules import _front, batched_draws
    with batched_draws():
        if any(isinstance(a, Tensor) for a in args + tuple(kwargs.values())):
            def front(a):
                return _front(a, level) if isinstance(a, Tensor) else a
            args, kwargs = tuple(map(front, args)), {k: front(v) for k, v in kwargs.items()}
            if name == "multinomial" and args[0].dim() == 3:   # as PyTorch: every example's rows in one 2-D draw
                rows = args[0]
                drawn = function(rows.reshape(-1, rows.shape[-1]), *args[1:], **kwargs)
                return batched(drawn.reshape(rows.shape[0], rows.shape[1], -1), 0, level.number)
            return batched(function(*args, **kwargs), 0, level.number)
        levels = _different_levels()   # the examples of every enclosing vmap drawing differently, at once
        sizes = tuple(lv.size for lv in levels)
        if name == "randperm":   # as PyTorch: one permutation after another, the outermost level's examples fastest
            from .. import stack
            perms = stack([function(*args, **kwargs) for _ in range(int(numpy.prod(sizes)))])
            order = tuple(reversed(range(len(sizes)))) + (len(sizes),)
            return rewrap(perms.reshape(*reversed(sizes), -1).permute(*order), levels)
        from ..ops.random import with_leading_size
        for size in reversed(sizes):
            args, kwargs = with_leading_size(function, size, args, kwargs)
        return rewrap(function(*args, **kwargs), levels)


def _different_levels():
    """The innermost vmap levels whose randomness is 'different' (up to one that is not)."""
    levels = []
    for level in reversed(_levels):
        if level.randomness != "different":
            break
        levels.insert(0, level)
    return levels


def _fill_inplace(function, level, args, kwargs):
    """An in-place random fill inside vmap: 'different' fills the whole batched tensor (its physical memory, in
    order); 'same' fills one example and writes it into every one."""
    self, rest = args[0], args[1:]
    mine = type(self) is BatchedTensor and self._level == level.number
    if level.randomness == "different":
        if not mine:
            raise RuntimeError("vmap: Cannot ask for different inplace randomness on an unbatched tensor. This will "
                               "appear like same randomness. If this is necessary for your usage, please file an issue "
                               "with functorch.")
        from ._batching_rules import batched_draws
        with batched_draws():
            function(self._value, *rest, **kwargs)
        return self
    if not mine:
        return function(self, *rest, **kwargs)
    from .. import zeros
    self[...] = function(zeros(self.shape, dtype=self.dtype, device=self.device), *rest, **kwargs)
    return self


def _random_check():
    """Called before every random draw inside vmap: 'error' refuses; a draw not tied to a batched input is shared by
    all examples, which only 'same' asks for."""
    mode = _levels[-1].randomness
    if mode == "error":
        refuse_random()
    if mode == "different" and not batched_draw_depth[0]:
        raise RuntimeError("vmap: randomness='different' in ember draws per example only for random ops applied to a "
                           "batched tensor (dropout and its variants); draw this tensor outside vmap, or use "
                           "randomness='same'")


def refuse_random():
    """vmap's error for a random draw in randomness='error' mode."""
    raise RuntimeError("vmap: called random operation while in randomness error mode. Please either use the 'same' or "
                       "'different' randomness flags on vmap or perform the randomness operation out of vmap")


def remove_batch_dim(x, level, out_dim):
    """The physical tensor of ``x`` at ``level`` with the batch at ``out_dim`` (broadcast when ``x`` is unbatched)."""
    out_dim = _wrap_dim(out_dim, x.dim() + 1)   # PyTorch's IndexError for an out_dim past the output's dims
    if type(x) is BatchedTensor and x._level == level.number:
        return x._value.movedim(x._bdim, out_dim)
    return x.unsqueeze(out_dim).expand(*x.shape[:out_dim], level.size, *x.shape[out_dim:])
