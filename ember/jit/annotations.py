"""ember.jit.annotations: the typing names TorchScript code imports from ``torch.jit.annotations``.

Model code writes ``from torch.jit.annotations import List, Optional, Tuple`` for TorchScript-friendly annotations;
these are the ``typing`` objects themselves. ``BroadcastingList1..3`` mark arguments that take a scalar or a list
(``BroadcastingList2[int]`` for a kernel size): in eager code subscripting them gives None, as in PyTorch.
"""
from typing import Any, Dict, List, Optional, Tuple, Union

from ..futures import Future

__all__ = ["Any", "Dict", "List", "Optional", "Tuple", "Union", "Future", "BroadcastingList1", "BroadcastingList2",
           "BroadcastingList3"]


class BroadcastingListCls:
    """``BroadcastingListN[T]``: a T or a list of N T's, for TorchScript; None in eager annotations."""

    def __getitem__(self, types):
        return None


BroadcastingList1 = BroadcastingListCls()
BroadcastingList2 = BroadcastingList1
BroadcastingList3 = BroadcastingList1
