"""torchaudio.functional's convolutions, noise mixing, speed change and pre-/de-emphasis, composed from ember's
public ops (differentiable; leading dims are batch dims)."""
import math

import ember
import ember.nn.functional as F

from .filtering import lfilter
from .functional import resample

__all__ = ["fftconvolve", "convolve", "add_noise", "speed", "preemphasis", "deemphasis"]

_CONVOLVE_MODES = ["full", "valid", "same"]


def _check_shape_compatible(x, y):
    if x.ndim != y.ndim:
        raise ValueError(f"The operands must be the same dimension (got {x.ndim} and {y.ndim}).")
    for xi, yi in zip(x.shape[:-1], y.shape[:-1]):
        if not (xi == yi or xi == 1 or yi == 1):
            raise ValueError(f"Leading dimensions of x and y are not broadcastable (got {x.shape} and {y.shape}).")


def _check_convolve_mode(mode):
    if mode not in _CONVOLVE_MODES:
        raise ValueError(f"Unrecognized mode value '{mode}'. Please specify one of {_CONVOLVE_MODES}.")


def _apply_convolve_mode(result, x_length, y_length, mode):
    """The full convolution cut to ``mode``: "valid" keeps the complete overlaps, "same" the centre x_length."""
    if mode == "full":
        return result
    length = max(x_length, y_length) - min(x_length, y_length) + 1 if mode == "valid" else x_length
    start = (result.shape[-1] - length) // 2
    return result[..., start:start + length]


def fftconvolve(x, y, mode="full"):
    """The true convolution of x (..., N) and y (..., M) along the last dim through the real FFT; leading dims
    broadcast; "full" (..., N + M - 1), "valid" (..., max - min + 1) or "same" (..., N)."""
    _check_shape_compatible(x, y)
    _check_convolve_mode(mode)
    n = x.shape[-1] + y.shape[-1] - 1
    result = ember.fft.irfft(ember.fft.rfft(x, n=n) * ember.fft.rfft(y, n=n), n=n)
    return _apply_convolve_mode(result, x.shape[-1], y.shape[-1], mode)


def convolve(x, y, mode="full"):
    """fftconvolve's result computed directly (a grouped conv1d with the flipped shorter operand)."""
    _check_shape_compatible(x, y)
    _check_convolve_mode(mode)
    x_size, y_size = x.shape[-1], y.shape[-1]
    if x_size < y_size:
        x, y = y, x
    if x.shape[:-1] != y.shape[:-1]:
        leading = [max(i, j) for i, j in zip(x.shape[:-1], y.shape[:-1])]
        x, y = x.broadcast_to(leading + [x.shape[-1]]), y.broadcast_to(leading + [y.shape[-1]])
    signals = math.prod(x.shape[:-1])
    flat_x, flat_y = x.reshape(signals, x.shape[-1]), y.reshape(signals, y.shape[-1])
    output = F.conv1d(flat_x, flat_y.flip(-1).unsqueeze(1), stride=1, groups=signals, padding=flat_y.shape[-1] - 1)
    return _apply_convolve_mode(output.reshape(tuple(x.shape[:-1]) + (-1,)), x_size, y_size, mode)


def add_noise(waveform, noise, snr, lengths=None):
    """waveform + a * noise with a set so that the signal-to-noise ratio is ``snr`` dB (..., per signal); only the
    first ``lengths`` samples of each signal count towards the energies when given."""
    if not (waveform.ndim - 1 == noise.ndim - 1 == snr.ndim and (lengths is None or lengths.ndim == snr.ndim)):
        raise ValueError("Input leading dimensions don't match.")
    length = waveform.shape[-1]
    if length != noise.shape[-1]:
        raise ValueError(f"Length dimensions of waveform and noise don't match (got {length} and "
                         f"{noise.shape[-1]}).")
    masked_waveform, masked_noise = waveform, noise
    if lengths is not None:
        mask = ember.arange(0, length, device=lengths.device).expand(waveform.shape) < lengths.unsqueeze(-1)
        masked_waveform, masked_noise = waveform * mask, noise * mask
    energy_signal = ember.linalg.vector_norm(masked_waveform, ord=2, dim=-1) ** 2
    energy_noise = ember.linalg.vector_norm(masked_noise, ord=2, dim=-1) ** 2
    original_snr_db = 10 * (ember.log10(energy_signal) - ember.log10(energy_noise))
    scale = 10 ** ((original_snr_db - snr) / 20.0)
    return waveform + scale.unsqueeze(-1) * noise


def speed(waveform, orig_freq, factor, lengths=None):
    """(waveform sped up by ``factor`` through resampling from factor * orig_freq to orig_freq, its valid lengths
    when ``lengths`` is given, else None)."""
    source, target = int(factor * orig_freq), int(orig_freq)
    gcd = math.gcd(source, target)
    source, target = source // gcd, target // gcd
    out_lengths = None
    if lengths is not None:
        out_lengths = ember.ceil(lengths * target / source).to(lengths.dtype)
    return resample(waveform, source, target), out_lengths


def preemphasis(waveform, coeff=0.97):
    """y[i] = x[i] - coeff * x[i - 1] along the last dim."""
    waveform = waveform.clone()
    waveform[..., 1:] -= coeff * waveform[..., :-1]
    return waveform


def deemphasis(waveform, coeff=0.97):
    """The inverse of preemphasis: y[i] = x[i] + coeff * y[i - 1] (an IIR filter, clamped to [-1, 1])."""
    a_coeffs = ember.tensor([1.0, -coeff], dtype=waveform.dtype, device=waveform.device)
    b_coeffs = ember.tensor([1.0, 0.0], dtype=waveform.dtype, device=waveform.device)
    return lfilter(waveform, a_coeffs=a_coeffs, b_coeffs=b_coeffs)
