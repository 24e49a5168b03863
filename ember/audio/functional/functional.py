"""torchaudio.functional's spectral features and conversions, composed from ember's public ops (differentiable
where torchaudio's are; leading dims are batch dims)."""
import math
import warnings

import numpy

import ember
import ember.nn.functional as F

__all__ = ["spectrogram", "inverse_spectrogram", "griffinlim", "melscale_fbanks", "linear_fbanks", "create_dct",
           "amplitude_to_DB", "DB_to_amplitude", "resample", "compute_deltas", "mu_law_encoding",
           "mu_law_decoding", "mask_along_axis", "mask_along_axis_iid", "phase_vocoder", "gain"]


def _spec_norms(normalized):
    """(frame_length_norm, window_norm) from torchaudio's ``normalized``: True or "window" scales by the window's
    L2 norm, "frame_length" normalizes the FFT by sqrt(n_fft)."""
    if isinstance(normalized, str):
        if normalized not in ("window", "frame_length"):
            raise ValueError(f"Invalid normalized parameter: {normalized}")
        return normalized == "frame_length", normalized == "window"
    return False, bool(normalized)


def spectrogram(waveform, pad, window, n_fft, hop_length, win_length, power, normalized, center=True,
                pad_mode="reflect", onesided=True, return_complex=None):
    """The (power) spectrogram of (..., time) waveforms: (..., freq, frames); complex when ``power`` is None."""
    if return_complex is not None:
        warnings.warn("`return_complex` argument is now deprecated and is not effective."
                      "`torchaudio.functional.spectrogram(power=None)` always returns a tensor with complex dtype."
                      "Please remove the argument in the function call.", UserWarning)
    if pad > 0:
        waveform = F.pad(waveform, (pad, pad), "constant")
    frame_length_norm, window_norm = _spec_norms(normalized)
    shape = waveform.shape
    spec = ember.stft(waveform.reshape(-1, shape[-1]), n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                      window=window, center=center, pad_mode=pad_mode, normalized=frame_length_norm,
                      onesided=onesided, return_complex=True)
    spec = spec.reshape(tuple(shape[:-1]) + tuple(spec.shape[-2:]))
    if window_norm:
        spec = spec / window.pow(2.0).sum().sqrt()
    if power is None:
        return spec
    if power == 1.0:
        return spec.abs()
    return spec.abs().pow(power)


def inverse_spectrogram(spectrogram, length, pad, window, n_fft, hop_length, win_length, normalized, center=True,
                        pad_mode="reflect", onesided=True):
    """Waveforms (..., time) from complex spectrograms (..., freq, frames) by the inverse STFT."""
    frame_length_norm, window_norm = _spec_norms(normalized)
    if not spectrogram.is_complex():
        raise ValueError("Expected `spectrogram` to be complex dtype.")
    if window_norm:
        spectrogram = spectrogram * window.pow(2.0).sum().sqrt()
    shape = spectrogram.shape
    waveform = ember.istft(spectrogram.reshape(-1, shape[-2], shape[-1]), n_fft=n_fft, hop_length=hop_length,
                           win_length=win_length, window=window, center=center, normalized=frame_length_norm,
                           onesided=onesided, length=length + 2 * pad if length is not None else None,
                           return_complex=False)
    if length is not None and pad > 0:
        waveform = waveform[:, pad:-pad]
    return waveform.reshape(tuple(shape[:-2]) + tuple(waveform.shape[-1:]))


def griffinlim(specgram, window, n_fft, hop_length, win_length, power, n_iter, momentum, length, rand_init):
    """A waveform whose spectrogram magnitude approximates ``specgram``, by (fast) Griffin-Lim phase recovery."""
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in range [0, 1). Found: {momentum}")
    momentum = momentum / (1 + momentum)
    shape = specgram.shape
    specgram = specgram.reshape((-1,) + tuple(shape[-2:])).pow(1 / power)
    complex_dtype = ember.complex128 if specgram.dtype == ember.float64 else ember.complex64
    if rand_init:
        angles = ember.rand(specgram.shape, dtype=complex_dtype, device=specgram.device)
    else:
        angles = ember.full(specgram.shape, 1, dtype=complex_dtype, device=specgram.device)
    previous = ember.tensor(0.0, dtype=specgram.dtype, device=specgram.device)
    for _ in range(n_iter):
        inverse = ember.istft(specgram * angles, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                              window=window, length=length)
        rebuilt = ember.stft(inverse, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                             center=True, pad_mode="reflect", normalized=False, onesided=True, return_complex=True)
        angles = rebuilt - previous * momentum if momentum else rebuilt
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    waveform = ember.istft(specgram * angles, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                           window=window, length=length)
    return waveform.reshape(tuple(shape[:-2]) + tuple(waveform.shape[-1:]))


