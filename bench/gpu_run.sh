#!/usr/bin/env bash
# One prepared run on a machine with an NVIDIA GPU (the device tool's lent machine): the GPU tests, every oracle
# sample of the suite repeated on CUDA, and bench/bench_gpu.py; logs go to $OUT (default /tmp/ember-gpu).
#   bash bench/gpu_run.sh [test seconds] [bench seconds] [--quick]
set -u
OUT=${OUT:-/tmp/ember-gpu}; mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
python3 -c "import cupy" 2>/dev/null || python3 -m pip install -q cupy-cuda12x
{ nvidia-smi -L; python3 -c "import sys, numpy, cupy, torch; print(sys.version.split()[0], 'numpy', numpy.__version__,
'cupy', cupy.__version__, 'torch', torch.__version__)"; } 2>&1 | tee "$OUT/env.txt"
timeout 60 python3 -m pytest -q -p no:cacheprovider tests/cuda -rfE --tb=short 2>&1 > "$OUT/cuda_tests.log"
tail -30 "$OUT/cuda_tests.log"
timeout "${1:-200}" python3 -m pytest -q -p no:cacheprovider -n 14 -p no:benchmark --timeout 120 -rf --tb=short tests/ops tests/nn \
    tests/autograd tests/optim tests/amp tests/func tests/test_tensor.py tests/test_serialization.py \
    > "$OUT/suite.log" 2>&1
grep -E "passed|failed" "$OUT/suite.log" | tail -3
[ "${2:-0}" -gt 0 ] && timeout "$2" python3 bench/bench_gpu.py ${3:-} --json "$OUT/bench.json" --profile "$OUT/profile.txt" 2>&1 | tee "$OUT/bench.log"
exit 0
