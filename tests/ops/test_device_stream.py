"""The GPU dropout stream (``ember.ops.random.device_streams``): its uniforms, computed here with NumPy standing in
for CuPy, and its state, which ``ember.cuda.get_rng_state``, ``fork_rng`` and checkpoint's recomputation save and
restore. tests/cuda checks the same on a GPU."""
import numpy

import ember
from ember.ops import random

CUDA0 = ember.device("cuda", 0)


def test_counter_uniforms_are_uniform_and_depend_on_the_key_alone():
    ember.manual_seed(3)
    first, second = random._next_device_key(CUDA0), random._next_device_key(CUDA0)
    u = random._counter_uniform(numpy, (500, 400), first)
    assert u.dtype == numpy.float32 and u.shape == (500, 400) and 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 3e-3 and abs(u.var() - 1 / 12) < 2e-3 and abs((u < 0.3).mean() - 0.3) < 3e-3
    # neighbouring elements and consecutive fills are uncorrelated
    assert abs(numpy.corrcoef(u.ravel()[:-1], u.ravel()[1:])[0, 1]) < 0.01
    v = random._counter_uniform(numpy, (500, 400), second)
    assert abs(numpy.corrcoef(u.ravel(), v.ravel())[0, 1]) < 0.01
    numpy.testing.assert_array_equal(random._counter_uniform(numpy, (500, 400), first), u)
    numpy.testing.assert_array_equal(random._counter_uniform(numpy, (7,), first), u.ravel()[:7])


def test_seeding_restarts_the_stream_and_its_state_round_trips():
    ember.manual_seed(5)
    keys = [random._next_device_key(CUDA0) for _ in range(3)]
    ember.manual_seed(5)
    assert [random._next_device_key(CUDA0) for _ in range(3)] == keys
    ember.manual_seed(6)
    assert random._next_device_key(CUDA0) != keys[0]
    ember.manual_seed(5)
    random._next_device_key(CUDA0)
    state = ember.cuda.get_rng_state("cuda:0")
    assert state.dtype == ember.uint8 and state.shape == (16,) and not state.is_cuda
    after = [random._next_device_key(CUDA0) for _ in range(2)]
    ember.cuda.set_rng_state(state, "cuda:0")
    assert [random._next_device_key(CUDA0) for _ in range(2)] == after == keys[1:]


def test_fork_rng_and_checkpoint_restore_the_device_streams():
    ember.manual_seed(7)
    with ember.random.fork_rng():
        inside = random._next_device_key(CUDA0)
    assert random._next_device_key(CUDA0) == inside   # the fork's draw did not advance the stream outside
    from ember.utils import checkpoint
    saved = random.all_states()
    expected = random._next_device_key(CUDA0)
    with checkpoint._rng_restored(saved):
        assert random._next_device_key(CUDA0) == expected   # the recomputation draws the forward's masks again
    assert random._next_device_key(CUDA0) != expected
