"""DistributedDataParallel: one model replica per rank, gradients averaged across ranks during backward.

At construction the parameters and buffers are broadcast from rank 0 and the parameters are laid out in buckets of
about ``bucket_cap_mb`` (in reverse order, as backward produces gradients). Each parameter's post-accumulate-grad hook
marks it ready; a full bucket is copied into one flat buffer and its non-blocking allreduce starts at once, so
communication runs while backward computes the remaining gradients. Buckets start strictly in order, the same on every
rank, as MPI requires. The last gradient waits for all buckets and writes the averages back into ``.grad``.
"""
import contextlib

from ... import cat, distributed as dist, int32, is_grad_enabled, no_grad, tensor, zeros
from ..._tensor import Tensor
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
        self.work = None

    def views(self):
        return [self.buffer[start:end].view(p.shape) for p, start, end in
                zip(self.params, self.offsets[:-1], self.offsets[1:])]


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training: call it like the module, then ``backward`` averages gradients
    across the ranks of ``process_group``. ``no_sync()`` accumulates gradients locally instead."""

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
        self._params = params
        _verify_same_parameters(params, self.process_group)
        self._broadcast([*params, *module.buffers()])
        self._buckets = _assign_buckets(params, self.bucket_bytes_cap)
        self._bucket_of = {id(p): (b, i) for b in self._buckets for i, p in enumerate(b.params)}
        self._syncing = False
        self._next_bucket = 0
        self._used = None
        self._hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    # --- forward ---------------------------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._syncing and self._next_bucket < len(self._buckets) and self._some_ready():
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. You can enable "
                "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
                "participate in calculating loss.")
        if self.broadcast_buffers and self.training:
            self._broadcast(list(self.module.buffers()))
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
        bucket, _ = self._bucket_of[id(param)]
        bucket.pending -= 1
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1
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
            bucket.buffer.div_(self.process_group.size())
        bucket.work = dist.collectives._all_reduce_unchecked(bucket.buffer, self.process_group)

    def _finish(self):
        self._syncing = False
        used = None
        if self._used is not None:
            dist.all_reduce(self._used, op=dist.ReduceOp.MAX, group=self.process_group)
            used = self._used.tolist()
        index = {id(p): i for i, p in enumerate(self._params)}
        with no_grad():
            for bucket in self._buckets:
                bucket.work.wait()
                for p, view in zip(bucket.params, bucket.views()):
                    if used is not None and not used[index[id(p)]]:
                        continue   # unused on every rank: .grad stays as it was, as in torch
                    if self.gradient_as_bucket_view:
                        p.grad = view
                    elif p.grad is None:
                        p.grad = view.clone()
                    else:
                        p.grad.copy_(view)

    # --- buffers and state ---------------------------------------------------------------------------------------
    def _broadcast(self, tensors):
        """Broadcasts ``tensors`` from rank 0, one flat message per dtype."""
        if self.process_group.size() == 1 or not tensors:
            return
        with no_grad():
            for group in _by_dtype(tensors).values():
                flat = cat([t.detach().reshape(-1) for t in group])
                dist.broadcast(flat, src=self.process_group.ranks[0], group=self.process_group)
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


def _assign_buckets(params, cap):
    """Buckets of parameters in reverse order, per dtype; the first holds at most 1 MiB, the rest ``cap`` bytes."""
    buckets, open_buckets = [], {}
    limit = min(_FIRST_BUCKET_BYTES, cap)
    for p in reversed(params):
        key = (p.dtype, p.device)
        current = open_buckets.setdefault(key, [[], 0])
        current[0].append(p)
        current[1] += p.numel() * p.element_size()
        if current[1] >= limit:
            buckets.append(_Bucket(current[0]))
            del open_buckets[key]
            limit = cap
    buckets.extend(_Bucket(group) for group, _ in open_buckets.values())
    return buckets


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
