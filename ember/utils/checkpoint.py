"""Activation checkpointing: run a function without keeping its intermediate results, and recompute them when the
backward pass needs them (trading compute for memory).

``use_reentrant=True`` runs the function without recording a graph and, in backward, reruns it with grad on and
backpropagates through the rerun (PyTorch's original scheme). ``use_reentrant=False`` records the graph as usual but
drops what its nodes saved; the first backward that reads one of them reruns the function once and hands every node
the values its twin in the rerun saved, so gradients reach everything the function used, ``autograd.grad`` works and
only the needed part is recomputed. ``context_fn`` gives two context managers: the forward runs inside the first, the
recomputation inside the second. ``create_selective_checkpoint_contexts(policy)`` makes such a pair that asks a policy,
for each of PyTorch's ATen ops the forward runs (``utils._sac_ops``), whether to keep its result; the recomputation
then takes the kept results instead of running their ops again.
"""
import contextlib
import enum
import warnings
from collections import defaultdict

from .. import autograd
from .._tensor import Tensor
from ..autograd.engine import current_task
from ..autograd.function import Function, dispatch_hooks
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..autograd.graph import _without_saved_tensors_hooks
from ..ops.random import all_states, restore_all_states
from . import _sac_ops

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "check_backward_validity", "detach_variable",
           "get_device_states", "set_device_states", "noop_context_fn", "set_checkpoint_early_stop",
           "set_checkpoint_debug_enabled", "DefaultDeviceType", "CheckpointPolicy", "SelectiveCheckpointContext",
           "create_selective_checkpoint_contexts"]

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


def _autocast_state():
    """The autocast settings the forward pass ran under (per device type, and the cast cache's)."""
    from ..amp import autocast_mode as amp
    return ({kind: (amp.is_autocast_enabled(kind), amp.get_autocast_dtype(kind)) for kind in ("cpu", "cuda")},
            amp.is_autocast_cache_enabled())


@contextlib.contextmanager
def _autocast_restored(state):
    """Runs the block under the forward's autocast settings, as PyTorch's recomputation does (so it saves what the
    forward saved, in the same dtypes, whether backward runs inside an autocast region or not)."""
    from ..amp import autocast_mode as amp
    devices, cache_enabled = state
    with contextlib.ExitStack() as stack:
        for kind, (enabled, dtype) in devices.items():
            if enabled or amp.is_autocast_enabled(kind):
                stack.enter_context(amp.autocast(kind, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled))
        yield


