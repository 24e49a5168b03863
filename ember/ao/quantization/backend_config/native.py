"""The native backend configs (fbgemm, x86, qnnpack, onednn): the ops PyTorch's default backends quantize, in the
forward-order pattern format, with the module maps FX graph mode quantization reads (fused, QAT, reference)."""
import operator

import ember
from ember import nn

from .backend_config import BackendConfig, BackendPatternConfig, DTypeConfig, DTypeWithConstraints, ObservationType

__all__ = ["get_native_backend_config", "get_native_backend_config_dict", "get_fbgemm_backend_config",
           "get_x86_backend_config", "get_qnnpack_backend_config", "get_onednn_backend_config",
           "get_test_only_legacy_native_backend_config"]

_DIFFERENT = ObservationType.OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT
_SHARE = ObservationType.OUTPUT_SHARE_OBSERVER_WITH_INPUT


def _dtype_configs():
    static = DTypeConfig(input_dtype=ember.quint8, output_dtype=ember.quint8, weight_dtype=ember.qint8,
                         bias_dtype=ember.float)
    dynamic = DTypeConfig(input_dtype=ember.quint8, output_dtype=ember.float, weight_dtype=ember.qint8,
                          bias_dtype=ember.float, is_dynamic=True)
    fp16 = DTypeConfig(input_dtype=ember.float16, output_dtype=ember.float16, weight_dtype=ember.float16,
                       bias_dtype=ember.float16)
    default_op = DTypeConfig(input_dtype=ember.quint8, output_dtype=ember.quint8)
    return static, dynamic, fp16, default_op


def _sequential(fused_cls):
    def fuser_method(is_qat, *modules):
        return fused_cls(*modules)
    fuser_method.__name__ = f"fuse_to_{fused_cls.__name__}"
    return fuser_method


def _weighted_configs(weighted, dtype_configs):
    """Conv and linear: the op alone, its fusions with batch norm and ReLU, the fused modules and their QAT
    forms."""
    from ...nn import intrinsic as nni, qat as nnqat
    from ...nn.intrinsic import qat as nniqat
    from ...nn.quantized import reference as nnqr
    from ..fuser_method_mappings import fuse_conv_bn, fuse_conv_bn_relu, fuse_linear_bn
    F = nn.functional
    configs = []
    convs = [(nn.Conv1d, F.conv1d, nn.BatchNorm1d, nni.ConvReLU1d, nni.ConvBn1d, nni.ConvBnReLU1d, nnqat.Conv1d,
              nniqat.ConvReLU1d, nniqat.ConvBn1d, nniqat.ConvBnReLU1d, nnqr.Conv1d),
             (nn.Conv2d, F.conv2d, nn.BatchNorm2d, nni.ConvReLU2d, nni.ConvBn2d, nni.ConvBnReLU2d, nnqat.Conv2d,
              nniqat.ConvReLU2d, nniqat.ConvBn2d, nniqat.ConvBnReLU2d, nnqr.Conv2d),
             (nn.Conv3d, F.conv3d, nn.BatchNorm3d, nni.ConvReLU3d, nni.ConvBn3d, nni.ConvBnReLU3d, nnqat.Conv3d,
              nniqat.ConvReLU3d, nniqat.ConvBn3d, nniqat.ConvBnReLU3d, nnqr.Conv3d)]
    for conv, conv_fn, bn, relu_fused, bn_fused, bn_relu_fused, qat, qat_relu, qat_bn, qat_bn_relu, ref in convs:
        def base(pattern, root=conv):
            return (BackendPatternConfig(pattern).set_observation_type(_DIFFERENT).set_dtype_configs(dtype_configs)
                    .set_root_module(root).set_reference_quantized_module(ref))
        configs += [base(conv).set_qat_module(qat), base(qat)]
        configs.append(BackendPatternConfig(conv_fn).set_observation_type(_DIFFERENT)
                       .set_dtype_configs(dtype_configs)._set_input_type_to_index({"weight": 1, "bias": 2}))
        for relu in (nn.ReLU, F.relu):
            configs.append(BackendPatternConfig((conv, relu)).set_dtype_configs(dtype_configs)
                           .set_fuser_method(_sequential(relu_fused)).set_fused_module(relu_fused))
            configs.append(BackendPatternConfig((conv, bn, relu)).set_dtype_configs(dtype_configs)
                           .set_fuser_method(fuse_conv_bn_relu).set_fused_module(bn_relu_fused))
            configs.append(BackendPatternConfig((conv_fn, relu)).set_observation_type(_DIFFERENT)
                           .set_dtype_configs(dtype_configs))
        configs += [base(relu_fused).set_qat_module(qat_relu), base(qat_relu)]
        configs.append(BackendPatternConfig((conv, bn)).set_dtype_configs(dtype_configs)
                       .set_fuser_method(fuse_conv_bn).set_fused_module(bn_fused))
        configs += [base(bn_fused).set_qat_module(qat_bn), base(bn_relu_fused).set_qat_module(qat_bn_relu),
                    base(qat_bn), base(qat_bn_relu)]
    def linear_base(pattern):
        return (BackendPatternConfig(pattern).set_observation_type(_DIFFERENT).set_dtype_configs(weighted)
                .set_root_module(nn.Linear).set_reference_quantized_module(nnqr.Linear))
    configs += [linear_base(nn.Linear).set_qat_module(nnqat.Linear), linear_base(nnqat.Linear)]
    configs.append(BackendPatternConfig(F.linear).set_observation_type(_DIFFERENT).set_dtype_configs(weighted)
                   ._set_input_type_to_index({"weight": 1, "bias": 2}))
    for relu in (nn.ReLU, F.relu):
        configs.append(BackendPatternConfig((nn.Linear, relu)).set_dtype_configs(weighted)
                       .set_fuser_method(_sequential(nni.LinearReLU)).set_fused_module(nni.LinearReLU))
        configs.append(BackendPatternConfig((F.linear, relu)).set_observation_type(_DIFFERENT)
                       .set_dtype_configs(weighted))
    configs += [linear_base(nni.LinearReLU).set_qat_module(nniqat.LinearReLU), linear_base(nniqat.LinearReLU)]
    configs.append(BackendPatternConfig((nn.Linear, nn.BatchNorm1d)).set_dtype_configs(weighted)
                   .set_fuser_method(fuse_linear_bn).set_fused_module(nni.LinearBn1d))
    configs += [linear_base(nni.LinearBn1d).set_qat_module(nniqat.LinearBn1d), linear_base(nniqat.LinearBn1d)]
    return configs


