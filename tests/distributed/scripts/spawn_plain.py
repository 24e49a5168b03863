"""spawn without MPI (mpi4py blocked): plain multiprocessing processes, a child's error re-raised with its traceback
and the other child ended."""
import pathlib
import sys
import time

import ember.multiprocessing as mp


def work(rank, directory, fail):
    if fail and rank == 0:
        raise KeyError(f"no key on rank {rank}")
    if fail:
        time.sleep(60)   # must be ended by the parent once rank 0 fails
    (pathlib.Path(directory) / f"rank-{rank}").write_text(str(rank))


if __name__ == "__main__":
    directory = pathlib.Path(sys.argv[1])
    mp.spawn(work, args=(str(directory), False), nprocs=2)
    assert sorted(p.name for p in directory.iterdir()) == ["rank-0", "rank-1"]
    context = mp.spawn(work, args=(str(directory), True), nprocs=2, join=False)
    try:
        while not context.join():
            pass
        raise AssertionError("expected ProcessRaisedException")
    except mp.ProcessRaisedException as error:
        assert error.error_index == 0 and "KeyError: 'no key on rank 0'" in str(error), str(error)
    assert all(not p.is_alive() for p in context.processes)   # the failure ended the other process too
    print("plain spawn ok", flush=True)
