"""``BlockMask``, flex attention's block-sparse mask, as PyTorch's: per (batch, head, query block) row, the number
of key/value blocks taking part and their indices (``kv_num_blocks``, ``kv_indices``), with the blocks that need no
masking optionally kept apart (``full_kv_*``) and the transposed layout for the backward pass (``q_*``)."""
import functools
import itertools
import operator

from ... import _dtype
from ..._tensor import Tensor
from ...ops.creation import zeros
from ...ops.ranges import arange
from ...ops.sorting import argsort

_DEFAULT_SPARSE_BLOCK_SIZE = 128
_LARGE_SPARSE_BLOCK_SIZE = 1 << 30   # the block size of the mask flex_attention makes when given none


def noop_mask(batch, head, token_q, token_kv):
    """The mask_mod that masks nothing."""
    return batch.new_ones(size=(), dtype=_dtype.bool_, device=batch.device)


def _sliced_mask_mod_error(batch, head, token_q, token_kv):
    """The mask_mod of a sliced BlockMask: calling it explains that the original's must be used."""
    raise RuntimeError(
        "Cannot use mask_mod from a sliced BlockMask. When you slice a BlockMask using [], the mask_mod attribute is "
        "reset. You must set it from the original BlockMask's mask_mod.\n\nIncorrect usage:\n"
        "  base_mask = create_block_mask(my_mask_fn, ...)\n  sliced_mask = base_mask[:, :, block_idx]\n"
        "  sliced_mask.mask_mod = apply_offset(sliced_mask.mask_mod, offset)  # WRONG!\n\nCorrect usage:\n"
        "  base_mask = create_block_mask(my_mask_fn, ...)\n  sliced_mask = base_mask[:, :, block_idx]\n"
        "  sliced_mask.mask_mod = apply_offset(base_mask.mask_mod, offset)  # Use base_mask!")


def _ordered_to_dense(num_blocks_in_row, col_indices, num_cols):
    """The int32 (..., rows, num_cols) block grid with a 1 at each listed block."""
    entries = arange(col_indices.shape[-1], device=col_indices.device)
    listed = entries < num_blocks_in_row.unsqueeze(-1)
    # unlisted entries go to one extra column, cut off at the end
    columns = col_indices.long().where(listed, num_cols)
    dense = zeros(*col_indices.shape[:-1], num_cols + 1, dtype=_dtype.int32, device=col_indices.device)
    return dense.scatter_(-1, columns, 1)[..., :num_cols].contiguous()


def _dense_to_ordered(dense_mask):
    """(number of blocks per row, their column indices first in column order), both int32, from a block grid."""
    dense_mask = dense_mask.to(_dtype.int32)
    num_blocks_in_row = dense_mask.sum(dim=-1)
    col_indices = argsort(dense_mask, dim=-1, descending=True, stable=True)
    return num_blocks_in_row.to(_dtype.int32), col_indices.to(_dtype.int32)


def _transpose_ordered(num_blocks_in_row, col_indices):
    dense = _ordered_to_dense(num_blocks_in_row, col_indices, col_indices.shape[-1])
    return _dense_to_ordered(dense.transpose(-2, -1))


def _adjust_num_blocks_and_indices(num_blocks, indices, new_num_rows, new_num_cols):
    indices = indices[:, :, :new_num_rows, :new_num_cols]
    num_blocks = num_blocks[:, :, :new_num_rows].clamp(max=new_num_cols)
    num_blocks = (indices < num_blocks[:, :, :, None]).sum(dim=-1).to(_dtype.int32)
    return num_blocks, indices


