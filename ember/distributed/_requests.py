"""Waiting on MPI requests with a deadline, so a rank that never arrives gives an error instead of a hang."""
import functools
import os
import time

from . import _mpi
from .errors import DistBackendError

_SPIN = 200   # polls of a request before each one also yields the CPU (ranks often outnumber cores)


def wait(requests, group, what, timeout=None, statuses=None):
    """Waits for all ``requests``; DistBackendError once ``timeout`` (default: the group's) has passed."""
    # MPI moves a large message on while it is polled, so the loop stays as cheap as a poll can be: one request's own
    # Test, called straight from C.
    if len(requests) == 1:
        test = requests[0].Test if statuses is None else functools.partial(requests[0].Test, statuses[0])
    else:
        test = functools.partial(_mpi.mpi().Request.Testall, requests, statuses)
    if test():
        return
    limit = (timeout if timeout is not None else group.timeout)
    limit = limit.total_seconds() if hasattr(limit, "total_seconds") else float(limit)
    deadline = time.monotonic() + limit
    polls = 0
    while not test():
        polls += 1
        if polls == _SPIN:
            polls = 0
            if time.monotonic() > deadline:
                raise DistBackendError(f"[rank {group.comm.Get_rank()}] {what} timed out after {limit:g} s: not "
                                       f"every rank of the group {group.ranks} reached it")
            os.sched_yield()
