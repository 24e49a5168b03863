"""ember's intra-op pool beside NumPy's OpenBLAS threads: by default as many pool threads as BLAS threads, with the
BLAS threads told to sleep soon after each product; the user's OMP_NUM_THREADS / OPENBLAS_THREAD_TIMEOUT win. Each
case runs in a fresh process (the settings are per process)."""
import json
import os
import subprocess
import sys

import pytest

from ember import _runtime

PROBE = """
import json, os
import ember
from ember import _runtime
from ember.ops import _parallel
found = _runtime._openblas()
before = found[0].openblas_thread_timeout() if found else None
x = ember.randn(1000, 600)
y = ((x * 2).relu() + x).sum()        # large elementwise kernels: the pool starts, if it has threads
assert abs(float(y) - float(((x.numpy() * 2).clip(0) + x.numpy()).sum(dtype='float64'))) < 1e-1
print(json.dumps({"pool": _parallel.num_threads(), "blas": _runtime.get_num_threads(), "before": before,
                  "after": found[0].openblas_thread_timeout() if found else None,
                  "env": os.environ.get("OPENBLAS_THREAD_TIMEOUT")}))
"""


def probe(**env):
    variables = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT",
                                                                   "OPENBLAS_NUM_THREADS")}
    variables.update(env)
    done = subprocess.run([sys.executable, "-c", PROBE], env=variables, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


quiet = pytest.mark.skipif(not _runtime._blas_threads_sleep() or "OPENBLAS_THREAD_TIMEOUT" in os.environ,
                           reason="NumPy's BLAS cannot be told to sleep at run time here")


@quiet
def test_default_pool_matches_the_blas_and_quiets_its_threads():
    result = probe(OPENBLAS_NUM_THREADS="2")
    assert result["pool"] == result["blas"] == 2
    assert result["after"] == int(_runtime._QUIET_TIMEOUT)
    assert result["env"] is None   # the variable is not left for child processes


def test_users_settings_win():
    assert probe(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="2")["pool"] == 1
    spinning = probe(OPENBLAS_THREAD_TIMEOUT="28", OPENBLAS_NUM_THREADS="2")
    assert spinning["pool"] == 1 and spinning["env"] == "28"
    if spinning["before"] is not None:
        assert spinning["after"] == spinning["before"] == 28   # not read again
    assert probe(OPENBLAS_THREAD_TIMEOUT="4", OPENBLAS_NUM_THREADS="2")["pool"] == 2
