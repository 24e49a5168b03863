"""Signatures of ``nn.functional``'s ops that are not in the ``torch`` namespace (``torch._C._nn``'s: ``gelu``,
``mse_loss``, the upsampling kernels), and which of F's Python forms the table leaves out or reads as a method."""

FUNCTIONS = {
    'adaptive_avg_pool2d': 'Tensor input, tuple of ints* output_size',
    'adaptive_avg_pool3d': 'Tensor input, tuple of ints* output_size',
    'adaptive_max_pool2d': 'Tensor input, tuple of ints* output_size',
    'adaptive_max_pool3d': 'Tensor input, tuple of ints* output_size',
    'avg_pool2d': 'Tensor input, tuple of ints* kernel_size, tuple of ints* stride = None, '
                  'tuple of ints* padding = 0, bool ceil_mode = False, bool count_include_pad = True, '
                  'int divisor_override = None',
    'avg_pool3d': 'Tensor input, tuple of ints* kernel_size, tuple of ints* stride = None, '
                  'tuple of ints* padding = 0, bool ceil_mode = False, bool count_include_pad = True, '
                  'int divisor_override = None',
    'binary_cross_entropy': 'Tensor input, Tensor target, Tensor weight = None, str reduction = ...',
    'cross_entropy_loss': 'Tensor input, Tensor target, Tensor? weight = None, int reduction = 1, '
                          'int ignore_index = -100, float label_smoothing = 0.0',
    'elu': 'Tensor input, Number alpha = 1.0, Number scale = 1.0, Number input_scale = 1.0',
    'elu_': 'Tensor input, Number alpha = ...',
    'fractional_max_pool2d': 'Tensor input, tuple of ints* kernel_size, tuple of ints* output_size, '
                             'Tensor _random_samples',
    'fractional_max_pool3d': 'Tensor input, tuple of ints* kernel_size, tuple of ints* output_size, '
                             'Tensor _random_samples',
    'gelu': 'Tensor input, *, str approximate = ...',
    'glu': 'Tensor input, int dim = -1',
    'hardsigmoid': 'Tensor input, *, Tensor out = None',
    'hardswish': 'Tensor input',
    'hardtanh': 'Tensor input, Number min_val = ..., Number max_val = ..., *, Tensor out = None',
    'hardtanh_': 'Tensor input, Number min_val = ..., Number max_val = ...',
    'huber_loss': 'Tensor input, Tensor target, str reduction = ..., float delta = 1.0',
    'l1_loss': 'Tensor input, Tensor target, str reduction = ...',
    'leaky_relu': 'Tensor input, Number negative_slope = ..., *, Tensor out = None',
    'leaky_relu_': 'Tensor input, Number negative_slope = ...',
    'linear': 'Tensor input, Tensor weight, Tensor bias = None',
    'max_pool2d_with_indices': 'Tensor input, tuple of ints* kernel_size, tuple of ints* stride = None, '
                               'tuple of ints* padding = 0, tuple of ints* dilation = 1, bool ceil_mode = False',
    'max_pool3d_with_indices': 'Tensor input, tuple of ints* kernel_size, tuple of ints* stride = None, '
                               'tuple of ints* padding = 0, tuple of ints* dilation = 1, bool ceil_mode = False',
    'max_unpool2d': 'Tensor input, Tensor indices, tuple of ints* output_size',
    'max_unpool3d': 'Tensor input, Tensor indices, tuple of ints* output_size, tuple of ints* stride, '
                    'tuple of ints* padding',
    'mish': 'Tensor input',
    'mse_loss': 'Tensor input, Tensor target, str reduction = ...',
    'multi_margin_loss': 'Tensor input, Tensor target, float p = 1.0, float margin = 1.0, Tensor weight = None, '
                         'str reduction = ...',
    'multilabel_margin_loss': 'Tensor input, Tensor target, str reduction = ...',
    'nll_loss_nd': 'Tensor input, Tensor target, Tensor? weight = None, int reduction = 1, int ignore_index = -100',
    'one_hot': 'Tensor tensor, int num_classes = ...',
    'pad': 'Tensor input, tuple of ints pad, str mode = ..., float value = None',
    'relu6': 'Tensor input',
    'scaled_dot_product_attention': 'Tensor query, Tensor key, Tensor value, Tensor attn_mask = None, '
                                    'float dropout_p = 0.0, bool is_causal = False, float scale = None, '
                                    'bool enable_gqa = False',
    'silu': 'Tensor input',
    'smooth_l1_loss': 'Tensor input, Tensor target, str reduction = ..., float beta = 1.0',
    'soft_margin_loss': 'Tensor input, Tensor target, str reduction = ...',
    'softplus': 'Tensor input, Number beta = ..., Number threshold = ...',
    'softshrink': 'Tensor input, Number lambd = ...',
}

