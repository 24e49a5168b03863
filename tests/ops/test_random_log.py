"""The C library's float64 log that PyTorch's double samplers call, computed in bulk (``_samplers._log``): equal to
``math.log`` (the same C function) bit for bit, on uniforms and on values across the whole float64 range."""
import math

import numpy

from ember.ops import _samplers


def test_bulk_log_equals_the_c_librarys():
    rng = numpy.random.default_rng(7)
    values = numpy.concatenate([
        1 - rng.integers(0, 1 << 53, 200_000) * 2.0 ** -53,          # 1 - u, as Box-Muller takes it
        rng.integers(1, 1 << 53, 50_000) * 2.0 ** -53,               # u, as geometric_ takes it
        numpy.exp(rng.uniform(-740, 709, 50_000)),                    # the whole range, subnormals included
        2.0 ** numpy.arange(-1074, 1024), [1.0, 1 - 2 ** -53, 1 + 2 ** -52, 5e-324, numpy.finfo(float).max]])
    expected = numpy.array([math.log(v) for v in values.tolist()])
    numpy.testing.assert_array_equal(_samplers._log(values).view(numpy.int64), expected.view(numpy.int64))
