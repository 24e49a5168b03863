"""``torch.distributed._composable``: the older home of the composable APIs; its ``fsdp`` package is FSDP2 under
the path transformers and older programs import ``fully_shard`` from."""