class CheckpointFunction(Function):
    """The reentrant scheme: forward without a graph, backward reruns the function and backpropagates through it."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function = run_function
        ctx.rng_state = all_states() if preserve_rng_state else None
        ctx.autocast = _autocast_state()
        ctx.inputs = args
        return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        if not autograd._is_checkpoint_valid():
            raise RuntimeError("When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or "
                               "passing an `inputs` parameter to .backward(). To resolve this error, you can either "
                               "set use_reentrant=False, or call .backward() without passing the `inputs` argument.")
        inputs = _detach_like(ctx.inputs)
        with _rng_restored(ctx.rng_state), enable_grad(), _autocast_restored(ctx.autocast):
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
    _recordings.append(nodes)
    try:
        yield
    finally:
        dispatch_hooks.remove(hook)
        del _recordings[next(i for i, r in enumerate(_recordings) if r is nodes)]   # (by identity: lists compare equal)


_recordings = []   # the node lists being recorded now (a checkpoint's, and those of checkpoints nested in it)


class _Recomputation:
    """The shared rerun of one checkpointed call: done once, on the first saved value a backward asks for."""

    def __init__(self, function, args, kwargs, rng_state, nodes, context, check):
        self.function, self.args, self.kwargs, self.rng_state, self.nodes = function, args, kwargs, rng_state, nodes
        self.context, self.check = context, check
        self.autocast = _autocast_state()
        self.task_id = None   # the backward whose rerun took saved results (selective checkpointing)
        self.done = False

    def run(self):
        if self.done:
            return
        self.done = True
        replayed = []
        with _rng_restored(self.rng_state), enable_grad(), _autocast_restored(self.autocast), \
                _without_saved_tensors_hooks(), self.context, _recording(replayed):
            # the inputs themselves: the recomputed values saved for backward are then joined to the graph before the
            # region, so a backward with create_graph differentiates through them (double backward)
            self.function(*self.args, **self.kwargs)
        if self.check and (len(replayed) < len(self.nodes) or any(
                type(a) is not type(b) or a._input_meta != b._input_meta for a, b in zip(self.nodes, replayed))):
            raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have "
                                  "different metadata than during the forward pass.")
        # a region whose saved ops' results were taken: PyTorch recomputes it in each backward and hands those results
        # out once, so another backward reading its saved values raises
        task = current_task() if isinstance(self.context, _CachedMode) and self.context.consumed else None
        self.task_id = None if task is None else task.id
        for original, twin in zip(self.nodes, replayed):
            # (a node of a checkpoint nested inside keeps waiting for its own rerun)
            if isinstance(original._saved, _SavedOnDemand) and original._saved.recomputation is self:
                saved = _as_recomputed(twin._saved)
                original._saved = saved if task is None or not saved else _SavedForOneBackward(saved, task.id)
        self.function = self.args = self.kwargs = self.nodes = None


def _as_recomputed(saved):
    """A twin node's saved entries, checked against the versions their tensors have now: PyTorch hands recomputed
    values to backward without a version check, so an in-place op the rerun made after saving one is no error."""
    if not isinstance(saved, (tuple, list)):   # nothing, or a nested checkpoint's node still waiting for its rerun
        return saved
    entries = []
    for entry in saved:
        if entry is not None and entry[0] == "tensor":
            entry = ("tensor", entry[1], entry[1]._version_counter[0])
        elif entry is not None and entry[0] == "output":
            entry = ("output", entry[1], entry[1][0][0])
        entries.append(entry)
    return type(saved)(entries)


class _SavedForOneBackward:
    """A node's recomputed saved values in a region where selective checkpointing saved ops: readable in the
    backward that recomputed them (and outside any backward); another backward raises PyTorch's error."""

    def __init__(self, values, task_id):
        self.values, self.task_id = values, task_id

    def __bool__(self):
        return True

    def __len__(self):
        return len(self.values)

    def __getitem__(self, index):
        return self.values[index]

    def __iter__(self):
        task = current_task()
        if task is not None and self.task_id is not None and task.id != self.task_id:
            raise RuntimeError(_EXTRA_BACKWARD)
        return iter(self.values)


class _KeptUntilRerun(_SavedForOneBackward):
    """The saved values of a node whose op's result selective checkpointing kept: PyTorch recomputes the region in
    every backward that reads the region's saved values, so reading these reruns it first (raising if a kept result
    was changed in place since), and another backward raises as for the recomputed ones."""

    def __init__(self, values, recomputation):
        super().__init__(values, None)
        self.recomputation = recomputation

    def __iter__(self):
        self.recomputation.run()
        self.task_id = self.recomputation.task_id   # the backward that ran the recomputation
        return super().__iter__()


class _SavedOnDemand:
    """Stands in for a node's saved values until a backward reads them; reading triggers the rerun."""

    def __init__(self, node, recomputation):
        self.node, self.recomputation = node, recomputation

    def __bool__(self):
        return True

    def __iter__(self):
        self.recomputation.run()
        return iter(self.node._saved or ())


_SUPPRESSED = object()   # the result of a forward whose exception a forward context swallowed


def _checkpoint_without_reentrant(function, preserve_rng_state, args, kwargs, context_fn, determinism_check):
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got "
                         f"{determinism_check}")
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():   # no graph to drop saved values from: a plain call, outside the contexts
        return function(*args, **kwargs)
    rng_state = all_states() if preserve_rng_state else None
    nodes = []
    kept = set()
    if isinstance(forward_context, _CachingMode):
        forward_context.nodes, forward_context.kept = nodes, kept
    # as PyTorch's: outer saved-tensor hooks see nothing saved inside
    outputs = suppressed = _SUPPRESSED
    with _without_saved_tensors_hooks(), forward_context, _recording(nodes):
        outputs = function(*args, **kwargs)
    if outputs is suppressed:
        raise RuntimeError("torch.utils.checkpoint: the forward context provided by context_fn suppressed an exception "
                           "raised during the checkpointed forward. This is not supported because checkpoint cannot "
                           "return a value for a failed forward.")
    recomputation = _Recomputation(function, args, kwargs, rng_state, nodes, recompute_context,
                                   determinism_check == "default")
    for node in nodes:
        if node._saved:   # (the nodes of ops whose results a policy kept keep theirs, read after the rerun)
            node._saved = _SavedOnDemand(node, recomputation) if id(node) not in kept else \
                _KeptUntilRerun(node._saved, recomputation)
    return outputs


