"""torchaudio.functional's SoX-like effects on (..., time) waveforms: contrast, DC shift, overdrive, flanger,
phaser and dither. The flanger's and phaser's sample-by-sample delay lines run on NumPy arrays (no gradient)."""
import math

import numpy

import ember
import ember.nn.functional as F

from .filtering import lfilter

__all__ = ["contrast", "dcshift", "overdrive", "flanger", "phaser", "dither"]


def contrast(waveform, enhancement_amount=75.0):
    """SoX's contrast: sin(x pi / 2 + c sin(2 pi x)), c = enhancement_amount / 750 (louder, like compression)."""
    if not 0 <= enhancement_amount <= 100:
        raise ValueError("Allowed range of values for enhancement_amount : 0-100")
    scaled = waveform * (math.pi / 2)
    return ember.sin(scaled + enhancement_amount / 750.0 * ember.sin(scaled * 4))


def dcshift(waveform, shift, limiter_gain=None):
    """Adds ``shift`` (clamped to [-1, 1]); with ``limiter_gain``, peaks beyond 1 - (|shift| - limiter_gain) are
    compressed by that gain instead. As torchaudio's, the limiter writes into ``waveform`` itself."""
    if limiter_gain is None or shift == 0:
        return (waveform + shift).clamp(min=-1, max=1)
    threshold = 1.0 - (abs(shift) - limiter_gain)
    output = waveform
    if shift > 0:
        mask = waveform > threshold
        limited = (waveform[mask] - threshold) * limiter_gain / (1 - threshold)
        output[mask] = (limited + threshold + shift).clamp(max=threshold)
    else:
        mask = waveform < -threshold
        limited = (waveform[mask] + threshold) * limiter_gain / (1 - threshold)
        output[mask] = (limited - threshold + shift).clamp(min=-threshold)
    output[~mask] = (waveform[~mask] + shift).clamp(min=-1, max=1)
    return output


def overdrive(waveform, gain=20, colour=20):
    """SoX's overdrive: x * 10 ** (gain / 20) + colour / 200 through the soft clipper t - t^3 / 3 (+-2/3 beyond
    +-1), DC-blocked (y[n] = t[n] - t[n-1] + 0.995 y[n-1]) and mixed as 0.5 x + 0.75 y, clamped to [-1, 1]."""
    shape = waveform.shape
    waveform = waveform.view(-1, shape[-1])
    driven = waveform * math.exp(gain * math.log(10) / 20.0) + colour / 200
    clipped = ember.where(driven < -1, ember.tensor(-2.0 / 3.0, dtype=waveform.dtype, device=waveform.device),
                          ember.where(driven > 1, ember.tensor(2.0 / 3.0, dtype=waveform.dtype,
                                                               device=waveform.device),
                                      driven - driven ** 3 * (1.0 / 3)))
    a_coeffs = ember.tensor([1.0, -0.995], dtype=waveform.dtype, device=waveform.device)
    b_coeffs = ember.tensor([1.0, -1.0], dtype=waveform.dtype, device=waveform.device)
    blocked = lfilter(clipped, a_coeffs, b_coeffs, clamp=False)
    return (waveform * 0.5 + blocked * 0.75).clamp(min=-1, max=1).view(shape)


def _generate_wave_table(wave_type, data_type, table_size, min, max, phase):
    """SoX's modulation table: one period of a sine or triangle from min to max starting at ``phase``, as float32
    ("FLOAT") or rounded half away from zero to int32 ("INT")."""
    phase_offset = int(phase / math.pi / 2 * table_size + 0.5)
    point = ((numpy.arange(table_size, dtype=numpy.int32) + phase_offset) % table_size).astype(numpy.float64)
    if wave_type == "SINE":
        d = (numpy.sin(point / table_size * 2 * math.pi) + 1) / 2
    else:   # TRIANGLE
        d = point * 2 / table_size
        quarter = numpy.floor_divide(4 * point, table_size)
        d = numpy.select([quarter == 0, quarter == 1, quarter == 2, quarter == 3],
                         [d + 0.5, 1.5 - d, 1.5 - d, d - 1.5], d)
    d = d * (max - min) + min
    if data_type == "INT":
        return numpy.where(d < 0, d - 0.5, d + 0.5).astype(numpy.int32)
    return d.astype(numpy.float32)


