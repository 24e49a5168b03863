"""IIR filtering (torchaudio's ``lfilter`` and the biquads), differentiable in the waveform and the coefficients."""
import math

import numpy

import ember
import ember.nn.functional as F

__all__ = ["lfilter", "filtfilt", "biquad", "lowpass_biquad", "highpass_biquad", "allpass_biquad", "band_biquad",
           "bandpass_biquad", "bandreject_biquad", "bass_biquad", "treble_biquad", "equalizer_biquad",
           "deemph_biquad", "riaa_biquad"]


class _Recursion(ember.autograd.Function):
    """y[n] = u[n] - sum_{k >= 1} a[c, k] y[n - k] over (batch, channel, time) with zero initial state (a[:, 0] = 1).

    Its adjoint in u is the same recursion run backwards in time; in a[:, k] it is -sum_n g_u[n] y[n - k]."""

    @staticmethod
    def forward(ctx, u, a):
        signal, coefficients = u.detach().cpu().numpy(), a.detach().cpu().numpy()
        order = coefficients.shape[1] - 1
        batch, channels, length = signal.shape
        out = numpy.zeros((batch, channels, length + order), dtype=signal.dtype)
        feedback = coefficients[None, :, :0:-1] if order else None   # a[k] for k = order .. 1, aligned with y[n-k]
        for n in range(length):
            value = signal[:, :, n]
            if order:
                value = value - (out[:, :, n:n + order] * feedback).sum(-1)
            out[:, :, n + order] = value
        y = ember.from_numpy(out[:, :, order:].copy()).to(u.device)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        grad_u = _Recursion.apply(grad.flip(-1), a).flip(-1)
        grad_a = None
        if ctx.needs_input_grad[1]:
            length = y.shape[-1]
            columns = [ember.zeros(a.shape[0], dtype=a.dtype, device=a.device)]
            for k in range(1, a.shape[1]):
                columns.append(-(grad_u[..., k:] * y[..., :length - k]).sum((0, 2)) if k < length
                               else ember.zeros(a.shape[0], dtype=a.dtype, device=a.device))
            grad_a = ember.stack(columns, 1)
        return grad_u, grad_a


def lfilter(waveform, a_coeffs, b_coeffs, clamp=True, batching=True):
    """Filters (..., time) waveforms by the IIR filter b / a (scipy.signal.lfilter's difference equation, a[0]
    normalizing), output clamped to [-1, 1] when ``clamp``. 2-d coefficients filter channel c of (..., c, time)
    with row c (``batching``) or every waveform with every row (a new dim before time)."""
    if a_coeffs.shape != b_coeffs.shape:
        raise ValueError(f"Expected coeffs to be the same size. Found a_coeffs size: {a_coeffs.shape}, b_coeffs "
                         f"size: {b_coeffs.shape}")
    if a_coeffs.ndim > 2:
        raise ValueError(f"Expected coeffs to have greater than 1 dimension. Found {a_coeffs.ndim}")
    if a_coeffs.ndim > 1:
        if batching:
            if waveform.ndim < 2 or waveform.shape[-2] != a_coeffs.shape[0]:
                raise ValueError("Expected waveform to have the same number of channels as filters in coeffs. "
                                 f"Found waveform shape: {tuple(waveform.shape)}, a_coeffs shape: "
                                 f"{tuple(a_coeffs.shape)}")
        else:
            waveform = ember.stack([waveform] * a_coeffs.shape[0], -2)
    else:
        a_coeffs, b_coeffs = a_coeffs.unsqueeze(0), b_coeffs.unsqueeze(0)
    shape = waveform.shape
    channels, order = a_coeffs.shape[0], a_coeffs.shape[1]
    signal = waveform.reshape(-1, channels, shape[-1])
    a0 = a_coeffs[:, :1]
    padded = F.pad(signal, (order - 1, 0))
    fir = F.conv1d(padded, b_coeffs.flip(1).unsqueeze(1).to(signal.dtype), groups=channels) / a0.to(signal.dtype)
    output = _Recursion.apply(fir, (a_coeffs / a0).to(signal.dtype))
    if clamp:
        output = ember.clamp(output, min=-1.0, max=1.0)
    return output.reshape(shape)


def filtfilt(waveform, a_coeffs, b_coeffs, clamp=True):
    """The IIR filter b / a run forward, then backward over the result (zero phase), clamped at the end when
    ``clamp``; 2-d coefficients filter channel by channel as lfilter's batching does."""
    forward = lfilter(waveform, a_coeffs, b_coeffs, clamp=False, batching=True)
    return lfilter(forward.flip(-1), a_coeffs, b_coeffs, clamp=clamp, batching=True).flip(-1)


