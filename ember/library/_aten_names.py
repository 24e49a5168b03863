"""The ``aten`` operators of PyTorch 2.13 and their overload names (from ``torch._C._jit_get_all_schemas()``): an
operator's name, then its overloads; indented lines continue the one above. ``torch.ops.aten`` offers exactly these
(``library._aten``)."""

OVERLOADS = """\
Bool Tensor int float
Complex Scalar Tensor_Tensor int_bool bool_int float_bool bool_float float_int int_float int_int bool_bool float_float
    Tensor_float float_Tensor Tensor_int int_Tensor Tensor_bool bool_Tensor
ComplexImplicit default
Delete t Dict_str Dict_int Dict_bool Dict_float Dict_complex Dict_Tensor
Float Tensor Scalar int bool str
FloatImplicit default
Generator default
Int Tensor bool float Scalar str
IntImplicit default
ScalarImplicit default
Size default
__and__ Scalar Tensor bool int
__contains__ int_list str_list str int bool float complex Tensor float_list
__derive_index default
__getitem__ t str Dict_str Dict_int Dict_bool Dict_float Dict_complex Dict_Tensor
__iand__ Tensor Scalar
__ilshift__ Tensor Scalar
__interpolate scale_list size_list_scale_list default size_list
__ior__ Tensor Scalar
__irshift__ Tensor Scalar
__is__ default
__isnot__ default
__ixor__ Tensor Scalar
__lshift__ Tensor Scalar Scalar_out Tensor_out int
__not__ default
__or__ Tensor Scalar bool int
__range_length default
__round_to_zero_floordiv int
__rshift__ Tensor Scalar Scalar_out Tensor_out int
__upsample default size_list
__upsample_bilinear default size_list scale_list size_list_scale_list
__upsample_nearest default size_list
__xor__ Tensor Scalar bool int
_adaptive_avg_pool2d default out
_adaptive_avg_pool2d_backward default out
_adaptive_avg_pool3d default out
_adaptive_avg_pool3d_backward default out
_add_batch_dim default
_add_relu Tensor out Scalar Scalar_out
_add_relu_ Tensor Scalar
_addmm_activation default out
_aminmax default dim out dim_out
_amp_foreach_non_finite_check_and_unscale default out
_amp_foreach_non_finite_check_and_unscale_ default
_amp_update_scale default out
_amp_update_scale_ default
_assert_async default msg
_assert_scalar default
_assert_tensor_metadata default
_autocast_to_full_precision default
_autocast_to_reduced_precision default
_backward default
_batch_norm_impl_index default
_batch_norm_impl_index_backward default
_batch_norm_no_update default out
_batch_norm_with_update out default
_batch_norm_with_update_functional default
_cast_Byte default
_cast_Char default
_cast_Double default
_cast_Float default
_cast_Half default
_cast_Int default
_cast_Long default
_cast_Short default
_cdist_backward default out
_cdist_forward default out
_cholesky_solve_helper default out
_choose_qparams_per_tensor default
_chunk_cat default out
_coalesce out default
_coalesced default out
_coalesced_ default
_compute_linear_combination default out
_conj default
_conj_copy default out
_conj_physical default out
_conv_depthwise2d out default
_convert_indices_from_coo_to_csr default out
_convert_indices_from_csr_to_coo default out
_convert_weight_to_int4pack default
_convert_weight_to_int4pack_for_cpu default
_convolution deprecated default out
_convolution_double_backward default
_convolution_mode default
_copy_from out default
_copy_from_and_resize out default
_cslt_compress default
_cslt_sparse_mm default
_cslt_sparse_mm_search default
_ctc_loss default Tensor out Tensor_out
_ctc_loss_backward default Tensor out
_cudnn_attention_backward default
_cudnn_attention_forward default
_cudnn_ctc_loss out default Tensor
_cudnn_init_dropout_state default out
_cudnn_rnn out default
_cudnn_rnn_backward out default
_cudnn_rnn_flatten_weight out default
_cufft_clear_plan_cache default
_cufft_get_plan_cache_max_size default
_cufft_get_plan_cache_size default
_cufft_set_plan_cache_max_size default
_cummax_helper default
_cummin_helper default
_debug_has_internal_overlap default
_dimI default
_dimV default
_dim_arange default
_dirichlet_grad default out
_dyn_quant_matmul_4bit default
_dyn_quant_pack_4bit_weight default
_efficient_attention_backward default
_efficient_attention_forward default
_efficientzerotensor default out
_embedding_bag default out
_embedding_bag_backward default
_embedding_bag_dense_backward default out
_embedding_bag_forward_only default out
_embedding_bag_per_sample_weights_backward default out
_embedding_bag_sparse_backward default
_empty_affine_quantized default out
_empty_per_channel_affine_quantized default out
_euclidean_dist default out
_fake_quantize_learnable_per_channel_affine default out
_fake_quantize_learnable_per_channel_affine_backward default
_fake_quantize_learnable_per_tensor_affine default out
_fake_quantize_learnable_per_tensor_affine_backward default
_fake_quantize_per_tensor_affine_cachemask_tensor_qparams default out
_fft_c2c default out
_fft_c2r default out
_fft_r2c default out
_fill_mem_eff_dropout_mask_ default
_flash_attention_backward default
_flash_attention_forward default quantized
_flash_attention_forward_no_dropout_inplace default
_foobar default out
_foreach_abs default out
_foreach_abs_ default
_foreach_acos default out
_foreach_acos_ default
_foreach_add Scalar Scalar_out List List_out ScalarList ScalarList_out Tensor Tensor_out
_foreach_add_ Scalar List ScalarList Tensor
_foreach_addcdiv Scalar Scalar_out ScalarList ScalarList_out Tensor Tensor_out
_foreach_addcdiv_ Scalar ScalarList Tensor
_foreach_addcmul Scalar Scalar_out ScalarList ScalarList_out Tensor Tensor_out
_foreach_addcmul_ Scalar ScalarList Tensor
_foreach_asin default out
_foreach_asin_ default
_foreach_atan default out
_foreach_atan_ default
_foreach_ceil default out
_foreach_ceil_ default
_foreach_clamp_max Scalar Scalar_out List List_out ScalarList ScalarList_out
_foreach_clamp_max_ Scalar List ScalarList
_foreach_clamp_min Scalar Scalar_out List List_out ScalarList ScalarList_out
_foreach_clamp_min_ Scalar List ScalarList
_foreach_clone default out
_foreach_copy default out
_foreach_copy_ default
_foreach_cos default out
_foreach_cos_ default
_foreach_cosh default out
_foreach_cosh_ default
_foreach_div Scalar Scalar_out List List_out ScalarList ScalarList_out Tensor Tensor_out
_foreach_div_ Scalar List ScalarList Tensor
_foreach_erf default out
_foreach_erf_ default
_foreach_erfc default out
_foreach_erfc_ default
_foreach_exp default out
_foreach_exp_ default
_foreach_expm1 default out
_foreach_expm1_ default
_foreach_floor default out
_foreach_floor_ default
_foreach_frac default out
_foreach_frac_ default
_foreach_lerp List List_out Scalar Scalar_out ScalarList ScalarList_out
_foreach_lerp_ List Scalar ScalarList
_foreach_lgamma default out
_foreach_lgamma_ default
_foreach_log default out
_foreach_log10 default out
_foreach_log10_ default
_foreach_log1p default out
_foreach_log1p_ default
_foreach_log2 default out
_foreach_log2_ default
_foreach_log_ default
_foreach_max default out
_foreach_maximum Scalar Scalar_out List List_out ScalarList ScalarList_out
_foreach_maximum_ Scalar List ScalarList
_foreach_minimum Scalar Scalar_out List List_out ScalarList ScalarList_out
_foreach_minimum_ Scalar List ScalarList
_foreach_mm default
_foreach_mul Scalar Scalar_out List List_out ScalarList ScalarList_out Tensor Tensor_out
_foreach_mul_ Scalar List ScalarList Tensor
_foreach_neg default out
_foreach_neg_ default
_foreach_norm Scalar Scalar_out
_foreach_pow List List_out Scalar Scalar_out ScalarList ScalarList_out ScalarAndTensor
_foreach_pow_ List Scalar ScalarList
_foreach_powsum Scalar Scalar_out
_foreach_reciprocal default out
_foreach_reciprocal_ default
_foreach_round default out
_foreach_round_ default
_foreach_rsqrt default out
_foreach_rsqrt_ default
_foreach_sigmoid default out
_foreach_sigmoid_ default
_foreach_sign default out
_foreach_sign_ default
_foreach_sin default out
_foreach_sin_ default
_foreach_sinh default out
_foreach_sinh_ default
_foreach_sqrt default out
_foreach_sqrt_ default
_foreach_sub Scalar Scalar_out List List_out ScalarList ScalarList_out
_foreach_sub_ Scalar List ScalarList
_foreach_tan default out
_foreach_tan_ default
_foreach_tanh default out
_foreach_tanh_ default
_foreach_trunc default out
_foreach_trunc_ default
_foreach_zero default out
_foreach_zero_ default
_functional_assert_async msg
_functional_assert_scalar default
_functional_sym_constrain_range default
_functional_sym_constrain_range_for_size default
_fused_adagrad default out tensor_lr tensor_lr_out
_fused_adagrad_ default tensor_lr
_fused_adam default out tensor_lr tensor_lr_out
_fused_adam_ default tensor_lr
_fused_adamw default out tensor_lr tensor_lr_out
_fused_adamw_ default tensor_lr
_fused_dropout out default
_fused_moving_avg_obs_fq_helper default out
_fused_moving_avg_obs_fq_helper_functional default
_fused_rms_norm default
_fused_rms_norm_backward default
_fused_sdp_choice default
_fused_sgd default out tensor_lr tensor_lr_out
_fused_sgd_ default tensor_lr
_fw_primal default
_fw_primal_copy default out
_gather_sparse_backward default
_get_cpu_capability default
_get_tracing_state default
_grad_sum_to_size default
_grid_sampler_2d_cpu_fallback default out
_grid_sampler_2d_cpu_fallback_backward default
_grouped_mm default
_has_compatible_shallow_copy_type default
_has_same_storage_numel default
_histogramdd_bin_edges default out
_histogramdd_from_bin_cts default out
_histogramdd_from_bin_tensors default out
_index_put_impl default out
_index_put_impl_ default hacked_twin
_indices default
_indices_copy default out
_infer_size default
_int_mm default out
_is_all_true default
_is_any_true default
_is_zerotensor default
_jagged_to_padded_dense_forward default
_lazy_clone default
_linalg_check_errors default
_linalg_det default result
_linalg_eigh default eigenvalues
_linalg_eigvals default
_linalg_slogdet default sign
_linalg_solve_ex default result
_linalg_svd default U
_list_to_tensor default
_local_scalar_dense default
_log_softmax default out
_log_softmax_backward_data default out
_logcumsumexp default out
_lstm_mps out default
_lu_with_info default
_make_dep_token default
_make_dual default
_make_dual_copy default out
_make_per_channel_quantized_tensor default out
_make_per_tensor_quantized_tensor default out
_masked_scale out default
_masked_softmax default out
_masked_softmax_backward default out
_mixed_dtypes_linear default
_mkldnn_reshape out default
_mkldnn_transpose out default
_mkldnn_transpose_ default
_mps_convolution default out
_mps_convolution_transpose out default
_native_batch_norm_legit default no_stats out no_stats_out
_native_batch_norm_legit_functional default
_native_batch_norm_legit_no_training default out
_native_multi_head_attention default out
_ncf_unsqueeze default
_ncf_view default
_neg_view default
_neg_view_copy default out
_nested_compute_contiguous_strides_offsets default
_nested_from_padded default out
_nested_from_padded_and_nested_example out default
_nested_from_padded_tensor default
_nested_get_jagged_dummy default
_nested_get_lengths default
_nested_get_max_seqlen default
_nested_get_min_seqlen default
_nested_get_offsets default
_nested_get_ragged_idx default
_nested_get_values default
_nested_get_values_copy default out
_nested_select_backward default
_nested_sum_backward default
_nested_tensor_from_mask default out
_nested_tensor_from_mask_left_aligned default
_nested_tensor_from_tensor_list default out
_nested_tensor_size out default
_nested_tensor_softmax_with_shape default
_nested_tensor_storage_offsets out default
_nested_tensor_strides out default
_nested_view_from_buffer default
_nested_view_from_buffer_copy default out
_nested_view_from_jagged default
_nested_view_from_jagged_copy default out
_new_zeros_with_same_feature_meta default out
_nnpack_available default
_nnpack_spatial_convolution default out
_nnz default
_no_grad_embedding_renorm_ default
_no_grad_fill_ default
_no_grad_normal_ default
_no_grad_uniform_ default
_no_grad_zero_ default
_pack_padded_sequence default out
_pack_padded_sequence_backward default
_pack_sequence default
_pad_circular default
_pad_enum default
_pad_packed_sequence default
_padded_dense_to_jagged_forward default
_pdist_backward default out
_pdist_forward default out
_philox_key_fold_in default
_philox_key_split default
_philox_normal default out
_philox_normal_ default
_philox_uniform default out
_philox_uniform_ default
_pin_memory default out
_prelu_kernel default
_prelu_kernel_backward default
_print default
_propagate_xla_data default
_remove_batch_dim default
_reshape_alias default
_reshape_alias_copy default out
_reshape_copy default
_reshape_from_tensor default
_resize_output default out
_resize_output_ default
_rowwise_prune default
_safe_softmax default
_sample_dirichlet default out
_saturate_weight_to_fp16 default
_scaled_dot_product_attention_math default
_scaled_dot_product_attention_math_for_mps default
_scaled_dot_product_cudnn_attention default
_scaled_dot_product_cudnn_attention_backward default
_scaled_dot_product_efficient_attention default
_scaled_dot_product_efficient_attention_backward default
_scaled_dot_product_flash_attention default quantized
_scaled_dot_product_flash_attention_backward default
_scaled_dot_product_flash_attention_for_cpu default
_scaled_dot_product_flash_attention_for_cpu_backward default
_scaled_dot_product_fused_attention_overrideable default
_scaled_dot_product_fused_attention_overrideable_backward default
_scaled_grouped_mm default
_scaled_grouped_mm_v2 default
_scaled_mm default out
_scaled_mm_v2 default out
_segment_reduce_backward default out
_set_item t str int bool float complex Tensor
_shape_as_tensor default
_size_if_not_equal default
_slow_conv2d_backward grad_input output_mask output_mask_out
_slow_conv2d_forward default output
_sobol_engine_draw default
_sobol_engine_ff_ default
_sobol_engine_initialize_state_ default
_sobol_engine_scramble_ default
_softmax default out
_softmax_backward_data default out
_sparse_addmm default out
_sparse_broadcast_to default
_sparse_broadcast_to_copy default out
_sparse_bsc_tensor_unsafe default
_sparse_bsr_tensor_unsafe default
_sparse_compressed_tensor_unsafe default
_sparse_compressed_tensor_with_dims default
_sparse_coo_tensor_unsafe default
_sparse_coo_tensor_with_dims default out
_sparse_coo_tensor_with_dims_and_tensors default out
_sparse_csc_tensor_unsafe default
_sparse_csr_prod dim_dtype_out dim_dtype
_sparse_csr_sum dim_dtype_out dim_dtype
_sparse_csr_tensor_unsafe default
_sparse_log_softmax out int default
_sparse_log_softmax_backward_data out default
_sparse_mask_projection out default
_sparse_mm default reduce
_sparse_mm_reduce_impl default
_sparse_mm_reduce_impl_backward default
_sparse_semi_structured_addmm default
_sparse_semi_structured_apply default
_sparse_semi_structured_apply_dense default
_sparse_semi_structured_linear default
_sparse_semi_structured_mm default
_sparse_semi_structured_tile default
_sparse_softmax out int default
_sparse_softmax_backward_data out default
_sparse_sparse_matmul out default
_sparse_sum dim dim_out default dtype dim_dtype
_sparse_sum_backward out default
_spdiags default out
_spsolve default
_stack default out
_standard_gamma default out
_standard_gamma_grad default out
_tensor_to_list default
_test_ambiguous_defaults a b
_test_autograd_multiple_dispatch fullcoverage fullcoverage_out ntonly
_test_autograd_multiple_dispatch_view default
_test_autograd_multiple_dispatch_view_copy default out
_test_check_tensor default
_test_functorch_fallback default out
_test_optional_filled_intlist default out
_test_optional_floatlist default out
_test_optional_intlist default out
_test_parallel_materialize default
_test_serialization_subcmul default
_test_string_default default
_test_warn_in_autograd default out
_thnn_differentiable_gru_cell_backward default
_thnn_differentiable_lstm_cell_backward default
_thnn_fused_gru_cell default out
_thnn_fused_gru_cell_backward out default
_thnn_fused_lstm_cell default out
_thnn_fused_lstm_cell_backward default
_thnn_fused_lstm_cell_backward_impl out default
_to_copy default out
_to_cpu default
_to_dense out default
_to_sparse sparse_dim default sparse_dim_out out
_to_sparse_bsc default out
_to_sparse_bsr default out
_to_sparse_csc default out
_to_sparse_csr default out
_to_sparse_semi_structured default
_transform_bias_rescale_qkv default out
_transformer_encoder_layer_fwd default out
_trilinear default out
_triton_multi_head_attention out default
_triton_scaled_dot_attention out default
_unique default out
_unique2 default out
_unpack_dual default
_unsafe_index Tensor Tensor_hacked_twin
_unsafe_index_put default hacked_twin
_unsafe_masked_index default
_unsafe_masked_index_put_accumulate default
_unsafe_view default out
_unwrap_optional default
_upsample_bicubic2d_aa default vec out
_upsample_bicubic2d_aa_backward default grad_input
_upsample_bilinear2d_aa default vec out
_upsample_bilinear2d_aa_backward default grad_input
_upsample_lanczos2d_aa default out vec
_upsample_lanczos2d_aa_backward default grad_input
_upsample_nearest_exact1d default out vec
_upsample_nearest_exact1d_backward default grad_input
_upsample_nearest_exact2d default out vec
_upsample_nearest_exact2d_backward default grad_input
_upsample_nearest_exact3d default out vec
_upsample_nearest_exact3d_backward default grad_input
_use_cudnn_ctc_loss default Tensor
_use_cudnn_rnn_flatten_weight default
_use_miopen_ctc_loss default Tensor
_validate_compressed_sparse_indices default
_validate_sparse_bsc_tensor_args default
_validate_sparse_bsr_tensor_args default
_validate_sparse_compressed_tensor_args default
_validate_sparse_coo_tensor_args default
_validate_sparse_csc_tensor_args default
_validate_sparse_csr_tensor_args default
_values default
_values_copy default out
_version default
_weight_int4pack_mm default
_weight_int4pack_mm_for_cpu default
_weight_int4pack_mm_with_scales_and_zeros default
_weight_int8pack_mm default
_weight_norm default
_weight_norm_differentiable_backward default
_weight_norm_interface default out
_weight_norm_interface_backward default out
_wrapped_linear_prepack default
_wrapped_quantized_linear_prepacked default
abs default out
abs_ default
absolute default out
absolute_ default
acos default out int float complex Scalar
acos_ default
acosh default out int float complex Scalar
acosh_ default
adaptive_avg_pool1d default out
adaptive_avg_pool2d default out
adaptive_avg_pool3d default out
adaptive_avg_pool3d_backward grad_input
adaptive_max_pool1d default
adaptive_max_pool2d default out
adaptive_max_pool2d_backward default grad_input
adaptive_max_pool3d default out
adaptive_max_pool3d_backward default grad_input
add Tensor Scalar out Scalar_out t str int complex float int_complex complex_int float_complex complex_float int_float
    float_int default
add_ Tensor Scalar t
addbmm default out
addbmm_ default
addcdiv default out
addcdiv_ default
addcmul default out
addcmul_ default
addmm default out dtype_out dtype
addmm_ default
addmv default out
addmv_ default
addr default out
addr_ default
adjoint default
affine_grid_generator default out
affine_grid_generator_backward default
alias default
alias_copy default out
all default dim dims out dims_out all_out int float bool
allclose default
alpha_dropout default
alpha_dropout_ default
amax default out
amin default out
aminmax default out
angle default out int float complex Scalar
any default dim dims out dims_out all_out str int float bool
append t
arange default start start_step start_out out
arccos default out
arccos_ default
arccosh default out
arccosh_ default
arcsin default out
arcsin_ default
arcsinh default out
arcsinh_ default
arctan default out
arctan2 default out
arctan2_ default
arctan_ default
arctanh default out
arctanh_ default
argmax default out
argmin default out
argsort default stable stable_out
argwhere default
as_strided default
as_strided_ default
as_strided_copy default out
as_strided_scatter default out
as_tensor bool float int complex default list
asin default out int float complex Scalar
asin_ default
asinh default out int float complex Scalar
asinh_ default
atan default out int float complex Scalar
atan2 default out int float int_float float_int Scalar_Scalar
atan2_ default
atan_ default
atanh default out int float complex Scalar
atanh_ default
atleast_1d default Sequence
atleast_2d default Sequence
atleast_3d default Sequence
avg_pool1d default out
avg_pool2d default out
avg_pool2d_backward default grad_input
avg_pool3d default out
avg_pool3d_backward default grad_input
backward default TensorList
baddbmm default out dtype_out dtype
baddbmm_ default
bartlett_window default periodic out periodic_out
batch_norm default
batch_norm_backward default
batch_norm_backward_elemt out default
batch_norm_backward_reduce out default
batch_norm_elemt out default
batch_norm_gather_stats out default
batch_norm_gather_stats_with_counts out default
batch_norm_stats out default
batch_norm_update_stats default out
bernoulli default out p Tensor Tensor_out float_out
bernoulli_ Tensor float
bilinear default
bin default
binary_cross_entropy default out
binary_cross_entropy_backward default grad_input
binary_cross_entropy_with_logits default out
bincount default out
binomial default out
bitwise_and Tensor Scalar Scalar_Tensor Tensor_out Scalar_out Scalar_Tensor_out
bitwise_and_ Tensor Scalar
bitwise_left_shift Tensor Tensor_Scalar Scalar_Tensor Tensor_out Tensor_Scalar_out Scalar_Tensor_out
bitwise_left_shift_ Tensor_Scalar Tensor
bitwise_not default out
bitwise_not_ default
bitwise_or Tensor Scalar Scalar_Tensor Tensor_out Scalar_out Scalar_Tensor_out
bitwise_or_ Tensor Scalar
bitwise_right_shift Tensor Tensor_Scalar Scalar_Tensor Tensor_out Tensor_Scalar_out Scalar_Tensor_out
bitwise_right_shift_ Tensor_Scalar Tensor
bitwise_xor Tensor Scalar Scalar_Tensor Tensor_out Scalar_out Scalar_Tensor_out
bitwise_xor_ Tensor Scalar
blackman_window default periodic out periodic_out
block_diag default out
bmm default out dtype_out dtype
broadcast_shapes default
broadcast_tensors default
broadcast_to default
bucketize Tensor Scalar Tensor_out Scalar_out
can_cast default
capitalize default
cartesian_prod default
cat default out
cauchy default out
cauchy_ default
ccol_indices default
ccol_indices_copy default out
cdist default
ceil default out int float Scalar
ceil_ default
celu default out
celu_ default
center default
chain_matmul default out
chalf default
channel_shuffle default out
cholesky default out
cholesky_inverse default out
cholesky_solve default out
choose_qparams_optimized default
chr default
chunk default
clamp default Tensor out Tensor_out
clamp_ default Tensor
clamp_max default Tensor out Tensor_out
clamp_max_ default Tensor
clamp_min default Tensor out Tensor_out
clamp_min_ default Tensor
clear t str int bool float complex Tensor
clip default Tensor out Tensor_out
clip_ default Tensor
clone default out
coalesce default
col2im default out
col_indices default
col_indices_copy default out
column_stack default out
combinations default
complex default out
concat default out
concatenate default out
confirmed_by_owner default
conj default
conj_physical default out
conj_physical_ default
constant_pad_nd default out
contiguous default
conv1d default padding
conv2d default padding
conv3d default padding
conv_depthwise3d out default
conv_tbc default out
conv_tbc_backward default
conv_transpose1d default
conv_transpose2d input
conv_transpose3d input
convolution default out
convolution_backward default out
convolution_backward_overrideable default out
convolution_overrideable default out
copy default out t Dict_str Dict_int Dict_bool Dict_float Dict_complex Dict_Tensor
copy_ default Tensor int float
copy_sparse_to_sparse default out
copy_sparse_to_sparse_ default
copysign Tensor Scalar out Scalar_out int float int_float float_int default
copysign_ Tensor Scalar
corrcoef default
cos default out int float complex Scalar
cos_ default
cosh default out int float complex Scalar
cosh_ default
cosine_embedding_loss default
cosine_similarity default
count default int float bool Tensor str
count_nonzero default dim_IntList dim_IntList_out out
cov default
cpu default
cross default out
cross_entropy_loss default
crow_indices default
crow_indices_copy default out
ctc_loss IntList Tensor
cuda default
cudnn_affine_grid_generator out default
cudnn_affine_grid_generator_backward out default
cudnn_batch_norm default out
cudnn_batch_norm_backward default out
cudnn_convolution default out
cudnn_convolution_add_relu out default
cudnn_convolution_relu out default
cudnn_convolution_transpose default out
cudnn_grid_sampler default out
cudnn_grid_sampler_backward default out
cudnn_is_acceptable default
cummax default out
cummaxmin_backward default
cummin default out
cumprod default out
cumprod_ default
cumprod_backward default
cumsum default out
cumsum_ default
cumulative_trapezoid x dx
data default
deg2rad default out
deg2rad_ default
degrees int float Scalar
dense_dim default
dequantize self self_out tensors_out tensors tensor list any
det default
detach default
detach_ default
detach_copy default out
device default with_index
diag default out
diag_embed default out
diagflat default
diagonal default
diagonal_backward default out
diagonal_copy default out
diagonal_scatter default out
dict default str Dict_str int Dict_int bool Dict_bool float Dict_float complex Dict_complex Tensor Dict_Tensor
diff default out
digamma default out
digamma_ default
dim default
dist default out
dist_backward default
div Tensor Scalar Tensor_mode Scalar_mode out out_mode Scalar_out Scalar_mode_out int complex float default
div_ Tensor Tensor_mode Scalar Scalar_mode
divide Tensor Scalar Tensor_mode Scalar_mode out out_mode
divide_ Tensor Tensor_mode Scalar_mode Scalar
divmod int float int_float float_int
dot default out
dropout default
dropout_ default
dsplit int array
dstack default out
einsum default sublist
element_size default
elu default out
elu_ default
elu_backward default grad_input
embedding default out
embedding_backward default
embedding_bag default padding_idx
embedding_dense_backward default out
embedding_renorm default out
embedding_renorm_ default
embedding_sparse_backward default
empty memory_format out
empty_like default out
empty_permuted default out
empty_quantized default out
empty_strided default out
endswith default
eq Tensor Scalar Scalar_out Tensor_out int_list device bool enum int complex float int_float float_int float_complex
    complex_float default str float_list Tensor_list bool_list str_list
eq_ Scalar Tensor
equal default
erf default out int float Scalar
erf_ default
erfc default out int float Scalar
erfc_ default
erfinv default out
erfinv_ default
exp default out int float complex Scalar
exp2 default out
exp2_ default
exp_ default
expand default
expand_as default
expand_copy default out
expandtabs default
expm1 default out int float Scalar
expm1_ default
exponential default out
exponential_ default
extend t
eye default m out m_out
fabs int float Scalar
factorial int
fake_quantize_per_channel_affine default
fake_quantize_per_channel_affine_cachemask default out
fake_quantize_per_channel_affine_cachemask_backward default
fake_quantize_per_tensor_affine default tensor_qparams
fake_quantize_per_tensor_affine_cachemask default out
fake_quantize_per_tensor_affine_cachemask_backward default
fbgemm_linear_fp16_weight default out
fbgemm_linear_fp16_weight_fp32_activation default out
fbgemm_linear_int8_weight default
fbgemm_linear_int8_weight_fp32_activation default
fbgemm_linear_quantize_weight default
fbgemm_pack_gemm_matrix_fp16 default
fbgemm_pack_quantized_matrix default KN
feature_alpha_dropout default
feature_alpha_dropout_ default
feature_dropout default
feature_dropout_ default
fft_fft default out
fft_fft2 default out
fft_fftfreq default out
fft_fftn default out
fft_fftshift default
fft_hfft default out
fft_hfft2 default out
fft_hfftn default out
fft_ifft default out
fft_ifft2 default out
fft_ifftn default out
fft_ifftshift default
fft_ihfft default out
fft_ihfft2 default out
fft_ihfftn default out
fft_irfft default out
fft_irfft2 default out
fft_irfftn default out
fft_rfft default out
fft_rfft2 default out
fft_rfftfreq default out
fft_rfftn default out
fill Scalar Scalar_out Tensor Tensor_out
fill_ Scalar Tensor
fill_diagonal_ default
find default
fix default out
fix_ default
flatten using_ints
flatten_dense_tensors default
flip default out
fliplr default
flipud default
float_power Tensor_Tensor Tensor_Scalar Scalar Tensor_Tensor_out Scalar_out Tensor_Scalar_out
float_power_ Tensor Scalar
floor default out int float Scalar
floor_ default
floor_divide default Scalar out Scalar_out
floor_divide_ Tensor Scalar
floordiv int float int_float float_int default
fmax default out
fmin default out
fmod Tensor Scalar Tensor_out Scalar_out int float int_float float_int default
fmod_ Tensor Scalar
format default
frac default out
frac_ default
fractional_max_pool2d default output
fractional_max_pool2d_backward default grad_input
fractional_max_pool3d default output
fractional_max_pool3d_backward default grad_input
frexp Tensor Tensor_out default
frobenius_norm dim out
from_file default out
full default out
full_like default out
fused_moving_avg_obs_fake_quant default
gamma int float Scalar
gather default out
gather_backward default
gcd default out int
gcd_ default
ge Tensor Scalar Scalar_out Tensor_out int float int_float float_int default str
ge_ Scalar Tensor
gelu default out
gelu_ default
gelu_backward default grad_input
geometric default out
geometric_ default
geqrf default a
ger default out
get str default_str int default_int bool default_bool float default_float complex default_complex Tensor
    default_Tensor
get_autocast_dtype default
get_device default
get_gradients default
glu default out
glu_backward default grad_input
glu_backward_jvp default out
glu_jvp default out
grad default
gradient scalarint scalararray array scalarrayint scalarrayarray tensorarrayint tensorarray
greater Tensor Scalar Scalar_out Tensor_out
greater_ Scalar Tensor
greater_equal Tensor Scalar Scalar_out Tensor_out
greater_equal_ Scalar Tensor
grid_sampler default
grid_sampler_2d default out
grid_sampler_2d_backward default out
grid_sampler_3d default out
grid_sampler_3d_backward default out
group_norm default
gru input data
gru_cell default
gt Tensor Scalar Scalar_out Tensor_out int float int_float float_int default str
gt_ Scalar Tensor
hamming_window default periodic periodic_alpha periodic_alpha_beta out periodic_out periodic_alpha_out
    periodic_alpha_beta_out
hann_window default periodic out periodic_out
hardshrink default out
hardshrink_backward default grad_input
hardsigmoid default out
hardsigmoid_ default
hardsigmoid_backward default grad_input
hardswish default out
hardswish_ default
hardswish_backward default out
hardtanh default out
hardtanh_ default
hardtanh_backward default grad_input
has_torch_function default
hash generic
hash_tensor default out
heaviside default out
heaviside_ default
hex default
hinge_embedding_loss default
histc default out
histogram bins_tensor bins_tensor_out bin_ct bin_ct_out
histogramdd default int_bins TensorList_bins
hsplit int array
hspmm out default
hstack default out
huber_loss default out
huber_loss_backward out default
hypot default out
hypot_ default
i0 default out
i0_ default
igamma default out
igamma_ default
igammac default out
igammac_ default
im2col default out
imag default
index Tensor Tensor_out Tensor_hacked_twin str list_int list_float list_bool list_Tensor list_str
index_add default out
index_add_ default
index_copy default out
index_copy_ default
index_fill int_Tensor int_Scalar int_Scalar_out int_Tensor_out
index_fill_ int_Tensor int_Scalar
index_put default out hacked_twin
index_put_ default hacked_twin
index_reduce default out
index_reduce_ default
index_select default out
index_select_backward default
indices default
indices_copy default out
infinitely_differentiable_gelu_backward default
initial_seed default
inner default out
insert t
instance_norm default
int_repr out default
inverse default out
is_autocast_cpu_enabled default
is_autocast_enabled default
is_coalesced default
is_complex default
is_conj default
is_contiguous default memory_format
is_distributed default
is_floating_point default
is_grad_enabled default
is_inference default
is_leaf default
is_neg default
is_non_overlapping_and_dense default
is_nonzero default
is_owner default
is_pinned default
is_same_size default
is_scripting default
is_set_to default
is_signed default
is_strides_like_format default
is_vulkan_available default
isalnum default
isalpha default
isclose default
isdecimal default
isdigit default
isfinite default float complex
isidentifier default
isin Tensor_Tensor Tensor_Tensor_out Tensor_Scalar Tensor_Scalar_out Scalar_Tensor Scalar_Tensor_out
isinf default out float complex
islower default
isnan default out float complex
isneginf default out
isnumeric default
isposinf default out
isprintable default
isreal default
isspace default
istft default
istitle default
isupper default
item default
items str int bool float complex Tensor
join default
kaiser_window default periodic beta out periodic_out beta_out
keys str int bool float complex Tensor
kl_div default
kron default out
kthvalue default values
l1_loss default
layer_norm default
lcm default out
lcm_ default
ldexp Tensor out default
ldexp_ default
le Tensor Scalar Scalar_out Tensor_out int float int_float float_int default str
le_ Scalar Tensor
leaky_relu default out
leaky_relu_ default
leaky_relu_backward default grad_input
len t Tensor str Dict_str Dict_int Dict_bool Dict_float Dict_complex Dict_Tensor any
lerp Scalar Tensor Scalar_out Tensor_out
lerp_ Scalar Tensor
less Tensor Scalar Scalar_out Tensor_out
less_ Scalar Tensor
less_equal Tensor Scalar Scalar_out Tensor_out
less_equal_ Scalar Tensor
lgamma default out int float Scalar
lgamma_ default
lift default out
lift_fresh default
lift_fresh_copy default out
linalg__powsum default
linalg_cholesky default out
linalg_cholesky_ex default L
linalg_cond default p_str out p_str_out
linalg_cross default out
linalg_det default out
linalg_diagonal default
linalg_eig default out
linalg_eigh default eigvals
linalg_eigvals default out
linalg_eigvalsh default out
linalg_householder_product default out
linalg_inv default out
linalg_inv_ex default inverse
linalg_ldl_factor default out
linalg_ldl_factor_ex default out
linalg_ldl_solve default out
linalg_lstsq default out
linalg_lu default out
linalg_lu_factor default out
linalg_lu_factor_ex default out
linalg_lu_solve default out
linalg_matmul default out
linalg_matrix_exp default out
linalg_matrix_norm default str_ord out str_ord_out
linalg_matrix_power default out
linalg_matrix_rank default tol_tensor atol_rtol_tensor atol_rtol_float atol_rtol_tensor_out atol_rtol_float_out out
    out_tol_tensor
linalg_multi_dot default out
linalg_norm default ord_str out ord_str_out
linalg_pinv default atol_rtol_float atol_rtol_tensor atol_rtol_tensor_out atol_rtol_float_out out rcond_tensor
    out_rcond_tensor
linalg_qr default out
linalg_slogdet default out
linalg_solve default out
linalg_solve_ex default out
linalg_solve_triangular default out
linalg_svd default U
linalg_svdvals default out
linalg_tensorinv default out
linalg_tensorsolve default out
linalg_vander default
linalg_vecdot default out
linalg_vector_norm default out
linear default out
linear_backward out default
linspace Tensor_Tensor Tensor_Scalar Scalar_Tensor default out Tensor_Tensor_out Tensor_Scalar_out Scalar_Tensor_out
list default t
ljust default
local_value default
log default out int float complex Scalar int_int float_float complex_complex int_float float_int int_complex
    complex_int float_complex complex_float Scalar_Scalar
log10 default out int float complex Scalar
log10_ default
log1p default out int float Scalar
log1p_ default
log2 default out
log2_ default
log_ default
log_normal default out
log_normal_ default
log_sigmoid default out
log_sigmoid_backward default grad_input
log_sigmoid_forward default output
log_softmax int int_out
logaddexp default out
logaddexp2 default out
logcumsumexp default out
logdet default
logical_and default out
logical_and_ default
logical_not default out
logical_not_ default
logical_or default out
logical_or_ default
logical_xor default out
logical_xor_ default
logit default out
logit_ default
logit_backward default grad_input
logspace Tensor_Tensor Tensor_Scalar Scalar_Tensor default out Tensor_Tensor_out Tensor_Scalar_out Scalar_Tensor_out
logsumexp default out
lower default
lstm input data
lstm_cell default
lstm_mps_backward out default
lstrip default
lt Tensor Scalar Scalar_out Tensor_out int float int_float float_int default str
lt_ Scalar Tensor
lu_solve default out
lu_unpack default out
mH default a
mT default a
manual_seed default generator
margin_ranking_loss default
masked_fill Scalar Scalar_out Tensor Tensor_out
masked_fill_ Scalar Tensor
masked_scatter default out
masked_scatter_ default
masked_scatter_backward default
masked_select default out
masked_select_backward default
mathremainder int float int_float float_int default
matmul default out
matmul_backward out default
matrix_H default a
matrix_exp default
matrix_exp_backward default
matrix_power default out
max other default dim dim_max unary_out out
max_pool1d default
max_pool1d_with_indices default
max_pool2d default
max_pool2d_backward out default
max_pool2d_with_indices default out
max_pool2d_with_indices_backward default grad_input
max_pool3d default
max_pool3d_with_indices default out
max_pool3d_with_indices_backward default grad_input
max_unpool2d default out
max_unpool3d default out
maximum default out
mean default dim out dtype_out
median default dim dim_values out
meshgrid default indexing
min other default dim dim_min unary_out out
minimum default out
miopen_batch_norm default out
miopen_batch_norm_backward default out
miopen_convolution out default
miopen_convolution_add_relu default
miopen_convolution_relu default
miopen_convolution_transpose out default
miopen_ctc_loss out default Tensor
miopen_depthwise_convolution out default
miopen_rnn out default
miopen_rnn_backward out default
mish default out
mish_ default
mish_backward default
mkldnn_adaptive_avg_pool2d out default
mkldnn_adaptive_avg_pool2d_backward out default
mkldnn_convolution default out
mkldnn_linear out default
mkldnn_linear_backward out default
mkldnn_linear_backward_input out default
mkldnn_linear_backward_weights out default
mkldnn_max_pool2d out default
mkldnn_max_pool2d_backward out default
mkldnn_max_pool3d out default
mkldnn_max_pool3d_backward out default
mkldnn_reorder_conv2d_weight out default
mkldnn_reorder_conv3d_weight out default
mkldnn_rnn_layer default out
mkldnn_rnn_layer_backward default out
mm default out dtype_out dtype
mode default values
modf default
moveaxis intlist int
movedim int intlist
mps_convolution_backward out default
mps_convolution_transpose_backward out default
mse_loss default out
mse_loss_backward default grad_input
msort default out
mul Tensor Scalar out Scalar_out left_t right_ int complex float int_complex complex_int float_complex complex_float
    int_float float_int default
mul_ Tensor Scalar t
multi_margin_loss default out
multi_margin_loss_backward default grad_input
multilabel_margin_loss default out
multilabel_margin_loss_backward default grad_input
multilabel_margin_loss_forward default output
multinomial default out
multiply Tensor Scalar out
multiply_ Tensor Scalar
mv default out
mvlgamma default out
mvlgamma_ default
nan_to_num default out
nan_to_num_ default
nanmean default out
nanmedian default dim dim_values out
nanquantile default scalar out scalar_out
nansum default out
narrow default Tensor
narrow_copy default out
native_batch_norm default out
native_batch_norm_backward default out
native_channel_shuffle default
native_dropout default out
native_dropout_backward default out
native_group_norm default out
native_group_norm_backward default out
native_layer_norm default out
native_layer_norm_backward default out
native_norm out ScalarOpt_dim_dtype_out default ScalarOpt_dim_dtype
ne Tensor Scalar Scalar_out Tensor_out int_list device bool enum int complex float int_float float_int float_complex
    complex_float default str float_list Tensor_list bool_list str_list
ne_ Scalar Tensor
neg default out int float complex Scalar
neg_ default
negative default out
negative_ default
nested_to_padded_tensor default
new_empty default out
new_empty_strided default out
new_full default out
new_ones default out
new_zeros default out
nextafter default out
nextafter_ default
nll_loss default out
nll_loss2d default out
nll_loss2d_backward default grad_input
nll_loss2d_forward default output
nll_loss_backward default grad_input
nll_loss_forward default output
nll_loss_nd default
nonzero default out
nonzero_numpy default
nonzero_static default out
norm Scalar ScalarOpt_dim ScalarOpt_dim_dtype dtype_out out ScalarOpt_dtype ScalarOpt_dtype_out Scalar_out
norm_except_dim default
normal Tensor_float Tensor_float_out float_Tensor_out float_Tensor Tensor_Tensor Tensor_Tensor_out float_float
    float_float_out out
normal_ default
normal_functional default
not_equal Tensor Scalar Scalar_out Tensor_out
not_equal_ Scalar Tensor
nuclear_norm default dim out dim_out
numel default
numpy_T default a
oct default
one_hot default
ones default out
ones_like default out
ord default
orgqr default out
ormqr default out
outer default out
output_nr default
owner default
owner_name default
pad default
pad_sequence default
pairwise_distance default
partition default
pdist default
percentFormat default
permute default
permute_copy default out
pin_memory default
pinverse default
pixel_shuffle default out
pixel_unshuffle default out
poisson default out
poisson_nll_loss default
polar default out int float int_float float_int Scalar_Scalar
polygamma default out
polygamma_ default
pop t Dict_str Dict_default_str Dict_int Dict_default_int Dict_bool Dict_default_bool Dict_float Dict_default_float
    Dict_complex Dict_default_complex Dict_Tensor Dict_default_Tensor
popitem str int bool float complex Tensor
positive default
pow Tensor_Tensor Tensor_Scalar Scalar Tensor_Tensor_out Scalar_out Tensor_Scalar_out int complex float int_float
    float_int float_complex complex_float Scalar_Scalar int_to_int
pow_ Scalar Tensor
prelu default
prod default dim_int int_out out
promote_types default
put default out
put_ default
q_per_channel_axis default
q_per_channel_scales out default
q_per_channel_zero_points out default
q_scale default
q_zero_point default
qr default Q
qscheme default
quantile default scalar out scalar_out
quantize_per_channel default out
quantize_per_tensor default tensor_qparams tensors out tensor_qparams_out tensors_out
quantize_per_tensor_dynamic default out
quantized_batch_norm out default
quantized_gru input data input_legacy data_legacy
quantized_gru_cell default
quantized_lstm input data input_legacy data_legacy
quantized_lstm_cell default
quantized_max_pool1d out default
quantized_max_pool2d out default
quantized_max_pool3d out default
quantized_rnn_relu_cell default
quantized_rnn_tanh_cell default
rad2deg default out
rad2deg_ default
radians int float Scalar
rand default generator out generator_out
rand_like default generator out generator_out
randint default generator low low_generator out generator_out low_out low_generator_out
randint_like default Tensor low_dtype generator Tensor_generator low_generator_dtype out generator_out Tensor_out
    Tensor_generator_out low_dtype_out low_generator_dtype_out
randn default generator out generator_out
randn_like default generator out generator_out
random from from_out to to_out default out
random_ from to default
randperm default generator out generator_out
range step default out out_
ravel default
real default
reciprocal default out
reciprocal_ default
record_stream default
reflection_pad1d default out
reflection_pad1d_backward default grad_input
reflection_pad2d default out
reflection_pad2d_backward default grad_input
reflection_pad3d default out
reflection_pad3d_backward default grad_input
relu default out
relu6 default
relu6_ default
relu_ default
remainder Tensor Scalar Scalar_Tensor Tensor_out Scalar_out Scalar_Tensor_out int float int_float float_int default
remainder_ Tensor Scalar
remove int float bool Tensor str
renorm default out
renorm_ default
repeat default out
repeat_interleave Tensor self_Tensor self_int Tensor_out
replace default
replication_pad1d default out
replication_pad1d_backward default grad_input
replication_pad2d default out
replication_pad2d_backward default grad_input
replication_pad3d default out
replication_pad3d_backward default grad_input
requires_grad_ default
reshape default
reshape_as default
resize default out
resize_ default
resize_as default out
resize_as_ default
resize_as_sparse default out
resize_as_sparse_ default
resolve_conj default
resolve_neg default
result_type Tensor Scalar Scalar_Tensor Scalar_Scalar
retain_grad default
retains_grad default
reverse t
rfind default
rindex default
rjust default
rms_norm default
rnn_relu input data
rnn_relu_cell default
rnn_tanh input data
rnn_tanh_cell default
roll default out
rot90 default out
round default decimals out decimals_out int float Scalar
round_ default decimals
row_indices default
row_indices_copy default out
row_stack default out
rpartition default
rrelu default
rrelu_ default
rrelu_with_noise default out
rrelu_with_noise_ default
rrelu_with_noise_backward default out
rrelu_with_noise_functional default
rsplit default
rsqrt default out
rsqrt_ default
rstrip default
rsub Tensor Scalar Tensor_out Scalar_out
save default
scalar_tensor default out
scaled_dot_product_attention default
scatter value src reduce value_reduce src_out value_out reduce_out value_reduce_out
scatter_ src value reduce value_reduce
scatter_add default out
scatter_add_ default
scatter_reduce two two_out
scatter_reduce_ two
searchsorted Tensor Tensor_out Scalar Scalar_out
seed default
segment_reduce default out
select int t
select_backward default out
select_copy int int_out
select_scatter default out
selu default
selu_ default
set source_Storage source_Storage_out source_Storage_storage_offset source_Storage_storage_offset_out source_Tensor
    source_Tensor_out default out
set_ source_Storage_storage_offset source_Tensor default source_Storage source_Tensor_storage_offset
set_data default
set_grad_enabled default
setdefault str int bool float complex Tensor
sgn default out
sgn_ default
sigmoid default out
sigmoid_ default
sigmoid_backward default grad_input
sign default out
sign_ default
signbit default out
silu default out
silu_ default
silu_backward default grad_input
sin default out int float complex Scalar
sin_ default
sinc default out
sinc_ default
sinh default out int float complex Scalar
sinh_ default
size int default
slice Tensor t str
slice_backward default out
slice_copy Tensor Tensor_out
slice_inverse default
slice_scatter default out
slogdet default out
slow_conv3d default out
slow_conv3d_forward default output
slow_conv_dilated2d default out
slow_conv_dilated3d default out
slow_conv_transpose2d default out
slow_conv_transpose3d default out
smm default
smooth_l1_loss default out
smooth_l1_loss_backward grad_input default
soft_margin_loss default out
soft_margin_loss_backward default grad_input
softmax int int_out
softplus default out
softplus_backward default grad_input
softshrink default out
softshrink_backward default grad_input
sort default stable values_stable values int float Tensor bool str any
sorted int float Tensor bool str any
sparse_bsc_tensor ccol_row_value_size ccol_row_value
sparse_bsr_tensor crow_col_value_size crow_col_value
sparse_compressed_tensor comp_plain_value_size comp_plain_value
sparse_coo_tensor size indices indices_size size_out
sparse_csc_tensor ccol_row_value_size ccol_row_value
sparse_csr_tensor crow_col_value_size crow_col_value
sparse_dim default
sparse_mask out default
sparse_resize default out
sparse_resize_ default
sparse_resize_and_clear default out
sparse_resize_and_clear_ default
sparse_sampled_addmm out default
special_airy_ai default out
special_bessel_j0 default out
special_bessel_j1 default out
special_bessel_y0 default out
special_bessel_y1 default out
special_chebyshev_polynomial_t default out x_scalar x_scalar_out n_scalar n_scalar_out
special_chebyshev_polynomial_u default out x_scalar x_scalar_out n_scalar n_scalar_out
special_chebyshev_polynomial_v default out x_scalar x_scalar_out n_scalar n_scalar_out
special_chebyshev_polynomial_w default out x_scalar x_scalar_out n_scalar n_scalar_out
special_digamma default out
special_entr default out
special_erf default out
special_erfc default out
special_erfcx default out
special_erfinv default out
special_exp2 default out
special_expit default out
special_expm1 default out
special_gammainc default out
special_gammaincc default out
special_gammaln default out
special_hermite_polynomial_h default out x_scalar x_scalar_out n_scalar n_scalar_out
special_hermite_polynomial_he default out x_scalar x_scalar_out n_scalar n_scalar_out
special_i0 default out
special_i0e default out
special_i1 default out
special_i1e default out
special_laguerre_polynomial_l default out x_scalar x_scalar_out n_scalar n_scalar_out
special_legendre_polynomial_p default out x_scalar x_scalar_out n_scalar n_scalar_out
special_log1p default out
special_log_ndtr default out
special_log_softmax default
special_logit default out
special_logsumexp default out
special_modified_bessel_i0 default out
special_modified_bessel_i1 default out
special_modified_bessel_k0 default out
special_modified_bessel_k1 default out
special_multigammaln default out
special_ndtr default out
special_ndtri default out
special_polygamma default out
special_psi default out
special_round default out
special_scaled_modified_bessel_k0 default out
special_scaled_modified_bessel_k1 default out
special_shifted_chebyshev_polynomial_t default out x_scalar x_scalar_out n_scalar n_scalar_out
special_shifted_chebyshev_polynomial_u default out x_scalar x_scalar_out n_scalar n_scalar_out
special_shifted_chebyshev_polynomial_v default out x_scalar x_scalar_out n_scalar n_scalar_out
special_shifted_chebyshev_polynomial_w default out x_scalar x_scalar_out n_scalar n_scalar_out
special_sinc default out
special_softmax default
special_spherical_bessel_j0 default out
special_xlog1py default other_scalar self_scalar out self_scalar_out other_scalar_out
special_xlogy default other_scalar self_scalar out self_scalar_out other_scalar_out
special_zeta default other_scalar self_scalar out self_scalar_out other_scalar_out
split Tensor sizes str default
split_copy Tensor Tensor_out
split_with_sizes default
split_with_sizes_copy default out
splitlines default
sqrt default out int float complex Scalar
sqrt_ default
square default out
square_ default
squeeze default dim dims
squeeze_ default dim dims
squeeze_copy default dim dims out dim_out dims_out
sspaddmm out default
stack default out
startswith default
std default dim correction correction_out out
std_mean default dim correction correction_out
stft default center
storage_offset default
str default
stride int default
strip default
sub Tensor Scalar out Scalar_out int complex float int_complex complex_int float_complex complex_float int_float
    float_int default
sub_ Tensor Scalar
subtract Tensor out Scalar
subtract_ Tensor Scalar
sum dim_IntList default IntList_out out int float complex bool
sum_to_size default
svd default U
swapaxes default
swapaxes_ default
swapcase default
swapdims default
swapdims_ default
sym_constrain_range default
sym_constrain_range_for_size default
sym_is_contiguous default
sym_numel default
sym_size int default
sym_storage_offset default
sym_stride int default
t default
t_ default
t_copy default out
take default out
take_along_dim default out
tan default out int float complex Scalar
tan_ default
tanh default out int float complex Scalar
tanh_ default
tanh_backward default grad_input
tensor bool float int complex default
tensor_split sections indices tensor_indices_or_sections
tensordot default out
thnn_conv2d default out
threshold default out
threshold_ default
threshold_backward default grad_input
tile default
title default
to device dtype other dtype_layout prim_Device prim_dtype prim_other
to_dense default
to_dense_backward default
to_here default
to_mkldnn default out
to_mkldnn_backward default
to_padded_tensor out default
to_sparse sparse_dim default
to_sparse_bsc default
to_sparse_bsr default
to_sparse_csc default
to_sparse_csr default
topk default values
trace default out
trace_backward default
transpose int
transpose_ default
transpose_copy int int_out
trapezoid x dx
trapz x dx
triangular_solve default X
tril default out
tril_ default
tril_indices default out
triplet_margin_loss default
triu default out
triu_ default
triu_indices default out
true_divide Tensor Scalar out
true_divide_ Tensor Scalar
trunc default out
trunc_ default
type_as default
unbind int
unbind_copy int int_out
unflatten int
unflatten_dense_tensors default
unfold default
unfold_backward default out
unfold_copy default out
uniform default out
uniform_ default
unique_consecutive default out
unique_dim default out
unique_dim_consecutive default out
unsafe_chunk default
unsafe_split Tensor Tensor_out
unsafe_split_with_sizes default out
unsqueeze default
unsqueeze_ default
unsqueeze_copy default out
update str int bool float complex Tensor
upper default
upsample_bicubic2d default vec out
upsample_bicubic2d_backward default grad_input
upsample_bilinear2d default vec out vec_out
upsample_bilinear2d_backward default grad_input
upsample_linear1d default vec out
upsample_linear1d_backward default grad_input
upsample_nearest1d default vec out
upsample_nearest1d_backward default grad_input
upsample_nearest2d default vec out vec_out
upsample_nearest2d_backward default grad_input
upsample_nearest3d default vec out
upsample_nearest3d_backward default grad_input
upsample_trilinear3d default vec out
upsample_trilinear3d_backward default grad_input
value_selecting_reduction_backward default
values default str int bool float complex Tensor
values_copy default out
vander default
var default dim correction correction_out out
var_mean default dim correction correction_out
vdot default out
view default dtype
view_as default
view_as_complex default
view_as_complex_copy default out
view_as_real default
view_as_real_copy default out
view_copy default dtype out dtype_out
vsplit int array
vstack default out
wait default
warn default
where self ScalarOther ScalarSelf Scalar default self_out
xlogy Tensor Scalar_Other Scalar_Self OutTensor OutScalar_Self OutScalar_Other
xlogy_ Tensor Scalar_Other
zero default out
zero_ default
zeros default out
zeros_like default out
zfill default
"""
