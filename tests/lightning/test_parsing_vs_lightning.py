"""lightning.pytorch.utilities.parsing's get_init_args and parse_class_init_keys (pytorch-forecasting reads its
models' constructor arguments with get_init_args) give real Lightning 2.x's results."""
from .lightning_oracle import run_lightning

PROGRAM = """
import inspect, json
result = {}


class Base:
    def __init__(self, **kwargs):
        pass


class WithSuper(Base):
    def __init__(self, a, b=2, *rest, c=3, **extra):
        local = "not an argument"
        result["with_super"] = {k: repr(v) for k, v in get_init_args(inspect.currentframe()).items()}
        super().__init__()


class Plain:
    def __init__(self, a, frame=None):
        result["plain"] = get_init_args(inspect.currentframe())


class Named(Base):
    def __init__(self, x, frame_args=None, **kw):
        result["named"] = {k: repr(v) for k, v in get_init_args(inspect.currentframe()).items()}
        super().__init__(**kw)


WithSuper(1, 5, 6, 7, c=8, d=9, e=[1])
Plain(1)
Named("x", frame_args=3, y=4)
result["keys"] = [list(parse_class_init_keys(cls)) for cls in (WithSuper, Plain, Named, Base)]


def outside():
    return get_init_args(inspect.currentframe())


result["outside"] = outside()
"""


def test_get_init_args_matches_lightning(tmp_path):
    namespace = {}
    exec("from ember.lightning.utilities.parsing import get_init_args, parse_class_init_keys\n" + PROGRAM, namespace)
    theirs = run_lightning("from pytorch_lightning.utilities.parsing import get_init_args, parse_class_init_keys\n"
                           + PROGRAM + "\nprint(json.dumps(result))", tmp_path)
    assert namespace["result"] == theirs
    assert theirs["with_super"] == {"a": "1", "b": "5", "c": "8", "d": "9", "e": "[1]"} and theirs["plain"] == {}
