"""Latency of the seeds' CNN: eager ember vs its loaded trace (the IR interpreter) vs ONNX Runtime, batch 1 and 64.

    OPENBLAS_THREAD_TIMEOUT=4 python bench/bench_deploy.py [--repeats 30]

Goal: the interpreter within 1.05x of eager ember. Prints medians in ms and the ratios.
"""
import argparse
import io
import os
import statistics
import sys
import time

import numpy

import ember

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))
from mnist_cnn import Net


def median_ms(function, repeats):
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    ember.manual_seed(0)
    model = Net().eval()
    buffer = io.BytesIO()
    ember.jit.trace(model, ember.randn(1, 1, 28, 28)).save(buffer)
    buffer.seek(0)
    loaded = ember.jit.load(buffer)
    session = None
    try:
        import onnxruntime
        onnx_file = io.BytesIO()
        ember.onnx.export(model, (ember.randn(1, 1, 28, 28),), onnx_file, input_names=["x"],
                          dynamic_axes={"x": [0], "output": [0]})
        session = onnxruntime.InferenceSession(onnx_file.getvalue(), providers=["CPUExecutionProvider"])
    except ImportError:
        pass
    for batch in (1, 64):
        x = ember.randn(batch, 1, 28, 28)
        with ember.no_grad():
            eager = median_ms(lambda: model(x), args.repeats)
            interpreted = median_ms(lambda: loaded(x), args.repeats)
        line = (f"batch {batch:3d}: eager {eager:8.2f} ms  loaded trace {interpreted:8.2f} ms "
                f"({interpreted / eager:.3f}x)")
        if session is not None:
            feed = {"x": numpy.asarray(x)}
            runtime = median_ms(lambda: session.run(None, feed), args.repeats)
            line += f"  ONNX Runtime {runtime:8.2f} ms ({runtime / eager:.3f}x)"
        print(line)


if __name__ == "__main__":
    main()
