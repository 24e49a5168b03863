"""Lightning's PossibleUserWarning (e.g. fewer training batches than the logging interval, which every tiny run
here has) is expected in these tests; the suite turns other warnings into errors."""
import os

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.fspath).startswith(_HERE):
            item.add_marker(pytest.mark.filterwarnings(
                "ignore::ember.lightning.utilities.warnings.PossibleUserWarning"))


@pytest.fixture(autouse=True)
def _restore_seed_variables(monkeypatch):
    """``seed_everything`` run in the test process (LightningCLI's ``seed_everything: 7``) sets ``PL_GLOBAL_SEED``
    and ``PL_SEED_WORKERS``; later tests' Trainers and the ranks they launch would inherit them (DistributedSampler
    seeds its shuffle by ``PL_GLOBAL_SEED``), so each test's values are undone after it."""
    for name in ("PL_GLOBAL_SEED", "PL_SEED_WORKERS"):
        before = os.environ.get(name)
        monkeypatch.setenv(name, "")   # records the value before the test, restored (or removed) after it
        if before is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, before)
