"""DistributedDataParallel: one model replica per rank, gradients averaged across ranks during backward.

At construction the parameters and buffers are broadcast from rank 0 and the parameters are laid out in buckets as
PyTorch's reducer lays them out: the first backward reduces them all as one bucket (or, with
``find_unused_parameters``, in buckets of about ``bucket_cap_mb`` in reverse order), and the buckets are then rebuilt
in the order that backward made the gradients ready, the first one small. Each parameter's post-accumulate-grad hook
marks it ready; a full bucket is copied into one flat buffer and its non-blocking allreduce starts at once, so
communication runs while backward computes the remaining gradients. Buckets start strictly in order, the same on every
rank, as MPI requires. The last gradient waits for all buckets and writes the averages back into ``.grad``.
"""
import contextlib
import inspect

from ... import cat, distributed as dist, futures, int32, is_grad_enabled, no_grad, tensor, zeros
from ..._tensor import Tensor
from ...distributed.algorithms.join import Join, JoinHook, Joinable
from ...distributed.grad_bucket import BuiltinCommHookType, GradBucket
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024   # torch's dist._DEFAULT_FIRST_BUCKET_BYTES: a small first bucket starts sooner


class _Bucket:
    """Parameters whose gradients travel together in one flat buffer."""

    def __init__(self, params):
        self.params = params
        self.offsets = [0]
        for p in params:
            self.offsets.append(self.offsets[-1] + p.numel())
        self.buffer = zeros(self.offsets[-1], dtype=params[0].dtype, device=params[0].device)
        self.pending = len(params)
        self.work = None     # the started allreduce, or the Future a communication hook returned

    def views(self):
        return [self.buffer[start:end].view(p.shape) for p, start, end in
                zip(self.params, self.offsets[:-1], self.offsets[1:])]


