"""torchaudio.functional's multi-channel beamforming: power spectral density matrices, MVDR weights (Souden's and
the relative-transfer-function form), RTF estimation and applying the weights, on complex STFTs."""
import ember

__all__ = ["psd", "mvdr_weights_souden", "mvdr_weights_rtf", "rtf_evd", "rtf_power", "apply_beamforming"]


def psd(specgram, mask=None, normalize=True, eps=1e-10):
    """(..., freq, channel, channel) spatial covariance of a (..., channel, freq, time) complex STFT, each frame
    weighted by ``mask`` (..., freq, time) (normalized to sum to 1 over time when ``normalize``)."""
    specgram = specgram.transpose(-3, -2)
    covariance = ember.einsum("...ct,...et->...tce", [specgram, specgram.conj()])
    if mask is not None:
        if mask.shape[:-1] != specgram.shape[:-2] or mask.shape[-1] != specgram.shape[-1]:
            raise ValueError("The dimensions of mask except the channel dimension should be the same as specgram."
                             f"Found {mask.shape} for mask and {specgram.shape} for specgram.")
        if normalize:
            mask = mask / (mask.sum(dim=-1, keepdim=True) + eps)
        covariance = covariance * mask[..., None, None]
    return covariance.sum(dim=-3)


def _compute_mat_trace(input, dim1=-1, dim2=-2):
    if input.ndim < 2:
        raise ValueError("The dimension of the tensor must be at least 2.")
    if input.shape[dim1] != input.shape[dim2]:
        raise ValueError("The size of ``dim1`` and ``dim2`` must be the same.")
    return ember.diagonal(input, 0, dim1=dim1, dim2=dim2).sum(dim=-1)


def _tik_reg(mat, reg=1e-7, eps=1e-8):
    """Tikhonov regularization: mat + (trace(mat).real * reg + eps) I."""
    eye = ember.eye(mat.size(-1), dtype=mat.dtype, device=mat.device)
    epsilon = _compute_mat_trace(mat).real[..., None, None] * reg + eps
    return mat + epsilon * eye[..., :, :]


def _assert_psd_matrices(psd_s, psd_n):
    if psd_s.ndim < 3 or psd_n.ndim < 3:
        raise ValueError("Expected at least 3D Tensor (..., freq, channel, channel) for psd_s and psd_n. "
                         f"Found {psd_s.shape} for psd_s and {psd_n.shape} for psd_n.")
    if not (psd_s.is_complex() and psd_n.is_complex()):
        raise TypeError("The type of psd_s and psd_n must be ``torch.cfloat`` or ``torch.cdouble``. "
                        f"Found {psd_s.dtype} for psd_s and {psd_n.dtype} for psd_n.")
    if psd_s.shape != psd_n.shape:
        raise ValueError(f"The dimensions of psd_s and psd_n should be the same. Found {psd_s.shape} and "
                         f"{psd_n.shape}.")
    if psd_s.shape[-1] != psd_s.shape[-2]:
        raise ValueError(f"The last two dimensions of psd_s should be the same. Found {psd_s.shape}.")


def _select_reference(matrix, reference_channel, dtype):
    """Column ``reference_channel`` of (..., freq, channel, channel) ``matrix``, or its columns weighted by a
    one-hot / soft (..., channel) tensor."""
    if isinstance(reference_channel, int):
        return matrix[..., :, reference_channel]
    if isinstance(reference_channel, ember.Tensor):
        return ember.einsum("...c,...c->...", [matrix, reference_channel.to(dtype)[..., None, None, :]])
    raise TypeError(f'Expected "int" or "Tensor" for reference_channel. Found: {type(reference_channel)}.')


def mvdr_weights_souden(psd_s, psd_n, reference_channel, diagonal_loading=True, diag_eps=1e-7, eps=1e-8):
    """Souden's MVDR weights (..., freq, channel): (psd_n^-1 psd_s / trace(psd_n^-1 psd_s)) u, u the reference
    channel (an index, or a one-hot / soft (..., channel) tensor)."""
    _assert_psd_matrices(psd_s, psd_n)
    if diagonal_loading:
        psd_n = _tik_reg(psd_n, reg=diag_eps)
    numerator = ember.linalg.solve(psd_n, psd_s)
    ws = numerator / (_compute_mat_trace(numerator)[..., None, None] + eps)
    return _select_reference(ws, reference_channel, psd_n.dtype)


