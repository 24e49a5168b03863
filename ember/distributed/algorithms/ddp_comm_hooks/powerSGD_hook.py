"""PowerSGD (Vogels et al., 2019): each gradient matrix M (n x m) of a bucket travels as two thin factors instead of
itself. With Q (m x r) orthogonalized, the ranks sum P = M Q, orthogonalize it, sum Q = M^T P, and every rank takes
P Q^T / world_size as the averaged M; what the approximation missed is added to the next step's gradient (error
feedback), and Q starts the next step from where it ended (warm start). Vectors, and matrices too small to gain, are
summed whole. The first ``start_powerSGD_iter`` steps average plainly."""
import logging
from collections import defaultdict

import numpy

from .... import bmm, cat, empty, manual_seed, norm, randn, random, stack, tensor, zeros
from ....linalg import qr
from ... import all_reduce, group
from . import default_hooks

__all__ = ["PowerSGDState", "powerSGD_hook"]

logger = logging.getLogger(__name__)


def _orthogonalize(matrices, epsilon=0):
    """Makes the columns of each matrix in a (batch, rows, columns) tensor orthonormal, in place: Gram-Schmidt for
    up to two columns or 16-bit values, else a QR factorization."""
    if not (matrices.dim() == 3 and matrices.shape[2] <= matrices.shape[1]):
        raise AssertionError
    if matrices.shape[2] <= 2 or matrices.dtype.itemsize == 2:
        for i in range(matrices.shape[2]):
            column = matrices[:, :, i:i + 1]
            column /= norm(column, dim=1, keepdim=True) + epsilon
            if i + 1 < matrices.shape[2]:
                rest = matrices[:, :, i + 1:]
                rest -= (column * rest).sum(dim=1, keepdim=True) * column
    else:
        matrices.copy_(qr(matrices).Q)


def _should_compress(rows, columns, rank, min_compression_rate):
    """Whether a rows x columns matrix is worth sending as rank-``rank`` factors, with both sizes."""
    whole, factors = rows * columns, (rows + columns) * rank
    return factors * min_compression_rate < whole, whole, factors


class PowerSGDState:
    """PowerSGD's settings and what it keeps between steps: each bucket's error and factors, the step count, and
    compression statistics. ``matrix_approximation_rank`` (r) and ``start_powerSGD_iter`` are the ones to tune."""

    __slots__ = ["process_group", "matrix_approximation_rank", "start_powerSGD_iter", "min_compression_rate",
                 "orthogonalization_epsilon", "use_error_feedback", "warm_start", "batch_tensors_with_same_shape",
                 "rng", "error_dict", "p_memory_dict", "q_memory_dict", "iter", "total_numel_before_compression",
                 "total_numel_after_compression", "compression_stats_logging_frequency", "next_stats_report"]

    def __init__(self, process_group, matrix_approximation_rank=1, start_powerSGD_iter=1_000, min_compression_rate=2,
                 use_error_feedback=True, warm_start=True, orthogonalization_epsilon=0, random_seed=0,
                 compression_stats_logging_frequency=10_000, batch_tensors_with_same_shape=False):
        self.process_group = process_group
        self.matrix_approximation_rank = matrix_approximation_rank
        if (use_error_feedback or warm_start) and start_powerSGD_iter <= 1:
            raise ValueError("Expect `start_powerSGD_iter` > 1 if `use_error_feedback` or `warm_start` is enabled, "
                             "because PowerSGD can only be applied after the first two iterations in DDP.")
        self.start_powerSGD_iter = start_powerSGD_iter
        self.min_compression_rate = min_compression_rate
        self.use_error_feedback = use_error_feedback
        self.warm_start = warm_start
        self.orthogonalization_epsilon = orthogonalization_epsilon
        self.rng = numpy.random.RandomState(random_seed)   # PyTorch's: the seeds of each bucket's first Q
        self.error_dict, self.p_memory_dict, self.q_memory_dict = {}, {}, {}
        self.iter = 0
        self.total_numel_before_compression = self.total_numel_after_compression = 0
        self.compression_stats_logging_frequency = max(1, compression_stats_logging_frequency)
        self.next_stats_report = 0
        self.batch_tensors_with_same_shape = batch_tensors_with_same_shape

    def __getstate__(self):
        logger.warning("NOTE: Process group is not serializable and excluded from a saved state.")
        return {slot: getattr(self, slot) for slot in self.__slots__ if slot != "process_group"}

    def __setstate__(self, state):
        self.process_group = group.WORLD
        logger.warning("NOTE: Process group will be set to a default group (i.e. the world size). If a different "
                       "group is desired, please set `self.process_group` after PowerSGD state is loaded.")
        for slot, value in state.items():
            setattr(self, slot, value)

    def maybe_increase_iter(self, bucket):
        """Counts a step once its last bucket is reduced."""
        if bucket.is_last():
            self.iter += 1
        if self.iter == self.start_powerSGD_iter:
            logger.info("Start to apply PowerSGD after %s iterations.", self.iter)

    def compression_stats(self):
        """(compression rate, elements before, elements after) over all steps so far."""
        after = self.total_numel_after_compression
        rate = self.total_numel_before_compression / after if after > 0 else 0
        return rate, self.total_numel_before_compression, after


