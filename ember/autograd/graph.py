"""``torch.autograd.graph``: hooks on the tensors the graph saves for backward, multi-tensor gradient hooks, and the
graph's nodes and edges.

Saved-tensor hooks: while ``saved_tensors_hooks(pack_hook, unpack_hook)`` is active on a thread, every tensor an op
saves for backward is handed to ``pack_hook`` when the node is recorded, and the node keeps only what the hook
returned: what ``ctx.save_for_backward`` saved in an ``autograd.Function``, and in a ``Primitive`` (ember's own ops)
each array it saved (inputs, outputs, arrays it computed) and each array it kept as a ``ctx`` attribute (index
arrays, normalization statistics, attention weights, masks; in tuples and lists too), which PyTorch's kernels save
as tensors. Reading them (``ctx.saved_tensors``, ``saved_arrays``, the attribute) calls ``unpack_hook`` every time.
As in PyTorch, the unpacked tensor is joined to the graph where the saved one was, so double backward reaches the
saved tensor's producer or leaf, and no version check is made on packed tensors. Python numbers, shapes and the
attributes a user's ``Function`` sets on ``ctx`` are not packed.
"""
import abc
import contextlib
import threading
import weakref
from collections import defaultdict

from .._backend import cuda_available
from .._tensor import RemovableHandle, Tensor, _make
from . import engine
from .function import (AccumulateGrad, GradientEdge, Node as _EmberNode, dispatch_hooks, pop_saved_tensors_hooks,
                       push_saved_tensors_hooks, registry, saved_tensors_hooks_state)

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "register_multi_grad_hook",
           "allow_mutation_on_saved_tensors", "Node", "GradientEdge", "get_gradient_edge", "increment_version"]


class Node(abc.ABC):
    """The abstract node of the autograd graph: every ``grad_fn`` (and the ``AccumulateGrad`` of a leaf in
    ``next_functions``) is an instance. Subclassing it is how PyTorch code declares its own node types."""

    @abc.abstractmethod
    def name(self):
        """The node's name, such as ``MulBackward0``."""
        raise NotImplementedError

    @property
    @abc.abstractmethod
    def next_functions(self):
        """Per input of the op, ``(node, output_nr)`` where its gradient goes (``(None, 0)`` where none does)."""
        raise NotImplementedError

    @abc.abstractmethod
    def metadata(self):
        """A dict kept on the node for the user's own data."""
        raise NotImplementedError

    @abc.abstractmethod
    def register_hook(self, fn):
        """Registers ``fn(grad_inputs, grad_outputs)``, called after the node computed its gradients."""
        raise NotImplementedError

    @abc.abstractmethod
    def register_prehook(self, fn):
        """Registers ``fn(grad_outputs)``, called before the node computes its gradients."""
        raise NotImplementedError


Node.register(_EmberNode)
Node.register(AccumulateGrad)


def _grad_fn_or_accumulator(tensor):
    """The node a tensor's gradient is computed at: its ``grad_fn``, or a leaf's ``AccumulateGrad``."""
    if isinstance(tensor, GradientEdge):
        return tensor.node
    if tensor.requires_grad and tensor.grad_fn is None:
        return AccumulateGrad(tensor)
    if tensor.grad_fn is None:
        raise AssertionError("Expected gradient function to be set")
    return tensor.grad_fn


def get_gradient_edge(tensor):
    """The ``GradientEdge`` where ``tensor``'s gradient is computed: ``autograd.grad(loss, get_gradient_edge(x))``
    equals ``autograd.grad(loss, x)``, and stays valid after ``x`` itself is gone."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
    return GradientEdge(_grad_fn_or_accumulator(tensor), tensor.output_nr)


def increment_version(tensor):
    """Bumps the version counter of ``tensor`` (or of each tensor of an iterable), as an in-place write does: for
    writes autograd cannot see (into ``.data``, through NumPy). Inference tensors have no counter and are skipped."""
    tensors = (tensor,) if isinstance(tensor, Tensor) else tensor
    try:
        tensors = list(tensors)
    except TypeError:
        tensors = [None]
    if not all(isinstance(t, Tensor) for t in tensors):
        raise RuntimeError("increment_version expect a Iterable[Tensor] as input")
    for t in tensors:
        root = t._base if t._base is not None else t
        if not getattr(root, "_inference", False):
            t._version_counter[0] += 1


class saved_tensors_hooks:
    """Context manager: ops that save tensors for backward inside it hand each to ``pack_hook(tensor) -> Any`` and
    keep what it returns; backward gets the tensor back from ``unpack_hook(packed) -> Tensor``, which should return
    a tensor with the original's content, size, dtype and device. Nested managers: the innermost pair applies.
    Per thread, as in PyTorch. ``pack_hook`` runs with grad recording off and must not modify its input in place;
    to avoid a reference cycle its result should not hold the input itself (``x.detach()`` rather than ``x``)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        push_saved_tensors_hooks((self.pack_hook, self.unpack_hook))

    def __exit__(self, *args):
        pop_saved_tensors_hooks()