# nn.functional's Python forms of ops with other parameters than PyTorch's binding (F.kl_div's reduction='mean')
PYTHON_FORMS = {
    'adaptive_avg_pool2d',   # F's adaptive pools take None in output_size (the input's size there)
    'adaptive_avg_pool3d',
    'adaptive_max_pool2d',
    'adaptive_max_pool3d',
    'alpha_dropout',
    'batch_norm',
    'binary_cross_entropy',
    'binary_cross_entropy_with_logits',
    'cosine_embedding_loss',
    'ctc_loss',
    'dropout',
    'elu',
    'embedding',
    'embedding_bag',
    'feature_alpha_dropout',
    'fractional_max_pool2d',
    'fractional_max_pool3d',
    'hinge_embedding_loss',
    'instance_norm',
    'kl_div',
    'l1_loss',
    'log_softmax',
    'margin_ranking_loss',
    'max_unpool2d',
    'max_unpool3d',
    'mse_loss',
    'multi_margin_loss',
    'multilabel_margin_loss',
    'poisson_nll_loss',
    'rrelu',
    'smooth_l1_loss',
    'soft_margin_loss',
    'softmax',
    'triplet_margin_loss',
}

# The upsampling kernels F.interpolate hands its sizes to (their errors are PyTorch's for a size that is no int)
for _dims, _scales in ((1, "float scales = None"), (2, "float scales_h = None, float scales_w = None"),
                       (3, "float scales_d = None, float scales_h = None, float scales_w = None")):
    for _name, _corners in ((f"upsample_nearest{_dims}d", ""), (f"_upsample_nearest_exact{_dims}d", ""),
                            ({1: "upsample_linear1d", 2: "upsample_bilinear2d", 3: "upsample_trilinear3d"}[_dims],
                             "bool align_corners, ")) + ((("upsample_bicubic2d", "bool align_corners, "),)
                                                         if _dims == 2 else ()):
        FUNCTIONS[_name] = [f"Tensor input, tuple of ints output_size, {_corners}tuple of floats scale_factors",
                            f"Tensor input, tuple of ints output_size, {_corners}{_scales}, *, Tensor out = None"]

# nn.functional's Python forms that call the op as a Tensor method (``input.softmax(dim)``): their errors are the
# method's, positions counted without the input
F_CALLS_METHOD = {'log_softmax', 'softmax'}

# nn.functional's Python forms that call the op as a Tensor method (``input.softmax(dim)``): their errors are the
# method's, positions counted without the input
F_CALLS_METHOD = {'log_softmax', 'softmax'}

# nn.functional's functions that are Python in PyTorch though the table describes their op: a call their
# parameters cannot bind fails in CPython's binding there ("layer_norm() missing 1 required positional argument")
F_PYTHON = {'adaptive_max_pool1d', 'celu', 'glu', 'hardsigmoid', 'hardswish', 'hardtanh', 'huber_loss', 'layer_norm',
            'leaky_relu', 'max_pool1d', 'max_pool1d_with_indices', 'max_pool2d', 'max_pool2d_with_indices',
            'max_pool3d', 'max_pool3d_with_indices', 'mish', 'pad', 'relu', 'relu6', 'rms_norm', 'selu', 'sigmoid',
            'silu', 'tanh', 'threshold'}