def flanger(waveform, sample_rate, delay=0.0, depth=2.0, regen=0.0, width=71.0, speed=0.5, phase=25.0,
            modulation="sinusoidal", interpolation="linear"):
    """SoX's flanger on (..., channels, time) audio (at most 4 channels): a delay of ``delay`` + up to ``depth``
    ms swept by a sine or triangle at ``speed`` Hz (channels ``phase`` % apart), with ``regen`` % feedback and
    ``width`` % of the delayed signal mixed in, linearly or quadratically interpolated; clamped to [-1, 1]."""
    if modulation not in ("sinusoidal", "triangular"):
        raise ValueError('Only "sinusoidal" or "triangular" modulation allowed')
    if interpolation not in ("linear", "quadratic"):
        raise ValueError('Only "linear" or "quadratic" interpolation allowed')
    shape = waveform.shape
    if shape[-2] > 4:
        raise ValueError("Max 4 channels allowed")
    signal = waveform.detach().cpu().numpy().reshape(-1, shape[-2], shape[-1])
    feedback_gain, delay_gain, channel_phase = regen / 100, width / 100, phase / 100
    delay_min, delay_depth = delay / 1000, depth / 1000
    channels = signal.shape[1]
    in_gain = 1.0 / (1 + delay_gain)
    delay_gain = delay_gain / (1 + delay_gain) * (1 - abs(feedback_gain))
    buffer_length = int((delay_min + delay_depth) * sample_rate + 0.5) + 2
    buffers = numpy.zeros((signal.shape[0], channels, buffer_length), signal.dtype)
    delay_last = numpy.zeros((signal.shape[0], channels), signal.dtype)
    lfo_length = int(sample_rate / speed)
    lfo = _generate_wave_table("SINE" if modulation == "sinusoidal" else "TRIANGLE", "FLOAT", lfo_length,
                               float(math.floor(delay_min * sample_rate + 0.5)), buffer_length - 2.0,
                               3 * math.pi / 2)
    output = numpy.zeros_like(signal)
    # torchaudio's channel offsets are an int64 arange times a Python float: float32 products, truncated
    channel_offsets = (numpy.arange(channels).astype(numpy.float32) * numpy.float32(lfo_length * channel_phase)
                       + numpy.float32(0.5)).astype(numpy.int64)
    rows = numpy.arange(channels)
    position = lfo_position = 0
    for i in range(signal.shape[-1]):
        position = (position + buffer_length - 1) % buffer_length
        delay_value = lfo[(lfo_position + channel_offsets) % lfo_length]
        frac_delay = delay_value - numpy.trunc(delay_value)
        int_delay = numpy.floor(delay_value).astype(numpy.int64)
        buffers[:, :, position] = signal[:, :, i] + delay_last * feedback_gain
        delayed_0 = buffers[:, rows, (position + int_delay) % buffer_length]
        delayed_1 = buffers[:, rows, (position + int_delay + 1) % buffer_length]
        if interpolation == "linear":
            delayed = delayed_0 + (delayed_1 - delayed_0) * frac_delay
        else:
            delayed_2 = buffers[:, rows, (position + int_delay + 2) % buffer_length] - delayed_0
            delayed_1 = delayed_1 - delayed_0
            a = delayed_2 * 0.5 - delayed_1
            b = delayed_1 * 2 - delayed_2 * 0.5
            delayed = delayed_0 + (a * frac_delay + b) * frac_delay
        delay_last = delayed
        output[:, :, i] = signal[:, :, i] * in_gain + delayed * delay_gain
        lfo_position = (lfo_position + 1) % lfo_length
    result = ember.from_numpy(numpy.clip(output, -1, 1).astype(signal.dtype)).to(waveform.device)
    return result.view(shape)


