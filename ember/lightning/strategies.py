"""Strategies: where the Trainer's processes run and how they agree. ``SingleDeviceStrategy`` is one process;
``DDPStrategy`` is Lightning's data-parallel training on ember.distributed (MPI): the model wrapped in
``DistributedDataParallel``, a ``DistributedSampler`` in each dataloader, collectives for ``sync_dist`` and decisions,
and files written by rank 0 only."""
import contextlib
import os

import ember
from ember import nn

_DDP_NAMES = ("ddp", "ddp_spawn", "ddp_fork", "ddp_notebook", "ddp_find_unused_parameters_true",
              "ddp_find_unused_parameters_false", "ddp_spawn_find_unused_parameters_true",
              "ddp_spawn_find_unused_parameters_false")
# set by ember.distributed.run/torchrun, MPICH's and Open MPI's mpiexec: read without starting MPI
_WORLD_SIZE_VARIABLES = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
_REDUCE_OPS = {"mean": "AVG", "avg": "AVG", "sum": "SUM", "max": "MAX", "min": "MIN"}


class Strategy:
    """One process: no collectives to run."""

    strategy_name = "single_device"
    world_size, global_rank, local_rank, node_rank = 1, 0, 0, 0

    def __init__(self, checkpoint_io=None):
        self.model, self.lightning_module = None, None
        self.checkpoint_io = checkpoint_io   # a Lightning CheckpointIO plugin; None: ember.save / ember.load

    @property
    def is_global_zero(self):
        """Whether this is the process that writes files and prints."""
        return self.global_rank == 0

    @property
    def root_device(self):
        """The device the model runs on."""
        return ember.device("cpu")

    @property
    def distributed_sampler_kwargs(self):
        """``num_replicas`` and ``rank`` for the injected DistributedSampler (None: no sampler is injected)."""
        return None

    def setup_environment(self):
        """Starts the process group where one is needed."""

    def connect(self, model):
        """Takes ``model`` and wraps it as the strategy needs; returns what the steps are run through."""
        self.lightning_module = self.model = model
        return model

    def barrier(self, name=None):
        """Waits until every process gets here."""

    def broadcast(self, obj, src=0):
        """``obj`` as process ``src`` has it."""
        return obj

    def reduce(self, tensor, group=None, reduce_op="mean"):
        """``tensor`` reduced across processes by ``reduce_op`` ("mean", "sum", "max", "min")."""
        return tensor

    def save_checkpoint(self, checkpoint, filepath):
        """Rank 0 writes ``checkpoint`` through the CheckpointIO plugin, or with ``ember.save`` into its folder."""
        if not self.is_global_zero:
            return
        if self.checkpoint_io is not None:
            self.checkpoint_io.save_checkpoint(checkpoint, filepath)
            return
        os.makedirs(os.path.dirname(os.fspath(filepath)) or ".", exist_ok=True)
        ember.save(checkpoint, filepath)

    def load_checkpoint(self, checkpoint_path, weights_only=None):
        """The checkpoint at ``checkpoint_path``, read by the CheckpointIO plugin or ``ember.load``."""
        if self.checkpoint_io is not None:
            return self.checkpoint_io.load_checkpoint(checkpoint_path, weights_only=weights_only)
        return ember.load(checkpoint_path, weights_only=weights_only)

    def remove_checkpoint(self, filepath):
        """Deletes a checkpoint file or folder, if it exists (rank 0 does it, through the CheckpointIO plugin)."""
        if self.is_global_zero and self.checkpoint_io is not None:
            self.checkpoint_io.remove_checkpoint(filepath)
        elif self.is_global_zero and os.path.lexists(filepath):
            import shutil
            shutil.rmtree(filepath) if os.path.isdir(filepath) and not os.path.islink(filepath) else os.remove(filepath)

    def all_gather(self, tensor, group=None, sync_grads=False):
        """Every process's ``tensor``, stacked along a new first dimension (world size > 1)."""
        return tensor

    def reduce_boolean_decision(self, decision, all=True):
        """``decision`` agreed by every process (``all``: all must agree, else any)."""
        return decision

    def block_backward_sync(self):
        """A context in which backward does not average gradients (the non-stepping accumulation batches)."""
        return contextlib.nullcontext()

    def teardown(self):
        """Unwraps the model."""


