"""``torch.fx.experimental.proxy_tensor``: the query libraries make to learn whether ``make_fx`` tracing is active.
ember's fx traces symbolically (``symbolic_trace``) and has no proxy dispatch mode, so none is ever active."""


def get_proxy_mode():
    """The active proxy tracing mode, or None when not tracing (ember has no proxy tensor mode: always None)."""
    return None
