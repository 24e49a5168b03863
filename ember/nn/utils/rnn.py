"""Variable-length sequences for recurrent layers: PackedSequence and the pack/pad helpers, as ``torch.nn.utils.rnn``.

Every conversion is one gather: the positions each output row takes from are worked out on the host from the
lengths (NumPy), then a single indexing op moves the data, so gradients flow back in one scatter.
"""
import numbers
from collections.abc import Iterable
from typing import NamedTuple

import numpy

from ... import _C, _dtype
from ..._tensor import Tensor
from ...autograd.function import composite
from ...ops import creation, indexing, ranges, rearrange, shape, sorting

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """A batch of sequences stored step by step: ``data`` holds, for each time step, the rows of the sequences
    still running (longest first); ``batch_sizes[t]`` counts them. ``sorted_indices`` orders the original batch by
    decreasing length and ``unsorted_indices`` undoes it (both None when the batch came sorted)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never be created "
                             "manually. They should be instantiated by functions like pack_sequence and "
                             "pack_padded_sequences in nn.utils.rnn. "
                             "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """This sequence with ``data`` converted as ``Tensor.to`` does (self when nothing changes); the index
        tensors follow the data's device and ``batch_sizes`` stays on the CPU. A conversion refuses ``copy``, as
        PyTorch's (it parses the arguments with ``torch._C._nn._parse_to``)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        _C._parse_to(*args, **kwargs)
        return self._with_data(data)

    def cuda(self, *args, **kwargs):
        """This sequence's data on a CUDA device (``Tensor.cuda``'s arguments)."""
        if self.data.new_empty(0).to(*args, **kwargs).is_cuda:
            return self.to(*args, **kwargs)
        return self.to(*args, **{**kwargs, "device": "cuda"})

    def cpu(self, *args, **kwargs):
        """This sequence's data on the CPU (``Tensor.cpu``'s arguments)."""
        if self.data.new_empty(0).to(*args, **kwargs).device.type == "cpu":
            return self.to(*args, **kwargs)
        return self.to(*args, **{**kwargs, "device": "cpu"})

    def pin_memory(self):
        """This sequence with its tensors in page-locked memory (where the backend has such memory)."""
        return type(self)(self.data.pin_memory(), self.batch_sizes,
                          *(None if t is None else t.pin_memory() for t in (self.sorted_indices,
                                                                            self.unsorted_indices)))

    def _with_data(self, data):
        if data is self.data:
            return self
        sorted_indices, unsorted_indices = (None if t is None else t.to(data.device)
                                            for t in (self.sorted_indices, self.unsorted_indices))
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def double(self):
        """This sequence with float64 data."""
        return self.to(dtype=_dtype.float64)

    def float(self):
        """This sequence with float32 data."""
        return self.to(dtype=_dtype.float32)

    def half(self):
        """This sequence with float16 data."""
        return self.to(dtype=_dtype.float16)

    def long(self):
        """This sequence with int64 data."""
        return self.to(dtype=_dtype.int64)

    def int(self):
        """This sequence with int32 data."""
        return self.to(dtype=_dtype.int32)

    def short(self):
        """This sequence with int16 data."""
        return self.to(dtype=_dtype.int16)

    def char(self):
        """This sequence with int8 data."""
        return self.to(dtype=_dtype.int8)

    def byte(self):
        """This sequence with uint8 data."""
        return self.to(dtype=_dtype.uint8)

    @property
    def is_cuda(self):
        """Whether ``data`` lives on a GPU."""
        return self.data.is_cuda

    def is_pinned(self):
        """Whether ``data`` lives in pinned memory."""
        return self.data.is_pinned()


def invert_permutation(permutation):
    """The inverse of a 1-D permutation tensor (None for None)."""
    if permutation is None:
        return None
    return sorting.argsort(permutation)


def _lengths_tensor(lengths):
    """``lengths`` (a sequence or a tensor) as an int64 tensor, as PyTorch's ``as_tensor`` / ``to`` of them."""
    if not isinstance(lengths, Tensor):
        return creation.as_tensor(lengths, dtype=_dtype.int64, device="cpu")
    return lengths if lengths.dtype is _dtype.int64 else lengths.to(_dtype.int64)