def phaser(waveform, sample_rate, gain_in=0.4, gain_out=0.74, delay_ms=3.0, decay=0.4, mod_speed=0.5,
           sinusoidal=True):
    """SoX's phaser: the input (times ``gain_in``) plus a ``decay``-scaled feedback delay line of up to
    ``delay_ms`` ms swept at ``mod_speed`` Hz (sine or triangle), times ``gain_out``, clamped to [-1, 1]."""
    shape = waveform.shape
    signal = waveform.detach().cpu().numpy().reshape(-1, shape[-1])
    buffer_length = int(delay_ms * 0.001 * sample_rate + 0.5)
    mod_length = int(sample_rate / mod_speed + 0.5)
    mod_table = _generate_wave_table("SINE" if sinusoidal else "TRIANGLE", "INT", mod_length, 1.0,
                                     float(buffer_length), math.pi / 2)
    signal = signal * signal.dtype.type(gain_in)
    buffers = [numpy.zeros(signal.shape[0], signal.dtype) * signal.dtype.type(decay) for _ in range(buffer_length)]
    outputs = []
    delay_position = mod_position = 0
    for i in range(signal.shape[-1]):
        index = int((delay_position + mod_table[mod_position]) % buffer_length)
        mod_position = (mod_position + 1) % mod_length
        delay_position = (delay_position + 1) % buffer_length
        temp = signal[:, i] + buffers[index]
        buffers[delay_position] = temp * signal.dtype.type(decay)
        outputs.append(temp)
    output = numpy.stack(outputs, axis=1) * signal.dtype.type(gain_out)
    result = ember.from_numpy(numpy.clip(output, -1, 1).astype(signal.dtype)).to(waveform.device)
    return result.view(shape)


def _apply_probability_distribution(waveform, density_function="TPDF"):
    """The waveform scaled to 16 bits with dither noise added, rounded and scaled back."""
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])
    channel_size, time_size = waveform.shape[0] - 1, waveform.shape[-1] - 1
    random_channel = int(ember.randint(channel_size, [1]).item()) if channel_size > 0 else 0
    random_time = int(ember.randint(time_size, [1]).item()) if time_size > 0 else 0
    up_scaling, down_scaling = 2 ** 15 - 2, 2 ** 15
    signal_scaled = waveform * up_scaling
    if density_function == "RPDF":
        signal_scaled_dis = signal_scaled + (waveform[random_channel][random_time] - 0.5)
    elif density_function == "GPDF":
        # torchaudio sums seven random samples into a view of one of them (so that sample of the input changes)
        gaussian = waveform[random_channel][random_time]
        for ws in 6 * [time_size]:
            rand_chan = int(ember.randint(channel_size, [1]).item())
            gaussian += waveform[rand_chan][int(ember.randint(ws, [1]).item())]
        signal_scaled_dis = signal_scaled + gaussian
    else:
        tpdf = ember.bartlett_window(time_size + 1, dtype=signal_scaled.dtype, device=signal_scaled.device)
        signal_scaled_dis = signal_scaled + tpdf.repeat(channel_size + 1, 1)
    quantised = ember.round(signal_scaled_dis) / down_scaling
    return quantised.reshape(tuple(shape[:-1]) + tuple(quantised.shape[-1:]))


def _add_noise_shaping(dithered, waveform):
    """dithered[n] plus the quantization error of sample n - 1."""
    shape = dithered.shape
    error = dithered.reshape(-1, shape[-1]) - waveform.reshape(-1, waveform.shape[-1])
    error = F.pad(error, (1, 0))[:, :waveform.shape[-1]]
    shaped = dithered.reshape(-1, shape[-1]) + error
    return shaped.reshape(tuple(shape[:-1]) + tuple(shaped.shape[-1:]))


def dither(waveform, density_function="TPDF", noise_shaping=False):
    """Quantizes to 16 bits with triangular ("TPDF"), rectangular ("RPDF") or Gaussian ("GPDF") dither, and
    with ``noise_shaping`` adds each sample's quantization error to the next."""
    dithered = _apply_probability_distribution(waveform, density_function=density_function)
    return _add_noise_shaping(dithered, waveform) if noise_shaping else dithered
