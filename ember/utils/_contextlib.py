"""``torch.utils._contextlib``: the base that makes a context manager a decorator too (the grad modes' base;
tensordict builds its own switches on it)."""
import inspect

from ..autograd.grad_mode import _DecoratorContextManager, _NoParamDecoratorContextManager

__all__ = ["_DecoratorContextManager", "_NoParamDecoratorContextManager", "context_decorator"]


def context_decorator(ctx, func):
    """``func`` run inside ``ctx()`` on every call (``ctx``: a factory of context managers, or one context manager
    reused); a generator function runs every step of its generator inside one."""
    if callable(ctx) and hasattr(ctx, "__enter__"):
        raise AssertionError(f"Passed in {ctx} is both callable and also a valid context manager (has __enter__), "
                             "making it ambiguous which interface to use.  If you intended to pass a context manager "
                             "factory, rewrite your call as context_decorator(lambda: ctx()); if you intended to pass "
                             "a context manager directly, rewrite your call as context_decorator(lambda: ctx)")
    if inspect.isclass(func):
        raise RuntimeError("Cannot decorate classes; it is ambiguous whether only the constructor or all methods "
                           "should have the context manager applied; additionally, decorating a class at "
                           "definition-site will prevent use of the identifier as a conventional type.  To specify "
                           "which methods to decorate, decorate each of them individually.")
    factory = ctx if callable(ctx) else (lambda: ctx)
    wrapping = _DecoratorContextManager()
    wrapping.clone = factory
    return wrapping(func)
