"""``torch.distributed.tensor.parallel``: tensor parallelism on DTensor. ``parallelize_module`` applies parallel
styles (``ColwiseParallel``, ``RowwiseParallel``, ``SequenceParallel``, ``PrepareModuleInput``/``Output``) to a
module or to submodules named by fully qualified name patterns; ``loss_parallel`` computes cross-entropy over logits
sharded along the class dimension without gathering them."""
from .api import parallelize_module
from .loss import loss_parallel
from .style import (ColwiseParallel, ParallelStyle, PrepareModuleInput, PrepareModuleInputOutput, PrepareModuleOutput,
                    RowwiseParallel, SequenceParallel)

__all__ = ["ColwiseParallel", "ParallelStyle", "PrepareModuleInput", "PrepareModuleInputOutput",
           "PrepareModuleOutput", "RowwiseParallel", "SequenceParallel", "parallelize_module", "loss_parallel"]