def _share_qparams_ops():
    F = nn.functional
    return [nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AvgPool1d, nn.AvgPool2d,
            nn.AvgPool3d, nn.Hardtanh, nn.Identity, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.PixelShuffle,
            nn.PixelUnshuffle, nn.ReLU, nn.ReLU6, ember.adaptive_avg_pool1d, F.adaptive_avg_pool2d,
            F.adaptive_avg_pool3d, F.hardtanh, F.hardtanh_, F.interpolate, F.max_pool1d, F.max_pool2d,
            F.max_pool3d, F.pixel_shuffle, F.pixel_unshuffle, F.relu, F.relu6, ember.avg_pool1d, F.avg_pool2d,
            F.avg_pool3d, ember.clamp, ember.flatten, ember.mean, ember.narrow, ember.repeat_interleave,
            ember.transpose, ember.squeeze, ember.stack, ember.unsqueeze, operator.floordiv, "contiguous", "clamp",
            "detach", "detach_", "mean", "permute", "repeat", "repeat_interleave", "reshape", "resize_", "relu",
            "relu_", "squeeze", "squeeze_", "transpose", "unsqueeze", "unsqueeze_", "view"]


def _fixed_qparams_ops_0to1():
    F = nn.functional
    return [nn.Hardsigmoid, F.hardsigmoid, "hardsigmoid", "hardsigmoid_", nn.Sigmoid, ember.sigmoid, "sigmoid",
            "sigmoid_", nn.Softmax]


def _fixed_qparams_ops_neg1to1():
    return [nn.Tanh, ember.tanh, "tanh", "tanh_"]


def _default_ops():
    F = nn.functional
    return [nn.ELU, nn.LeakyReLU, nn.Hardswish, nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
            nn.LayerNorm, nn.Dropout, nn.PReLU, F.elu, F.hardswish, F.leaky_relu, F.dropout]


def _rnn_and_embedding_configs(dynamic):
    """LSTM/GRU (dynamic quantization) and Embedding/EmbeddingBag (quint8 weights with float qparams)."""
    from ...nn.quantized import reference as nnqr
    weight_only = DTypeConfig(input_dtype=ember.float, output_dtype=ember.float, weight_dtype=ember.quint8)
    configs = [BackendPatternConfig(op).set_observation_type(_DIFFERENT).set_dtype_configs([dynamic])
               .set_root_module(op).set_reference_quantized_module(ref)
               for op, ref in ((nn.GRUCell, nnqr.GRUCell), (nn.LSTMCell, nnqr.LSTMCell), (nn.RNNCell, nnqr.RNNCell),
                               (nn.LSTM, nnqr.LSTM), (nn.GRU, nnqr.GRU))]
    from ...nn import qat as nnqat
    for op, qat, ref in ((nn.Embedding, nnqat.Embedding, nnqr.Embedding),
                         (nn.EmbeddingBag, nnqat.EmbeddingBag, nnqr.EmbeddingBag)):
        configs += [BackendPatternConfig(pattern).set_observation_type(_DIFFERENT).set_dtype_configs([weight_only])
                    .set_root_module(op).set_reference_quantized_module(ref) for pattern in (op, qat)]
        configs[-2].set_qat_module(qat)
    return configs