class SelectiveCheckpointContext:
    """What a selective checkpointing policy is told besides the op: ``op_output``, the op's result, and
    ``is_recompute``, always False (the policy is asked during the forward pass only; the recomputation takes the
    kept results by their place in the forward's order)."""

    def __init__(self, *, is_recompute, op_output=None):
        self.is_recompute = is_recompute
        self.op_output = op_output


class CheckpointPolicy(enum.Enum):
    """A policy's answer for one op: ``MUST_SAVE``/``PREFER_SAVE`` keep its result for backward,
    ``MUST_RECOMPUTE``/``PREFER_RECOMPUTE`` recompute it (``*_CPU_OFFLOAD``: kept on the CPU under
    ``torch.compile``; eager checkpointing recomputes it). ``MUST_*`` are not to be overridden by other subsystems."""

    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


def _policy_from_bool(b):
    return CheckpointPolicy.MUST_SAVE if b else CheckpointPolicy.PREFER_RECOMPUTE


_SAVING = (CheckpointPolicy.MUST_SAVE, CheckpointPolicy.PREFER_SAVE)
_RECOMPUTE = object()
_CONSUMED = object()
_EXTRA_BACKWARD = ("Trying to backward an extra time. You are only allowed to backward once on any region computed "
                   "under selective activation checkpoint.")
_SAC_MISMATCH_MSG = ("This can happen if the operations in the checkpointed region are nondeterministic or depend on "
                     "global state that changed between forward and backward.")


def __getattr__(name):
    if name == "SAC_IGNORED_OPS":   # made on first use: it names torch.ops.aten objects
        from . import _sac_ops
        return {_sac_ops.overload(operator, "default") for operator in _sac_ops.IGNORED} - {None}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CachingMode:
    """The forward's context of selective checkpointing: a dispatch hook that notes each op call (the outermost
    ones: a composite's inner steps are part of it) with the graph nodes it recorded; on leaving, asks the policy
    about each call's ATen ops, in order, and keeps the results of the calls it says to save (with their version,
    so a later in-place change is caught) in ``storage``."""

    def __init__(self, policy_fn, storage):
        self.policy_fn, self.storage = policy_fn, storage
        self.nodes = self.kept = None   # the checkpoint's recorded nodes, and the ids of the nodes to keep saved
        self.calls, self.depth, self.seen = [], 0, set()

    def __enter__(self):
        dispatch_hooks.append(self._hook)
        return self

    def __exit__(self, *exc_info):
        dispatch_hooks.remove(self._hook)
        if exc_info[0] is None:
            self._decide()
        return False

    def _hook(self, cls, args, kwargs, proceed):
        if self.depth:
            return proceed(args, kwargs)
        start = len(self.nodes) if self.nodes is not None else 0
        self.depth += 1
        try:
            out = proceed(args, kwargs)
        finally:
            self.depth -= 1
        # the nodes the call recorded (not an input's, which a call returning its input records again) and its
        # results' versions as it left them (a later in-place op changes them)
        created = {id(node) for node in self.nodes[start:]} - self.seen if self.nodes is not None else set()
        self.seen |= created
        tensors = list(_sac_ops._tensors(out))
        self.calls.append((cls, args, kwargs, out, created, [t._version for t in tensors]))
        return out

    def _decide(self):
        nodes = self.nodes or []
        hidden = _sac_ops.hidden_nodes(nodes)
        decided = []
        for cls, args, kwargs, out, created, versions in self.calls:
            ops = _sac_ops.aten_ops(cls, args, kwargs, out, created, hidden)
            if cls.__name__ in _sac_ops.NO_OPS and decided and decided[-1][1]:
                # the op before the write was its in-place form
                decided[-1][1][-1] = _sac_ops.in_place(decided[-1][1][-1])
            decided.append((cls, ops, args, kwargs, out, created, versions))
        counter = defaultdict(int)
        for cls, ops, args, kwargs, out, created, versions in decided:
            key = cls.__name__
            index = counter[key]
            counter[key] += 1
            save, op_output = False, _sac_ops.aten_output(out)
            for op in ops:
                policy = self.policy_fn(SelectiveCheckpointContext(is_recompute=False, op_output=op_output), op,
                                        *args, **kwargs)
                if isinstance(policy, bool):
                    policy = _policy_from_bool(policy)
                save = save or policy in _SAVING
            if save:
                self.storage[key][index] = (out, versions, [node for node in nodes if id(node) in created])
                self.kept |= created
            else:
                self.storage[key][index] = _RECOMPUTE
        self.calls, self.nodes, self.seen = [], None, set()


