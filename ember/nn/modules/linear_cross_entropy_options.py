"""``LinearCrossEntropyOptions``: how ``linear_cross_entropy`` chunks its rows (PyTorch's fields, defaults, checks and
call-time resolution of ``"auto"``)."""
import dataclasses

import ember

__all__ = ["LinearCrossEntropyOptions"]

# (device type, input dtype) -> (acc_policy, chunking_method) that "auto" resolves to; PyTorch's table
_AUTO_DEFAULTS = {("cuda", ember.bfloat16): ("compact", "aspect_ratio:2"),
                  ("cuda", ember.float16): ("compact", "aspect_ratio:2"),
                  ("cpu", ember.bfloat16): ("accurate", "aspect_ratio"),
                  ("cpu", ember.float16): ("accurate", "aspect_ratio")}
_AUTO_FALLBACK = ("compact", "aspect_ratio:2")
_ACC_DTYPES = (ember.float16, ember.bfloat16, ember.float32, ember.float64)


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """Chunking of ``linear_cross_entropy``'s rows: ``batch_chunk_size`` rows a chunk, or a size picked by
    ``chunking_method`` ("aspect_ratio[:N]"); ``acc_policy`` and ``acc_dtype`` set the accumulation precision."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in {"auto", "accurate", "balanced", "compact"}:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, colon, factor = self.chunking_method.partition(":")
            factor = factor if colon else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        size = self.batch_chunk_size
        if not (size is None or (isinstance(size, int) and size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype is not None and self.acc_dtype not in _ACC_DTYPES:
            names = ", ".join(repr(d) for d in _ACC_DTYPES)
            raise ValueError(f"acc_dtype must be one of {{None, {names}}}, got {self.acc_dtype!r}. Pass "
                             "acc_dtype=None to let the op pick automatically.")

    @staticmethod
    def _resolve_auto_acc_dtype(dtype, device):
        """float32 for float16/bfloat16 inputs where mixed-precision products run (CPU; CUDA from sm 7.0, sm 8.0
        for bfloat16); None otherwise."""
        if device is None or dtype not in (ember.float16, ember.bfloat16):
            return None
        if device.type == "cuda":
            if not ember.cuda.is_available():
                return None
            major, _ = ember.cuda.get_device_capability(device)
            return ember.float32 if major >= (8 if dtype == ember.bfloat16 else 7) else None
        return ember.float32 if device.type == "cpu" else None

    def _compute_batch_chunk_size(self, num_batches, in_features, num_classes, method=None):
        """Rows per chunk for "aspect_ratio[:N]": a (rows, C) logits block about the (N, F) input's size, over N."""
        method = str(method if method is not None else self.chunking_method)
        factor = int(method.split(":", 1)[1]) if ":" in method else 1
        target = -(-num_batches // -(-num_classes // in_features))
        return min((1 << (target - 1).bit_length()) // factor, num_batches)

    def _adjust(self, num_batches, in_features, num_classes, dtype, device=None):
        """A copy with "auto" and None resolved for one call (its shapes, dtype and device)."""
        acc_policy, chunking_method = self.acc_policy, self.chunking_method
        if chunking_method == "auto" and self.batch_chunk_size is not None:
            chunking_method = None   # an explicit size turns the heuristic off
        if acc_policy == "auto" or chunking_method == "auto":
            policy, method = _AUTO_DEFAULTS.get((device.type, dtype), _AUTO_FALLBACK) if device is not None \
                else _AUTO_FALLBACK
            acc_policy = policy if acc_policy == "auto" else acc_policy
            chunking_method = method if chunking_method == "auto" else chunking_method
        size = num_batches if self.batch_chunk_size is None else min(self.batch_chunk_size, num_batches)
        if chunking_method is not None:
            size = self._compute_batch_chunk_size(num_batches, in_features, num_classes, chunking_method)
            if self.batch_chunk_size is not None and self.batch_chunk_size != size:
                raise ValueError(f"batch_chunk_size (={self.batch_chunk_size}) and chunking_method "
                                 f"('{chunking_method}') give different chunk sizes ({self.batch_chunk_size} vs "
                                 f"{size}); pass only one.")
        acc_dtype = self.acc_dtype
        if acc_dtype is None:
            automatic = self._resolve_auto_acc_dtype(dtype, device) if self.acc_policy == "auto" else None
            acc_dtype = automatic if automatic is not None else dtype
        return dataclasses.replace(self, acc_policy=acc_policy, chunking_method=chunking_method,
                                   batch_chunk_size=max(1, size), acc_dtype=acc_dtype)
