"""``torch._guards``: the compiler's tracing context, as libraries query it. ember traces with no fake tensors (its
shape inference runs on the ``meta`` device), so no FakeTensorMode is ever active."""

__all__ = ["active_fake_mode"]


def active_fake_mode():
    """The FakeTensorMode active now, or None: always None in ember, which has no fake tensor mode (tensordict asks
    before loading memory-mapped tensors)."""
    return None
