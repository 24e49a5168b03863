"""Activation checkpointing: run a function without keeping its intermediate results, and recompute them when the
backward pass needs them (trading compute for memory).

``use_reentrant=True`` runs the function without recording a graph and, in backward, reruns it with grad on and
backpropagates through the rerun (PyTorch's original scheme). ``use_reentrant=False`` records the graph as usual but
drops what its nodes saved; the first backward that reads one of them reruns the function once and hands every node
the values its twin in the rerun saved, so gradients reach everything the function used, ``autograd.grad`` works and
only the needed part is recomputed. ``context_fn`` gives two context managers: the forward runs inside the first, the
recomputation inside the second.
"""
import contextlib
import warnings

from .. import autograd
from .._tensor import Tensor
from ..autograd.function import Function, dispatch_hooks
from ..autograd.grad_mode import enable_grad
from ..autograd.graph import _without_saved_tensors_hooks
from ..ops.random import all_states, restore_all_states

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "check_backward_validity", "detach_variable",
           "get_device_states", "set_device_states", "noop_context_fn", "set_checkpoint_early_stop",
           "set_checkpoint_debug_enabled", "DefaultDeviceType"]

_checkpoint_debug_enabled = None
_DETERMINISM_CHECKS = ("default", "none")   # compare the recomputation's operations with the forward's, or not


