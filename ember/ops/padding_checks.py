"""PyTorch's checks of F.pad's reflect, replicate and circular modes, in its order and with its messages."""
from ._kernel_dtypes import FLOATING, require_dtype

__all__ = []

_SUPPORTED = ("Supported combinations for non-constant padding:\n"
              "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
              "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
              "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def check_padding(input, widths, n, mode, value):
    """Refuses what PyTorch refuses for padding the last ``n`` dims of ``input`` by ``widths`` (a (left, right) pair
    per dim) in ``mode``."""
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not 1 <= n <= 3 or input.ndim not in (n + 1, n + 2):
        raise NotImplementedError(f"Padding size {2 * n} is not supported for {input.ndim}D input tensor.\n"
                                  f"{_SUPPORTED}")
    shape = list(input.shape)
    padded = range(input.ndim - n, input.ndim)
    out = [shape[axis] + sum(widths[axis]) for axis in padded]
    if mode == "circular":
        for axis, size in zip(padded, out):
            if max(widths[axis]) > shape[axis]:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if size < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
        return
    if 0 in shape[input.ndim - n - 1:]:
        raise RuntimeError(f"Expected {n + 1}D or {n + 2}D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {shape}")
    if mode == "reflect":
        for axis in padded:
            left, right = widths[axis]
            if left >= shape[axis] or right >= shape[axis]:
                raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                                   f"but got: padding ({left}, {right}) at dimension {axis} of input {shape}")
    if all(size < 1 for size in out):   # PyTorch's kernels check that some output dim is positive
        inputs = [f"{letter}: {shape[axis]}" for letter, axis in zip("DHW"[3 - n:], padded)]
        outputs = " ".join(f"{letter}: {size}" for letter, size in zip("DHW"[3 - n:], out))
        shown = ", ".join(inputs) + (" " if mode == "replicate" and n == 2 else "") if n < 3 else \
            " ".join(inputs[:2]) + ", " + inputs[2]
        raise RuntimeError(f"input ({shown}) is too small. Calculated output {outputs}")
    if min(out) < 0:
        full = shape[:input.ndim - n] + out
        raise RuntimeError(f"Trying to create tensor with negative dimension {next(d for d in full if d < 0)}: {full}")
    require_dtype(f"{'reflection' if mode == 'reflect' else 'replication'}_pad{n}d", input, FLOATING + "liuc")