class DistributedDataParallel(Module, Joinable):
    """Wraps ``module`` for data-parallel training: call it like the module, then ``backward`` averages gradients
    across the ranks of ``process_group``. ``no_sync()`` accumulates gradients locally instead; ``join()`` (or
    ``Join([model, ...])``) trains on inputs of different lengths per rank."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **unsupported):
        super().__init__()
        if unsupported:
            raise TypeError(f"DistributedDataParallel got unsupported arguments: {sorted(unsupported)}")
        self.module = module
        self.process_group = process_group if process_group is not None else dist.group.WORLD
        if self.process_group is None:
            raise ValueError("Default process group has not been initialized, please make sure to call "
                             "init_process_group.")
        params = _unique(p for p in module.parameters() if p.requires_grad)
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter that "
                               "requires a gradient.")
        devices = {p.device for p in params}
        if len(devices) > 1:
            raise ValueError(f"DistributedDataParallel's parameters must be on one device, found "
                             f"{sorted(map(str, devices))}")
        if device_ids is not None and next(iter(devices)).type == "cpu":
            raise ValueError(f"DistributedDataParallel device_ids and output_device arguments only work with "
                             f"single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                             f"{device_ids}, output_device {output_device}, and module parameters {devices}.")
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers, self.find_unused_parameters = broadcast_buffers, find_unused_parameters
        self.gradient_as_bucket_view, self.static_graph = gradient_as_bucket_view, static_graph
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        first_cap = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self._bucket_limits = [first_cap, self.bucket_bytes_cap] if first_cap < self.bucket_bytes_cap else \
            [self.bucket_bytes_cap]
        self._params = params
        _verify_same_parameters(params, self.process_group)
        self._broadcast([*params, *module.buffers()])
        if find_unused_parameters and not static_graph:
            self._set_buckets(_assign_buckets(params, self._bucket_limits)[::-1])
        else:   # one bucket until the first backward shows the order gradients come in
            self._set_buckets(_assign_buckets(params, [float("inf")]))
        self._ready_order = [] if (static_graph or not find_unused_parameters) else None
        self._syncing = False
        self._next_bucket = 0
        self._used = None
        self._comm_hook = None   # (hook, state) once register_comm_hook was called
        self._divisor = None     # what gradients are divided by when not the group's size (a join's active ranks)
        self._divide_by_initial_world_size = True
        Joinable.__init__(self)
        self._hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    def _set_buckets(self, buckets):
        self._buckets = buckets
        self._bucket_of = {id(p): (b, i) for b in self._buckets for i, p in enumerate(b.params)}

    # --- forward ---------------------------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._syncing and self._next_bucket < len(self._buckets) and self._some_ready():
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. You can enable "
                "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
                "participate in calculating loss.")
        joining = self._join_config.enable
        if joining:   # inside a Join: the ranks that ran out answer these collectives from the join hook
            work = Join.notify_join_context(self)
            if work is not None:
                work.wait()
                if not self._divide_by_initial_world_size:
                    self._divisor = int(work.result()[0].item())
        if self._syncs_buffers():
            self._broadcast(list(self.module.buffers()), self._common_rank(True) if joining else None)
        if joining:
            self._count_syncing(self.require_backward_grad_sync)
        output = self.module(*inputs, **kwargs)
        self._prepare_for_backward(output)
        return output

    def _prepare_for_backward(self, output):
        self._reset()
        self._syncing = is_grad_enabled() and self.require_backward_grad_sync
        if not self._syncing:
            return
        if self.find_unused_parameters:
            reached = _reachable_leaves(output)
            self._used = tensor([id(p) in reached for p in self._params], dtype=int32)
            for p in self._params:
                if id(p) not in reached:
                    self._grad_ready(p)

    def _some_ready(self):
        return any(b.pending < len(b.params) for b in self._buckets)

    def _reset(self):
        for b in self._buckets:
            b.pending, b.work = len(b.params), None
        self._next_bucket, self._used = 0, None

    # --- backward: buckets ---------------------------------------------------------------------------------------
    def _grad_ready(self, param):
        if not self._syncing:
            return
        if self._ready_order is not None:
            self._ready_order.append(param)
        bucket, _ = self._bucket_of[id(param)]
        bucket.pending -= 1
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1
        if self._comm_hook is None:
            for b in self._buckets[:self._next_bucket]:
                b.work.is_completed()   # lets MPI progress the started allreduces while backward continues
        if self._next_bucket == len(self._buckets):
            self._finish()

    def _launch(self, bucket):
        with no_grad():
            for p, view in zip(bucket.params, bucket.views()):
                if p.grad is None:
                    view.zero_()
                elif p.grad.data_ptr() != view.data_ptr():
                    view.copy_(p.grad)
            if self._comm_hook is not None:   # the hook averages (or not) as it likes
                hook, state = self._comm_hook
                index = self._buckets.index(bucket)
                bucket.work = hook(state, GradBucket(index, bucket.buffer, bucket.offsets, bucket.params,
                                                     index == len(self._buckets) - 1))
                return
            bucket.buffer.div_(self._divisor or self.process_group.size())
        bucket.work = dist.collectives._all_reduce_unchecked(bucket.buffer, self.process_group)

    def _finish(self):
        self._syncing = False
        self._take_results()
        self._rebuild_buckets()

    def _rebuild_buckets(self):
        """After the first backward: buckets in the order gradients came in (rank 0's, as PyTorch syncs it)."""
        if self._ready_order is None:
            return
        order, self._ready_order = self._ready_order, None
        position = {id(p): i for i, p in enumerate(self._params)}
        indices = [[position[id(p)] for p in order]]
        dist.broadcast_object_list(indices, src=self.process_group.ranks[0], group=self.process_group)
        if sorted(indices[0]) == list(range(len(self._params))):
            self._set_buckets(_assign_buckets([self._params[i] for i in indices[0]], self._bucket_limits))

    def _take_results(self):
        used = None
        if self._used is not None:
            dist.all_reduce(self._used, op=dist.ReduceOp.MAX, group=self.process_group)
            used = self._used.tolist()
        index = {id(p): i for i, p in enumerate(self._params)}
        with no_grad():
            for bucket in self._buckets:
                result = bucket.work.wait()
                if self._comm_hook is not None:
                    _take_hook_result(bucket, result)
                for p, view in zip(bucket.params, bucket.views()):
                    if used is not None and not used[index[id(p)]]:
                        continue   # unused on every rank: .grad stays as it was, as in torch
                    if self.gradient_as_bucket_view:
                        p.grad = view
                    elif p.grad is None:
                        p.grad = view.clone()
                    else:
                        p.grad.copy_(view)

    # --- communication hooks ---------------------------------------------------------------------------------------
    def register_comm_hook(self, state, hook):
        """Reduces each bucket of gradients with ``hook(state, bucket)`` instead of averaging it: the hook gets a
        ``GradBucket`` (its gradients summed locally, not yet averaged) and returns a ``Future`` of the tensor whose
        values become the bucket's gradients. Once per model, before training."""
        _check_comm_hook(hook)
        if self._comm_hook is not None:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be called once.")
        self._comm_hook = (hook, state)

    def _register_builtin_comm_hook(self, comm_hook_type):
        """Registers a built-in hook by type: ``BuiltinCommHookType.ALLREDUCE`` or ``FP16_COMPRESS``."""
        from ...distributed.algorithms.ddp_comm_hooks import default_hooks
        hooks = {BuiltinCommHookType.ALLREDUCE: default_hooks.allreduce_hook,
                 BuiltinCommHookType.FP16_COMPRESS: default_hooks.fp16_compress_hook}
        if self._comm_hook is not None:
            raise RuntimeError("register_builtin_comm_hook or register_comm_hook can only be called once.")
        self._comm_hook = (hooks[comm_hook_type], self.process_group)

    # --- uneven inputs ----------------------------------------------------------------------------------------------
    def join(self, divide_by_initial_world_size=True, enable=True, throw_on_early_termination=False):
        """A ``Join`` context for this model alone: ranks may run different numbers of iterations inside it.
        Gradients are averaged over all ranks (``divide_by_initial_world_size``) or over those still iterating."""
        return Join([self], enable, throw_on_early_termination,
                    divide_by_initial_world_size=divide_by_initial_world_size)

    def join_hook(self, **kwargs):
        """The hook a rank that ran out of inputs runs for this model (see ``join``)."""
        return _DDPJoinHook(self, kwargs.get("divide_by_initial_world_size", True))

    @property
    def join_device(self):
        """The device of the model's parameters."""
        return self._params[0].device

    @property
    def join_process_group(self):
        """The process group gradients are averaged over."""
        return self.process_group

    def _syncs_buffers(self):
        return self.broadcast_buffers and self.training and any(True for _ in self.module.buffers())

    def _common_rank(self, candidate):
        """The highest global rank among those passing ``candidate`` True (the source of a join's broadcasts)."""
        rank = tensor([dist.get_rank() if candidate else -1])
        dist.all_reduce(rank, op=dist.ReduceOp.MAX, group=self.process_group)
        return int(rank.item())

    def _count_syncing(self, syncing):
        """How many ranks will average gradients in this iteration's backward."""
        count = tensor([1 if syncing else 0])
        dist.all_reduce(count, group=self.process_group)
        return int(count.item())

    def _shadow_iteration(self):
        """What a joined rank runs for each iteration the others still make: their forward's buffer broadcast and
        sync count, and (when they average) their backward's bucket allreduces, on zeros."""
        if self._syncs_buffers():
            self._broadcast(list(self.module.buffers()), self._common_rank(False))
        if not self._count_syncing(False):
            return
        with no_grad():
            works = []
            for bucket in self._buckets:
                zeros_like = zeros(bucket.offsets[-1], dtype=bucket.buffer.dtype, device=bucket.buffer.device)
                works.append(dist.collectives._all_reduce_unchecked(zeros_like, self.process_group))
            if self.find_unused_parameters:
                dist.all_reduce(zeros(len(self._params), dtype=int32), op=dist.ReduceOp.MAX,
                                group=self.process_group)
            for work in works:
                work.wait()
        self._ready_order = [] if self._ready_order is not None else None   # shadows the rebuild's broadcast
        self._rebuild_buckets()

    # --- buffers and state ---------------------------------------------------------------------------------------
    def _broadcast(self, tensors, source=None):
        """Broadcasts ``tensors`` from global rank ``source`` (the group's first by default), one flat message per
        dtype."""
        if self.process_group.size() == 1 or not tensors:
            return
        source = self.process_group.ranks[0] if source is None else source
        with no_grad():
            for group in _by_dtype(tensors).values():
                flat = cat([t.detach().reshape(-1) for t in group])
                dist.broadcast(flat, src=source, group=self.process_group)
                offset = 0
                for t in group:
                    t.copy_(flat[offset:offset + t.numel()].view(t.shape))
                    offset += t.numel()

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally; the first backward after it averages the total."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


class _DDPJoinHook(JoinHook):
    """A joined rank's part for DistributedDataParallel: it shadows each iteration the others still make, and at
    the end every replica takes the last joiner's parameters and buffers."""

    def __init__(self, ddp, divide_by_initial_world_size):
        if not isinstance(ddp, DistributedDataParallel):
            raise AssertionError(f"DDP join hook requires passing in a DistributedDataParallel instance as the state, "
                                 f"got {type(ddp).__name__}")
        self.ddp = ddp
        ddp._divide_by_initial_world_size = divide_by_initial_world_size

    def main_hook(self):
        """Shadows one iteration of the ranks still training."""
        self.ddp._shadow_iteration()

    def post_hook(self, is_last_joiner):
        """Every replica takes the parameters and buffers of the ranks that joined last."""
        ddp = self.ddp
        ddp._divisor = None
        ddp._broadcast([*ddp._params, *ddp.module.buffers()], ddp._common_rank(is_last_joiner))


def _check_comm_hook(hook):
    """PyTorch's checks of a communication hook: callable, with a ``bucket`` parameter, and annotated (where it is)
    with GradBucket and ``Future[Tensor]``."""
    if not callable(hook):
        raise TypeError("Communication hook must be callable.")
    signature = inspect.signature(hook)
    bucket = signature.parameters["bucket"].annotation
    if bucket is not inspect.Parameter.empty and bucket != GradBucket:
        raise ValueError("Communication hook: bucket annotation should be dist.GradBucket.")
    returned = signature.return_annotation
    if returned is not inspect.Signature.empty and returned != futures.Future[Tensor]:
        raise ValueError("Communication hook: return annotation should be torch.futures.Future[torch.Tensor].")
    if getattr(hook, "__name__", None) in ("bf16_compress_hook", "bf16_compress_wrapper_hook"):
        from ... import cuda
        if not (cuda.is_available() and dist.is_nccl_available()):
            raise TypeError("BF16 all reduce communication hook required CUDA 11+ and NCCL 2.10+ or XPU and XCCL")


def _take_hook_result(bucket, result):
    """Makes the tensor a hook's Future gave (or the one tensor of a list) the bucket's contents."""
    if isinstance(result, (list, tuple)) and len(result) == 1:
        result = result[0]
    if not isinstance(result, Tensor):
        raise RuntimeError(f"The communication hook's Future must hold a Tensor, got {type(result).__name__}")
    if result.data_ptr() != bucket.buffer.data_ptr():
        bucket.buffer.copy_(result.reshape(-1))


def _unique(params):
    seen, result = set(), []
    for p in params:
        if id(p) not in seen:
            seen.add(id(p))
            result.append(p)
    return result


def _by_dtype(tensors):
    groups = {}
    for t in tensors:
        groups.setdefault((t.dtype, t.device), []).append(t)
    return groups


def _assign_buckets(params, limits):
    """Buckets of ``params`` taken in order, per dtype and device, as PyTorch's ``_compute_bucket_assignment_by_size``:
    each (dtype, device)'s k-th bucket closes once it holds ``limits[k]`` bytes (the last limit for the rest); buckets
    ordered by the position of their first parameter."""
    closed, open_buckets = [], {}
    for p in params:
        key = (p.dtype, p.device)
        group, size, count = open_buckets.get(key, ([], 0, 0))
        group.append(p)
        size += p.numel() * p.element_size()
        if size >= limits[min(count, len(limits) - 1)]:
            closed.append(group)
            open_buckets[key] = ([], 0, count + 1)
        else:
            open_buckets[key] = (group, size, count)
    closed.extend(group for group, _, _ in open_buckets.values() if group)
    position = {id(p): i for i, p in enumerate(params)}
    return [_Bucket(group) for group in sorted(closed, key=lambda g: position[id(g[0])])]


def _verify_same_parameters(params, group):
    """Every rank must wrap a model with the same parameter shapes and dtypes, in the same order."""
    mine = [(tuple(p.shape), str(p.dtype)) for p in params]
    everyone = [None] * group.size()
    dist.all_gather_object(everyone, mine, group=group)
    for rank, theirs in zip(group.ranks, everyone):
        if theirs != mine:
            raise RuntimeError(f"DDP expects same model across all ranks, but rank {rank} has parameters "
                               f"{theirs} while rank {dist.get_rank()} has {mine}")


def _reachable_leaves(output):
    """Ids of the leaf tensors the autograd graph of ``output`` (tensors in any nesting) leads to."""
    roots = []

    def collect(value):
        if isinstance(value, Tensor):
            if value.grad_fn is not None:
                roots.append(value.grad_fn)
        elif isinstance(value, (list, tuple)):
            for v in value:
                collect(v)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)
    collect(output)
    reached, seen, stack = set(), set(map(id, roots)), roots
    while stack:
        for edge in stack.pop()._edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Tensor):
                reached.add(id(target))
            elif id(target) not in seen:
                seen.add(id(target))
                stack.append(target)
    return reached
