"""ZeroRedundancyOptimizer (ZeRO stage 1): each rank keeps the optimizer state of only its share of the parameters.

The parameters are dealt to the ranks as PyTorch deals them (per group, largest first, each to the rank holding the
fewest elements so far); each rank's local optimizer steps its share, and every rank then broadcasts its updated
parameters to the others, so all replicas stay equal while each holds about 1/world_size of the state. The full
state is gathered on one rank by ``consolidate_state_dict`` before ``state_dict``; the format is a plain optimizer's,
indexed by the parameters' global order.
"""
import copy

from ... import empty, zeros
from ...optim.optimizer import Optimizer
from ..._tensor import Tensor
from .. import broadcast, broadcast_object_list, get_global_rank, get_rank, get_world_size, group
from ..algorithms.join import Join, JoinHook, Joinable

__all__ = ["ZeroRedundancyOptimizer"]


def _copied(value):
    """``value`` with every tensor in it copied (a state taken from or handed to a local optimizer)."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    return value


def _typename(value):
    return f"{type(value).__module__}.{type(value).__qualname__}" if not isinstance(value, Tensor) else \
        value.type()


class _ZeROJoinHook(JoinHook):
    """A joined rank's part for ZeroRedundancyOptimizer: it steps its share and broadcasts it with the others."""

    def __init__(self, zero):
        if not isinstance(zero, ZeroRedundancyOptimizer):
            raise AssertionError("ZeRO join hook requires passing in a ZeroRedundancyOptimizer instance as the state")
        self.zero = zero

    def main_hook(self):
        """Steps this rank's share (its gradients as they are) and takes part in the broadcasts."""
        self.zero.step()


