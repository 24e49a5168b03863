"""The quantizable models (vision.models.quantization) against torchvision's (loaded through tv_oracle): printed
forms and state_dict keys with quantize=False and True, the registered names, and quantized outputs equal to
torchvision's when both run the same quantized state dict."""
import io
import re

import numpy
import pytest

import ember
from ember.vision.models import quantization as eq

from . import tv_oracle

tv = tv_oracle.load()
torch = pytest.importorskip("torch")
tq = pytest.importorskip("torchvision.models.quantization")

pytestmark = pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning",
                                        "ignore:torch.ao.quantization is deprecated:DeprecationWarning",
                                        "ignore:Please use quant_min and quant_max:UserWarning",
                                        "ignore:must run observer:UserWarning",
                                        "ignore:ember computes quantized ops:UserWarning",
                                        "ignore:The default weight initialization:FutureWarning",
                                        "ignore:TypedStorage is deprecated:UserWarning")

_NUMBER = re.compile(r"(scale|min_val|max_val)=(tensor\(\[?)?-?[0-9.e+-]+")


@pytest.fixture(autouse=True)
def _restore_engine():
    yield
    torch.backends.quantized.engine = "x86"
    ember.backends.quantized.engine = "x86"


def _pair(name, **kwargs):
    torch.manual_seed(0)
    model_t = getattr(tq, name)(**kwargs)
    ember.manual_seed(0)
    model_e = getattr(eq, name)(**kwargs)
    return model_t, model_e


def _same_structure(model_e, model_t):
    assert _NUMBER.sub(r"\1=#", repr(model_e).replace("ember", "torch")) == _NUMBER.sub(r"\1=#", repr(model_t))
    assert list(model_e.state_dict()) == list(model_t.state_dict())


@pytest.mark.parametrize("name", ["resnet18", "shufflenet_v2_x0_5", "mobilenet_v2", "mobilenet_v3_large",
                                  "googlenet"])
def test_float_and_quantized_models_match_torchvision(name):
    model_t, model_e = _pair(name)
    _same_structure(model_e, model_t)
    first = next(k for k in model_t.state_dict() if k.endswith("weight"))   # the same seeded initialisation
    numpy.testing.assert_array_equal(model_e.state_dict()[first].numpy(), model_t.state_dict()[first].numpy())
    model_t, model_e = _pair(name, quantize=True)
    _same_structure(model_e, model_t)
    assert type(model_e.quant).__name__ == "Quantize" and not model_e.training


@pytest.mark.parametrize("name", ["resnet18", "shufflenet_v2_x0_5"])
def test_quantized_outputs_equal_torchvision_on_the_same_state(name):
    model_t, model_e = _pair(name, quantize=True)
    torch.backends.quantized.engine = "fbgemm"
    buffer = io.BytesIO()
    torch.save(model_t.state_dict(), buffer)
    model_e.load_state_dict(ember.load(io.BytesIO(buffer.getvalue()), weights_only=False))
    x = numpy.random.default_rng(0).random((2, 3, 48, 48), dtype=numpy.float32) * 4 - 2
    out_t = model_t(torch.from_numpy(x)).numpy()
    out_e = model_e(ember.tensor(x)).numpy()
    numpy.testing.assert_array_equal(out_e, out_t)


def test_registered_names_and_fuse_model_for_qat():
    names = set(ember.vision.models.list_models(module=ember.vision.models.quantization))
    assert {"quantized_resnet18", "quantized_resnet50", "quantized_mobilenet_v2", "quantized_mobilenet_v3_large",
            "quantized_shufflenet_v2_x1_0"} <= names
    assert ember.vision.models.get_model_builder("quantized_resnet18") is eq.resnet18
    model_t, model_e = _pair("resnet18")
    model_t.train()
    model_e.train()
    model_t.fuse_model(is_qat=True)
    model_e.fuse_model(is_qat=True)
    _same_structure(model_e, model_t)
    assert type(model_e.conv1) is ember.ao.nn.intrinsic.ConvBnReLU2d


def test_mobilenet_v3_prepared_for_qat_has_torchvision_keys():
    model_t, model_e = _pair("mobilenet_v3_large")
    for model, lib in ((model_t, torch), (model_e, ember)):
        model.train()
        model.fuse_model(is_qat=True)
        model.qconfig = lib.ao.quantization.get_default_qat_qconfig("qnnpack")
        lib.ao.quantization.prepare_qat(model, inplace=True)
    _same_structure(model_e, model_t)   # the SE blocks' Hardsigmoid got fixed-qparams fake quantizers


def test_inception_v3_float_and_fused_structure_match_torchvision():
    model_t, model_e = _pair("inception_v3")   # (quantizing it calibrates on a 299x299 image: slow here)
    _same_structure(model_e, model_t)
    model_t.eval()
    model_e.eval()
    model_t.fuse_model()
    model_e.fuse_model()
    _same_structure(model_e, model_t)
