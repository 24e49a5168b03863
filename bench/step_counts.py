"""Python calls and opcodes per phase of a ``bench_models`` training step and evaluation: a count that load on the
host does not move, for overhead work when timings are noisy.

    PYTHONPATH=$PWD python bench/step_counts.py mlp                  # eager
    PYTHONPATH=$PWD python bench/step_counts.py mlp --compiled --top 20 --phase forward

The step is ``bench_models.train_step``'s (zero_grad, forward, loss, backward, SGD-momentum step), counted with
``sys.settrace`` after warm-up steps (so captures and lazy set-up are not counted); ``--top`` lists the functions
with the most opcodes in ``--phase``. Opcodes of C code (NumPy, BLAS) are not seen: only the Python run around it.
"""
import argparse
import collections
import os
import sys

import numpy

import bench_models

PHASES = ("zero_grad", "forward", "loss", "backward", "step", "eval")


def count(model_name, compiled, warmup=3):
    """(calls, opcodes, per-function opcodes) per phase of one training step and one evaluation of ember."""
    import ember
    _, build, make, _ = bench_models.MODELS[model_name]
    ember.manual_seed(0)
    model = build(ember)
    if compiled:
        model = ember.compile(model)
    x, y = (ember.from_numpy(a) for a in make(numpy.random.default_rng(0)))
    optimizer = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = ember.nn.CrossEntropyLoss()
    for _ in range(warmup):
        bench_models.train_step(ember, model, optimizer, criterion, x, y)
    calls, opcodes, functions = collections.Counter(), collections.Counter(), collections.Counter()
    phase = [None]

    def trace(frame, event, arg):
        if event == "call":
            calls[phase[0]] += 1
            frame.f_trace_opcodes = True
        elif event == "opcode":
            opcodes[phase[0]] += 1
            code = frame.f_code
            functions[phase[0], os.path.relpath(code.co_filename), code.co_name] += 1
        return trace

    def run(name, function):
        phase[0] = name
        sys.settrace(trace)
        try:
            return function()
        finally:
            sys.settrace(None)

    run("zero_grad", optimizer.zero_grad)
    output = run("forward", lambda: model(x))
    loss = run("loss", lambda: criterion(output, y))
    run("backward", loss.backward)
    run("step", optimizer.step)
    model.eval()
    with ember.no_grad():
        for _ in range(warmup):   # an evaluation captures anew under ember.compile
            model(x)
        run("eval", lambda: model(x))
    return calls, opcodes, functions


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=[name for name in bench_models.MODELS if name != "dcgan"])
    parser.add_argument("--compiled", action="store_true", help="count ember.compile(model)'s step")
    parser.add_argument("--top", type=int, default=0, help="list this many functions of --phase by opcodes")
    parser.add_argument("--phase", default="forward", choices=PHASES)
    args = parser.parse_args()
    calls, opcodes, functions = count(args.model, args.compiled)
    print(f"{'phase':10s} {'calls':>7s} {'opcodes':>8s}")
    for name in PHASES:
        print(f"{name:10s} {calls[name]:7d} {opcodes[name]:8d}")
    train = PHASES[:-1]
    print(f"{'train step':10s} {sum(calls[n] for n in train):7d} {sum(opcodes[n] for n in train):8d}")
    ranked = sorted(((n, key[1:]) for key, n in functions.items() if key[0] == args.phase), reverse=True)
    for n, (path, name) in ranked[:args.top]:
        print(f"{n:8d}  {path}:{name}")


if __name__ == "__main__":
    main()
