"""seed_everything: seeds Python's, NumPy's and ember's generators, as Lightning's does; isolate_rng keeps a block
from changing them."""
import contextlib
import logging
import os
import random

from .rank_zero import _get_rank, rank_prefixed_message, rank_zero_warn

log = logging.getLogger(__name__)

max_seed_value = 4294967295   # 2**32 - 1
min_seed_value = 0


def seed_everything(seed=None, workers=False, verbose=True):
    """Seeds Python's, NumPy's and ember's random generators (``seed`` None: ``PL_GLOBAL_SEED``, else 0) and sets
    ``PL_GLOBAL_SEED``/``PL_SEED_WORKERS`` for the Trainer's samplers and workers; returns the seed."""
    import numpy

    import ember
    if seed is None:
        env_seed = os.environ.get("PL_GLOBAL_SEED")
        if env_seed is None:
            seed = 0
            if verbose:
                rank_zero_warn(f"No seed found, seed set to {seed}")
        else:
            try:
                seed = int(env_seed)
            except ValueError:
                raise ValueError(f"Invalid seed specified via PL_GLOBAL_SEED: {repr(env_seed)}") from None
    elif not isinstance(seed, int):
        seed = int(seed)
    if not min_seed_value <= seed <= max_seed_value:
        raise ValueError(f"{seed} is not in bounds, numpy accepts from {min_seed_value} to {max_seed_value}")
    if verbose:
        log.info(rank_prefixed_message(f"Seed set to {seed}", _get_rank()))
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    random.seed(seed)
    numpy.random.seed(seed)
    ember.manual_seed(seed)
    os.environ["PL_SEED_WORKERS"] = f"{int(workers)}"
    return seed


@contextlib.contextmanager
def isolate_rng(include_cuda=True):
    """Puts Python's, NumPy's and ember's (and with ``include_cuda`` the GPUs') generator states back as they were
    when the block ends, as Lightning's does around its sanity check."""
    import numpy

    import ember
    cuda = include_cuda and ember.cuda.is_available()
    states = random.getstate(), numpy.random.get_state(), ember.get_rng_state(), \
        ember.cuda.get_rng_state_all() if cuda else None
    try:
        yield
    finally:
        random.setstate(states[0])
        numpy.random.set_state(states[1])
        ember.set_rng_state(states[2])
        if cuda:
            ember.cuda.set_rng_state_all(states[3])