def _compute_dq_write_order_from_block_mask(block_mask, dq_kv_order=False):
    """The write order of each (key block, query block) pair in a deterministic dQ accumulation: the rank of the
    key block among the query block's blocks, ascending (``dq_kv_order=False``) or descending, read in the
    backward layout (``q_indices``), for the partial and the full blocks."""
    if block_mask.q_num_blocks is None or block_mask.q_indices is None:
        raise ValueError("BlockMask must have q_num_blocks and q_indices to compute dq_write_order")
    q_indices, full_q_indices = block_mask.q_indices, block_mask.full_q_indices
    shapes = [block_mask.kv_indices.shape[:2], q_indices.shape[:2]]
    has_full = block_mask.full_kv_num_blocks is not None and block_mask.full_kv_indices is not None
    if has_full:
        shapes.append(block_mask.full_kv_indices.shape[:2])
    if full_q_indices is not None:
        shapes.append(full_q_indices.shape[:2])
    B = max(s[0] for s in shapes)
    H = max(s[1] for s in shapes)

    def expand(tensor):
        return tensor.expand(B, H, *tensor.shape[2:])

    num_m, num_n = block_mask.kv_indices.shape[2], q_indices.shape[2]
    dense = _ordered_to_dense(expand(block_mask.kv_num_blocks), expand(block_mask.kv_indices), num_n)
    if has_full:
        full = _ordered_to_dense(expand(block_mask.full_kv_num_blocks), expand(block_mask.full_kv_indices), num_n)
        dense = (dense + full).clamp(max=1)
    cumsum = dense.cumsum(dim=-1)
    rank_table = (cumsum - dense).to(_dtype.int32)
    if dq_kv_order:
        rank_table = (cumsum[:, :, :, -1:] - 1 - rank_table).to(_dtype.int32)
    device = block_mask.kv_indices.device

    def gather(backward_indices):
        b = arange(B, device=device)[:, None, None, None]
        h = arange(H, device=device)[None, :, None, None]
        n = arange(backward_indices.shape[2], device=device)[None, None, :, None]
        return rank_table[b, h, backward_indices.long().clamp(0, num_m - 1), n].to(_dtype.int32)

    full_order = gather(full_q_indices) if has_full and block_mask.full_q_num_blocks is not None \
        and full_q_indices is not None else None
    return gather(q_indices), full_order


