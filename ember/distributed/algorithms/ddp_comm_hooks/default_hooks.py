"""The standard communication hooks: ``allreduce_hook`` averages a bucket as DistributedDataParallel does without a
hook; ``fp16_compress_hook``/``bf16_compress_hook`` average it in 16 bits (half the bytes on the wire) and cast the
result back; the ``*_compress_wrapper``s run any hook on a 16-bit copy of the bucket."""
from .... import bfloat16, float16
from ... import all_reduce, group

__all__ = ["allreduce_hook", "fp16_compress_hook", "bf16_compress_hook", "fp16_compress_wrapper",
           "bf16_compress_wrapper"]


def _average(process_group, tensor):
    """Divides ``tensor`` by the group's size and starts its sum across the group; a Future of the result."""
    chosen = process_group if process_group is not None else group.WORLD
    tensor.div_(chosen.size())
    return all_reduce(tensor, group=chosen, async_op=True).get_future().then(lambda future: future.value()[0])


def allreduce_hook(process_group, bucket):
    """Averages the bucket across ``process_group`` (the world when None): the same gradients as no hook."""
    return _average(process_group, bucket.buffer())


def _compressed(dtype, process_group, bucket):
    buffer = bucket[0] if isinstance(bucket, tuple) else bucket.buffer()
    chosen = process_group if process_group is not None else group.WORLD
    compressed = buffer.to(dtype).div_(chosen.size())

    def decompress(future):
        return buffer.copy_(future.value()[0])
    return all_reduce(compressed, group=chosen, async_op=True).get_future().then(decompress)


def fp16_compress_hook(process_group, bucket):
    """Averages the bucket in float16: cast, divided by the group's size, summed, cast back into the bucket."""
    return _compressed(float16, process_group, bucket)


def bf16_compress_hook(process_group, bucket):
    """Averages the bucket in bfloat16, as ``fp16_compress_hook`` does in float16."""
    return _compressed(bfloat16, process_group, bucket)


def _compress_wrapper(dtype, hook, name):
    def wrapped(hook_state, bucket):
        bucket.set_buffer(bucket.buffer().to(dtype))
        future = hook(hook_state, bucket)

        def decompress(future):
            return bucket.buffer().copy_(future.value())
        return future.then(decompress)
    wrapped.__name__ = wrapped.__qualname__ = name
    return wrapped


def fp16_compress_wrapper(hook):
    """``hook`` run on a float16 copy of each bucket, its result cast back to the bucket's dtype."""
    return _compress_wrapper(float16, hook, "fp16_compress_wrapper_hook")


def bf16_compress_wrapper(hook):
    """``hook`` run on a bfloat16 copy of each bucket, its result cast back to the bucket's dtype."""
    return _compress_wrapper(bfloat16, hook, "bf16_compress_wrapper_hook")
