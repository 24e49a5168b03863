"""``torch.quasirandom``: the (scrambled) Sobol engine, drawing PyTorch's points bit for bit.

PyTorch's kernels (``_sobol_engine_initialize_state_``, ``_sobol_engine_scramble_``, ``_sobol_engine_draw``,
``_sobol_engine_ff_``) are the NumPy functions below. The direction numbers are Joe and Kuo's (new-joe-kuo-6.21201),
the table PyTorch compiles in; ember reads the same table from SciPy's copy (``scipy.stats``), so the engine needs
SciPy installed (loaded on the first engine made). Scrambling draws its bits with ``randint``, as PyTorch does, so a
seeded engine gives PyTorch's points.
"""
import numpy

from . import _dtype
from ._tensor import _make

__all__ = ["SobolEngine"]

_MAXBIT = 30
_RECIPD = 1.0 / (1 << _MAXBIT)
_TABLE = []   # [(poly, initial direction numbers)] once read


def _direction_numbers():
    """Joe and Kuo's primitive polynomials and initial direction numbers for 21201 dimensions (SciPy's copy)."""
    if not _TABLE:
        import importlib.util
        import os
        spec = importlib.util.find_spec("scipy")   # the file only: importing scipy.stats would take seconds
        try:
            if spec is None or not spec.submodule_search_locations:
                raise FileNotFoundError("scipy")
            path = os.path.join(spec.submodule_search_locations[0], "stats", "_sobol_direction_numbers.npz")
            with numpy.load(path) as table:
                _TABLE.append((table["poly"], table["vinit"]))
        except FileNotFoundError as error:
            raise ImportError("ember.quasirandom.SobolEngine reads Joe and Kuo's direction numbers from SciPy: "
                              "pip install scipy") from error
    return _TABLE[0]


def _initialize_state(dimension):
    """PyTorch's ``_sobol_engine_initialize_state_``: the (dimension, 30) int64 direction numbers, each column scaled
    by its power of two (Bratley and Fox's recurrence past the initial numbers)."""
    poly, vinit = _direction_numbers()
    state = numpy.zeros((dimension, _MAXBIT), numpy.int64)
    state[0] = 1
    poly = poly[:dimension].astype(numpy.int64)
    degrees = numpy.frompyfunc(int.bit_length, 1, 1)(poly).astype(numpy.int64) - 1
    for m in numpy.unique(degrees[1:]):
        rows = numpy.flatnonzero(degrees == m)
        rows = rows[rows > 0]
        p = poly[rows]
        v = state[rows]
        v[:, :m] = vinit[rows, :m]
        for j in range(m, _MAXBIT):
            new = v[:, j - m].copy()
            for k in range(m):
                taps = (p >> (m - 1 - k)) & 1
                new ^= taps * ((2 << k) * v[:, j - k - 1])
            v[:, j] = new
        state[rows] = v
    return state * (numpy.int64(1) << numpy.arange(_MAXBIT - 1, -1, -1, dtype=numpy.int64))


def _parity(x):
    """1 where an int64 (of 30 bits) has an odd number of set bits."""
    for shift in (16, 8, 4, 2, 1):
        x = x ^ (x >> shift)
    return x & 1


def _scramble_state(state, ltm):
    """PyTorch's ``_sobol_engine_scramble_``: each direction number's bits multiplied (over GF(2)) by its
    dimension's lower-triangular matrix with a unit diagonal."""
    ltm = ltm.copy()
    index = numpy.arange(_MAXBIT)
    ltm[:, index, index] = 1
    rows = (ltm * (numpy.int64(1) << numpy.arange(_MAXBIT - 1, -1, -1, dtype=numpy.int64))).sum(-1)   # (dim, p)
    weights = numpy.int64(1) << numpy.arange(_MAXBIT - 1, -1, -1, dtype=numpy.int64)   # row p -> bit 29 - p
    out = numpy.empty_like(state)
    for start in range(0, state.shape[0], 1024):   # (dims, j, p) of int64 at a time
        bits = _parity(state[start:start + 1024, :, None] & rows[start:start + 1024, None, :])
        out[start:start + 1024] = (bits * weights).sum(-1)
    return out


def _rightmost_zeros(start, n):
    """The index of the lowest zero bit of each of ``start, start + 1, ..., start + n - 1``."""
    counts = numpy.arange(start, start + n, dtype=numpy.int64)
    ones = ~counts & (counts + 1)   # the lowest zero bit, alone
    return numpy.log2(ones.astype(numpy.float64)).astype(numpy.int64) if n else numpy.zeros(0, numpy.int64)


