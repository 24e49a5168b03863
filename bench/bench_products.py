"""Float32 matrix products at the shapes of the benchmark models' layers: NumPy's OpenBLAS by operand layout beside
PyTorch's GEMM, to tell on this host whether a product is behind PyTorch's and which layout OpenBLAS runs fastest.

    PYTHONPATH=$PWD python bench/bench_products.py --threads 1
    PYTHONPATH=$PWD python bench/bench_products.py --threads 2 --shapes 64x784x256,2048x128x384

A shape ``MxKxN`` is C (M x N) = A (M x K) @ B (K x N). Each layout is one ``cblas_sgemm`` through ctypes into a
preallocated output (ember's ``_blas._gemm``): ``NN``, ``NT``, ``TN`` (T: the operand stored transposed, as a weight
``W`` is for ``x @ W.T``), ``swNN``/``swNT``/``swTN`` the swapped product C.T = B.T @ A.T (Linear's float32 form for
fewer rows than features), ``NT+b`` with beta = 1 (a product started from its bias). ``torch`` is ``torch.mm`` of
the same operands (``A @ W.T``) in its own process, at the same thread count. Each child times its variants in
alternating rounds and reports the fastest and the median call (wall us) and GFLOP/s at the fastest; a square 1024
product gives the host's large-product rate for reference. The OpenBLAS tuning variables of this shell are unset
for the children, as in ``bench_models.py``.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy

SHAPES = "64x784x256,256x64x784,64x256x128,64x128x256,128x64x256,2048x128x384,2048x512x128,1024x1024x1024"
"""The seeds' MLP at batch 64 (784-256-128: forward, weight and input gradients), two of the Transformer's (d_model
128, 2048 tokens) and the square reference."""

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def ember_variants(M, K, N, rng):
    """{layout: call} for one shape, on operands made once (NumPy's OpenBLAS through ember's ctypes binding)."""
    from ember.ops import _blas
    gemm = _blas._gemm("f")
    if gemm is None:
        raise SystemExit("NumPy's OpenBLAS cblas_sgemm was not found")
    a, b = rng.standard_normal((M, K), dtype=numpy.float32), rng.standard_normal((K, N), dtype=numpy.float32)
    a_t, b_t = numpy.ascontiguousarray(a.T), numpy.ascontiguousarray(b.T)
    c, c_t = numpy.empty((M, N), numpy.float32), numpy.empty((N, M), numpy.float32)

    def call(trans_a, trans_b, rows, cols, first, lda, second, ldb, out, beta=0.0):
        return lambda: gemm(_ROW_MAJOR, trans_a, trans_b, rows, cols, K, 1.0, first.ctypes.data, lda,
                            second.ctypes.data, ldb, beta, out.ctypes.data, cols)
    return {"NN": call(_NO_TRANS, _NO_TRANS, M, N, a, K, b, N, c), "NT": call(_NO_TRANS, _TRANS, M, N, a, K, b_t, K, c),
            "TN": call(_TRANS, _NO_TRANS, M, N, a_t, M, b, N, c),
            "swNN": call(_NO_TRANS, _NO_TRANS, N, M, b_t, K, a_t, M, c_t),
            "swNT": call(_NO_TRANS, _TRANS, N, M, b_t, K, a, K, c_t),
            "swTN": call(_TRANS, _NO_TRANS, N, M, b, N, a_t, M, c_t),
            "NT+b": call(_NO_TRANS, _TRANS, M, N, a, K, b_t, K, c, 1.0)}


def torch_variants(M, K, N, rng):
    import torch
    a = torch.from_numpy(rng.standard_normal((M, K), dtype=numpy.float32))
    w = torch.from_numpy(rng.standard_normal((N, K), dtype=numpy.float32))
    c = torch.empty(M, N)
    return {"torch": lambda: torch.mm(a, w.t(), out=c)}


def child(library, shape, threads, rounds):
    """{layout: [seconds, ...]} for one shape in this process."""
    M, K, N = shape
    if library == "torch":
        import torch
        torch.set_num_threads(threads)
        variants = torch_variants(M, K, N, numpy.random.default_rng(0))
    else:
        import ember
        ember.set_num_threads(threads)
        variants = ember_variants(M, K, N, numpy.random.default_rng(0))
    calls = max(3, min(200, int(2e9 / (M * K * N))))   # ~1-2 s a shape on one core
    times = {name: [] for name in variants}
    for function in variants.values():
        function()
    for _ in range(rounds):
        for name, function in variants.items():
            for _ in range(calls // rounds or 1):
                start = time.perf_counter()
                function()
                times[name].append(time.perf_counter() - start)
    return times


def run_child(library, shape, threads, rounds):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps([library, shape, threads, rounds])],
                          capture_output=True, text=True, env=env, timeout=600)
    if done.returncode:
        raise SystemExit(f"{library} {shape}: {done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default=SHAPES, help="comma-separated MxKxN")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds within each child")
    parser.add_argument("--no-torch", action="store_true", help="OpenBLAS's layouts only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        library, shape, threads, rounds = json.loads(args.child)
        print(json.dumps(child(library, shape, threads, rounds)))
        return
    print(f"# threads {args.threads}, load {os.getloadavg()[0]:.2f}; wall us: fastest / median call, GFLOP/s at the "
          "fastest")
    for text in args.shapes.split(","):
        shape = [int(n) for n in text.split("x")]
        times = run_child("ember", shape, args.threads, args.rounds)
        if not args.no_torch:
            times.update(run_child("torch", shape, args.threads, args.rounds))
        flops = 2 * shape[0] * shape[1] * shape[2]
        cells = [f"{name} {min(t) * 1e6:.0f}/{statistics.median(t) * 1e6:.0f} ({flops / min(t) / 1e9:.0f})"
                 for name, t in times.items()]
        print(f"{text:16s} " + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
