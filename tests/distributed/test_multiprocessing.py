"""ember.multiprocessing: Hogwild training on a model in shared memory, tensors shared through queues."""
import sys

import pytest

import ember
from .launch import SCRIPTS, run


@pytest.mark.parametrize("start_method", ["spawn", "fork"])
def test_hogwild_converges_and_shares_parameters(start_method, tmp_path):
    result = run([sys.executable, str(SCRIPTS / "hogwild.py"), start_method], timeout=90, cwd=tmp_path)
    assert result.returncode == 0 and "hogwild ok" in result.stdout, result.stdout + result.stderr
    # the children map the parent's blocks outside the resource tracker they share with it: no KeyError tracebacks
    assert "Traceback" not in result.stderr, result.stderr


def test_share_memory_keeps_values_and_views_stay_shared():
    t = ember.arange(6.0).reshape(2, 3)
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared()
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert t[1].is_shared() and not (t + 1).is_shared()
    module = ember.nn.Linear(2, 2)
    weight = module.weight
    assert module.share_memory() is module and module.weight is weight and weight.is_shared()


def test_spawn_checks_nprocs():
    import ember.multiprocessing as mp
    with pytest.raises(ValueError, match="nprocs"):
        mp.spawn(print, nprocs=0)
