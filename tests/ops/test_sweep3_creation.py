"""Creation, as a third differential sweep against PyTorch 2.13 found it: ``linspace`` in float16 and bfloat16
rounds the step, each product and each sum to the dtype as PyTorch's kernel does; the factories take
``pin_memory=False`` as PyTorch's do; each case run on both."""
import pytest

from tests.oracle import same_listing

LINSPACES = [(0, 10, 4), (1, 0, 4), (0, 7, 4), (0, 1, 5), (-3.3, 7.1, 11), (2.5, -1.25, 37), (0, 1000, 7),
             (0.1, 0.2, 50), (0, 1, 1), (0, 1, 0), (3, 3, 3), (-17.7, 41.3, 133)]


@pytest.mark.parametrize("args", LINSPACES)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_linspace_in_16_bit_floats(args, dtype):
    same_listing(lambda L: L.linspace(*args, dtype=getattr(L, dtype)))


FACTORIES = [lambda L, **k: L.zeros(2, 3, **k), lambda L, **k: L.ones((2,), **k), lambda L, **k: L.full((2,), 1.5, **k),
             lambda L, **k: L.scalar_tensor(2, **k), lambda L, **k: L.eye(2, **k), lambda L, **k: L.arange(3, **k),
             lambda L, **k: L.linspace(0, 1, 3, **k),
             lambda L, **k: L.logspace(0, 1, 3, **k), lambda L, **k: L.zeros_like(L.ones(2), **k),
             lambda L, **k: L.ones_like(L.ones(2), **k), lambda L, **k: L.full_like(L.ones(2), 7, **k),
             lambda L, **k: tuple(L.empty_like(L.ones(2), **k).shape)]


@pytest.mark.parametrize("factory", FACTORIES)
def test_factories_take_pin_memory(factory):
    same_listing(lambda L: factory(L, pin_memory=False))