def _draw(quasi, n, state, num_generated):
    """PyTorch's ``_sobol_engine_draw`` on arrays: (n, dimension) integer points and the last one."""
    if n <= 0:
        return numpy.zeros((0, quasi.shape[0]), numpy.int64), quasi.copy()
    steps = state[:, _rightmost_zeros(num_generated, n)].T   # (n, dimension)
    steps[0] ^= quasi
    points = numpy.bitwise_xor.accumulate(steps, axis=0)
    return points, points[-1].copy()


class SobolEngine:
    r"""An engine for (scrambled) Sobol sequences, quasi-random points of low discrepancy in up to 21201
    dimensions, with Joe and Kuo's direction numbers (search criterion D(6)), as PyTorch's.

    Args:
        dimension (int): the dimensionality of the points.
        scramble (bool): draw scrambled points (Owen's linear matrix scrambling with a random digital shift).
        seed (int, optional): the seed of the scrambling's generator; a random one when None.
    """

    MAXBIT = _MAXBIT
    MAXDIM = 21201

    def __init__(self, dimension, scramble=False, seed=None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError("Supported range of dimensionality "
                             f"for SobolEngine is [1, {self.MAXDIM}]")
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        self.sobolstate = _make(_initialize_state(dimension))
        if not self.scramble:
            self.shift = _make(numpy.zeros(self.dimension, numpy.int64))
        else:
            self._scramble()
        self.quasi = self.shift.clone()
        self._first_point = (self.quasi / 2 ** self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    def _points(self, n, num_generated, dtype):
        points, last = _draw(self.quasi._data, n, self.sobolstate._data, num_generated)
        self.quasi = _make(last)
        # as PyTorch's kernel: each integer point converted to the result's type, then scaled by 2**-30
        return _make(points.astype(dtype.numpy) * dtype.numpy.type(_RECIPD))

    def draw(self, n=1, out=None, dtype=None):
        """The next ``n`` points of the sequence, as an (n, dimension) tensor of ``dtype`` (the default dtype when
        None); written into ``out`` (resized) when given."""
        if dtype is None:
            dtype = _dtype.get_default_dtype()
        if self.num_generated == 0:
            if n == 1:
                result = self._first_point.to(dtype)
            else:
                from .ops.rearrange import cat
                result = cat((self._first_point.to(dtype), self._points(n - 1, 0, dtype)), dim=-2)
        else:
            result = self._points(n, self.num_generated - 1, dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m, out=None, dtype=None):
        """The next ``2**m`` points; the points drawn in all must stay a power of two (the balance of Sobol'
        points)."""
        n = 2 ** m
        total_n = self.num_generated + n
        if not (total_n & (total_n - 1) == 0):
            raise ValueError("The balance properties of Sobol' points require "
                             f"n to be a power of 2. {self.num_generated} points have been "
                             f"previously generated, then: n={self.num_generated}+2**{m}={total_n}. "
                             "If you still want to do this, please use "
                             "'SobolEngine.draw()' instead.")
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self):
        """Back to the sequence's start."""
        self.quasi.copy_(self.shift)
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        """Skips ``n`` points, as drawing them would."""
        start = self.num_generated - 1 if self.num_generated else 0
        count = n if self.num_generated else n - 1
        if count > 0:
            self.quasi = _make(_draw(self.quasi._data, count, self.sobolstate._data, start)[1])
        self.num_generated += n
        return self

    def _scramble(self):
        from .ops.random import Generator, randint
        g = None
        if self.seed is not None:
            g = Generator()
            g.manual_seed(self.seed)
        shift_ints = randint(2, (self.dimension, self.MAXBIT), generator=g)
        self.shift = _make(shift_ints._data @ (numpy.int64(1) << numpy.arange(self.MAXBIT, dtype=numpy.int64)))
        ltm = randint(2, (self.dimension, self.MAXBIT, self.MAXBIT), generator=g)._data
        self.sobolstate = _make(_scramble_state(self.sobolstate._data, numpy.tril(ltm)))

    def __repr__(self):
        fmt_string = [f"dimension={self.dimension}"]
        if self.scramble:
            fmt_string += ["scramble=True"]
        if self.seed is not None:
            fmt_string += [f"seed={self.seed}"]
        return self.__class__.__name__ + "(" + ", ".join(fmt_string) + ")"