class SingleDeviceStrategy(Strategy):
    """One process on one device: what ``strategy="auto"`` and ``"single_device"`` choose on one device (ember's
    Trainer runs on the CPU)."""

    def __init__(self, device="cpu", accelerator=None, checkpoint_io=None, precision_plugin=None):
        super().__init__(checkpoint_io)
        if ember.device(device).type != "cpu":
            raise ValueError(f"ember's Trainer runs on the CPU; SingleDeviceStrategy(device={device!r}) is not "
                             "supported")


class DDPStrategy(Strategy):
    """Data-parallel training across the ranks of an MPI job (started by ``mpiexec``/``ember.distributed.run``, or
    by the Trainer itself through ``ember.multiprocessing.spawn`` when it runs alone)."""

    strategy_name = "ddp"

    def __init__(self, find_unused_parameters=False, start_method="spawn", process_group_backend=None,
                 checkpoint_io=None, **ddp_kwargs):
        super().__init__(checkpoint_io)
        self.find_unused_parameters, self.start_method = find_unused_parameters, start_method
        self.process_group_backend = process_group_backend or "gloo"
        self._ddp_kwargs = ddp_kwargs
        self.num_processes, self.num_nodes = 1, 1

    @property
    def world_size(self):
        return self.num_processes * self.num_nodes

    @property
    def global_rank(self):
        from ember import distributed as dist
        return dist.get_rank() if dist.is_initialized() else 0

    @property
    def local_rank(self):
        return int(os.environ.get("LOCAL_RANK", self.global_rank % self.num_processes))

    @property
    def node_rank(self):
        return self.global_rank // self.num_processes

    @property
    def distributed_sampler_kwargs(self):
        return {"num_replicas": self.world_size, "rank": self.global_rank}

    def launched(self):
        """Whether this process already belongs to an MPI job of several ranks (mpiexec, ember.distributed.run)."""
        if ember.distributed.is_initialized():
            return ember.distributed.get_world_size() > 1
        return any(int(os.environ.get(name, "1")) > 1 for name in _WORLD_SIZE_VARIABLES)

    def setup_environment(self):
        from ember import distributed as dist
        if not dist.is_initialized():
            dist.init_process_group(self.process_group_backend)
        if dist.get_world_size() != self.world_size:
            raise ValueError(f"You set `devices={self.num_processes}` and `num_nodes={self.num_nodes}` in Lightning, "
                             f"but the product ({self.num_processes} * {self.num_nodes}) does not match the world "
                             f"size ({dist.get_world_size()}).")

    def connect(self, model):
        self.lightning_module = model
        self.model = nn.parallel.DistributedDataParallel(
            _StepRunner(model), find_unused_parameters=self.find_unused_parameters, **self._ddp_kwargs)
        return self.model

    def barrier(self, name=None):
        ember.distributed.barrier()

    def broadcast(self, obj, src=0):
        objects = [obj]
        ember.distributed.broadcast_object_list(objects, src=src)
        return objects[0]

    def reduce(self, tensor, group=None, reduce_op="mean"):
        if not isinstance(tensor, ember.Tensor):
            return tensor
        op = _REDUCE_OPS.get(reduce_op.lower() if isinstance(reduce_op, str) else reduce_op)
        if op is None:
            raise ValueError(f"Unsupported reduce_op {reduce_op!r}: use 'mean', 'sum', 'max' or 'min'")
        result = tensor.detach().clone()
        if not result.dtype.is_floating_point and op == "AVG":
            result = result.to(ember.get_default_dtype())
        if op == "AVG":   # torch's gloo has no AVG: Lightning sums and divides
            ember.distributed.all_reduce(result, op=ember.distributed.ReduceOp.SUM, group=group)
            return result / self.world_size
        ember.distributed.all_reduce(result, op=getattr(ember.distributed.ReduceOp, op), group=group)
        return result

    def all_gather(self, tensor, group=None, sync_grads=False):
        parts = [ember.empty_like(tensor) for _ in range(self.world_size)]
        ember.distributed.all_gather(parts, tensor.contiguous(), group=group)
        return ember.stack(parts)

    def reduce_boolean_decision(self, decision, all=True):
        votes = self.reduce(ember.tensor(int(decision)), reduce_op="sum")
        return bool(votes == self.world_size) if all else bool(votes)

    def block_backward_sync(self):
        return self.model.no_sync()

    def teardown(self):
        self.model = self.lightning_module


