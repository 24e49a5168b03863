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
