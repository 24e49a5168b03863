"""The ATen overload each of PyTorch 2.13's autograd nodes records (from torchgen's ``derivatives.yaml``): an
operator's name, then its overloads in the order PyTorch numbers its nodes (``mul Tensor Scalar``: ``MulBackward0`` is
``aten.mul.Tensor``, ``MulBackward1`` ``aten.mul.Scalar``; ``i=name`` where numbers are skipped). A node named other
than the operator in CamelCase is written ``Stem:operator`` (``NllLoss:nll_loss_forward``). Indented lines continue
the one above. ``overload_of_node`` reads it."""

NODES = """\
_adaptive_avg_pool2d default
_adaptive_avg_pool2d_backward default
_adaptive_avg_pool3d default
_adaptive_avg_pool3d_backward default
_batch_norm_no_update default
_batch_norm_with_update default
_cdist_backward default
Cdist:_cdist_forward default
_coalesce default
_conj default
_conj_physical default
_conv_depthwise2d default
_convolution 1=default
_ctc_loss default Tensor
CudnnAttention:_cudnn_attention_forward default
_cudnn_ctc_loss default Tensor
_cudnn_rnn default
_cudnn_rnn_backward default
EfficientAttention:_efficient_attention_forward default
_embedding_bag default
_embedding_bag_backward default
_embedding_bag_dense_backward default
_euclidean_dist default
_fake_quantize_learnable_per_channel_affine default
_fake_quantize_learnable_per_tensor_affine default
_fake_quantize_per_tensor_affine_cachemask_tensor_qparams default
_fft_c2c default
_fft_c2r default
_fft_r2c default
FlashAttention:_flash_attention_forward default
_foreach_div List
_foreach_maximum Scalar ScalarList
_foreach_minimum Scalar ScalarList
_foreach_mm default
_foreach_norm Scalar
_foreach_pow List ScalarList ScalarAndTensor
_fused_dropout default
_fused_moving_avg_obs_fq_helper default
_fused_rms_norm default
_grid_sampler_2d_cpu_fallback default
_grid_sampler_2d_cpu_fallback_backward default
_grouped_mm default
_lazy_clone default
_linalg_det default
_linalg_eigh default
_linalg_slogdet default
_linalg_solve_ex default
_linalg_svd default
_log_softmax default
_log_softmax_backward_data default
_lstm_mps default
_masked_softmax default
_mkldnn_reshape default
_mps_convolution default
_mps_convolution_transpose default
_native_batch_norm_legit default no_stats
_native_batch_norm_legit_no_training default
_neg_view default
_nested_from_padded default
_nested_from_padded_tensor default
_nested_get_values default
_nested_tensor_from_mask default
_nested_tensor_from_tensor_list default
_nested_view_from_buffer default
_nested_view_from_jagged default
_nnpack_spatial_convolution default
_pack_padded_sequence default
_pdist_backward default
Pdist:_pdist_forward default
_pin_memory default
_prelu_kernel default
_prelu_kernel_backward default
_reshape_alias default
_reshape_copy default
_safe_softmax default
_scaled_dot_product_cudnn_attention default
_scaled_dot_product_efficient_attention default
_scaled_dot_product_flash_attention default
_scaled_dot_product_flash_attention_for_cpu default
_scaled_dot_product_fused_attention_overrideable default
_slow_conv2d_backward output_mask
SlowConv2D:_slow_conv2d_forward default
_softmax default
_softmax_backward_data default
_sparse_addmm default
_sparse_coo_tensor_with_dims_and_tensors default
_sparse_log_softmax default
_sparse_mm_reduce_impl default
_sparse_softmax default
_sparse_sparse_matmul default
_sparse_sum dim
_standard_gamma default
_standard_gamma_grad default
_test_autograd_multiple_dispatch fullcoverage
_test_autograd_multiple_dispatch_view default
_test_warn_in_autograd default
_thnn_fused_gru_cell default
_thnn_fused_lstm_cell default
_to_copy default
_to_dense default
_to_sparse sparse_dim default
_to_sparse_bsc default
_to_sparse_bsr default
_to_sparse_csc default
_to_sparse_csr default
_trilinear default
_unique default
_unique2 default
_unsafe_index Tensor
_unsafe_index_put default
_unsafe_masked_index default
_unsafe_masked_index_put_accumulate default
_unsafe_view default
_upsample_bicubic2d_aa default
_upsample_bicubic2d_aa_backward default
_upsample_bilinear2d_aa default
_upsample_bilinear2d_aa_backward default
_upsample_lanczos2d_aa default
_upsample_lanczos2d_aa_backward default
_upsample_nearest_exact1d default
_upsample_nearest_exact1d_backward default
_upsample_nearest_exact2d default
_upsample_nearest_exact2d_backward default
_upsample_nearest_exact3d default
_upsample_nearest_exact3d_backward default
_weight_norm_interface default
abs default
acos default
acosh default
adaptive_max_pool2d default
adaptive_max_pool2d_backward default
adaptive_max_pool3d default
adaptive_max_pool3d_backward default
add Tensor Scalar
addbmm default
addcdiv default
addcmul default
addmm default
addmv default
addr default
affine_grid_generator default
alias default
amax default
amin default
aminmax default
angle default
as_strided default
as_strided_scatter default
asin default
asinh default
atan default
atan2 default
atanh default
avg_pool2d default
avg_pool2d_backward default
avg_pool3d default
avg_pool3d_backward default
baddbmm default
batch_norm_backward default
bernoulli default
binary_cross_entropy default
binary_cross_entropy_backward default
binary_cross_entropy_with_logits default
block_diag default
bmm default
cat default
ceil default
celu default
channel_shuffle default
cholesky default
cholesky_inverse default
cholesky_solve default
chunk default
clamp Tensor default
clamp_max default Tensor
clamp_min default Tensor
clone default
col2im default
complex default
constant_pad_nd default
conv_depthwise3d default
conv_tbc default
convolution default
convolution_backward default
convolution_backward_overrideable default
convolution_overrideable default
copysign Tensor Scalar
cos default
cosh default
cudnn_affine_grid_generator default
cudnn_batch_norm default
cudnn_batch_norm_backward default
cudnn_convolution default
cudnn_convolution_transpose default
cudnn_grid_sampler default
cudnn_grid_sampler_backward default
cummax default
cummin default
cumprod default
cumsum default
deg2rad default
diag_embed default
diagonal default
diagonal_backward default
diagonal_scatter default
digamma default
dist default
div Tensor Scalar Tensor_mode Scalar_mode
dot default
elu default
elu_backward default
embedding default
embedding_dense_backward default
erf default
erfc default
erfinv default
exp default
exp2 default
expand default
expm1 default
fake_quantize_per_channel_affine_cachemask default
fake_quantize_per_tensor_affine_cachemask default
fill Scalar Tensor
flip default
floor default
fmax default
fmin default
fmod Scalar Tensor
frac default
fractional_max_pool2d default
fractional_max_pool2d_backward default
fractional_max_pool3d default
fractional_max_pool3d_backward default
frexp Tensor
gather default
gelu default
gelu_backward default
geqrf default
glu default
glu_backward default
grid_sampler_2d default
grid_sampler_2d_backward default
grid_sampler_3d default
grid_sampler_3d_backward default
hardshrink default
hardshrink_backward default
hardsigmoid default
hardswish default
hardswish_backward default
hardtanh default
hardtanh_backward default
huber_loss default
huber_loss_backward default
hypot default
i0 default
igamma default
igammac default
im2col default
index Tensor
index_add default
index_copy default
index_fill int_Scalar int_Tensor
index_put default
index_reduce default
index_select default
kthvalue default
ldexp Tensor
leaky_relu default
leaky_relu_backward default
lerp Scalar Tensor
lgamma default
lift default
lift_fresh default
linalg_cholesky_ex default
linalg_cross default
linalg_eig default
linalg_householder_product default
linalg_inv_ex default
linalg_lstsq default
linalg_lu default
linalg_lu_factor_ex default
linalg_lu_solve default
linalg_matrix_exp default
linalg_pinv atol_rtol_tensor
linalg_qr default
linalg_solve_triangular default
linalg_vector_norm default
linear default
linear_backward default
log default
log10 default
log1p default
log2 default
log_sigmoid_backward default
LogSigmoid:log_sigmoid_forward default
logaddexp default
logaddexp2 default
logcumsumexp default
logit default
logsumexp default
lu_unpack default
masked_fill Scalar Tensor
masked_scatter default
masked_scatter_backward default
masked_select default
matmul default
max dim default
max_pool2d default
max_pool2d_backward default
max_pool2d_with_indices default
max_pool2d_with_indices_backward default
max_pool3d_with_indices default
max_pool3d_with_indices_backward default
max_unpool2d default
max_unpool3d default
maximum default
mean default dim
median default dim
min dim default
minimum default
miopen_batch_norm default
miopen_batch_norm_backward default
miopen_convolution default
miopen_convolution_transpose default
miopen_ctc_loss default Tensor
miopen_depthwise_convolution default
miopen_rnn default
mish default
mkldnn_adaptive_avg_pool2d default
mkldnn_convolution default
mkldnn_linear default
mkldnn_max_pool2d default
mkldnn_max_pool3d default
mkldnn_rnn_layer default
mm default
mode default
mps_convolution_backward default
mse_loss default
mse_loss_backward default
mul Tensor Scalar
multi_margin_loss default
MultilabelMarginLoss:multilabel_margin_loss_forward default
mv default
mvlgamma default
nan_to_num default
nanmedian default dim
nansum default
narrow_copy default
native_batch_norm default
native_batch_norm_backward default
native_dropout default
native_dropout_backward default
native_group_norm default
native_layer_norm default
native_layer_norm_backward default
neg default
nextafter default
nll_loss2d_backward default
NllLoss2D:nll_loss2d_forward default
nll_loss_backward default
NllLoss:nll_loss_forward default
norm Scalar ScalarOpt_dim ScalarOpt_dtype ScalarOpt_dim_dtype
normal 1=Tensor_float 2=float_Tensor 3=Tensor_Tensor
ormqr default
permute default
pixel_shuffle default
pixel_unshuffle default
poisson default
polar default
polygamma default
pow Tensor_Scalar Tensor_Tensor Scalar
prod default dim_int
put default
rad2deg default
reciprocal default
reflection_pad1d default
reflection_pad1d_backward default
reflection_pad2d default
reflection_pad2d_backward default
reflection_pad3d default
reflection_pad3d_backward default
relu default
remainder Scalar Tensor
renorm default
repeat default
replication_pad1d default
replication_pad1d_backward default
replication_pad2d default
replication_pad2d_backward default
replication_pad3d default
replication_pad3d_backward default
roll default
rot90 default
round default decimals
rrelu_with_noise default
rrelu_with_noise_backward default
rrelu_with_noise_functional default
rsqrt default
rsub Tensor Scalar
scatter src value
scatter_add default
scatter_reduce two
segment_reduce default
select int
select_backward default
select_scatter default
sgn default
sigmoid default
sigmoid_backward default
sign default
silu default
sin default
sinc default
sinh default
slice Tensor
slice_backward default
slice_inverse default
slice_scatter default
SlowConv3D:slow_conv3d_forward default
slow_conv_dilated2d default
slow_conv_dilated3d default
slow_conv_transpose2d default
slow_conv_transpose3d default
smooth_l1_loss default
smooth_l1_loss_backward default
soft_margin_loss default
soft_margin_loss_backward default
softplus default
softplus_backward default
softshrink default
softshrink_backward default
sort default stable
sparse_compressed_tensor comp_plain_value_size
sparse_mask default
sparse_sampled_addmm default
special_entr default
special_erfcx default
special_i0e default
special_i1 default
special_i1e default
special_log_ndtr default
special_ndtri default
special_xlog1py default self_scalar other_scalar
special_zeta default self_scalar other_scalar
split Tensor
split_with_sizes default
sqrt default
squeeze default dim dims
stack default
std correction
std_mean correction
sub Tensor Scalar
sum default dim_IntList
t default
take default
tan default
tanh default
tanh_backward default
threshold default
threshold_backward default
to_mkldnn default
to_padded_tensor default
topk default
trace default
transpose int
triangular_solve default
tril default
triu default
trunc default
unbind int
unfold default
unfold_backward default
unique_consecutive default
unique_dim default
unique_dim_consecutive default
unsafe_split Tensor
unsafe_split_with_sizes default
unsqueeze default
upsample_bicubic2d default
upsample_bicubic2d_backward default
upsample_bilinear2d default
upsample_bilinear2d_backward default
upsample_linear1d default
upsample_linear1d_backward default
upsample_nearest1d default
upsample_nearest1d_backward default
upsample_nearest2d default
upsample_nearest2d_backward default
upsample_nearest3d default
upsample_nearest3d_backward default
upsample_trilinear3d default
upsample_trilinear3d_backward default
values default
var correction
var_mean correction
vdot default
view default
view_as_complex default
view_as_real default
where self
xlogy Tensor Scalar_Self Scalar_Other
"""

_TABLE = None


def overload_of_node(name):
    """``(operator, overload)`` of the ATen op whose autograd node is named ``name`` (``"AddmmBackward0"`` ->
    ``("addmm", "default")``), or None."""
    global _TABLE
    if _TABLE is None:
        table, words = {}, []
        for line in NODES.splitlines() + [""]:
            if line.startswith(" "):
                words.extend(line.split())
                continue
            if words:
                stem, _, operator = words[0].rpartition(":")
                stem = stem or "".join(part.title() for part in operator.split("_"))
                for index, overload in enumerate(words[1:]):
                    number, _, named = overload.rpartition("=")
                    table[f"{stem}Backward{number or index}"] = (operator, named)
            words = line.split()
        _TABLE = table
    return _TABLE.get(name)
