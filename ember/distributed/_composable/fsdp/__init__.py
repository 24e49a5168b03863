"""``torch.distributed._composable.fsdp``: FSDP2 (``fully_shard``) under its former path; the same objects as
``ember.distributed.fsdp``'s."""
from ...fsdp import CPUOffloadPolicy, FSDPModule, MixedPrecisionPolicy, OffloadPolicy, fully_shard, \
    register_fsdp_forward_method

__all__ = ["CPUOffloadPolicy", "FSDPModule", "MixedPrecisionPolicy", "OffloadPolicy", "fully_shard",
           "register_fsdp_forward_method"]
