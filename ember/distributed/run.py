"""``python -m ember.distributed.run`` (console script ``emberrun``): torchrun's command line on mpiexec.

Starts ``nproc_per_node * nnodes`` ranks of a script through ``mpiexec``; each rank gets torchrun's environment
(``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``GROUP_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``,
``TORCHELASTIC_RUN_ID``) and runs under ``python -m mpi4py``'s rule: an uncaught exception on any rank prints it and
aborts the whole job. Several machines: run the command once, on node 0, with ``--hostfile`` listing the machines
(MPI starts the remote ranks itself); the same command on nodes with ``--node-rank`` > 0 has nothing to do.
"""
import argparse
import logging
import os
import subprocess
import sys
import uuid

from .. import _alias
from ..multiprocessing.spawn import mpiexec_path
from ._mpi import INSTALL_HINT


def parser():
    p = argparse.ArgumentParser(prog="python -m ember.distributed.run",
                                description="Start a data-parallel job's ranks through MPI, as torchrun does.")
    for names, kind, default, text in [
            (("--nproc-per-node", "--nproc_per_node"), str, "1", "ranks per machine (a number, or 'cpu')"),
            (("--nnodes",), int, 1, "number of machines"),
            (("--node-rank", "--node_rank"), int, 0, "this machine's index (only node 0 launches)"),
            (("--master-addr", "--master_addr"), str, "127.0.0.1", "address of node 0 (exported as MASTER_ADDR)"),
            (("--master-port", "--master_port"), int, 29500, "exported as MASTER_PORT (MPI picks its own ports)"),
            (("--hostfile",), str, None, "MPI hostfile naming the machines, for --nnodes > 1"),
            (("--rdzv-id", "--rdzv_id", "--run-id"), str, None, "job id (TORCHELASTIC_RUN_ID)")]:
        p.add_argument(*names, type=kind, default=default, help=text)
    p.add_argument("--standalone", action="store_true", help="single machine (the default here)")
    p.add_argument("-m", "--module", action="store_true", help="run the script argument as a module (python -m)")
    p.add_argument("--no-python", "--no_python", action="store_true", help="run the script as a program, not Python")
    p.add_argument("script", help="the training script (or module with -m)")
    p.add_argument("script_args", nargs=argparse.REMAINDER)
    return p


def command(args):
    """The mpiexec command line and environment that run ``args``' job."""
    nproc = os.cpu_count() if args.nproc_per_node == "cpu" else int(args.nproc_per_node)
    if nproc < 1 or args.nnodes < 1:
        raise ValueError("--nproc-per-node and --nnodes must be at least 1")
    mpiexec = mpiexec_path()
    if mpiexec is None:
        raise RuntimeError(f"mpiexec was not found: {INSTALL_HINT}")
    world = nproc * args.nnodes
    argv = [mpiexec, "-n", str(world)]
    if args.nnodes > 1:
        if args.hostfile is None:
            raise ValueError("--nnodes > 1 needs --hostfile naming the machines: MPI starts every node's ranks")
        argv += ["-f", args.hostfile, "-ppn", str(nproc)]
    if args.no_python:
        argv += [sys.executable, "-m", "ember.distributed._bootstrap", "--exec", args.script]
    else:
        # launched under `ember run` (the torch alias installed), the ranks run their script under it too
        runner = ["-m", "ember", "run"] if _alias.installed else []
        argv += [sys.executable, *runner, "-m", "ember.distributed._bootstrap"] + (["-m"] if args.module else [])
        argv += [args.script]
    argv += args.script_args
    threads = {}
    if "OMP_NUM_THREADS" not in os.environ and nproc > 1:
        # torchrun's default: ranks sharing a machine would each take every core (BLAS and ember's intra-op pool)
        threads = {"OMP_NUM_THREADS": "1"}
        logging.getLogger(__name__).warning(
            "\n*****************************************\nSetting OMP_NUM_THREADS environment variable for each "
            "process to be 1 in default, to avoid your system being overloaded, please further tune the variable "
            "for optimal performance in your application as needed. \n*****************************************")
    env = dict(os.environ, **threads, WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(nproc), MASTER_ADDR=args.master_addr,
               MASTER_PORT=str(args.master_port), TORCHELASTIC_RUN_ID=args.rdzv_id or uuid.uuid4().hex,
               PYTHONPATH=os.pathsep.join(p for p in [os.getcwd(), os.environ.get("PYTHONPATH", "")] if p))
    return argv, env


def main(argv=None):
    """Entry point: parses torchrun's options and runs the job; returns its exit code."""
    args = parser().parse_args(argv)
    if args.node_rank > 0:
        print(f"ember.distributed.run: node {args.node_rank} has nothing to start; node 0's mpiexec starts every "
              f"node's ranks through --hostfile", file=sys.stderr)
        return 0
    argv, env = command(args)
    return subprocess.call(argv, env=env)


if __name__ == "__main__":
    sys.exit(main())
