"""``ember.testing``: ``assert_close`` (and its deprecated ``assert_allclose``) and ``make_tensor``, with PyTorch's
tolerances and failure messages."""
from ._comparison import assert_allclose, assert_close
from ._creation import make_tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]