def mvdr_weights_rtf(rtf, psd_n, reference_channel=None, diagonal_loading=True, diag_eps=1e-7, eps=1e-8):
    """MVDR weights from the relative transfer function: psd_n^-1 rtf / (rtf^H psd_n^-1 rtf), scaled by the
    reference channel's conjugate RTF when one is given."""
    if rtf.ndim < 2:
        raise ValueError(f"Expected at least 2D Tensor (..., freq, channel) for rtf. Found {rtf.shape}.")
    if psd_n.ndim < 3:
        raise ValueError(f"Expected at least 3D Tensor (..., freq, channel, channel) for psd_n. Found {psd_n.shape}.")
    if not (rtf.is_complex() and psd_n.is_complex()):
        raise TypeError("The type of rtf and psd_n must be ``torch.cfloat`` or ``torch.cdouble``. "
                        f"Found {rtf.dtype} for rtf and {psd_n.dtype} for psd_n.")
    if rtf.shape != psd_n.shape[:-1]:
        raise ValueError("The dimensions of rtf and the dimensions withou the last dimension of psd_n should be the "
                         f"same. Found {rtf.shape} for rtf and {psd_n.shape} for psd_n.")
    if psd_n.shape[-1] != psd_n.shape[-2]:
        raise ValueError(f"The last two dimensions of psd_n should be the same. Found {psd_n.shape}.")
    if diagonal_loading:
        psd_n = _tik_reg(psd_n, reg=diag_eps)
    numerator = ember.linalg.solve(psd_n, rtf.unsqueeze(-1)).squeeze(-1)
    denominator = ember.einsum("...d,...d->...", [rtf.conj(), numerator])
    weights = numerator / (denominator.real.unsqueeze(-1) + eps)
    if reference_channel is not None:
        if isinstance(reference_channel, int):
            scale = rtf[..., reference_channel].conj()
        elif isinstance(reference_channel, ember.Tensor):
            scale = ember.einsum("...c,...c->...", [rtf.conj(), reference_channel.to(psd_n.dtype)[..., None, :]])
        else:
            raise TypeError(f'Expected "int" or "Tensor" for reference_channel. Found: {type(reference_channel)}.')
        weights = weights * scale[..., None]
    return weights


def rtf_evd(psd_s):
    """The relative transfer function as the eigenvector of psd_s with the largest eigenvalue."""
    if not psd_s.is_complex():
        raise TypeError(f"The type of psd_s must be ``torch.cfloat`` or ``torch.cdouble``. Found {psd_s.dtype}.")
    if psd_s.shape[-1] != psd_s.shape[-2]:
        raise ValueError(f"The last two dimensions of psd_s should be the same. Found {psd_s.shape}.")
    _, vectors = ember.linalg.eigh(psd_s)
    return vectors[..., -1]


def rtf_power(psd_s, psd_n, reference_channel, n_iter=3, diagonal_loading=True, diag_eps=1e-7):
    """The relative transfer function by ``n_iter`` power iterations of psd_n^-1 psd_s from the reference column."""
    _assert_psd_matrices(psd_s, psd_n)
    if n_iter <= 0:
        raise ValueError("The number of iteration must be greater than 0.")
    if diagonal_loading:
        psd_n = _tik_reg(psd_n, reg=diag_eps)
    phi = ember.linalg.solve(psd_n, psd_s)
    rtf = _select_reference(phi, reference_channel, psd_n.dtype).unsqueeze(-1)
    if n_iter >= 2:
        for _ in range(n_iter - 2):
            rtf = ember.matmul(phi, rtf)
        rtf = ember.matmul(psd_s, rtf)
    else:
        rtf = ember.matmul(psd_n, rtf)
    return rtf.squeeze(-1)


def apply_beamforming(beamform_weights, specgram):
    """The single-channel (..., freq, time) STFT w^H x of the (..., channel, freq, time) STFT."""
    if beamform_weights.shape[:-2] != specgram.shape[:-3]:
        raise ValueError("The dimensions except the last two dimensions of beamform_weights should be the same as the "
                         "dimensions except the last three dimensions of specgram. Found "
                         f"{beamform_weights.shape} for beamform_weights and {specgram.shape} for specgram.")
    if not (beamform_weights.is_complex() and specgram.is_complex()):
        raise TypeError("The type of beamform_weights and specgram must be ``torch.cfloat`` or ``torch.cdouble``. "
                        f"Found {beamform_weights.dtype} for beamform_weights and {specgram.dtype} for specgram.")
    return ember.einsum("...fc,...cft->...ft", [beamform_weights.conj(), specgram])
