"""PyTorch's ``torch.distributed.constants``: the default timeouts of process groups."""
from .process_group import default_pg_timeout

__all__ = ["default_pg_timeout", "default_pg_nccl_timeout"]

_DEFAULT_PG_TIMEOUT = default_pg_timeout
default_pg_nccl_timeout = None
"""NCCL's own default (None: the process group's default applies), as in a PyTorch build without NCCL."""
