"""Samplers on the intra-op thread pool: the generator's words are drawn in order, block after block, by one thread
at a time, while the other threads turn the blocks already drawn into values (NumPy releases the GIL in both).
Each block gets the same words whatever the thread count, so the values do not depend on it (as in PyTorch,
whose CPU samplers are serial)."""
import collections
import threading

from ._parallel import num_threads, parallel_for


class _Blocks:
    """The shared schedule: the next block to draw, the drawn blocks waiting for a thread, who is drawing."""

    def __init__(self, draw, count, block, lookahead):
        self.draw, self.count, self.block, self.lookahead = draw, count, block, lookahead
        self.next, self.ready, self.drawing, self.failed = 0, collections.deque(), False, False
        self.changed = threading.Condition()

    def run(self, consume):
        """One thread's share: draws the next block when no one is drawing and few are waiting, else transforms a
        waiting block, else waits for one; returns when every block is drawn and taken."""
        while True:
            with self.changed:
                while True:
                    if self.failed:
                        return
                    if not self.drawing and self.next < self.count and len(self.ready) < self.lookahead:
                        start = self.next
                        stop = self.next = min(start + self.block, self.count)
                        self.drawing = True
                        task = None
                        break
                    if self.ready:
                        task = self.ready.popleft()
                        break
                    if not self.drawing:
                        return
                    self.changed.wait()
            if task is not None:
                consume(*task)
                continue
            try:
                words = self.draw(stop - start)
            except BaseException:
                with self.changed:
                    self.failed, self.drawing = True, False
                    self.changed.notify_all()
                raise
            with self.changed:
                self.ready.append((start, stop, words))
                self.drawing = False
                self.changed.notify_all()


def draw_blocks(draw, count, block, consume):
    """Calls ``consume(start, stop, words)`` for the blocks ``[start, stop)`` of ``range(count)`` (``block`` long, the
    last one shorter), with ``words = draw(stop - start)`` called block after block in order; the calls to
    ``consume`` run at once on up to ``num_threads()`` threads, in any order, while later blocks are drawn."""
    blocks = -(-count // block)
    workers = min(num_threads(), blocks)
    if workers <= 1:
        for start in range(0, count, block):
            stop = min(start + block, count)
            consume(start, stop, draw(stop - start))
        return
    schedule = _Blocks(draw, count, block, 2 * workers)
    parallel_for(workers, lambda first, last: schedule.run(consume))