def _native_configs():
    from ...nn import intrinsic as nni
    static, dynamic, fp16, default_op = _dtype_configs()
    configs = _weighted_configs([static, dynamic, fp16], [static])
    F = nn.functional
    for op in (operator.add, ember.add, operator.mul, ember.mul):
        for pattern in ((op, nn.ReLU), (op, F.relu), (op, ember.relu), op):
            configs.append(BackendPatternConfig(pattern).set_dtype_configs([static, fp16])
                           ._set_num_tensor_args_to_observation_type({0: _DIFFERENT, 1: _SHARE, 2: _DIFFERENT}))
    configs.append(BackendPatternConfig(ember.cat).set_observation_type(_SHARE)
                   .set_dtype_configs([default_op]))
    configs += [BackendPatternConfig(op).set_observation_type(_DIFFERENT).set_dtype_configs([default_op])
                for op in _default_ops()]
    for op, weight in ((F.layer_norm, 2), (F.group_norm, 2), (F.instance_norm, 3)):
        configs.append(BackendPatternConfig(op).set_observation_type(_DIFFERENT).set_dtype_configs([default_op])
                       ._set_input_type_to_index({"weight": weight, "bias": weight + 1}))
    for ops, scale, zero_point in ((_fixed_qparams_ops_0to1(), 1.0 / 256.0, 0),
                                   (_fixed_qparams_ops_neg1to1(), 2.0 / 256.0, 128)):
        constrained = DTypeWithConstraints(dtype=ember.quint8, quant_min_lower_bound=0, quant_max_upper_bound=255,
                                           scale_exact_match=scale, zero_point_exact_match=zero_point)
        dtype_config = DTypeConfig(input_dtype=constrained, output_dtype=constrained)
        configs += [BackendPatternConfig(op).set_observation_type(_DIFFERENT).set_dtype_configs([dtype_config])
                    for op in ops]
    configs += [BackendPatternConfig(op).set_observation_type(_SHARE).set_dtype_configs([default_op])
                for op in _share_qparams_ops()]
    configs += _rnn_and_embedding_configs(dynamic)
    configs += [BackendPatternConfig(op).set_observation_type(ObservationType.INPUT_OUTPUT_NOT_OBSERVED)
                .set_dtype_configs([default_op]) for op in ("shape", "size")]
    for bn, fused in ((nn.BatchNorm2d, nni.BNReLU2d), (nn.BatchNorm3d, nni.BNReLU3d)):
        for relu in (nn.ReLU, F.relu):
            configs.append(BackendPatternConfig((bn, relu)).set_dtype_configs([default_op])
                           .set_fuser_method(_sequential(fused)).set_fused_module(fused))
        configs.append(BackendPatternConfig(bn).set_observation_type(_DIFFERENT).set_dtype_configs([default_op]))
        configs.append(BackendPatternConfig(fused).set_observation_type(_DIFFERENT).set_dtype_configs([default_op]))
    return configs


def get_native_backend_config():
    """The backend config of PyTorch's native backends (fbgemm/x86/qnnpack), as FX graph mode quantization uses by
    default."""
    return BackendConfig("native").set_backend_pattern_configs(_native_configs())


def get_native_backend_config_dict():
    """``get_native_backend_config()`` as a dict."""
    return get_native_backend_config().to_dict()


def get_test_only_legacy_native_backend_config():
    """The native config (ember keeps no separate legacy fp16 variant)."""
    return get_native_backend_config()


def get_fbgemm_backend_config():
    """The fbgemm backend's config (the native ops)."""
    return BackendConfig("fbgemm").set_backend_pattern_configs(_native_configs())


def get_x86_backend_config():
    """The x86 backend's config (the native ops)."""
    return BackendConfig("x86").set_backend_pattern_configs(_native_configs())


def get_qnnpack_backend_config():
    """The qnnpack backend's config (the native ops)."""
    return BackendConfig("qnnpack").set_backend_pattern_configs(_native_configs())


def get_onednn_backend_config():
    """The onednn backend's config (the native ops)."""
    return BackendConfig("onednn").set_backend_pattern_configs(_native_configs())
