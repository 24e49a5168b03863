"""Optimizer: parameter groups, per-parameter state and PyTorch's state_dict format.

Subclasses implement ``_update(group, param, grad, state)`` on raw arrays (``param``, ``grad`` and the arrays in
``state`` share an array module), so a step costs a few array operations per parameter and no graph. The update is
elementwise, so the foreach path (``_foreach.py``) runs it once over packed small parameters with results bit-equal to
``foreach=False``.
"""
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from typing import Any

from .. import _dtype
from .._backend import xp_of
from .._tensor import Tensor, _make, add_hook
from ..autograd.grad_mode import no_grad
from ._foreach import foreach_group


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """Calls ``hook(optimizer, args, kwargs)`` before every optimizer's step (before its own pre-hooks)."""
    return add_hook(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """Calls ``hook(optimizer, args, kwargs)`` after every optimizer's step (after its own post-hooks)."""
    return add_hook(_global_optimizer_post_hooks, hook)


_STATE_DICT_HOOKS = ("_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks")


def _loss_of(closure):
    """The loss a ``step(closure)`` returns: the closure run with gradients enabled, or None without one."""
    if closure is None:
        return None
    from ..autograd.grad_mode import enable_grad
    with enable_grad():
        return closure()


class Optimizer:
    """Base class of optimizers: holds ``param_groups`` (dicts of params and options) and per-parameter ``state``."""

    _in_hooked_step = False
    _scalar_state = frozenset({"step"})   # 0-d state entries shared by a whole update, not one value per element
    _elementwise = True   # whether _update is elementwise, so that the foreach path may pack parameters
    # what PyTorch's error for capturable off an accelerator names, and whether it lists xla, without and with foreach
    _capturable_tensors = ("params and state_steps",) * 2
    _capturable_xla = (True, False)
    _sparse_error = None   # PyTorch's error for sparse gradients, where it is not "<class> does not support ..."
    _complex_as_real = True   # whether a differentiable step views complex tensors as real pairs (SGD's needs not)
    _has_fused = False   # whether the optimizer has a fused form, whose step reads GradScaler's grad_scale/found_inf
    _foreach_differentiable = False   # whether PyTorch's foreach update records a differentiable step (SGD's only)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        for name in _STATE_DICT_HOOKS:
            setattr(self, name, OrderedDict())
        if isinstance(params, Tensor):
            from ..ops.tensor_utilities import typename
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, but "
                            f"got {typename(params)}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())
        for name in _STATE_DICT_HOOKS:
            self.__dict__.setdefault(name, OrderedDict())

    def __repr__(self):
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):   # each group's lines end in a newline: a blank line between
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
        return text + ")"

    def add_param_group(self, param_group):
        """Adds a group of parameters with its own options (unset options take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)
        named = [param for param in param_group["params"] if isinstance(param, tuple)]   # (name, tensor) pairs
        if named:
            if len(named) != len(param_group["params"]):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["params"] = [param for _, param in named]
            param_group["param_names"] = [name for name, _ in named]
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(param).__name__}")
            recorded = self.defaults.get("differentiable") and hasattr(self, "_differentiable_update")
            if not (param.is_leaf or param.retains_grad or recorded):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in param_group["params"]}) != len(param_group["params"]):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause "
                          "an error; see github.com/pytorch/pytorch/issues/40967 for more information", stacklevel=3)
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                raise ValueError("all optimizer param groups should be with/without names. cannot add param group "
                                 f"{'with' if 'param_names' in param_group else 'without'} names to the optimizer")
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Resets the gradients of all optimized parameters (to None by default)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:   # the same tensor, as PyTorch's: out of any graph, zeroed in place
                        if p.grad.grad_fn is not None:
                            p.grad.detach_()
                        else:
                            p.grad.requires_grad_(False)
                        with no_grad():
                            p.grad.zero_()

    def register_step_pre_hook(self, hook):
        """Calls ``hook(optimizer, args, kwargs)`` before each step."""
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Calls ``hook(optimizer, args, kwargs)`` after each step."""
        return add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """Calls ``hook(optimizer)`` before ``state_dict`` builds its result (first of all when ``prepend``)."""
        return add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """Calls ``hook(optimizer, state_dict)`` on ``state_dict``'s result; a dict the hook returns replaces it."""
        return add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """Calls ``hook(optimizer, state_dict)`` with a shallow copy of what ``load_state_dict`` was given, before
        loading it; a dict the hook returns is loaded instead."""
        return add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """Calls ``hook(optimizer)`` once ``load_state_dict`` has loaded the state."""
        return add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    @staticmethod
    def profile_hook_step(func):
        """Wraps a ``step`` function so that the optimizer's step pre- and post-hooks run around it."""
        return _with_step_hooks(func)

    @staticmethod
    def _group_tensors_by_device_and_dtype(tensorlistlist, with_indices=False):
        """Groups parallel tensor lists (params, grads, states...) by the first list's device and dtype, as
        foreach optimizer code does: ``{(device, dtype): (tensorlistlist of that group, indices)}``; the indices
        into the original lists are filled only ``with_indices``."""
        groups = {}
        with no_grad():
            for i, first in enumerate(tensorlistlist[0]):
                lists, indices = groups.setdefault((first.device, first.dtype),
                                                   ([[] for _ in tensorlistlist], []))
                for column, tensors in zip(lists, tensorlistlist):
                    column.append(tensors[i])
                if with_indices:
                    indices.append(i)
        return groups

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _with_step_hooks(cls.step)
        if "_init_state" in cls.__dict__:
            cls._init_state = _state_like_param(cls._init_state)

    @no_grad()
    def step(self, closure=None):
        """Updates every parameter that has a gradient; returns the closure's loss when one is given."""
        loss = _loss_of(closure)
        for group in self.param_groups:
            self._prepare_group(group)
            params = [p for p in group["params"] if p.grad is not None]
            sparse = any(type(p.grad) is not Tensor and p.grad.is_sparse for p in params)
            if sparse and type(self)._sparse_update is Optimizer._sparse_update:
                raise RuntimeError(self._sparse_error or f"{type(self).__name__} does not support sparse gradients")
            if group.get("capturable") or group.get("fused") or group.get("differentiable"):
                _check_step_options(self, group, params)
            if group.get("fused"):
                if _apply_amp_scaling(self, group, params):
                    continue
            elif self._has_fused and (getattr(self, "grad_scale", None) is not None or
                                      getattr(self, "found_inf", None) is not None):
                raise AssertionError("Expected grad_scale and found_inf to be None")   # as PyTorch's unfused steps
            if group.get("differentiable") and hasattr(self, "_differentiable_update"):
                self._recorded_step(group, params)
                continue
            if len(params) > 1 and self._elementwise and not sparse and _use_foreach(group, params[0]):
                foreach_group(self, group, params)
                for p in params:
                    if getattr(p, "_state_like", None) is not None:   # (state made in the packed update)
                        _lay_out_state_like(p, self.state[p])
                continue
            for p in params:
                state = self.state[p]
                if not state:
                    self._init_state(group, p, state)
                if sparse and p.grad.is_sparse:
                    self._sparse_update(group, p, p.grad, state)
                elif p._data.dtype.kind == "c":
                    self._update_elements(group, p._data, p.grad._data, state)
                elif group.get("fused") and p._data.dtype.itemsize == 2:
                    self._update_in_float32(group, p._data, p.grad._data, state)
                else:
                    self._update(group, p._data, p.grad._data, state)
                p._version_counter[0] += 1
                if getattr(p, "_state_like", None) is not None:   # state made in _update (SGD's momentum buffer)
                    _lay_out_state_like(p, state)
        return loss

    def _recorded_step(self, group, params):
        """A ``differentiable`` step: the update in tensor ops that autograd records (the optimizer's
        ``_differentiable_update``), so gradients flow back through it to the parameters' earlier values, the
        gradients, the state and a Tensor lr, as PyTorch's."""
        from ..autograd.grad_mode import enable_grad
        from ..ops.complex import view_as_complex, view_as_real
        with enable_grad():
            for p in params:
                state = self.state[p]
                if not state:
                    self._init_state(group, p, state)
                if p.is_complex() and self._complex_as_real:   # as real pairs, as PyTorch's view_as_real
                    real = {k: view_as_real(v) if isinstance(v, Tensor) and v.is_complex() else v
                            for k, v in state.items()}
                    self._differentiable_update(group, view_as_real(p), view_as_real(p.grad), real)
                    state.update({k: view_as_complex(v) for k, v in real.items()   # made by the update
                                  if (k not in state or state[k] is None) and isinstance(v, Tensor)})
                else:
                    self._differentiable_update(group, p, p.grad, state)

    def _skipped_step_state(self, group, param, state):
        """Completes the state a step skipped for an inf gradient leaves (subclasses whose state the update makes
        override it)."""

    def _prepare_group(self, group):
        """Validates a group's options before its parameters are updated (subclasses may override)."""

    def _init_state(self, group, param, state):
        """Creates a parameter's state on its first step (subclasses override)."""

    def _update(self, group, param, grad, state):
        raise NotImplementedError(f"{type(self).__name__} must define _update")

    def _sparse_update(self, group, param, grad, state):
        """Updates ``param`` (a Tensor) from a sparse gradient; optimizers that take sparse gradients override it."""

    def _update_elements(self, group, param, grad, state):
        """``_update``; an elementwise one of complex arrays runs on their real views, as PyTorch's ``view_as_real``
        (real and imaginary parts are separate elements: Adam's second moment is per part, not grad * grad)."""
        if param.dtype.kind != "c" or not self._elementwise:
            self._update(group, param, grad, state)
            return
        views = {key: _make(_real_view(value._data)) for key, value in state.items()
                 if isinstance(value, Tensor) and value._data.dtype.kind == "c"}
        real = {**state, **views}
        self._update(group, _real_view(param), _real_view(grad), real)
        for key, value in real.items():
            if value is not views.get(key, state.get(key)):   # made by the update (SGD's momentum buffer)
                state[key] = value if value is None or value._data.shape[-1:] != (2,) else \
                    _make(xp_of(value._data).ascontiguousarray(value._data).view(param.dtype)[..., 0])

    def _update_in_float32(self, group, param, grad, state):
        """``_update`` of 16-bit arrays as PyTorch's fused kernels run it: each element computed in float32 from the
        stored parameter, gradient and state, and rounded once into the parameter and the state."""
        narrow = param.dtype
        wide = {key: _make(value._data.astype(_dtype.float32._numpy)) for key, value in state.items()
                if isinstance(value, Tensor) and value._data.dtype == narrow}
        widened = {**state, **wide}
        param32 = param.astype(_dtype.float32._numpy)
        self._update(group, param32, grad.astype(_dtype.float32._numpy), widened)
        param[...] = param32
        for key, value in widened.items():
            if key in wide:
                state[key]._data[...] = value._data
            elif value is not state.get(key) and isinstance(value, Tensor):   # made by the update (SGD's buffer)
                state[key] = _make(value._data.astype(narrow))

    def _scratch(self, like, index=0):
        """An array shaped and typed like ``like`` for an update's temporary number ``index``, kept across steps: a
        fresh one per step would be returned to the OS by malloc and faulted in again, the step's largest cost on
        small models."""
        views = self.__dict__.setdefault("_scratch_views", {})   # the same view again: no slicing per call
        view = views.get((like.dtype, type(like), index, like.shape))
        if view is not None:
            return view
        buffers = self.__dict__.setdefault("_scratch_buffers", {})
        xp = xp_of(like)
        key = (like.dtype, xp, index)
        buffer = buffers.get(key)
        if buffer is None or buffer.size < like.size:
            buffer = buffers[key] = xp.empty(like.size, like.dtype)
            views.clear()   # views of the smaller buffer: it may go
        view = views[(like.dtype, type(like), index, like.shape)] = buffer[:like.size].reshape(like.shape)
        return view

    # --- state_dict -------------------------------------------------------------------------------
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`` as PyTorch writes it."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            # numbered from the group's first position; a parameter twice in a group takes its last position
            start = sum(len(g["params"]) for g in groups)
            index.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index})
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        # state loaded for no parameter (under its saved key) is given back as it came, as PyTorch's
        state = {index[id(p)] if isinstance(p, Tensor) else p: s for p, s in self.state.items()
                 if (id(p) in index or not isinstance(p, Tensor)) and s}
        state_dict = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Restores options and state saved by ``state_dict`` (from ember or PyTorch)."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        state_dict = deepcopy(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for group, saved in zip(self.param_groups, saved_groups):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                                 "optimizer's group")
        by_index = {i: p for saved, group in zip(saved_groups, self.param_groups)
                    for i, p in zip(saved["params"], group["params"])}
        saved_group_of = {i: saved for saved in saved_groups for i in saved["params"]}
        self.state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in by_index:
                param, saved = by_index[key], saved_group_of[key]
                step_on_device = bool(saved.get("fused") or saved.get("capturable"))
                self.state[param] = {k: self._cast_state(param, k, v, step_on_device) for k, v in value.items()}
            else:   # state of no parameter is kept as it is, as PyTorch's
                self.state[key] = value
        for group, saved in zip(self.param_groups, saved_groups):
            params, names = group["params"], group.get("param_names")
            group.clear()
            group.update({k: v for k, v in saved.items() if k != "params"})
            group["params"] = params
            if names is not None:
                group.setdefault("param_names", names)
            for name, default in self.defaults.items():
                group.setdefault(name, default)
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    @classmethod
    def _cast_state(cls, param, key, value, step_on_device=False):
        """A loaded state value as PyTorch casts it: tensors to a floating parameter's dtype (the step count kept, or
        float32 on the parameter's device for a fused or capturable group), and to its device, inside dicts and lists
        too."""
        if isinstance(value, Tensor):
            if key == "step":
                if step_on_device:
                    return value.to(dtype=_dtype.float32, device=param.device)
                return value.to(device="cpu")
            if param.is_floating_point():
                return value.to(dtype=param.dtype, device=param.device)
            return value.to(device=param.device)
        if isinstance(value, dict):
            return {k: cls._cast_state(param, k, v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(cls._cast_state(param, None, v) for v in value)
        return value


def _recorded_gradient(group, param, grad, state):
    """The start of a ``differentiable`` step, as PyTorch's: the step count advanced, the gradient negated for
    ``maximize``, then weight decay added to it (or, with ``decoupled_weight_decay``, shrinking the parameter)."""
    state["step"].add_(1)
    if group["maximize"]:
        grad = -grad
    weight_decay = group.get("weight_decay", 0)
    if weight_decay != 0:
        if group.get("decoupled_weight_decay"):
            param.mul_(1 - group["lr"] * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)
    return grad


def _check_step_options(optimizer, group, params):
    """PyTorch's errors for options a step cannot honour: ``capturable`` off an accelerator, ``fused`` on other than
    floating-point parameters, and ``differentiable`` (which steps with gradients recorded) on leaves that require
    grad, whose in-place update autograd refuses."""
    if group.get("capturable") and any(p.device.type != "cuda" for p in params):
        devices = ["cuda", "xpu", "hpu", "privateuseone"] + ["xla"] * optimizer._capturable_xla[bool(group["foreach"])]
        tensors = optimizer._capturable_tensors[bool(group["foreach"])]
        raise AssertionError(f"If capturable=True, {tensors} must be on supported devices: "
                             f"{devices}.")
    for p in params if group.get("fused") else ():
        if not p.is_floating_point():
            raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported "
                               "devices: ['mps', 'cuda', 'xpu', 'hpu', 'cpu', 'mtia', 'privateuseone'] but "
                               f"{p.dtype} and "
                               f"{p.device.type}")
    if group.get("differentiable") and group.get("foreach") and not optimizer._foreach_differentiable:
        raise AssertionError("_foreach ops don't support autograd")
    if group.get("differentiable") and any(p.is_leaf and p.requires_grad for p in params):
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def _apply_amp_scaling(optimizer, group, params):
    """A fused step's handling of the ``grad_scale`` and ``found_inf`` tensors GradScaler sets on the optimizer, as
    PyTorch's fused kernels: with the inf flag set the step is skipped (returns True) after the state is created,
    leaving the parameters and the still-scaled gradients as they are; otherwise the gradients are divided by the
    scale in place before the update."""
    found_inf = getattr(optimizer, "found_inf", None)
    if found_inf is not None and float(found_inf) == 1.0:   # PyTorch's kernels test for exactly 1
        for p in params:
            state = optimizer.state[p]
            if not state:
                optimizer._init_state(group, p, state)
            optimizer._skipped_step_state(group, p, state)
        return True
    grad_scale = getattr(optimizer, "grad_scale", None)
    if grad_scale is not None:
        for p in params:
            p.grad.div_(grad_scale)
    return False


def _use_foreach(group, param):
    """``foreach=True``, or unset on an accelerator (PyTorch's default): packing saves kernel launches there, while on
    NumPy the copies in and out cost as much as the per-parameter calls they save (measured)."""
    foreach = group.get("foreach")
    if foreach is None:
        return not group.get("differentiable") and param.device.type != "cpu"
    return foreach


def _multi_tensor_form(group, array):
    """Whether PyTorch steps ``group`` with its multi-tensor (foreach) form, whose op order some optimizers change:
    ``foreach=True``, or unset off the CPU; ``array`` is one of the group's parameters' arrays."""
    foreach = group.get("foreach")
    return foreach if foreach is not None else xp_of(array).__name__ != "numpy"


def _fused_kernel_tail(group, array):
    """How many trailing elements of ``array`` PyTorch's fused CPU kernels (SGD's, Adam's: ``fused=True``) leave to
    their scalar loop, which fuses some multiply-adds differently from their vector loop (float32 and float64 only):
    those past the last full 256-bit vector (8 float32 or 4 float64 lanes, on an AVX512 CPU too: measured)."""
    if not group["fused"] or array.dtype.char not in "fd" or not array.flags.c_contiguous:
        return 0
    return array.size % (32 // array.itemsize)

def _with_step_hooks(step):
    """Wraps a ``step`` so that the step pre/post hooks run around it, once even when it calls ``super().step``."""
    @functools.wraps(step)
    def hooked_step(self, *args, **kwargs):
        if self._in_hooked_step or "_optimizer_step_pre_hooks" not in self.__dict__:
            # a subclass that never ran Optimizer.__init__ (accelerate's AcceleratedOptimizer wraps another
            # optimizer) has no hooks: PyTorch hooks a class's step from Optimizer.__init__ only
            return step(self, *args, **kwargs)
        # as in PyTorch, hooks see the optimizer as args[0] and may replace the arguments
        args = (self, *args)
        for hook in [*_global_optimizer_pre_hooks.values(), *self._optimizer_step_pre_hooks.values()]:
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                                       f"{result}.")
                args, kwargs = result
        self._in_hooked_step = True
        try:
            out = step(*args, **kwargs)
        finally:
            self._in_hooked_step = False
        for hook in [*self._optimizer_step_post_hooks.values(), *_global_optimizer_post_hooks.values()]:
            hook(self, args, kwargs)
        return out
    return hooked_step


Optimizer.step = _with_step_hooks(Optimizer.step)


def _state_like_param(init_state):
    """``_init_state``, then the state tensors shaped as the parameter's array laid out as the parameter is, where its
    class says how (``_state_like``: a DTensor's, whose array is its shard), as PyTorch's ``zeros_like(param)``."""
    @functools.wraps(init_state)
    def init_state_like_param(self, group, param, state):
        init_state(self, group, param, state)
        if getattr(param, "_state_like", None) is not None:
            _lay_out_state_like(param, state)
    return init_state_like_param


def _lay_out_state_like(param, state):
    """Replaces ``state``'s plain tensors shaped as ``param``'s array by ones laid out as ``param`` (see above)."""
    for key, value in state.items():
        if key != "step" and type(value) is Tensor and value._data.shape == param._data.shape:
            state[key] = param._state_like(value)


def _real_view(array):
    """A complex array's memory as real numbers with a last axis of 2 (real, imaginary), any strides."""
    real = array.real
    return xp_of(array).lib.stride_tricks.as_strided(real, array.shape + (2,), array.strides + (real.itemsize,))


def _add_sparse_(param, grad, alpha):
    """param += alpha * grad for a sparse COO ``grad``, summing its repeated indices first."""
    grad = grad.coalesce()
    param._data[tuple(grad._indices_._data)] += alpha * grad._values_._data


def _state_tensor(array):
    """Wraps an optimizer-state array as a tensor (what state_dict shows)."""
    return _make(array)


def _step_tensor(value=0.0, fused=False):
    """PyTorch keeps the step count (and ASGD's eta and mu, NAdam's mu_product) as a 0-d float32 tensor, float64 while
    the default dtype is float64 unless the optimizer is fused (its ``_get_scalar_dtype``)."""
    import numpy
    return _make(numpy.array(value, dtype=numpy.float64 if _dtype.get_default_dtype() is _dtype.float64 and not fused
                             else numpy.float32))


def _check_fused(optimizer, fused, foreach, differentiable):
    """PyTorch's errors for ``fused`` with options it excludes; a fused optimizer unscales (or skips) its step itself
    when GradScaler hands it the scale and the inf flag, so it says so as PyTorch's do."""
    if fused:
        optimizer._step_supports_amp_scaling = True
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _check_lr(lr):
    """PyTorch's checks of a learning rate: one element when a Tensor, not negative."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")


def _decay_factor(lr, weight_decay):
    """1 - lr * weight_decay, the decoupled weight decay's factor, computed in ``lr``'s dtype where it is a Tensor (as
    PyTorch's)."""
    return float(1 - lr * weight_decay)


def _check_non_negative(name, value):
    if value < 0.0:
        raise ValueError(f"Invalid {name}: {value}")


def _check_betas(betas):
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def _zeros_state(param):
    """A zero-filled state tensor shaped and typed like ``param`` (a Tensor)."""
    return _state_tensor(xp_of(param._data).zeros_like(param._data))


def _lerp_(start, end, weight):
    """start += weight * (end - start) in place, with PyTorch's lerp arithmetic (from ``end`` for weights of 0.5 and
    more)."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook", "required"]
