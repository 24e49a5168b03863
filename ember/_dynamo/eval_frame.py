"""``torch._dynamo.eval_frame``'s public names: ``OptimizedModule`` (the module ``torch.compile(module)`` returns,
which libraries test with ``isinstance`` to unwrap a compiled model) and ``is_dynamo_supported``."""

__all__ = ["is_dynamo_supported"]   # and OptimizedModule, loaded on first use


def is_dynamo_supported():
    """True: ember's ``compile`` runs on every platform ember does."""
    return True


def __getattr__(name):
    if name == "OptimizedModule":   # loaded on first use: it is an nn.Module, above this layer
        from ..compiler._module import OptimizedModule
        return OptimizedModule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
