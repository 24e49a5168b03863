"""``ember.distributed``: PyTorch's ``torch.distributed`` on MPI (mpi4py). Every backend name (gloo, mpi, nccl) runs on
MPI; start the ranks with ``mpiexec``, ``python -m ember.distributed.run`` or ``ember.multiprocessing.spawn``."""
from ._mpi import ReduceOp, reduce_op
from .collectives import (P2POp, Work, all_gather, all_gather_into_tensor, all_gather_single, all_reduce, all_to_all,
                          all_to_all_single, barrier, batch_isend_irecv, broadcast, gather, irecv, isend,
                          monitored_barrier, recv, reduce, reduce_scatter, reduce_scatter_single, reduce_scatter_tensor,
                          scatter, send)
from .coalesced import all_gather_coalesced, all_reduce_coalesced
from .device_mesh import DeviceMesh, init_device_mesh
from .grad_bucket import BuiltinCommHookType, GradBucket
from .debug import DebugLevel, get_debug_level, set_debug_level, set_debug_level_from_env
from .objects import (all_gather_object, broadcast_object_list, gather_object, recv_object_list, scatter_object_list,
                      send_object_list)
from .errors import DistBackendError, DistError, DistNetworkError, DistStoreError
from .file_store import FileStore
from .process_group import (Backend, BackendConfig, GroupMember, ProcessGroup, default_pg_timeout,
                            destroy_process_group, get_backend, get_global_rank, get_group_rank,
                            get_process_group_ranks, get_rank, get_world_size, group, init_process_group, is_available,
                            is_gloo_available, is_initialized, is_mpi_available, is_nccl_available,
                            is_torchelastic_launched, new_group)
from .process_group import _rank_not_in_group  # noqa: F401  (a private name libraries call: pytorch-ignite)
from .queries import (get_backend_config, get_default_backend_for_device, get_node_local_rank, get_pg_count,
                      is_backend_available, supports_complex)
from .store import HashStore, PrefixStore, Store, TCPStore
from .subgroups import new_subgroups, new_subgroups_by_enumeration

__all__ = ["Backend", "BackendConfig", "BuiltinCommHookType", "DebugLevel", "DeviceMesh", "DistBackendError",
           "DistError", "DistNetworkError", "DistStoreError", "FileStore", "GradBucket", "GroupMember", "HashStore",
           "P2POp", "PrefixStore", "ProcessGroup", "ReduceOp", "Store", "TCPStore", "Work", "all_gather",
           "all_gather_coalesced", "all_gather_into_tensor", "all_gather_object", "all_gather_single", "all_reduce",
           "all_reduce_coalesced", "all_to_all", "all_to_all_single", "barrier", "batch_isend_irecv", "broadcast",
           "broadcast_object_list", "default_pg_timeout", "destroy_process_group", "gather", "gather_object",
           "get_backend", "get_backend_config", "get_debug_level", "get_default_backend_for_device",
           "get_global_rank", "get_group_rank", "get_node_local_rank", "get_pg_count", "get_process_group_ranks",
           "get_rank", "get_world_size", "group", "init_device_mesh", "init_process_group", "irecv", "is_available",
           "is_backend_available", "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available",
           "is_torchelastic_launched", "isend", "monitored_barrier", "new_group", "new_subgroups",
           "new_subgroups_by_enumeration", "recv", "recv_object_list", "reduce", "reduce_op", "reduce_scatter",
           "reduce_scatter_single", "reduce_scatter_tensor", "scatter", "scatter_object_list", "send",
           "send_object_list", "set_debug_level", "set_debug_level_from_env", "supports_complex"]
