"""The optimizers' and learning-rate schedulers' constructors carry torch 2.13's type hints (which LightningCLI's
jsonargparse reads to convert and check command-line values) and document every argument in an ``Args:`` section
(which its ``--help`` prints)."""
import inspect
import re

import pytest

import ember

torch = pytest.importorskip("torch")

OPTIMIZERS = ["Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "ASGD", "LBFGS", "Muon", "NAdam", "RAdam",
              "RMSprop", "Rprop", "SGD", "SparseAdam"]
CLASSES = [(getattr(ember.optim, n), getattr(torch.optim, n)) for n in OPTIMIZERS]
CLASSES += [(getattr(ember.optim.lr_scheduler, n), getattr(torch.optim.lr_scheduler, n))
            for n in ember.optim.lr_scheduler.__all__]
CLASSES += [(ember.optim.swa_utils.SWALR, torch.optim.swa_utils.SWALR)]


def spelled(annotation):
    """An annotation as text, whichever library's, evaluated or not."""
    if annotation is inspect.Parameter.empty:
        return None
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", None) \
        if isinstance(annotation, type) else str(annotation)
    text = re.sub(r"\b(ember|torch)(\.optim\.optimizer|\.optim\.lr_scheduler)?\.", "", text)
    return re.sub(r"\bcollections\.abc\.|\btyping\.", "", text).replace('"', "'")


@pytest.mark.parametrize("ours, theirs", CLASSES, ids=[c.__name__ for c, _ in CLASSES])
def test_signature_is_torchs(ours, theirs):
    mine, torchs = inspect.signature(ours.__init__), inspect.signature(theirs.__init__)
    assert list(mine.parameters) == list(torchs.parameters)
    for name, param in torchs.parameters.items():
        assert mine.parameters[name].kind == param.kind, name
        assert mine.parameters[name].default == param.default, name
        assert spelled(mine.parameters[name].annotation) == spelled(param.annotation), name


@pytest.mark.parametrize("cls", [c for c, _ in CLASSES], ids=[c.__name__ for c, _ in CLASSES])
def test_every_argument_is_documented(cls):
    documented = re.findall(r"^    (\w+): \S", cls.__doc__.split("\nArgs:\n", 1)[1], re.M)
    expected = [n for n in inspect.signature(cls.__init__).parameters if n not in ("self", "params", "optimizer")]
    if cls is ember.optim.lr_scheduler.ChainedScheduler:   # its optimizer is an argument of its own, not the CLI's
        expected.append("optimizer")
    assert sorted(documented) == sorted(expected)
