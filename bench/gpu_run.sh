#!/usr/bin/env bash
# One prepared run on a machine with an NVIDIA GPU (as the device tool lends): the GPU tests (tests/cuda and the
# distributed ones on CUDA tensors), bench/bench_gpu.py, then the suite with every oracle sample repeated on CUDA.
# Logs go to $OUT (default /tmp/ember-gpu). The steps share a deadline of BUDGET seconds (default 250), in that order.
#   bash bench/gpu_run.sh [--quick]
# MPI: wheels of mpich and mpi4py carried in .whl/ (pip download ... -d .whl) are installed beside the machine's
# Python (which holds CuPy and PyTorch); without an MPI the distributed GPU test skips.
set -u
OUT=${OUT:-/tmp/ember-gpu}; mkdir -p "$OUT"
deadline=$((SECONDS + ${BUDGET:-250}))
left() { local t=$((deadline - SECONDS)); [ "$t" -gt "$1" ] && t=$1; [ "$t" -lt 1 ] && t=1; echo "$t"; }
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
PY=python3
if ls .whl/mpi4py-*.whl .whl/mpich-*.whl >/dev/null 2>&1; then   # pip --target would drop mpich's lib/: unzip it
    $PY -m pip install -q --no-index --no-deps --target /tmp/ember-site .whl/mpi4py-*.whl
    $PY -m zipfile -e .whl/mpich-*.whl /tmp/ember-mpich && chmod +x /tmp/ember-mpich/*/data/bin/*
    mpich=$(echo /tmp/ember-mpich/*/data)
    export PYTHONPATH=$PWD:/tmp/ember-site PATH=$mpich/bin:$PATH LD_LIBRARY_PATH=$mpich/lib:${LD_LIBRARY_PATH:-}
fi
command -v nvidia-smi >/dev/null && { $PY -c "import cupy" 2>/dev/null || $PY -m pip install -q cupy-cuda12x; }
{ nvidia-smi -L; $PY -c "import sys, numpy, cupy, torch; print(sys.version.split()[0], 'numpy', numpy.__version__,
'cupy', cupy.__version__, 'torch', torch.__version__)"; } 2>&1 | tee "$OUT/env.txt"
timeout "$(left 80)" $PY -m pytest -q -p no:cacheprovider -p no:benchmark -rfEs --tb=short tests/cuda \
    tests/distributed/test_cuda.py > "$OUT/cuda_tests.log" 2>&1
tail -15 "$OUT/cuda_tests.log"
timeout "$(left 100)" $PY bench/bench_gpu.py "$@" --json "$OUT/bench.json" --profile "$OUT/profile.txt" 2>&1 \
    | tee "$OUT/bench.log"
timeout "$(left 100)" $PY -m pytest -q -p no:cacheprovider -n 14 -p no:benchmark --timeout 120 -rf --tb=short \
    tests/ops tests/nn tests/autograd tests/optim tests/amp tests/func tests/test_tensor.py \
    tests/test_serialization.py tests/utils tests/vision tests/compile tests/jit tests/test_special.py \
    tests/test_special_polynomials_bessel.py tests/test_distributions.py tests/test_sparse.py tests/test_dtype.py \
    tests/test_nonfinite.py > "$OUT/suite.log" 2>&1
grep -E "passed|failed" "$OUT/suite.log" | tail -2
exit 0
