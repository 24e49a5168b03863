"""``torch.distributed._shard``: the sharded tensors FSDP1's local and sharded state dicts hold (see
``sharded_tensor``)."""