class ZeroRedundancyOptimizer(Optimizer, Joinable):
    """Wraps ``optimizer_class`` so that each rank of ``process_group`` keeps the state of its share of ``params``
    only; ``step`` updates the share and broadcasts it. ``parameters_as_bucket_view`` makes each rank's parameters
    views of one flat tensor, broadcast in one message."""

    def __init__(self, params, optimizer_class, process_group=None, parameters_as_bucket_view=False,
                 overlap_with_ddp=False, **defaults):
        params = self._verify_and_init_params(params)
        first = _typename(self._all_params[0])
        if self._all_params[0].is_sparse:
            raise ValueError(f"ZeroRedundancyOptimizer only supports using the same dense type for all parameters "
                             f"but got {first}")
        for param in self._all_params[1:]:
            if _typename(param) != first:
                raise ValueError(f"ZeroRedundancyOptimizer only supports using the same dense type for all "
                                 f"parameters but got both {first} and {_typename(param)}")
        if overlap_with_ddp:
            raise ValueError("ember's ZeroRedundancyOptimizer does not take overlap_with_ddp=True (stepping inside "
                             "DistributedDataParallel's communication hook); step it after backward instead")
        self.initialized = False
        Optimizer.__init__(self, params, defaults)
        Joinable.__init__(self)
        self._partition = []
        self.process_group = process_group if process_group is not None else group.WORLD
        self.world_size = get_world_size(self.process_group)
        self.rank = get_rank(self.process_group)
        self.global_rank = get_global_rank(self.process_group, self.rank)
        self._optim_defaults = defaults
        self._optim_constructor = optimizer_class
        self.optim = optimizer_class(self._partition_parameters()[self.rank], **defaults)
        self._sync_param_groups(self.optim.param_groups, self.param_groups)
        self.parameters_as_bucket_view = parameters_as_bucket_view
        self._buckets = []
        self._build_param_buckets()
        self._all_state_dicts = []
        self.initialized = True

    def _verify_and_init_params(self, params):
        if isinstance(params, Tensor):
            raise TypeError(f"`params` argument should be an iterable of Tensors, but got {params.type()}")
        try:
            params = list(params)
        except TypeError as error:
            raise TypeError(f"`params` argument should be an iterable of Tensors or dicts, but got "
                            f"{_typename(params)}") from error
        if not params:
            raise ValueError("ZeroRedundancyOptimizer got an empty parameter list")
        if all(isinstance(p, Tensor) for p in params):
            self._all_params = params
        elif all(isinstance(p, dict) for p in params):
            if any("params" not in g for g in params):
                raise ValueError("Each parameter group passed-in via `params` must have a 'params' key mapping to the "
                                 "parameters in the group")
            self._all_params = [p for g in params for p in g["params"]]
        else:
            raise TypeError("`params` argument should be an iterable of Tensors or dicts")
        return params

    # --- the partition --------------------------------------------------------------------------------------------
    def _partition_parameters(self):
        """Per rank, its share of each parameter group (a copy of the group holding its parameters)."""
        if not self._partition:
            self._partition = [[] for _ in range(self.world_size)]
            sizes = [0] * self.world_size
            for param_group in self.param_groups:
                shares = [[] for _ in range(self.world_size)]
                for param in sorted(param_group["params"], key=lambda t: t.numel(), reverse=True):
                    rank = sizes.index(min(sizes))
                    shares[rank].append(param)
                    sizes[rank] += param.numel()
                for rank, share in enumerate(shares):
                    rank_group = copy.copy(param_group)
                    rank_group["params"] = share
                    self._partition[rank].append(rank_group)
        return self._partition

    def _owner(self, param):
        for rank, groups in enumerate(self._partition_parameters()):
            if any(p is param for g in groups for p in g["params"]):
                return rank
        raise KeyError("parameter not managed by this optimizer")

    def _index_to_param(self):
        return [p for g in self.param_groups for p in g["params"]]

    @staticmethod
    def _sync_param_groups(source, target):
        """Copies every option but ``params`` from each group of ``source`` to the matching group of ``target``."""
        if len(source) != len(target):
            raise AssertionError("Mismatch between number of source and destination parameter groups")
        for from_group, to_group in zip(source, target):
            for key, value in from_group.items():
                if key != "params":
                    to_group[key] = value

    def _build_param_buckets(self):
        """With ``parameters_as_bucket_view``, each rank's trainable parameters become views of one flat tensor."""
        if not self.parameters_as_bucket_view:
            return
        self._buckets = []
        for groups in self._partition_parameters():
            params = [p for g in groups for p in g["params"]]
            trainable = [p for p in params if p.requires_grad]
            for param in params:
                if not param.requires_grad:
                    param.data = param.data.detach().clone()
            size = sum(p.numel() for p in trainable)
            if size == 0:
                self._buckets.append(zeros(1, device=params[0].device if params else None))
                continue
            bucket = empty(size, dtype=trainable[0].dtype, device=trainable[0].device)
            offset = 0
            for param in trainable:
                end = offset + param.numel()
                bucket[offset:end].copy_(param.data.flatten())
                param.data = bucket[offset:end].view_as(param.data)
                offset = end
            self._buckets.append(bucket)

    # --- stepping -------------------------------------------------------------------------------------------------
    def step(self, closure=None, **kwargs):
        """Steps this rank's share with the local optimizer, then every rank broadcasts its updated share."""
        work = Join.notify_join_context(self)
        if work is not None:
            work.wait()
        self._sync_param_groups(self.param_groups, self.optim.param_groups)
        loss = self.optim.step(**kwargs) if closure is None else self.optim.step(closure=closure, **kwargs)
        self._sync_param_groups(self.optim.param_groups, self.param_groups)
        works = []
        for rank in range(self.world_size):
            source = get_global_rank(self.process_group, rank)
            if self.parameters_as_bucket_view:
                works.append(broadcast(self._buckets[rank], src=source, group=self.process_group, async_op=True))
            else:
                works.extend(broadcast(p.data, src=source, group=self.process_group, async_op=True)
                             for g in self._partition_parameters()[rank] for p in g["params"])
        for work in works:
            work.wait()
        return loss

    def join_hook(self, **kwargs):
        """The hook a rank that ran out of inputs runs for this optimizer inside ``Join``."""
        return _ZeROJoinHook(self)

    @property
    def join_device(self):
        """The device of the first parameter."""
        return self._all_params[0].device

    @property
    def join_process_group(self):
        """The process group the shares are broadcast over."""
        return self.process_group

    def add_param_group(self, param_group):
        """Adds a group on every rank (call it on all of them); its parameters are dealt out as the others were."""
        super().add_param_group(param_group)
        if self.initialized:
            self._partition = []
            groups = self._partition_parameters()[self.rank]
            if len(groups) == len(self.optim.param_groups) + 1:
                self.optim.add_param_group(groups[-1])
            self._build_param_buckets()

    # --- state ----------------------------------------------------------------------------------------------------
    def consolidate_state_dict(self, to=0):
        """Gathers every rank's optimizer state on rank ``to`` (call it on all ranks) for ``state_dict``."""
        self._sync_param_groups(self.param_groups, self.optim.param_groups)
        self._all_state_dicts = []
        for rank in range(self.world_size):
            message = [_copied(self.optim.state_dict()) if rank == self.rank else None]
            broadcast_object_list(message, src=get_global_rank(self.process_group, rank), group=self.process_group)
            if self.rank == to:
                self._all_state_dicts.append(message[0])

    def state_dict(self):
        """The whole optimizer's state in a plain optimizer's format; only on the rank it was consolidated to."""
        if not self._all_state_dicts:
            raise RuntimeError(f"Optimizer state has not been consolidated on this rank. Please call "
                               f"`consolidate_state_dict(to={self.rank})` on all ranks beforehand if you meant to "
                               f"save the global state.")
        state_dict = super().state_dict()
        index = {id(p): i for i, p in enumerate(self._index_to_param())}
        for local, groups in zip(self._all_state_dicts, self._partition_parameters()):
            if len(local["param_groups"]) != len(groups):
                raise AssertionError("Mismatch between number of local and global parameter groups")
            for local_group, group_ in zip(local["param_groups"], groups):
                for local_index, param in zip(local_group["params"], group_["params"]):
                    if local_index in local["state"]:
                        state_dict["state"][index[id(param)]] = local["state"][local_index]
        state_dict["state"] = dict(sorted(state_dict["state"].items()))
        return state_dict

    def load_state_dict(self, state_dict):
        """Loads a whole optimizer's state: each rank keeps the state of its own share."""
        params = self._index_to_param()
        for index, value in state_dict["state"].items():
            param = params[index]
            if self._owner(param) == self.rank:
                self.optim.state[param] = {k: (v.to(param.device) if isinstance(v, Tensor) and v.dim() else v)
                                           for k, v in _copied(value).items()}
        if len(state_dict["param_groups"]) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        self._sync_param_groups(state_dict["param_groups"], self.param_groups)
        self._sync_param_groups(self.param_groups, self.optim.param_groups)