class save_on_cpu(saved_tensors_hooks):
    """Context manager under which tensors saved for backward are kept in host memory and copied back to their
    device when backward reads them (a CPU tensor is kept as it is). ``pin_memory=True`` keeps them in page-locked
    memory when a GPU is present (CuPy's pinned memory). ``device_type`` names the accelerator whose availability
    decides pinning; ember's is CUDA."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            if not pin_memory:
                return tensor.device, tensor.cpu()
            packed = tensor.to("cpu", copy=True)
            if cuda_available() and not tensor.is_sparse:
                packed = packed.pin_memory()
            return tensor.device, packed

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Context manager for features that cannot work with saved-tensor hooks: entering ``saved_tensors_hooks``
    inside it raises ``RuntimeError(error_message)``, and so does entering it while hooks are active."""
    state = saved_tensors_hooks_state
    previous = state.disabled
    try:
        state.disabled = error_message
        if state.stack:
            raise RuntimeError(error_message)
        yield
    finally:
        state.disabled = previous


@contextlib.contextmanager
def _without_saved_tensors_hooks():
    """A region whose saved tensors no outer hooks see (a checkpointed region's, as PyTorch's checkpoint installs
    its own hooks there); raises as ``saved_tensors_hooks`` does while they are disabled."""
    push_saved_tensors_hooks(None)
    try:
        yield
    finally:
        pop_saved_tensors_hooks()


class _MultiHandle(RemovableHandle):
    """The handle of a multi-grad hook: ``remove()`` (or leaving a ``with`` block) removes the hook from every
    tensor."""

    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        """Unregisters the hook from every tensor."""
        for handle in self.handles:
            handle.remove()

    def __getstate__(self):
        return self.handles

    def __setstate__(self, state):
        self.handles = state


def _current_task():
    task = engine.current_task()
    if task is None:
        raise AssertionError("expected this hook to be called inside a backward call")
    return task


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Registers a hook over several tensors' gradients; returns a handle whose ``remove()`` removes it.

    ``mode="all"``: once the gradients of all the tensors that this backward computes are ready, calls ``fn`` with
    one entry per tensor, ``None`` for those not computed (not in the graph, or not needed for the ``inputs`` of
    this ``backward``/``grad`` call). ``mode="any"``: calls ``fn(grad)`` with the first of the tensors' gradients
    computed in each backward. ``fn`` should not modify its arguments."""
    supported_modes = ("all", "any")
    lock = threading.Lock()
    if mode not in supported_modes:
        raise ValueError(f"Expects mode to be one of {supported_modes} but got {mode}")
    if mode == "all":
        count, expected, buffers = {}, {}, {}
        nodes = [_grad_fn_or_accumulator(t) for t in tensors]
        size = len(tensors)

        def finish(task_id):
            # ember's engine runs no hook for a gradient that is None where PyTorch passes None to it: the last
            # expected gradient may never come, so the task's end delivers what did
            with lock:
                grads = buffers.pop(task_id, None)
                count.pop(task_id, None)
                waited_for = expected.pop(task_id, None)
            if waited_for:
                fn(grads)

        def inner_hook(index):
            def hook(grad):
                task = _current_task()
                with lock:
                    if task.id not in expected:
                        expected[task.id] = {i for i, node in enumerate(nodes) if task.will_execute(node)}
                        buffers[task.id] = [None] * size
                        count[task.id] = 0
                        task.callbacks.append(lambda: finish(task.id))
                    if index not in expected[task.id]:
                        return   # ember ran a node PyTorch's engine would skip for these inputs
                    buffers[task.id][index] = grad
                    count[task.id] += 1
                    done = count[task.id] == len(expected[task.id])
                if done:
                    finish(task.id)
            return hook

        handles = tuple(t.register_hook(inner_hook(i)) for i, t in enumerate(tensors))
    else:
        ran = set()
        nodes = {id(t): _grad_fn_or_accumulator(t) for t in tensors if t.requires_grad}

        def wrapped(node):
            def hook(grad):
                task = _current_task()
                if not task.will_execute(node):   # ember ran a node PyTorch's engine would skip for these inputs
                    return
                with lock:
                    if task.id in ran:
                        return
                    ran.add(task.id)
                    task.callbacks.append(lambda: ran.discard(task.id))
                fn(grad)
            return hook

        handles = tuple(t.register_hook(wrapped(nodes[id(t)])) for t in tensors if t.requires_grad)
    return _MultiHandle(handles)


_allow_mutation_on_saved_tensors_enabled = False


class _Handle:
    """What ``allow_mutation_on_saved_tensors``' pack hook keeps in the graph for a saved tensor."""