# --- filter banks and the DCT --------------------------------------------------------------------------------

def _hz_to_mel(freq, mel_scale="htk"):
    if mel_scale not in ("slaney", "htk"):
        raise ValueError('mel_scale should be one of "htk" or "slaney".')
    if mel_scale == "htk":
        return 2595.0 * math.log10(1.0 + freq / 700.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    if freq >= min_log_hz:
        return min_log_mel + math.log(freq / min_log_hz) / logstep
    return freq / f_sp


def _mel_to_hz(mels, mel_scale="htk"):
    if mel_scale not in ("slaney", "htk"):
        raise ValueError('mel_scale should be one of "htk" or "slaney".')
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return numpy.where(mels >= min_log_mel, min_log_hz * numpy.exp(logstep * (mels - min_log_mel)), f_sp * mels)


def _triangular_filterbank(all_freqs, f_pts):
    """(n_freqs, n_filter) triangles rising from f_pts[i] to f_pts[i + 1] and falling to f_pts[i + 2]."""
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts[None, :] - all_freqs[:, None]
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return numpy.maximum(0.0, numpy.minimum(down, up))


def melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk"):
    """The (n_freqs, n_mels) matrix of triangular mel filters; ``norm="slaney"`` scales each to unit area."""
    if norm is not None and norm != "slaney":
        raise ValueError('norm must be one of None or "slaney"')
    all_freqs = numpy.linspace(0, sample_rate // 2, n_freqs)
    m_pts = numpy.linspace(_hz_to_mel(f_min, mel_scale), _hz_to_mel(f_max, mel_scale), n_mels + 2)
    f_pts = _mel_to_hz(m_pts, mel_scale)
    fb = _triangular_filterbank(all_freqs, f_pts)
    if norm == "slaney":
        fb = fb * (2.0 / (f_pts[2:n_mels + 2] - f_pts[:n_mels]))[None, :]
    if (fb.max(axis=0) == 0.0).any():
        warnings.warn("At least one mel filterbank has all zero values. The value for `n_mels` "
                      f"({n_mels}) may be set too high. Or, the value for `n_freqs` ({n_freqs}) may be set too low.",
                      UserWarning)
    return ember.tensor(fb, dtype=ember.float32)


def linear_fbanks(n_freqs, f_min, f_max, n_filter, sample_rate):
    """The (n_freqs, n_filter) matrix of triangular filters evenly spaced in Hz."""
    all_freqs = numpy.linspace(0, sample_rate // 2, n_freqs)
    f_pts = numpy.linspace(f_min, f_max, n_filter + 2)
    return ember.tensor(_triangular_filterbank(all_freqs, f_pts), dtype=ember.float32)


def create_dct(n_mfcc, n_mels, norm):
    """The (n_mels, n_mfcc) DCT-II matrix, orthonormal with ``norm="ortho"`` and doubled with None."""
    if norm is not None and norm != "ortho":
        raise ValueError('norm must be either "ortho" or None')
    n = numpy.arange(float(n_mels))
    k = numpy.arange(float(n_mfcc))[:, None]
    dct = numpy.cos(math.pi / float(n_mels) * (n + 0.5) * k)
    if norm is None:
        dct = dct * 2.0
    else:
        dct[0] *= 1.0 / math.sqrt(2.0)
        dct = dct * math.sqrt(2.0 / float(n_mels))
    return ember.tensor(dct.T, dtype=ember.float32)


# --- decibels and companding ---------------------------------------------------------------------------------

def amplitude_to_DB(x, multiplier, amin, db_multiplier, top_db=None):
    """multiplier * log10(max(x, amin)) - multiplier * db_multiplier, floored at top_db below each spectrogram's
    maximum (spectrograms are the last two dims, with the channel dim of 3-d and longer inputs packed in)."""
    x_db = multiplier * ember.log10(ember.clamp(x, min=amin))
    x_db = x_db - multiplier * db_multiplier
    if top_db is not None:
        shape = x_db.shape
        channels = shape[-3] if x_db.ndim > 2 else 1
        packed = x_db.reshape(-1, channels, shape[-2], shape[-1])
        floor = (packed.amax(dim=(-3, -2, -1)) - top_db).view(-1, 1, 1, 1)
        x_db = ember.maximum(packed, floor).reshape(shape)
    return x_db


def DB_to_amplitude(x, ref, power):
    """The inverse of amplitude_to_DB: ref * (10 ** (x / 10)) ** power."""
    return ref * ember.pow(ember.pow(10.0, 0.1 * x), power)


def mu_law_encoding(x, quantization_channels):
    """mu-law companding of x in [-1, 1] to integers in [0, quantization_channels)."""
    mu = quantization_channels - 1.0
    if not x.is_floating_point():
        # torchaudio's message keeps the indentation of its continued string line
        warnings.warn("The input Tensor must be of floating type.             This will be an error in the v0.12 "
                      "release.", UserWarning)
        x = x.to(ember.float32)
    mu = ember.tensor(mu, dtype=x.dtype)
    x_mu = ember.sign(x) * ember.log1p(mu * ember.abs(x)) / ember.log1p(mu)
    return ((x_mu + 1) / 2 * mu + 0.5).to(ember.int64)


def mu_law_decoding(x_mu, quantization_channels):
    """The inverse of mu_law_encoding: integers in [0, quantization_channels) to values in [-1, 1]."""
    mu = quantization_channels - 1.0
    if not x_mu.is_floating_point():
        x_mu = x_mu.to(ember.float32)
    mu = ember.tensor(mu, dtype=x_mu.dtype)
    x = x_mu / mu * 2 - 1.0
    return ember.sign(x) * (ember.exp(ember.abs(x) * ember.log1p(mu)) - 1.0) / mu


def gain(waveform, gain_db=1.0):
    """The waveform scaled by gain_db decibels."""
    if gain_db == 0:
        return waveform
    return waveform * 10 ** (gain_db / 20)


# --- resampling ------------------------------------------------------------------------------------------------

def _sinc_resample_kernel(orig_freq, new_freq, gcd, lowpass_filter_width=6, rolloff=0.99,
                          resampling_method="sinc_interp_hann", beta=None, device=None, dtype=None):
    """The (new, 1, taps) polyphase windowed-sinc kernel from orig_freq to new_freq (reduced by gcd), and its
    half-width in input samples."""
    if not (int(orig_freq) == orig_freq and int(new_freq) == new_freq):
        raise Exception("Frequencies must be of integer type to ensure quality resampling computation. To work "
                        "around this, manually convert both frequencies to integer values that maintain their "
                        "resampling rate ratio before passing them into the function.")
    if resampling_method in ("sinc_interpolation", "kaiser_window"):
        replacement = {"sinc_interpolation": "sinc_interp_hann", "kaiser_window": "sinc_interp_kaiser"}
        warnings.warn(f'"{resampling_method}" resampling method name is being deprecated and replaced by '
                      f'"{replacement[resampling_method]}" in the next release. The default behavior remains '
                      "unchanged.", stacklevel=3)
        resampling_method = replacement[resampling_method]
    elif resampling_method not in ("sinc_interp_hann", "sinc_interp_kaiser"):
        raise ValueError(f"Invalid resampling method: {resampling_method}")
    orig_freq, new_freq = int(orig_freq) // gcd, int(new_freq) // gcd
    if lowpass_filter_width <= 0:
        raise ValueError("Low pass filter width should be positive.")
    base_freq = min(orig_freq, new_freq) * rolloff
    width = math.ceil(lowpass_filter_width * orig_freq / base_freq)
    # computed in the requested dtype step by step as torchaudio does (float64 when none is given; then the output
    # phases are an integer arange divided in the default dtype, as torch's true division of int64 gives)
    work = numpy.float64 if dtype is None else ember.empty(0, dtype=dtype).numpy().dtype.type
    phase_dtype = numpy.dtype(ember.get_default_dtype().numpy).type if dtype is None else work
    idx = numpy.arange(-width, width + orig_freq, dtype=work)[None, None] / work(orig_freq)
    phases = numpy.arange(0, -new_freq, -1, dtype=phase_dtype)[:, None, None] / phase_dtype(new_freq)
    t = phases.astype(numpy.result_type(phase_dtype, work)) + idx
    t = numpy.clip(t * work(base_freq), -lowpass_filter_width, lowpass_filter_width).astype(work)
    if resampling_method == "sinc_interp_hann":
        window = numpy.cos(t * work(math.pi) / work(lowpass_filter_width) / work(2)) ** 2
    else:
        # torchaudio makes beta a float32 tensor whatever the dtype: its value and i0(beta) are float32's
        beta = numpy.float32(14.769656459379492 if beta is None else float(beta))
        argument = work(beta) * numpy.sqrt(1 - (t / work(lowpass_filter_width)) ** 2)
        window = ember.i0(ember.from_numpy(argument)).numpy() / ember.i0(ember.tensor(beta)).numpy().astype(work)
    t = t * work(math.pi)
    with numpy.errstate(invalid="ignore", divide="ignore"):
        kernels = numpy.where(t == 0, work(1.0), numpy.sin(t) / numpy.where(t == 0, work(1.0), t))
    kernels = kernels * (window * work(base_freq / orig_freq))
    return ember.tensor(kernels, dtype=dtype or ember.float32, device=device), width


def _apply_sinc_resample_kernel(waveform, orig_freq, new_freq, gcd, kernel, width):
    if not waveform.is_floating_point():
        raise TypeError(f"Expected floating point type for waveform tensor, but received {waveform.dtype}.")
    orig_freq, new_freq = int(orig_freq) // gcd, int(new_freq) // gcd
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])
    num_wavs, length = waveform.shape
    padded = F.pad(waveform, (width, width + orig_freq))
    resampled = F.conv1d(padded[:, None], kernel.to(waveform.dtype), stride=orig_freq)
    resampled = resampled.transpose(1, 2).reshape(num_wavs, -1)
    target_length = math.ceil(new_freq * length / orig_freq)
    resampled = resampled[..., :target_length]
    return resampled.reshape(tuple(shape[:-1]) + tuple(resampled.shape[-1:]))


def resample(waveform, orig_freq, new_freq, lowpass_filter_width=6, rolloff=0.99,
             resampling_method="sinc_interp_hann", beta=None):
    """Band-limited resampling of (..., time) waveforms from orig_freq to new_freq with a windowed-sinc filter
    (Hann or Kaiser window) of ``lowpass_filter_width`` zero crossings, cut off at ``rolloff`` of Nyquist."""
    if orig_freq <= 0.0 or new_freq <= 0.0:
        raise ValueError("Original frequency and desired frequecy should be positive")
    if orig_freq == new_freq:
        return waveform
    gcd = math.gcd(int(orig_freq), int(new_freq))
    kernel, width = _sinc_resample_kernel(orig_freq, new_freq, gcd, lowpass_filter_width, rolloff,
                                          resampling_method, beta, waveform.device, waveform.dtype)
    return _apply_sinc_resample_kernel(waveform, orig_freq, new_freq, gcd, kernel, width)


# --- deltas, masking, time stretching --------------------------------------------------------------------------

def compute_deltas(specgram, win_length=5, mode="replicate"):
    """Delta coefficients along the last dim: sum_n n (c[t+n] - c[t-n]) / (2 sum_n n^2), edges padded by ``mode``."""
    if win_length < 3:
        raise ValueError(f"Window length should be greater than or equal to 3. Found win_length {win_length}")
    shape = specgram.shape
    specgram = specgram.reshape(1, -1, shape[-1])
    n = (win_length - 1) // 2
    denom = n * (n + 1) * (2 * n + 1) / 3
    specgram = F.pad(specgram, (n, n), mode=mode)
    kernel = ember.arange(-n, n + 1, 1, device=specgram.device, dtype=specgram.dtype).repeat(specgram.shape[1], 1, 1)
    return (F.conv1d(specgram, kernel, groups=specgram.shape[1]) / denom).reshape(shape)


def _mask_param(mask_param, p, axis_length):
    if p == 1.0:
        return mask_param
    return min(mask_param, int(axis_length * p))


def mask_along_axis(specgram, mask_param, mask_value, axis, p=1.0):
    """Fills one random band [start, start + v) along ``axis`` (one of the last two dims), v uniform in
    [0, mask_param), shared by all leading dims."""
    dim = specgram.ndim
    if dim < 2:
        raise ValueError(f"Spectrogram must have at least two dimensions (time and frequency). Input has {dim}.")
    if axis not in (dim - 2, dim - 1):
        raise ValueError(f"Only Frequency and Time masking are supported (axis {dim - 2} and axis {dim - 1}). "
                         f"Input has axis {axis}.")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")
    mask_param = _mask_param(mask_param, p, specgram.shape[axis])
    if mask_param < 1:
        return specgram
    shape = specgram.shape
    specgram = specgram.reshape((-1,) + tuple(shape[-2:]))
    axis = axis - dim + 3
    value = ember.rand(1) * mask_param
    min_value = ember.rand(1) * (specgram.shape[axis] - value)
    start = int(min_value.long())
    end = int(min_value.long() + value.long())
    positions = ember.arange(0, specgram.shape[axis], device=specgram.device, dtype=specgram.dtype)
    mask = (positions >= start) & (positions < end)
    if axis == 1:
        mask = mask.unsqueeze(-1)
    specgram = specgram.masked_fill(mask, mask_value)
    return specgram.reshape(tuple(shape[:-2]) + tuple(specgram.shape[-2:]))


def mask_along_axis_iid(specgrams, mask_param, mask_value, axis, p=1.0):
    """Like mask_along_axis with an independent random band per example and channel of (..., freq, time)."""
    dim = specgrams.ndim
    if dim < 3:
        raise ValueError(f"Spectrogram must have at least three dimensions ({dim} given).")
    if axis not in (dim - 2, dim - 1):
        raise ValueError(f"Only Frequency and Time masking are supported (axis {dim - 2} and axis {dim - 1} "
                         f"supported; {axis} given).")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")
    mask_param = _mask_param(mask_param, p, specgrams.shape[axis])
    if mask_param < 1:
        return specgrams
    value = ember.rand(specgrams.shape[:dim - 2], device=specgrams.device, dtype=specgrams.dtype) * mask_param
    min_value = ember.rand(specgrams.shape[:dim - 2], device=specgrams.device, dtype=specgrams.dtype) * (
        specgrams.shape[axis] - value)
    start = min_value.long()[..., None, None]
    end = (min_value.long() + value.long())[..., None, None]
    positions = ember.arange(0, specgrams.shape[axis], device=specgrams.device, dtype=specgrams.dtype)
    specgrams = specgrams.transpose(axis, -1)
    specgrams = specgrams.masked_fill((positions >= start) & (positions < end), mask_value)
    return specgrams.transpose(axis, -1)


def phase_vocoder(complex_specgrams, rate, phase_advance):
    """Complex spectrograms (..., freq, time) sped up by ``rate`` without changing pitch: magnitudes interpolated
    between frames, phases advanced by each bin's expected advance plus its measured deviation."""
    if rate == 1.0:
        return complex_specgrams
    shape = complex_specgrams.shape
    complex_specgrams = complex_specgrams.reshape((-1,) + tuple(shape[-2:]))
    real_dtype = complex_specgrams.real.dtype
    time_steps = ember.arange(0, complex_specgrams.shape[-1], rate, device=complex_specgrams.device,
                              dtype=real_dtype)
    alphas = time_steps % 1.0
    phase_0 = complex_specgrams[..., :1].angle()
    complex_specgrams = F.pad(complex_specgrams, [0, 2])
    specgrams_0 = complex_specgrams.index_select(-1, time_steps.long())
    specgrams_1 = complex_specgrams.index_select(-1, (time_steps + 1).long())
    angle_0, angle_1 = specgrams_0.angle(), specgrams_1.angle()
    norm_0, norm_1 = specgrams_0.abs(), specgrams_1.abs()
    phase = angle_1 - angle_0 - phase_advance
    phase = phase - 2 * math.pi * ember.round(phase / (2 * math.pi))
    phase = phase + phase_advance
    phase = ember.cat([phase_0, phase[..., :-1]], dim=-1)
    phase_acc = ember.cumsum(phase, -1)
    magnitude = alphas * norm_1 + (1 - alphas) * norm_0
    stretched = ember.polar(magnitude, phase_acc)
    return stretched.reshape(tuple(shape[:-2]) + tuple(stretched.shape[1:]))
