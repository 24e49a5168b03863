"""``functorch.experimental``: the transforms functorch offered before ``torch.func`` (without its deprecation
warnings, as PyTorch's), ``replace_all_batch_norm_modules_`` (which functorch's tutorials import from here) and
``chunk_vmap``."""
from ...func import functionalize, hessian, jacfwd, jvp, replace_all_batch_norm_modules_, vmap

__all__ = ["chunk_vmap", "functionalize", "hessian", "jacfwd", "jvp", "replace_all_batch_norm_modules_"]


def chunk_vmap(func, in_dims=0, out_dims=0, randomness="error", chunks=2):
    """``vmap`` over the batch split into ``chunks`` pieces (``Tensor.chunk``'s), one after the other, the results
    joined: PyTorch's older spelling of ``vmap(..., chunk_size=)``."""
    if chunks == 1:
        return vmap(func, in_dims=in_dims, out_dims=out_dims, randomness=randomness)

    def wrapped_with_chunks(*args, **kwargs):
        from ..._functorch.vmap import _process_batched_inputs
        size = _process_batched_inputs(in_dims, args, func)[0]
        chunk_size = -(-size // chunks)   # Tensor.chunk's piece size
        return vmap(func, in_dims=in_dims, out_dims=out_dims, randomness=randomness,
                    chunk_size=chunk_size)(*args, **kwargs)
    return wrapped_with_chunks