def _report_compression_stats(bucket, state):
    if bucket.is_last() and state.iter >= state.next_stats_report:
        rate, before, after = state.compression_stats()
        logger.info("Compression stats: iter %s, total before compression %s, total after compression %s, rate %s",
                    state.iter, before, after, rate)
        state.next_stats_report = state.iter + state.compression_stats_logging_frequency


def powerSGD_hook(state, bucket):
    """Reduces ``bucket`` by PowerSGD (after ``state.start_powerSGD_iter`` plain steps); a Future of the averaged
    bucket."""
    chosen = state.process_group if state.process_group is not None else group.WORLD
    world_size = chosen.size()
    buffer = bucket.buffer()
    if state.iter < state.start_powerSGD_iter:
        state.maybe_increase_iter(bucket)
        return default_hooks._average(chosen, buffer)
    index = bucket.index()
    before_approximation = None
    if state.use_error_feedback:
        if index in state.error_dict:
            buffer.add_(state.error_dict[index])
        else:
            logger.info("A zero tensor of length %s that represents local error is created.", buffer.shape[0])
            state.error_dict[index] = zeros(buffer.shape[0], device=buffer.device, dtype=buffer.dtype)
        before_approximation = buffer.detach().clone()

    compressed, whole = [], []
    p_size = q_size = 0
    for gradient in bucket.gradients():
        matrix = gradient.view(gradient.shape[0], -1)
        rows, columns = matrix.shape
        rank = min(rows, columns, state.matrix_approximation_rank)
        worth, size, factor_size = _should_compress(rows, columns, rank, state.min_compression_rate)
        state.total_numel_before_compression += size
        if worth:
            compressed.append(matrix)
            p_size, q_size = p_size + rows * rank, q_size + columns * rank
            state.total_numel_after_compression += factor_size
        else:
            whole.append(gradient)
            state.total_numel_after_compression += size
    _report_compression_stats(bucket, state)
    whole_memory = cat([g.view(-1) for g in whole]) if whole else tensor([], device=buffer.device, dtype=buffer.dtype)

    fresh_qs = not state.warm_start or index not in state.p_memory_dict
    if fresh_qs:
        if state.warm_start:
            logger.info("Allocating contiguous memory of length %s for Ps, and of length %s for Qs, respectively.",
                        p_size, q_size)
        state.p_memory_dict[index] = empty(p_size, device=buffer.device, dtype=buffer.dtype)
        state.q_memory_dict[index] = empty(q_size, device=buffer.device, dtype=buffer.dtype)

    by_shape = defaultdict(list)
    for matrix in compressed:
        by_shape[tuple(matrix.shape)].append(matrix)
    batches = []
    for same in by_shape.values():
        if state.batch_tensors_with_same_shape and len(same) > 1:
            batches.append((same, stack(same)))
        else:
            batches.extend(([matrix], matrix.unsqueeze(0)) for matrix in same)
    ps, qs, p_at, q_at = [], [], 0, 0
    for _, batch in batches:
        count, rows, columns = batch.shape
        rank = min(rows, columns, state.matrix_approximation_rank)
        ps.append(state.p_memory_dict[index][p_at:p_at + count * rows * rank].view(count, rows, rank))
        qs.append(state.q_memory_dict[index][q_at:q_at + count * columns * rank].view(count, columns, rank))
        p_at, q_at = p_at + count * rows * rank, q_at + count * columns * rank
    if fresh_qs:
        with random.fork_rng(devices=[]):
            manual_seed(state.rng.randint(1_000_000_000))
            for q in qs:
                q.copy_(randn(*q.shape, device="cpu", dtype=buffer.dtype))
                _orthogonalize(q, state.orthogonalization_epsilon)
    else:
        for q in qs:
            _orthogonalize(q, state.orthogonalization_epsilon)
    for (_, batch), q, p in zip(batches, qs, ps):
        bmm(batch, q, out=p)

    def sum_ps(future):
        summed = future.value()[0].div_(world_size)
        at = 0
        for gradient in whole:
            gradient.copy_(summed[at:at + gradient.numel()].view_as(gradient))
            at += gradient.numel()
        return all_reduce(state.p_memory_dict[index], group=chosen, async_op=True).get_future().wait()[0]

    def sum_qs(future):
        state.p_memory_dict[index] = future.value()
        for p in ps:
            _orthogonalize(p, state.orthogonalization_epsilon)
        for (_, batch), p, q in zip(batches, ps, qs):
            bmm(batch.transpose(1, 2), p, out=q)
        return all_reduce(state.q_memory_dict[index], group=chosen, async_op=True).get_future().wait()[0]

    def decompress(future):
        state.q_memory_dict[index] = future.value().div_(world_size)
        for (originals, batch), p, q in zip(batches, ps, qs):
            bmm(p, q.transpose(1, 2), out=batch)
            if len(originals) > 1:   # a stacked copy: back into each gradient
                for i, original in enumerate(originals):
                    original.copy_(batch[i])
        if state.use_error_feedback:
            state.error_dict[index] = before_approximation - buffer
        if not state.warm_start:
            state.p_memory_dict.clear()
            state.q_memory_dict.clear()
        state.maybe_increase_iter(bucket)
        return buffer

    started = all_reduce(whole_memory, group=chosen, async_op=True).get_future()
    return started.then(sum_ps).then(sum_qs).then(decompress)

