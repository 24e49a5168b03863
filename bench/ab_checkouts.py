"""Two ember checkouts timed on one of ``bench_models``' models, alternating: an A/B of a change.

    git worktree add /tmp/base main
    python bench/ab_checkouts.py resnet18_224 /tmp/base $PWD --steps 5 --rounds 4

Each run is a child process importing ember from its checkout (``bench_models.child``, with the OpenBLAS tuning
variables unset and ``--threads`` threads, one by default); the checkouts alternate which goes first each round.
Prints each run's median training step and evaluation, then the medians over all rounds: in process CPU time at one
thread (the steadier figure), in wall-clock time at more (where the second core's help is what is measured).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = """
import json, sys
sys.path[:0] = [sys.argv[1] + '/bench', sys.argv[1]]
import ember
import bench_models
ember.set_num_threads(int(sys.argv[4]))
result = bench_models.child('ember', sys.argv[2], int(sys.argv[3]), 2)
print(json.dumps({key: result[key] for key in ('train', 'eval', 'train_cpu', 'eval_cpu')}))
"""


def run(checkout, model, steps, threads):
    """One child's per-step seconds, {'train': [...], 'eval': [...], 'train_cpu': [...], 'eval_cpu': [...]}."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    done = subprocess.run([sys.executable, "-c", CHILD, checkout, model, str(steps), str(threads)], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{checkout}: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("checkouts", nargs=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    train, evaluate = ("train_cpu", "eval_cpu") if args.threads == 1 else ("train", "eval")
    times = {checkout: {train: [], evaluate: []} for checkout in args.checkouts}
    for round_ in range(args.rounds):
        for checkout in args.checkouts if round_ % 2 == 0 else args.checkouts[::-1]:
            result = run(checkout, args.model, args.steps, args.threads)
            for key in (train, evaluate):
                times[checkout][key] += result[key]
            print(f"{checkout} round {round_}: train {statistics.median(result[train]) * 1e3:.1f} ms, "
                  f"eval {statistics.median(result[evaluate]) * 1e3:.1f} ms", flush=True)
    for checkout, result in times.items():
        print(f"median {checkout} {args.model}: train {statistics.median(result[train]) * 1e3:.1f} ms, "
              f"eval {statistics.median(result[evaluate]) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