def _require_cpu_lengths(lengths):
    """PyTorch's error unless ``lengths`` (or batch sizes) is a 1-D CPU int64 tensor."""
    if lengths.ndim != 1 or lengths.device.type != "cpu" or lengths.dtype is not _dtype.int64:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.ndim}D "
                           f"{lengths.device} {_dtype.scalar_type_name(lengths.dtype)} tensor")


def _check_binding(name, args, well_typed):
    """PyTorch's TypeError for its binding ``name`` (``_VF._pack_padded_sequence``...) called with ``args`` where
    ``well_typed`` (a quick test of them, false for the rarer forms such as 0-d tensor numbers) fails."""
    if not well_typed:
        from ... import _arg_parser   # (loaded on errors only)
        _arg_parser.raise_for(name, args, {})


def _batch_sizes(sorted_lengths):
    """How many sequences (sorted longest first) are still running at each time step."""
    return (sorted_lengths[None, :] > numpy.arange(sorted_lengths[0])[:, None]).sum(1).astype(numpy.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch (``T x B x *``, or ``B x T x *`` when ``batch_first``) of sequences of ``lengths``."""
    lengths = _lengths_tensor(lengths)
    sorted_indices = None
    if enforce_sorted:
        _check_binding("_VF._pack_padded_sequence", (input, lengths, batch_first),
                       isinstance(input, Tensor) and type(batch_first) is bool)
    else:
        lengths, sorted_indices = sorting.sort(lengths, descending=True, stable=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
        _check_binding("_VF._pack_padded_sequence", (input, lengths, batch_first), type(batch_first) is bool)
    data, batch_sizes = _pack_padded_sequence(input, lengths, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


@composite("_pack_padded_sequence")
def _pack_padded_sequence(input, lengths, batch_first):
    """``(data, batch_sizes)`` of a padded batch whose ``lengths`` run longest first: one op, so that a trace
    replays it for other lengths."""
    _require_cpu_lengths(lengths)
    lengths = lengths.numpy()
    batch_dim = 0 if batch_first else 1
    if (numpy.diff(lengths) > 0).any():
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                           "sidestep this requirement if you do not need ONNX exportability.")
    if input.ndim < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if lengths.size != input.shape[batch_dim]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
                           f"(batch_size={input.shape[batch_dim]})")
    if lengths.size and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    if lengths.size and lengths[0] > input.shape[1 - batch_dim]:
        raise RuntimeError(f"Expected all lengths to be at most the padded length {input.shape[1 - batch_dim]}, "
                           f"but got {lengths[0]}")
    batch_sizes = _batch_sizes(lengths)
    steps = numpy.repeat(numpy.arange(batch_sizes.size), batch_sizes)
    rows = numpy.arange(steps.size) - numpy.repeat(numpy.cumsum(batch_sizes) - batch_sizes, batch_sizes)
    key = (rows, steps) if batch_first else (steps, rows)
    data = input[tuple(creation.tensor(k, device=input.device) for k in key)]
    return data, creation.tensor(batch_sizes, device="cpu")


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Pads a PackedSequence back to ``T x B x *`` (``B x T x *`` when ``batch_first``), in the original batch
    order; returns ``(padded, lengths)``."""
    max_length = sequence.batch_sizes.size(0)
    if total_length is not None:
        if total_length < max_length:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {max_length}")
        max_length = total_length
    arguments = (sequence.data, sequence.batch_sizes, batch_first, padding_value, max_length)
    _check_binding("_VF._pad_packed_sequence", arguments,
                   type(batch_first) is bool and isinstance(padding_value, numbers.Number)
                   and isinstance(max_length, (int, numpy.integer)) and not isinstance(max_length, bool))
    padded, lengths = _pad_packed_sequence(*arguments[:4], int(max_length))
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices
        padded = indexing.index_select(padded, 0 if batch_first else 1, order)
        lengths = indexing.index_select(lengths, 0, order.to(lengths.device))
    return padded, lengths


@composite("_pad_packed_sequence")
def _pad_packed_sequence(data, batch_sizes, batch_first, padding_value, max_length):
    """``(padded, lengths)`` of packed ``data`` in sorted batch order, ``max_length`` steps long: one op, so that
    a trace replays it for other batch sizes."""
    _require_cpu_lengths(batch_sizes)
    batch_sizes = batch_sizes.numpy()
    if not batch_sizes.size:
        raise RuntimeError("batch_sizes can not be empty")
    batch = int(batch_sizes[0])
    offsets = numpy.cumsum(batch_sizes) - batch_sizes
    columns = numpy.arange(batch)
    index = numpy.full((max_length, batch), data.shape[0], dtype=numpy.int64)   # the padding row, appended below
    running = columns[None, :] < batch_sizes[:, None]
    index[:batch_sizes.size][running] = (offsets[:, None] + columns[None, :])[running]
    lengths = running.sum(0).astype(numpy.int64)
    if batch_first:
        index = index.T
    padding = creation.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    return (rearrange.cat([data, padding])[creation.tensor(index, device=data.device)],
            creation.tensor(lengths, device="cpu"))


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks sequences of shape ``L_i x *`` into ``T x B x *`` (``B x T x *`` when ``batch_first``), filling the
    missing steps with ``padding_value`` on ``padding_side``."""
    if isinstance(sequences, Tensor):
        sequences = shape.unbind(sequences, 0)
    elif not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    _check_binding("_VF.pad_sequence", (sequences, batch_first, padding_value, padding_side),
                   type(batch_first) is bool and isinstance(padding_value, numbers.Real)
                   and isinstance(padding_side, str) and all(isinstance(s, Tensor) for s in sequences))
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    first = sequences[0]
    if first.ndim == 0:
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    if any(s.ndim == 0 for s in sequences):
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    lengths = numpy.array([s.shape[0] for s in sequences], dtype=numpy.int64)
    max_length = int(lengths.max())
    starts = numpy.cumsum(lengths) - lengths
    steps = numpy.arange(max_length)[None, :]
    if padding_side == "left":
        steps = steps - (max_length - lengths)[:, None]
    index = numpy.where((steps >= 0) & (steps < lengths[:, None]), starts[:, None] + steps, lengths.sum())
    padding = creation.full((1,) + tuple(first.shape[1:]), padding_value, dtype=first.dtype, device=first.device)
    pieces = [_copied_shape(s if s.dtype is first.dtype else s.to(first.dtype), (s.shape[0],) + first.shape[1:])
              for s in sequences]
    padded = rearrange.cat(pieces + [padding])[creation.tensor(index if batch_first else index.T, device=first.device)]
    return padded


def _copied_shape(sequence, shape):
    """``sequence`` broadcast to ``shape`` (its length by the first sequence's trailing dims), as PyTorch's copy_
    into the padded output broadcasts it, with copy_'s errors."""
    if tuple(sequence.shape) == tuple(shape):
        return sequence
    shape, given = tuple(shape), tuple(sequence.shape)
    try:
        broadcast = numpy.broadcast_shapes(shape, given)
    except ValueError:
        ndim = max(len(shape), len(given))
        for i in range(1, ndim + 1):
            a, b = shape[-i] if i <= len(shape) else 1, given[-i] if i <= len(given) else 1
            if a != b and 1 not in (a, b):
                raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                                   f"non-singleton dimension {ndim - i}") from None
        raise
    if broadcast != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape {list(broadcast)}")
    return sequence.expand(shape)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Splits a padded batch back into the list of its sequences: of each, the steps before ``lengths[i]`` (a
    tensor), selected by a mask as PyTorch's (copies; a negative length gives none).

    Unlike PyTorch, which transposes ``padded_sequences`` in place when ``batch_first`` is False, the argument is
    left as it was."""
    if not batch_first:
        padded_sequences = shape.transpose(padded_sequences, 0, 1)
    steps = ranges.arange(padded_sequences.shape[1], device=lengths.device)
    return [sequence[steps < length] for sequence, length in zip(padded_sequences, lengths, strict=True)]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of sequences (``L_i x *``), longest first unless ``enforce_sorted`` is False."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
