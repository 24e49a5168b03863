"""One rank of an ``ember.distributed.run`` job: sets torchrun's per-rank environment from MPI, runs the script, and
aborts the whole job if the script fails (what ``python -m mpi4py`` does), so no other rank is left waiting."""
import os
import runpy
import sys
import traceback


def main(argv):
    from mpi4py import MPI   # initialized by every rank at start, so any rank can abort the job
    from ember.distributed._mpi import abort_job
    comm = MPI.COMM_WORLD
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    os.environ.update(RANK=str(comm.Get_rank()), LOCAL_RANK=str(local.Get_rank()),
                      GROUP_RANK=str(comm.Get_rank() // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))),
                      ROLE_RANK=str(comm.Get_rank()))
    local.Free()
    try:
        if argv[0] == "--exec":
            os.execvp(argv[1], argv[1:])
        if argv[0] == "-m":
            sys.argv = argv[1:]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = argv
            sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
            runpy.run_path(os.path.abspath(argv[0]), run_name="__main__")   # as python gives __main__ its path
    except SystemExit as error:
        if error.code not in (None, 0):
            abort_job(comm, f"exited with {error.code!r}\n", error.code if isinstance(error.code, int) else 1)
    except BaseException as error:
        tb = error.__traceback__   # from the script's own frames, as python would print it
        while tb is not None and tb.tb_frame.f_code.co_filename in (__file__, runpy.__file__, "<frozen runpy>"):
            tb = tb.tb_next
        error.__traceback__ = tb   # Python's hook prints the exception's own traceback
        group = sys.modules.get("ember.distributed.process_group")
        if group is not None and group.is_initialized():
            sys.excepthook(type(error), error, tb)   # init_process_group's hook: PyTorch's format, then the abort
        abort_job(comm, "".join(traceback.format_exception(type(error), error, tb)))


if __name__ == "__main__":
    main(sys.argv[1:])