class CheckpointError(RuntimeError):
    """The recomputation did not replay the forward pass (a different number or kind of operations)."""


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Inside, every ``checkpoint`` call takes ``debug=enabled`` (None: each call's own ``debug``)."""
    global _checkpoint_debug_enabled
    previous, _checkpoint_debug_enabled = _checkpoint_debug_enabled, enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = previous


def detach_variable(inputs):
    """``inputs`` (a tuple) with each tensor detached, keeping whether it requires grad."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for value in inputs:
        if isinstance(value, Tensor):
            detached = value.detach()
            detached.requires_grad = value.requires_grad
            value = detached
        out.append(value)
    return tuple(out)


def check_backward_validity(inputs):
    """Warns when no tensor among ``inputs`` requires grad (the checkpointed gradients would all be None)."""
    if not any(value.requires_grad for value in inputs if isinstance(value, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


class DefaultDeviceType:
    """The device type whose random state checkpoints save when no argument is on an accelerator."""

    _default_device_type = None

    @staticmethod
    def set_device_type(device="cuda"):
        """Sets the device type (``"cuda"`` by default)."""
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type():
        """The device type: the one set, else the current accelerator's, else ``"cpu"``."""
        if not DefaultDeviceType._default_device_type:
            from .. import accelerator
            current = accelerator.current_accelerator(True)
            DefaultDeviceType._default_device_type = current.type if current else "cpu"
        return DefaultDeviceType._default_device_type


def get_device_states(*args):
    """The devices of the accelerator tensors among ``args`` (nested too) and each one's random generator state."""
    from .. import cuda
    from ._pytree import tree_leaves
    devices = []
    for value in tree_leaves(args):
        if isinstance(value, Tensor) and value.device.type not in ("cpu", "meta"):
            devices.append(value.get_device())
    states = []
    for device in devices:
        with cuda.device(device):
            states.append(cuda.get_rng_state())
    return devices, states


def set_device_states(devices, states, *, device_type=None):
    """Restores each device's random generator state (from ``get_device_states``)."""
    if (device_type or DefaultDeviceType.get_device_type()) == "meta":
        return
    from .. import cuda
    for device, state in zip(devices, states):
        with cuda.device(device):
            cuda.set_rng_state(state)


def noop_context_fn():
    """The default ``context_fn``: no context around the forward nor the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


_early_stop = True


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Whether non-reentrant recomputation may stop once every saved value backward needs is back (PyTorch's
    default, True). ember reruns the whole function either way; the setting is kept for code that reads it."""
    global _early_stop
    previous, _early_stop = _early_stop, enable
    try:
        yield
    finally:
        _early_stop = previous


def _detach_like(args):
    """Inputs for the rerun: tensors detached, keeping whether they require grad."""
    return tuple(a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a for a in args)


@contextlib.contextmanager
def _rng_restored(state):
    """Runs the block from the RNG state the forward pass started with, then puts the current state back."""
    if state is None:
        yield
        return
    current = all_states()   # the CPU generator and the GPU streams (dropout on CUDA draws from those)
    restore_all_states(state)
    try:
        yield
    finally:
        restore_all_states(current)


class CheckpointFunction(Function):
    """The reentrant scheme: forward without a graph, backward reruns the function and backpropagates through it."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function = run_function
        ctx.rng_state = all_states() if preserve_rng_state else None
        ctx.inputs = args
        return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        inputs = _detach_like(ctx.inputs)
        with _rng_restored(ctx.rng_state), enable_grad():
            outputs = ctx.run_function(*inputs)
        outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(i.grad if isinstance(i, Tensor) else None for i in inputs)


def _record_nodes(nodes):
    """A dispatch hook appending the graph node each op creates to ``nodes``."""
    def hook(cls, args, kwargs, proceed):
        result = proceed(args, kwargs)
        first = result[0] if isinstance(result, tuple) and result else result
        node = first.grad_fn if isinstance(first, Tensor) else None
        if node is not None and (not nodes or nodes[-1] is not node):
            nodes.append(node)
        return result
    return hook


@contextlib.contextmanager
def _recording(nodes):
    hook = _record_nodes(nodes)
    dispatch_hooks.append(hook)
    try:
        yield
    finally:
        dispatch_hooks.remove(hook)


class _Recomputation:
    """The shared rerun of one checkpointed call: done once, on the first saved value a backward asks for."""

    def __init__(self, function, args, kwargs, rng_state, nodes, context, check):
        self.function, self.args, self.kwargs, self.rng_state, self.nodes = function, args, kwargs, rng_state, nodes
        self.context, self.check = context, check
        self.done = False

    def run(self):
        if self.done:
            return
        self.done = True
        replayed = []
        with _rng_restored(self.rng_state), enable_grad(), _recording(replayed), _without_saved_tensors_hooks(), \
                self.context:
            self.function(*_detach_like(self.args), **self.kwargs)
        if self.check and (len(replayed) < len(self.nodes) or
                           any(type(a) is not type(b) for a, b in zip(self.nodes, replayed))):
            raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have "
                                  "different metadata than during the forward pass.")
        for original, twin in zip(self.nodes, replayed):
            if isinstance(original._saved, _SavedOnDemand):
                original._saved = twin._saved
        self.function = self.args = self.kwargs = self.nodes = None


class _SavedOnDemand:
    """Stands in for a node's saved values until a backward reads them; reading triggers the rerun."""

    def __init__(self, node, recomputation):
        self.node, self.recomputation = node, recomputation

    def __bool__(self):
        return True

    def __iter__(self):
        self.recomputation.run()
        return iter(self.node._saved or ())


def _checkpoint_without_reentrant(function, preserve_rng_state, args, kwargs, context_fn, determinism_check):
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got "
                         f"{determinism_check}")
    forward_context, recompute_context = context_fn()
    rng_state = all_states() if preserve_rng_state else None
    nodes = []
    # as PyTorch's: outer saved-tensor hooks see nothing saved inside
    with _recording(nodes), _without_saved_tensors_hooks(), forward_context:
        outputs = function(*args, **kwargs)
    recomputation = _Recomputation(function, args, kwargs, rng_state, nodes, recompute_context,
                                   determinism_check == "default")
    for node in nodes:
        if node._saved:
            node._saved = _SavedOnDemand(node, recomputation)
    return outputs


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """Runs ``function(*args, **kwargs)`` without keeping its intermediate activations; backward recomputes them.
    Pass ``use_reentrant`` explicitly (False is recommended); the result equals ``function(*args, **kwargs)``."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
                      "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
                      "the two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                          stacklevel=2)
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    debug = _checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug
    if debug and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    return _checkpoint_without_reentrant(function, preserve_rng_state, args, kwargs, context_fn, determinism_check)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs a sequence of modules/functions in ``segments`` chunks, checkpointing all but the last chunk."""
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
                      "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
                      "the two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    from ..nn.modules.container import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)

