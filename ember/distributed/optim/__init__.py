"""``torch.distributed.optim``: ``ZeroRedundancyOptimizer``, an optimizer whose state is split across the ranks."""
from .zero_redundancy_optimizer import ZeroRedundancyOptimizer

__all__ = ["ZeroRedundancyOptimizer"]
