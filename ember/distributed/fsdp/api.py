"""FSDP's configuration types, as ``torch.distributed.fsdp.api``: the sharding strategy, prefetching, mixed
precision, CPU offload and the state-dict types with their configs."""
from dataclasses import dataclass
from enum import Enum, auto

__all__ = ["BackwardPrefetch", "CPUOffload", "FullOptimStateDictConfig", "FullStateDictConfig",
           "LocalOptimStateDictConfig", "LocalStateDictConfig", "MixedPrecision", "OptimStateDictConfig",
           "ShardedOptimStateDictConfig", "ShardedStateDictConfig", "ShardingStrategy", "StateDictConfig",
           "StateDictSettings", "StateDictType"]


class ShardingStrategy(Enum):
    """What FSDP shards across ranks: parameters, gradients and optimizer state (``FULL_SHARD``), gradients and
    optimizer state, keeping parameters whole between forward and backward (``SHARD_GRAD_OP``), or nothing
    (``NO_SHARD``, DistributedDataParallel's math)."""

    FULL_SHARD = auto()
    SHARD_GRAD_OP = auto()
    NO_SHARD = auto()
    HYBRID_SHARD = auto()
    _HYBRID_SHARD_ZERO2 = auto()


class BackwardPrefetch(Enum):
    """When backward all-gathers the next unit's parameters (a scheduling hint; ember's collectives run in order,
    so every value gives the same results)."""

    BACKWARD_PRE = auto()
    BACKWARD_POST = auto()


def _module_classes_to_ignore():
    from ...nn.modules.normalization import _BatchNorm
    return (_BatchNorm,)


@dataclass
class MixedPrecision:
    """The dtypes FSDP computes in: ``param_dtype`` for the unsharded parameters in forward and backward,
    ``reduce_dtype`` for the gradient reduction (``param_dtype`` when None), ``buffer_dtype`` for buffers."""

    param_dtype: object = None
    reduce_dtype: object = None
    buffer_dtype: object = None
    keep_low_precision_grads: bool = False
    cast_forward_inputs: bool = False
    cast_root_forward_inputs: bool = True
    _module_classes_to_ignore: tuple = None

    def __post_init__(self):
        if self._module_classes_to_ignore is None:
            self._module_classes_to_ignore = _module_classes_to_ignore()


@dataclass
class CPUOffload:
    """Whether parameters and gradients live on the CPU between uses (ember's FSDP keeps everything where the
    module is, so this is accepted and changes nothing)."""

    offload_params: bool = False


class StateDictType(Enum):
    """Which form ``state_dict`` takes on an FSDP module: whole tensors (``FULL_STATE_DICT``), each rank's flat
    shard (``LOCAL_STATE_DICT``) or sharded tensors (``SHARDED_STATE_DICT``)."""

    FULL_STATE_DICT = auto()
    LOCAL_STATE_DICT = auto()
    SHARDED_STATE_DICT = auto()


@dataclass
class StateDictConfig:
    """Options common to every state-dict type."""

    offload_to_cpu: bool = False


@dataclass
class FullStateDictConfig(StateDictConfig):
    """``FULL_STATE_DICT`` options: with ``rank0_only`` only rank 0 returns the state dict (others an empty one)."""

    rank0_only: bool = False


@dataclass
class LocalStateDictConfig(StateDictConfig):
    """``LOCAL_STATE_DICT`` options."""


@dataclass
class ShardedStateDictConfig(StateDictConfig):
    """``SHARDED_STATE_DICT`` options."""

    _use_dtensor: bool = False


@dataclass
class OptimStateDictConfig:
    """Options common to every optimizer state-dict type."""

    offload_to_cpu: bool = True


@dataclass
class FullOptimStateDictConfig(OptimStateDictConfig):
    """Full optimizer state-dict options: with ``rank0_only`` only rank 0 returns it (others an empty dict)."""

    rank0_only: bool = False


@dataclass
class LocalOptimStateDictConfig(OptimStateDictConfig):
    """Local optimizer state-dict options."""

    offload_to_cpu: bool = False


@dataclass
class ShardedOptimStateDictConfig(OptimStateDictConfig):
    """Sharded optimizer state-dict options."""

    _use_dtensor: bool = False


@dataclass
class StateDictSettings:
    """What ``get_state_dict_type`` returns: the type and both configs."""

    state_dict_type: StateDictType
    state_dict_config: StateDictConfig
    optim_state_dict_config: OptimStateDictConfig
