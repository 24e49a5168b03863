"""Empty inputs the distributions sweep reached through Wishart and Categorical: amax/amin name the first empty
dim in the order the dims were given (ember named the wrong one for (-1, -2)), and multinomial with replacement
samples zero rows (ember failed stacking none)."""
import pytest

from tests.oracle import same_outcome

CALLS = {
    "amax dims reversed": lambda L: L.ones(2, 0, 3).amax((-1, -2)),
    "amin dims reversed": lambda L: L.ones(2, 0, 3).amin((-1, -2)),
    "amax both empty": lambda L: L.ones(2, 0, 0).amax((2, -2)),
    "amax list": lambda L: L.ones(2, 0, 3).amax([2, 1]),
    "amax 0-d": lambda L: L.ones(()).amax(0),
    "amax kept": lambda L: L.ones(2, 4, 3).amax((-1, -2), keepdim=True),
    "multinomial no rows": lambda L: L.multinomial(L.ones(0, 5), 2, True),
    "multinomial no rows once": lambda L: L.multinomial(L.ones(0, 5), 1, True),
    "multinomial rows": lambda L: (L.manual_seed(3), L.multinomial(L.tensor([[0.2, 0.3, 0.5], [0.9, 0.1, 0.0]]), 6,
                                                                    True))[1],
}


@pytest.mark.parametrize("name", CALLS)
def test_call(name):
    same_outcome(CALLS[name])