def _coefficient(value, like):
    return ember.as_tensor(value, dtype=like.dtype, device=like.device).view(1)


def biquad(waveform, b0, b1, b2, a0, a1, a2):
    """The second-order IIR filter (b0 + b1 z^-1 + b2 z^-2) / (a0 + a1 z^-1 + a2 z^-2)."""
    a = ember.cat([_coefficient(c, waveform) for c in (a0, a1, a2)])
    b = ember.cat([_coefficient(c, waveform) for c in (b0, b1, b2)])
    return lfilter(waveform, a, b)


def _like(value, waveform):
    return ember.as_tensor(value, dtype=waveform.dtype, device=waveform.device)


def _w0_alpha(waveform, sample_rate, cutoff_freq, Q):
    """The Audio EQ Cookbook's w0 and alpha, as tensors of the waveform's dtype (torchaudio computes them so)."""
    w0 = 2 * math.pi * _like(cutoff_freq, waveform) / sample_rate
    return w0, ember.sin(w0) / 2 / _like(Q, waveform)


def _shelf(waveform, sample_rate, gain, central_freq, Q, sign):
    """The cookbook's low (sign -1, bass) or high (sign +1, treble) shelving filter's (b0, b1, b2, a0, a1, a2)."""
    w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    A = ember.exp(_like(gain, waveform) / 40 * math.log(10))
    temp1 = 2 * ember.sqrt(A) * alpha
    temp2 = sign * (A - 1) * ember.cos(w0)
    temp3 = (A + 1) * ember.cos(w0)
    return (A * ((A + 1) + temp2 + temp1), -sign * 2 * A * ((A - 1) + sign * temp3), A * ((A + 1) + temp2 - temp1),
            (A + 1) - temp2 + temp1, sign * 2 * ((A - 1) - sign * temp3), (A + 1) - temp2 - temp1)


def lowpass_biquad(waveform, sample_rate, cutoff_freq, Q=0.707):
    """A two-pole low-pass filter (Audio EQ Cookbook) at ``cutoff_freq`` Hz with quality factor Q."""
    w0, alpha = _w0_alpha(waveform, sample_rate, cutoff_freq, Q)
    cos = ember.cos(w0)
    b0 = (1 - cos) / 2
    return biquad(waveform, b0, 1 - cos, b0, 1 + alpha, -2 * cos, 1 - alpha)


def highpass_biquad(waveform, sample_rate, cutoff_freq, Q=0.707):
    """A two-pole high-pass filter (Audio EQ Cookbook) at ``cutoff_freq`` Hz with quality factor Q."""
    w0, alpha = _w0_alpha(waveform, sample_rate, cutoff_freq, Q)
    cos = ember.cos(w0)
    b0 = (1 + cos) / 2
    return biquad(waveform, b0, -1 - cos, b0, 1 + alpha, -2 * cos, 1 - alpha)


def allpass_biquad(waveform, sample_rate, central_freq, Q=0.707):
    """A two-pole all-pass filter (SoX's allpass) centred at ``central_freq`` Hz."""
    w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    cos = ember.cos(w0)
    return biquad(waveform, 1 - alpha, -2 * cos, 1 + alpha, 1 + alpha, -2 * cos, 1 - alpha)


def band_biquad(waveform, sample_rate, central_freq, Q=0.707, noise=False):
    """SoX's two-pole band filter around ``central_freq`` Hz with bandwidth central_freq / Q; ``noise`` uses the
    mode meant for unpitched audio."""
    central_freq, Q = _like(central_freq, waveform), _like(Q, waveform)
    w0 = 2 * math.pi * central_freq / sample_rate
    a2 = ember.exp(-2 * math.pi * (central_freq / Q) / sample_rate)
    a1 = -4 * a2 / (1 + a2) * ember.cos(w0)
    b0 = ember.sqrt(1 - a1 * a1 / (4 * a2)) * (1 - a2)
    if noise:
        b0 = ember.sqrt(((1 + a2) * (1 + a2) - a1 * a1) * (1 - a2) / (1 + a2)) / b0 * b0
    return biquad(waveform, b0, 0.0, 0.0, 1.0, a1, a2)


def bandpass_biquad(waveform, sample_rate, central_freq, Q=0.707, const_skirt_gain=False):
    """A two-pole band-pass filter: constant 0 dB peak gain, or constant skirt gain (peak gain Q)."""
    w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    temp = ember.sin(w0) / 2 if const_skirt_gain else alpha
    return biquad(waveform, temp, 0.0, -temp, 1 + alpha, -2 * ember.cos(w0), 1 - alpha)