class _StepRunner(nn.Module):
    """What DDP wraps: its forward runs one of the LightningModule's steps, so DDP sees every training step's
    forward and averages the gradients of its backward (Lightning's ``_LightningModuleWrapperBase``)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, step, *args):
        return self.module.trainer._run_module_hook(step, *args)


def strategy_for(strategy, devices, num_nodes):
    """The Strategy for the Trainer's ``strategy``, ``devices`` and ``num_nodes`` arguments, as Lightning chooses it
    on the CPU: several devices or nodes mean DDP."""
    count = _device_count(devices)
    if isinstance(strategy, Strategy):
        chosen = strategy
    elif strategy in ("auto", None):
        chosen = DDPStrategy() if count > 1 or num_nodes > 1 else SingleDeviceStrategy()
    elif strategy == "single_device":
        if count > 1 or num_nodes > 1:
            raise ValueError(f"strategy='single_device' runs one device, but devices={devices!r} and "
                             f"num_nodes={num_nodes} were given")
        chosen = SingleDeviceStrategy()
    elif strategy in _DDP_NAMES:
        chosen = DDPStrategy(find_unused_parameters=strategy.endswith("_true"),
                             start_method="spawn" if "spawn" in strategy else "popen")
    else:
        raise ValueError(f"You selected an invalid strategy name: `strategy={strategy!r}`. It must be either a "
                         f"string or an instance of `ember.lightning.strategies.Strategy`. Example choices: auto, "
                         f"ddp, ddp_spawn, single_device.")
    if isinstance(chosen, DDPStrategy):
        chosen.num_processes, chosen.num_nodes = count, num_nodes
    return chosen


def use_plugins(strategy, plugins):
    """Gives ``strategy`` the Trainer's CheckpointIO plugin (one with Lightning's ``save_checkpoint``,
    ``load_checkpoint`` and ``remove_checkpoint``), as Lightning's connector does; other plugins are not used."""
    plugins = list(plugins) if isinstance(plugins, (list, tuple)) else [] if plugins is None else [plugins]
    checkpoint_ios = [p for p in plugins
                      if all(callable(getattr(p, m, None)) for m in ("save_checkpoint", "load_checkpoint",
                                                                      "remove_checkpoint"))]
    if len(checkpoint_ios) > 1:
        from .utilities.exceptions import MisconfigurationException
        raise MisconfigurationException("Received multiple values for CheckpointIO flags in `plugins`. Expected one "
                                        "value for each type at most.")
    if checkpoint_ios:
        strategy.checkpoint_io = checkpoint_ios[0]
    return strategy


def _device_count(devices):
    if devices in ("auto", None):
        return 1   # Lightning's CPU accelerator counts one device
    if isinstance(devices, (list, tuple)):
        return len(devices)
    count = int(devices)
    if count == -1:
        return os.cpu_count() or 1
    if count < 1:
        raise ValueError(f"`devices` must be a positive int, -1, 'auto' or a list of indices; got {devices!r}")
    return count
