"""``torch._dynamo._trace_wrapped_higher_order_op``'s ``TransformGetItemToIndex``, which flex attention and
libraries' mask builders (transformers' ``sdpa_mask`` with ``use_vmap``) enter around a mod vmapped over index
scalars."""

__all__ = ["TransformGetItemToIndex"]


class TransformGetItemToIndex:
    """A context in which ``tensor[index_tensors]`` indexes by the index tensors' values without reading them as
    Python numbers, so it works on vmap's batched scalars. ember's ``__getitem__`` already takes 0-d tensor indices
    as tensors (inside vmap too), so the context changes nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