def bandreject_biquad(waveform, sample_rate, central_freq, Q=0.707):
    """A two-pole band-reject (notch) filter at ``central_freq`` Hz."""
    w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    cos = ember.cos(w0)
    return biquad(waveform, 1.0, -2 * cos, 1.0, 1 + alpha, -2 * cos, 1 - alpha)


def bass_biquad(waveform, sample_rate, gain, central_freq=100, Q=0.707):
    """SoX's bass tone control: a low shelf boosting (or cutting) by ``gain`` dB below ``central_freq`` Hz."""
    b0, b1, b2, a0, a1, a2 = _shelf(waveform, sample_rate, gain, central_freq, Q, -1)
    return biquad(waveform, b0 / a0, b1 / a0, b2 / a0, a0 / a0, a1 / a0, a2 / a0)


def treble_biquad(waveform, sample_rate, gain, central_freq=3000, Q=0.707):
    """SoX's treble tone control: a high shelf boosting (or cutting) by ``gain`` dB above ``central_freq`` Hz."""
    return biquad(waveform, *_shelf(waveform, sample_rate, gain, central_freq, Q, 1))


def equalizer_biquad(waveform, sample_rate, center_freq, gain, Q=0.707):
    """A peaking equalizer: ``gain`` dB at ``center_freq`` Hz with quality factor Q."""
    w0, alpha = _w0_alpha(waveform, sample_rate, center_freq, Q)
    A = ember.exp(_like(gain, waveform) / 40.0 * math.log(10))
    cos = ember.cos(w0)
    return biquad(waveform, 1 + alpha * A, -2 * cos, 1 - alpha * A, 1 + alpha / A, -2 * cos, 1 - alpha / A)


def deemph_biquad(waveform, sample_rate):
    """ISO 908 CD de-emphasis: a high shelf of SoX's fixed design, for 44100 or 48000 Hz audio."""
    if sample_rate == 44100:
        central_freq, width_slope, gain = 5283, 0.4845, -9.477
    elif sample_rate == 48000:
        central_freq, width_slope, gain = 5356, 0.479, -9.62
    else:
        raise ValueError("Sample rate must be 44100 (audio-CD) or 48000 (DAT)")
    w0 = 2 * math.pi * central_freq / sample_rate
    A = math.exp(gain / 40.0 * math.log(10))
    alpha = math.sin(w0) / 2 * math.sqrt((A + 1 / A) * (1 / width_slope - 1) + 2)
    temp1, temp2, temp3 = 2 * math.sqrt(A) * alpha, (A - 1) * math.cos(w0), (A + 1) * math.cos(w0)
    return biquad(waveform, A * ((A + 1) + temp2 + temp1), -2 * A * ((A - 1) + temp3), A * ((A + 1) + temp2 - temp1),
                  (A + 1) - temp2 + temp1, 2 * ((A - 1) - temp3), (A + 1) - temp2 - temp1)


_RIAA = {44100: ([-0.2014898, 0.9233820], [0.7083149, 0.9924091]),
         48000: ([-0.1766069, 0.9321590], [0.7396325, 0.9931330]),
         88200: ([-0.1168735, 0.9648312], [0.8590646, 0.9964002]),
         96000: ([-0.1141486, 0.9676817], [0.8699137, 0.9966946])}


def riaa_biquad(waveform, sample_rate):
    """RIAA vinyl playback equalization (SoX's zeros and poles), 0 dB at 1 kHz; 44.1, 48, 88.2 or 96 kHz."""
    if sample_rate not in _RIAA:
        raise ValueError("Sample rate must be 44.1k, 48k, 88.2k, or 96k")
    zeros, poles = _RIAA[sample_rate]
    b0, b1, b2 = 1.0, -(zeros[0] + zeros[1]), zeros[0] * zeros[1]
    a0, a1, a2 = 1.0, -(poles[0] + poles[1]), poles[0] * poles[1]
    y = 2 * math.pi * 1000 / sample_rate
    b_re = b0 + b1 * math.cos(-y) + b2 * math.cos(-2 * y)
    a_re = a0 + a1 * math.cos(-y) + a2 * math.cos(-2 * y)
    b_im = b1 * math.sin(-y) + b2 * math.sin(-2 * y)
    a_im = a1 * math.sin(-y) + a2 * math.sin(-2 * y)
    g = 1 / math.sqrt((b_re ** 2 + b_im ** 2) / (a_re ** 2 + a_im ** 2))
    return biquad(waveform, b0 * g, b1 * g, b2 * g, a0, a1, a2)