class BlockMask:
    """A block-sparse attention mask: which KV_BLOCK_SIZE x Q_BLOCK_SIZE tiles take part (``kv_num_blocks``,
    ``kv_indices``; ``full_kv_*`` for tiles needing no ``mask_mod``), for sequences of ``seq_lengths``."""

    _TENSOR_ATTRS = ["kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices", "q_num_blocks",
                     "q_indices", "full_q_num_blocks", "full_q_indices", "dq_write_order", "dq_write_order_full",
                     "dq_kv_order"]
    _CONTEXT_ATTRS = ["seq_lengths", "BLOCK_SIZE", "mask_mod", "dq_kv_order_spt"]

    def __init__(self, seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices, q_num_blocks,
                 q_indices, full_q_num_blocks, full_q_indices,
                 BLOCK_SIZE=(_DEFAULT_SPARSE_BLOCK_SIZE, _DEFAULT_SPARSE_BLOCK_SIZE), mask_mod=noop_mask, *,
                 dq_write_order=None, dq_write_order_full=None, dq_kv_order=None, dq_kv_order_spt=None):
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if kv_num_blocks is None:
            raise AssertionError("kv_num_blocks must be provided")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError("full_kv_num_blocks and full_kv_indices must be both provided or omitted")
        if (full_q_num_blocks is None) != (full_q_indices is None):
            raise AssertionError("full_q_num_blocks and full_q_indices must be both provided or omitted")
        if dq_write_order_full is not None and dq_write_order is None:
            raise ValueError("dq_write_order_full requires dq_write_order")
        self.seq_lengths = seq_lengths
        self.kv_num_blocks, self.kv_indices = kv_num_blocks, kv_indices
        self.full_kv_num_blocks, self.full_kv_indices = full_kv_num_blocks, full_kv_indices
        self.q_num_blocks, self.q_indices = q_num_blocks, q_indices
        self.full_q_num_blocks, self.full_q_indices = full_q_num_blocks, full_q_indices
        self.dq_write_order, self.dq_write_order_full = dq_write_order, dq_write_order_full
        self.dq_kv_order, self.dq_kv_order_spt = dq_kv_order, dq_kv_order_spt
        self.BLOCK_SIZE = BLOCK_SIZE
        self.mask_mod = mask_mod

    @classmethod
    def from_kv_blocks(cls, kv_num_blocks, kv_indices, full_kv_num_blocks=None, full_kv_indices=None,
                       BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE, mask_mod=None, seq_lengths=None, compute_q_blocks=True,
                       *, dq_write_order=None, dq_write_order_full=None, dq_kv_order=None):
        """A BlockMask from its forward layout, deriving the backward one (``q_*``) when ``compute_q_blocks``;
        ``seq_lengths`` default to the block grid's extent."""
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError("full_kv_num_blocks and full_kv_indices must be both provided or omitted")
        q_num_blocks = q_indices = full_q_num_blocks = full_q_indices = None
        if compute_q_blocks:
            q_num_blocks, q_indices = _transpose_ordered(kv_num_blocks, kv_indices)
            if full_kv_num_blocks is not None:
                full_q_num_blocks, full_q_indices = _transpose_ordered(full_kv_num_blocks, full_kv_indices)
        if isinstance(BLOCK_SIZE, int):
            BLOCK_SIZE = (BLOCK_SIZE, BLOCK_SIZE)
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * BLOCK_SIZE[0], kv_indices.shape[-1] * BLOCK_SIZE[1])
        if dq_kv_order is not None and not isinstance(dq_kv_order, (bool, Tensor)):
            raise ValueError("dq_kv_order must be a bool, Tensor, or None")
        return cls(seq_lengths=seq_lengths, kv_num_blocks=kv_num_blocks, kv_indices=kv_indices,
                   full_kv_num_blocks=full_kv_num_blocks, full_kv_indices=full_kv_indices,
                   q_num_blocks=q_num_blocks, q_indices=q_indices, full_q_num_blocks=full_q_num_blocks,
                   full_q_indices=full_q_indices, BLOCK_SIZE=BLOCK_SIZE,
                   mask_mod=mask_mod if mask_mod is not None else noop_mask,
                   dq_write_order=dq_write_order, dq_write_order_full=dq_write_order_full,
                   dq_kv_order=dq_kv_order if isinstance(dq_kv_order, Tensor) else None,
                   dq_kv_order_spt=dq_kv_order if isinstance(dq_kv_order, bool) else None)

    def as_tuple(self, flatten=True):
        """The attributes in order: seq_lengths, the tensors, dq_kv_order_spt, BLOCK_SIZE, mask_mod; the two
        pairs spread out when ``flatten``."""
        seq_lengths = tuple(self.seq_lengths) if flatten else (self.seq_lengths,)
        block_size = tuple(self.BLOCK_SIZE) if flatten else (self.BLOCK_SIZE,)
        return (*seq_lengths, *(getattr(self, name) for name in self._TENSOR_ATTRS), self.dq_kv_order_spt,
                *block_size, self.mask_mod)

    @property
    def shape(self):
        """(batch dims..., query length, key/value length)."""
        return tuple(self.kv_indices.shape[:-2]) + tuple(self.seq_lengths)

    def __str__(self):
        return f"BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%, \n{self.to_string().strip()}\n)"

    def _rebuilt(self, kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices, mask_mod, seq_lengths):
        """A BlockMask of this one's block size and dQ order from a new forward layout."""
        new = self.from_kv_blocks(kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices,
                                  BLOCK_SIZE=self.BLOCK_SIZE, mask_mod=mask_mod, seq_lengths=seq_lengths,
                                  compute_q_blocks=self.q_indices is not None)
        new.dq_kv_order_spt = self.dq_kv_order_spt
        if self.dq_write_order is not None and new.dq_kv_order is None:
            new.dq_write_order, new.dq_write_order_full = _compute_dq_write_order_from_block_mask(
                new, dq_kv_order=new.dq_kv_order_spt)
        return new

    def __getitem__(self, index):
        """The mask of the batches, heads and query blocks ``index`` picks (an int keeps its dimension); its
        mask_mod cannot be called."""
        if self.dq_kv_order is not None:
            raise NotImplementedError("Slicing BlockMask with tensor dq_kv_order is not supported yet. Construct a "
                                      "new BlockMask with matching precomputed dq_write_order metadata.")
        index = index if isinstance(index, tuple) else (index,)
        padded = (*index, slice(None), slice(None), slice(None))[:3]
        index = tuple((slice(i + n, i + n + 1) if -n <= i < 0 else slice(i, i + 1)) if isinstance(i, int) else i
                      for i, n in zip(padded, self.kv_num_blocks.shape[:3]))
        full = (None, None) if self.full_kv_num_blocks is None else \
            (self.full_kv_num_blocks[index], self.full_kv_indices[index])
        return self._rebuilt(self.kv_num_blocks[index], self.kv_indices[index], *full, _sliced_mask_mod_error,
                             self.seq_lengths)

    def __repr__(self):
        def shape_or_none(x):
            return x.shape if x is not None else None

        return (f"BlockMask(\n    kv_num_blocks={self.kv_num_blocks.shape},\n    kv_indices={self.kv_indices.shape},\n"
                f"    full_kv_num_blocks={shape_or_none(self.full_kv_num_blocks)},\n"
                f"    full_kv_indices={shape_or_none(self.full_kv_indices)},\n"
                f"    q_num_blocks={shape_or_none(self.q_num_blocks)},\n"
                f"    q_indices={shape_or_none(self.q_indices)},\n"
                f"    full_q_num_blocks={shape_or_none(self.full_q_num_blocks)},\n"
                f"    full_q_indices={shape_or_none(self.full_q_indices)},\n"
                f"    BLOCK_SIZE={self.BLOCK_SIZE},\n    shape={self.shape},\n"
                f"    sparsity={self.sparsity():.2f}%,\n"
                f"    mask_mod={getattr(self.mask_mod, '__name__', self.mask_mod)}\n)")

    def _adjust(self, new_q_len, new_kv_len):
        """This mask cropped to its upper-left ``new_q_len`` x ``new_kv_len`` corner."""
        if self.dq_kv_order is not None:
            raise NotImplementedError("Adjusting BlockMask with tensor dq_kv_order is not supported yet. Construct "
                                      "a new BlockMask with matching precomputed dq_write_order metadata.")
        rows = (new_q_len + self.BLOCK_SIZE[0] - 1) // self.BLOCK_SIZE[0]
        cols = (new_kv_len + self.BLOCK_SIZE[1] - 1) // self.BLOCK_SIZE[1]
        kv = _adjust_num_blocks_and_indices(self.kv_num_blocks, self.kv_indices, rows, cols)
        full = (None, None) if self.full_kv_num_blocks is None else \
            _adjust_num_blocks_and_indices(self.full_kv_num_blocks, self.full_kv_indices, rows, cols)
        return self._rebuilt(*kv, *full, self.mask_mod, (new_q_len, new_kv_len))

    def numel(self):
        """The number of elements of the mask it stands for, sparsity not counted."""
        return functools.reduce(operator.mul, self.shape, 1)

    def sparsity(self):
        """The percentage of the mask's elements in blocks that are skipped (as PyTorch counts it: padded blocks
        count whole, so it can be negative for short sequences)."""
        computed_blocks = self.kv_num_blocks.sum()
        if self.full_kv_num_blocks is not None:
            computed_blocks += self.full_kv_num_blocks.sum()
        computed_size = computed_blocks.item() * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1]
        return 100 * (1 - computed_size / self.numel())

    def to_dense(self):
        """The int32 block grid, (..., query blocks, key/value blocks), with 1 for each block taking part."""
        dense = _ordered_to_dense(self.kv_num_blocks, self.kv_indices, self.kv_indices.shape[-1])
        if self.full_kv_num_blocks is not None:
            dense = dense | _ordered_to_dense(self.full_kv_num_blocks, self.full_kv_indices,
                                              self.full_kv_indices.shape[-1])
        return dense

    def to_string(self, grid_size=(20, 20), limit=4):
        """The block grid drawn in characters (█ all blocks taking part, ░ some, blank none), per batch and head,
        at most ``limit`` of them, each shrunk to ``grid_size`` (-1: full size)."""
        dense_mask = self.to_dense()
        *batch_dims, num_rows, num_cols = dense_mask.shape
        max_rows, max_cols = (grid_size, grid_size) if isinstance(grid_size, int) else grid_size
        row_step = max(1, -(-num_rows // max_rows))   # -1 gives 1: the full grid
        col_step = max(1, -(-num_cols // max_cols))

        def block_vis(batch_idx):
            mask = dense_mask[batch_idx]
            vis = f"{batch_idx}\n"
            for r in range(0, num_rows, row_step):
                for c in range(0, num_cols, col_step):
                    share = mask[r:r + row_step, c:c + col_step].float().mean().item()
                    vis += ("█" if share == 1 else " " if share == 0 else "░") * 2
                vis += "\n"
            return vis

        total = []
        for count, batch_idx in enumerate(itertools.product(*[range(i) for i in batch_dims])):
            if count == limit:
                total += ["...", "To print out more, set BlockMask.to_string(limit=N)",
                          "You can also index (BlockMask[batch, head]) to choose a specific batch or head"]
                break
            total.append(block_vis(batch_idx))
        return "\n".join(total)

    def to(self, device):
        """A BlockMask with the tensors on ``device``."""
        moved = {name: None if getattr(self, name) is None else getattr(self, name).to(device)
                 for name in self._TENSOR_ATTRS}
        return BlockMask(seq_lengths=self.seq_lengths, **moved, BLOCK_SIZE=self.BLOCK_SIZE, mask_mod=self.mask_mod,
                         dq_kv_order_spt=self.dq_kv_order_spt)
