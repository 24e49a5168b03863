"""``torch.distributed.rpc``: ember has no RPC framework (remote calls, RRefs, distributed autograd), so this module
is as PyTorch's is in a build without RPC: it imports, and ``is_available()`` answers False (libraries such as PyTorch
Geometric import it at start-up and check ``is_available`` or ``hasattr(rpc, "api")`` before using it)."""

__all__ = ["is_available"]


def is_available():
    """Whether the RPC framework is available: False, ember is built without it."""
    return False
