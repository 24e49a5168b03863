"""Intra-op parallelism: one large kernel split into chunks that run at once on a small thread pool.

NumPy releases the GIL inside ufunc loops and array copies, so the chunks of an elementwise or copy kernel run on
separate cores, as PyTorch's OpenMP loops do (matrix products are threaded by the BLAS already). The pool has
``ember.get_num_threads()`` threads: ``OMP_NUM_THREADS`` when set, else the cores this process may use, and
``ember.set_num_threads`` changes it.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

_state = {"threads": None, "pool": None}
_lock = threading.Lock()
_inside = threading.local()   # set in the pool's threads: a kernel called from a chunk runs whole, never nests


def _default_threads():
    try:
        wanted = int(os.environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        wanted = 0
    if wanted > 0:
        return wanted
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def num_threads():
    """How many threads a parallel kernel uses (the calling thread included)."""
    if _state["threads"] is None:
        _state["threads"] = _default_threads()
    return _state["threads"]


def set_num_threads(count):
    """Sets the thread count for later kernels; the pool is rebuilt at its next use."""
    with _lock:
        _state["threads"], pool, _state["pool"] = count, _state["pool"], None
    if pool is not None:
        pool.shutdown(wait=False)


def _mark_inside():
    _inside.active = True


def _pool():
    pool = _state["pool"]
    if pool is None:
        with _lock:
            if _state["pool"] is None:
                _state["pool"] = ThreadPoolExecutor(max(1, num_threads() - 1), thread_name_prefix="ember-intraop",
                                                    initializer=_mark_inside)
            pool = _state["pool"]
    return pool


def parallel_for(count, work, grain=1):
    """Calls ``work(start, stop)`` on disjoint ranges that cover ``range(count)``, at once on up to
    ``num_threads()`` threads, each range at least ``grain`` long; returns when all are done."""
    chunks = min(num_threads(), count // max(grain, 1))
    if chunks <= 1 or getattr(_inside, "active", False):
        work(0, count)
        return
    bounds = [count * i // chunks for i in range(chunks + 1)]
    pool = _pool()
    futures = [pool.submit(work, bounds[i], bounds[i + 1]) for i in range(1, chunks)]
    _inside.active = True
    try:
        work(bounds[0], bounds[1])
    finally:
        _inside.active = False
        for future in futures:
            future.result()


def _forget_pool_after_fork():
    # A forked child (a DataLoader worker) has none of the parent's threads: start a fresh pool if it needs one.
    _state["pool"] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)