class _AllowMutationOnSavedContext:
    """The state of an ``allow_mutation_on_saved_tensors`` region: the saved tensors (``original``) and the clones
    made of those about to be modified in place (``cloned``), keyed by the handles the graph holds; which tensor
    each handle stands for (its id, address and version) and which saved tensors share an address and version."""

    def __init__(self):
        self.cloned = weakref.WeakKeyDictionary()
        self.original = weakref.WeakKeyDictionary()
        self.tid_to_weakhandle = weakref.WeakValueDictionary()
        self.sid_to_tid = defaultdict(set)
        self.versions = weakref.WeakKeyDictionary()

    def clear(self):
        """Forgets every saved tensor and clone."""
        self.cloned.clear()
        self.original.clear()
        self.tid_to_weakhandle.clear()
        self.sid_to_tid.clear()
        self.versions.clear()


def _mutation_hooks(ctx):
    """The pack and unpack hooks of an ``allow_mutation_on_saved_tensors`` region."""
    def pack_hook(tensor):
        sid = (tensor.data_ptr(), tensor._version)
        tid = (id(tensor),) + sid
        ctx.sid_to_tid[sid].add(tid)
        handle = ctx.tid_to_weakhandle.get(tid)
        if handle is None:   # the same tensor at the same version may be saved many times
            handle = _Handle()
            ctx.tid_to_weakhandle[tid] = handle
            ctx.original[handle] = tensor
            ctx.versions[handle] = tensor._version
        return handle

    def unpack_hook(handle):
        error_msg = ("Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                     "in which the graph was originally recorded.")
        if not _allow_mutation_on_saved_tensors_enabled:
            raise AssertionError(error_msg)
        if handle in ctx.cloned:
            return ctx.cloned[handle]
        if handle not in ctx.original:
            raise AssertionError(error_msg)
        tensor = ctx.original[handle]
        if tensor._version != ctx.versions[handle]:
            # a write no in-place op made (into .data, a random fill's direct path, t_()): no clone was taken
            raise RuntimeError("one of the variables needed for gradient computation has been modified by an "
                               f"inplace operation: a saved tensor is at version {tensor._version}; expected version "
                               f"{ctx.versions[handle]} instead. allow_mutation_on_saved_tensors clones a saved "
                               "tensor only before an in-place op writes into it.")
        return tensor

    return pack_hook, unpack_hook


def _clone_saved(ctx, target):
    """Clones the saved tensors at ``target``'s address and version: ``target`` is about to be written into."""
    for tid in ctx.sid_to_tid.get((target.data_ptr(), target._version), ()):
        handle = ctx.tid_to_weakhandle.get(tid)
        if handle is None or handle in ctx.cloned:   # freed by a backward already, or cloned before
            continue
        ctx.cloned[handle] = _make(ctx.original[handle]._data.copy())
        del ctx.original[handle]


def _clone_before_mutation(ctx):
    """A dispatch hook seeing every in-place write that goes through ``AssignInplace`` (in-place ops, ``out=``,
    ``x[i] = v`` while a hook is active), and wrappers of the Tensor's in-place methods (random fills and view
    changes such as ``t_`` write without it): both clone what was saved of the tensor written into first."""
    assign = registry["AssignInplace"]

    def hook(cls, args, kwargs, proceed):
        if cls is assign:
            _clone_saved(ctx, args[0])
        return proceed(args, kwargs)

    def cloning(method):
        def write(self, *args, **kwargs):
            if isinstance(self, Tensor):
                _clone_saved(ctx, self)
            return method(self, *args, **kwargs)
        write.__name__, write.__doc__ = method.__name__, method.__doc__
        return write

    methods = {name: method for name, method in vars(Tensor).items()
               if name[-1] == "_" and name[0] != "_" and name != "requires_grad_" and callable(method)}
    return hook, methods, {name: cloning(method) for name, method in methods.items()}


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Context manager under which tensors saved for backward may be modified in place: each is cloned just before
    an in-place op writes into it, and backward uses the clone. Run forward and backward inside the same region.
    Yields the region's state (cleared on exit). One region at a time (it patches the Tensor's in-place methods, for
    all threads, as PyTorch's dispatch mode sees every op). A write through no in-place op or method (NumPy on the
    array, ``nn.init``'s direct fills) is not seen: backward then raises the in-place modification error instead of
    using changed values."""
    global _allow_mutation_on_saved_tensors_enabled
    ctx = _AllowMutationOnSavedContext()
    hook, methods, wrapped = _clone_before_mutation(ctx)
    patched = False
    with saved_tensors_hooks(*_mutation_hooks(ctx)):
        dispatch_hooks.append(hook)
        try:
            if _allow_mutation_on_saved_tensors_enabled:
                raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
            for name, method in wrapped.items():
                setattr(Tensor, name, method)
            patched = _allow_mutation_on_saved_tensors_enabled = True
            yield ctx
        finally:
            if patched:
                for name, method in methods.items():
                    setattr(Tensor, name, method)
            dispatch_hooks.remove(hook)
            ctx.clear()
            _allow_mutation_on_saved_tensors_enabled = False
