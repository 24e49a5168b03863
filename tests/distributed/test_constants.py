"""torch.distributed.constants: the default process-group timeouts, as torch's."""
import ember.distributed as dist
import ember.distributed.constants as constants

torch = __import__("pytest").importorskip("torch")


def test_default_timeouts_match_torch():
    import torch.distributed.constants as reference
    assert constants.default_pg_timeout == reference.default_pg_timeout
    assert constants._DEFAULT_PG_TIMEOUT == reference._DEFAULT_PG_TIMEOUT
    assert constants.default_pg_nccl_timeout == reference.default_pg_nccl_timeout
    assert constants.default_pg_timeout is dist.default_pg_timeout