class _CachedMode:
    """The recomputation's context: each outermost op call takes its result from ``storage`` where the forward
    kept it (its nodes kept their saved values and stand in the replay for themselves), and runs otherwise."""

    def __init__(self, storage, allow_cache_entry_mutation=False):
        self.storage, self.allow_cache_entry_mutation = storage, allow_cache_entry_mutation
        self.depth, self.consumed = 0, False
        self.counter = defaultdict(int)

    def __enter__(self):
        self.counter.clear()
        dispatch_hooks.append(self._hook)
        return self

    def __exit__(self, *exc_info):
        dispatch_hooks.remove(self._hook)
        return False

    def _hook(self, cls, args, kwargs, proceed):
        if self.depth:
            return proceed(args, kwargs)
        key = cls.__name__
        index = self.counter[key]
        self.counter[key] += 1
        entries = self.storage.get(key)
        if entries is None:
            raise RuntimeError(f"{key} encountered during backward but not found in storage. {_SAC_MISMATCH_MSG}")
        entry = entries.get(index)
        if entry is None:
            raise RuntimeError(f"{key} invocation index {index} encountered during backward but not found in "
                               f"storage. {_SAC_MISMATCH_MSG}")
        if entry is _CONSUMED:
            raise RuntimeError(_EXTRA_BACKWARD)
        if entry is _RECOMPUTE:
            self.depth += 1
            try:
                return proceed(args, kwargs)
            finally:
                self.depth -= 1
        out, versions, nodes = entry
        if not self.allow_cache_entry_mutation and \
                [t._version for t in _sac_ops._tensors(out)] != versions:
            raise RuntimeError("Tensor cached during selective activation checkpoint has been mutated")
        entries[index] = _CONSUMED
        self.consumed = True
        for recorded in _recordings:   # every recording would have seen them (a nested checkpoint's too)
            recorded.extend(nodes)
        return out


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    """The ``context_fn`` pair of selective activation checkpointing: ``policy_fn_or_list`` is a function
    ``(ctx, op, *args, **kwargs) -> CheckpointPolicy`` (or bool) asked for each ATen op (``torch.ops.aten.mm.default``)
    the checkpointed forward runs, or a list of ops to save (the others are recomputed). The recomputation takes the
    saved ops' results instead of running them; by default it raises if one of them was changed in place since
    (``allow_cache_entry_mutation=True`` allows it). Use as ``checkpoint(fn, x, use_reentrant=False,
    context_fn=functools.partial(create_selective_checkpoint_contexts, policy))``."""
    if isinstance(policy_fn_or_list, list):
        from ..library import _aten, _ops
        for op in policy_fn_or_list:
            if not isinstance(op, (_aten.OpOverload, _ops.OpOverload)):
                extra = ("Please update the OpOverloadPacket to a specific OpOverload.For example, if you have "
                         "`torch.ops.aten.mm`, change it to `torch.ops.aten.mm.default`."
                         if isinstance(op, (_aten.OpOverloadPacket, _ops.OpOverloadPacket)) else "")
                raise ValueError(f"Expected op in `op_list` to be an OpOverload but got: {op} of type {type(op)}. "
                                 f"{extra}")
        ops = policy_fn_or_list

        def policy_fn(ctx, op, *args, **kwargs):
            return CheckpointPolicy.MUST_SAVE if op in ops else CheckpointPolicy.PREFER_RECOMPUTE
    elif callable(policy_fn_or_list):
        policy_fn = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    storage = defaultdict(dict)
    return _CachingMode(policy_fn, storage), _CachedMode(storage, allow_cache_entry_mutation)


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

