"""torchvision as the test oracle; tests that need it skip where it cannot be imported.

The torchvision wheel on PyPI is built against CUDA torch; with a CPU-only torch its compiled ops fail to register
and ``import torchvision`` raises in ``_meta_registrations``. The transforms, datasets and utils used as oracles are
pure Python over torch, so the import is retried without that module.
"""
import importlib
import sys
import types

import pytest


def _drop_torchvision_modules():
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]


def load():
    """The torchvision module, or a pytest skip."""
    try:
        return importlib.import_module("torchvision")
    except ImportError:
        pytest.skip("torchvision is not installed", allow_module_level=True)
    except RuntimeError:
        _drop_torchvision_modules()
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        try:
            return importlib.import_module("torchvision")
        except (ImportError, RuntimeError) as error:
            pytest.skip(f"torchvision cannot be imported here: {error}", allow_module_level=True)
