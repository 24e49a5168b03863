"""PyTorch's CPU random engine: a 32-bit Mersenne Twister seeded and laid out exactly as ``at::mt19937``.

Words are drawn in blocks through NumPy's ``MT19937`` bit generator (same recurrence, same tempering), so a
block of n outputs costs one NumPy call; between draws the bit generator keeps the state (moving it in or out
costs ~0.1 ms), which is copied back only when the state is read. The engine keeps PyTorch's bookkeeping
(``next``/``left``, the two cached normal samples) so that its state serialises to the 5056 bytes of
``CPUGeneratorImplState``.
"""
import numpy

N = 624
STATE_BYTES = 5056
_WORDS = slice(24, 24 + 8 * N)


def _temper(y):
    y = y ^ (y >> numpy.uint32(11))
    y = y ^ ((y << numpy.uint32(7)) & numpy.uint32(0x9D2C5680))
    y = y ^ ((y << numpy.uint32(15)) & numpy.uint32(0xEFC60000))
    return y ^ (y >> numpy.uint32(18))


def _init_genrand(seed32):
    """The 624 state words of ``mt19937(seed)`` (Matsumoto and Nishimura's initialisation)."""
    key = [seed32]
    for j in range(1, N):
        prev = key[-1]
        key.append((1812433253 * (prev ^ (prev >> 30)) + j) & 0xFFFFFFFF)
    return numpy.array(key, numpy.uint32)


def join64(words):
    """64-bit outputs from pairs of 32-bit ones, the first of each pair the high half (on a little-endian host)."""
    pairs = words.view(numpy.uint64)
    return (pairs << numpy.uint64(32)) | (pairs >> numpy.uint64(32))


class Engine:
    """The state of one CPU generator: seed, Twister words and position, and the cached normal samples."""

    __slots__ = ("_bits", "_draw", "_live", "key", "left", "next", "normal_double", "normal_float", "seed")

    def __init__(self, seed):
        self._bits = numpy.random.MT19937()
        # full-range uint32 integers are the raw outputs, drawn without the uint64 round trip of random_raw
        self._draw = numpy.random.Generator(self._bits).integers
        self.reseed(seed)

    def reseed(self, seed):
        self.seed = seed
        self.key = _init_genrand(seed & 0xFFFFFFFF)
        self.next, self.left, self._live = 0, 1, False
        self.normal_double = self.normal_float = None

    def words(self, n):
        """The next ``n`` 32-bit outputs, as a uint32 array."""
        if not self._live:
            available = self.left - 1   # outputs left in the current block, from key[next]
            if 0 < available and self.next + available != N:   # a state PyTorch allows that MT19937 cannot hold
                head = min(n, available)
                out = _temper(self.key[self.next:self.next + head])
                self.next, self.left = self.next + head, self.left - head
                return out if head == n else numpy.concatenate([out, self.words(n - head)])
            if n == 0:
                return numpy.empty(0, numpy.uint32)
            self._bits.state = {"bit_generator": "MT19937", "state": {"key": self.key, "pos": N - available}}
            self._live = True
        return self._draw(0, 1 << 32, n, dtype=numpy.uint32)

    def _settle(self):
        """Copies the state back from NumPy's bit generator, which holds it after a draw."""
        if self._live:
            state = self._bits.state["state"]
            self.key, self.next = state["key"].astype(numpy.uint32), int(state["pos"])
            self.left = N + 1 - self.next
            self._live = False

    def words64(self, n):
        """The next ``n`` 64-bit outputs: each joins two 32-bit ones, the first as the high half."""
        return join64(self.words(2 * n))

    def position(self):
        """The Twister's position, for ``rewind``."""
        self._settle()
        return self.key, self.next, self.left

    def rewind(self, position):
        """Goes back to a ``position`` (draws after it are drawn again, identically)."""
        self.key, self.next, self.left = position
        self._live = False

    def get_state(self):
        """``CPUGeneratorImplState``'s bytes (little-endian, as on the machines PyTorch runs on)."""
        self._settle()
        raw = numpy.zeros(STATE_BYTES, numpy.uint8)
        raw[0:8] = numpy.frombuffer(numpy.uint64(self.seed).tobytes(), numpy.uint8)
        raw[8:16] = numpy.frombuffer(numpy.array([self.left, 1], "<i4").tobytes(), numpy.uint8)
        raw[16:24] = numpy.frombuffer(numpy.uint64(self.next).tobytes(), numpy.uint8)
        raw[_WORDS] = numpy.frombuffer(self.key.astype("<u8").tobytes(), numpy.uint8)
        if self.normal_double is not None:
            raw[5024:5032] = numpy.frombuffer(numpy.float64(self.normal_double).tobytes(), numpy.uint8)
            raw[5040] = 1
        if self.normal_float is not None:
            raw[5048:5052] = numpy.frombuffer(numpy.float32(self.normal_float).tobytes(), numpy.uint8)
            raw[5052] = 1
        return raw

    def set_state(self, raw):
        """Restores bytes from ``get_state`` (or PyTorch's ``get_rng_state``); RuntimeError if they are invalid."""
        raw = bytes(raw)
        seed, = numpy.frombuffer(raw[0:8], "<u8")
        left, seeded = numpy.frombuffer(raw[8:16], "<i4")
        nxt, = numpy.frombuffer(raw[16:24], "<u8")
        nxt = int(nxt) & 0xFFFFFFFF
        if not seeded or not 0 < left <= N or nxt > N or nxt + left - 1 > N:
            raise RuntimeError("Invalid mt19937 state")
        self.seed, self.left, self.next, self._live = int(seed), int(left), nxt, False
        self.key = numpy.frombuffer(raw[_WORDS], "<u8").astype(numpy.uint32)
        self.normal_double = float(numpy.frombuffer(raw[5024:5032], "<f8")[0]) if raw[5040] else None
        self.normal_float = numpy.frombuffer(raw[5048:5052], "<f4")[0] if raw[5052] else None
