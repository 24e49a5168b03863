"""One rank of an ``ember.multiprocessing.spawn`` MPI job: loads the parent's main module and ``fn``, runs
``fn(rank, *args)``; a failure records its traceback for the parent and aborts the job so no rank is left waiting."""
import pathlib
import pickle
import sys
from multiprocessing.spawn import prepare


def main(directory):
    from mpi4py import MPI   # initialized first, as `python -m mpi4py` does, so a failure can abort every rank
    rank = MPI.COMM_WORLD.Get_rank()
    with open(pathlib.Path(directory) / "payload", "rb") as f:
        prepare(pickle.load(f))
        fn, args = pickle.load(f)
    from .spawn import _record
    try:
        fn(rank, *args)
    except KeyboardInterrupt:
        MPI.COMM_WORLD.Abort(130)
    except BaseException as error:
        if isinstance(error, SystemExit) and not error.code:
            return
        _record(directory, rank)
        import traceback
        sys.stderr.write(f"[rank {rank}] {traceback.format_exc()}")
        sys.stderr.flush()
        MPI.COMM_WORLD.Abort(1)


if __name__ == "__main__":
    main(sys.argv[1])
