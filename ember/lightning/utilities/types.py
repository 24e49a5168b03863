"""The type names Lightning's hooks are annotated with (for user code that imports them in annotations)."""
from collections.abc import Mapping
from typing import Any, Optional, Union

STEP_OUTPUT = Optional[Union["ember.Tensor", Mapping[str, Any]]]   # noqa: F821
TRAIN_DATALOADERS = Any
EVAL_DATALOADERS = Any
OptimizerLRScheduler = Any
LRSchedulerTypeUnion = Any
LRSchedulerPLType = Any
_EVALUATE_OUTPUT = list
_PREDICT_OUTPUT = Union[list, list]
