"""torchaudio.functional.vad: SoX's voice activity detector, which trims the silence (or noise) before the first
speech of a recording. Its measurements run frame by frame on NumPy float32 arrays, as torchaudio's on float32
tensors."""
import math
import warnings

import numpy

import ember

__all__ = ["vad"]


def _rfft(values):
    return ember.fft.rfft(ember.from_numpy(values)).numpy()


def _measure(measure_len_ws, samples, spectrum, noise_spectrum, spectrum_window, spectrum_start, spectrum_end,
             cepstrum_window, cepstrum_start, cepstrum_end, noise_reduction_amount, measure_smooth_time_mult,
             noise_up_time_mult, noise_down_time_mult, boot_count):
    """One frame's speech measure (0 for none): the liftered cepstral power of its noise-reduced spectrum, which
    also updates the running spectrum and noise estimate in place."""
    dft_len_ws = spectrum.shape[-1]
    buffer = numpy.zeros(dft_len_ws, numpy.float32)
    buffer[:measure_len_ws] = samples * spectrum_window[:measure_len_ws]
    magnitudes = numpy.abs(_rfft(buffer)[spectrum_start:spectrum_end])
    mult = boot_count / (1.0 + boot_count) if boot_count >= 0 else measure_smooth_time_mult
    band = slice(spectrum_start, spectrum_end)
    spectrum[band] = spectrum[band] * numpy.float32(mult) + magnitudes * numpy.float32(1 - mult)
    power = spectrum[band] ** 2
    zeros = numpy.zeros(spectrum_end - spectrum_start, numpy.float32)
    noise_mult = zeros if boot_count >= 0 else numpy.where(power > noise_spectrum[band], noise_up_time_mult,
                                                           noise_down_time_mult)
    noise_spectrum[band] = noise_spectrum[band] * noise_mult + power * (1 - noise_mult)
    reduced = numpy.sqrt(numpy.maximum(zeros, power - numpy.float32(noise_reduction_amount) * noise_spectrum[band]))
    cepstrum = numpy.zeros(dft_len_ws >> 1, numpy.float32)
    cepstrum[band] = reduced * cepstrum_window
    cepstrum = _rfft(cepstrum)
    result = float(numpy.sum(numpy.abs(cepstrum[cepstrum_start:cepstrum_end]) ** 2, dtype=numpy.float32))
    result = math.log(result / (cepstrum_end - cepstrum_start)) if result > 0 else -math.inf
    return max(0, 21 + result)


def _scaled_hann(length):
    """2 / sqrt(length) times the periodic Hann window, float32."""
    return numpy.full(length, 2.0 / math.sqrt(float(length)), numpy.float32) * ember.hann_window(length).numpy()


def vad(waveform, sample_rate, trigger_level=7.0, trigger_time=0.25, search_time=1.0, allowed_gap=0.25,
        pre_trigger_time=0.0, boot_time=0.35, noise_up_time=0.1, noise_down_time=0.01, noise_reduction_amount=1.35,
        measure_freq=20.0, measure_duration=None, measure_smooth_time=0.4, hp_filter_freq=50.0,
        lp_filter_freq=6000.0, hp_lifter_freq=150.0, lp_lifter_freq=2000.0):
    """The (channels, time) or (time,) waveform from shortly before the first detected speech (SoX's vad):
    ``measure_freq`` measurements a second of each channel's cepstral power above an adaptive noise estimate,
    triggering at ``trigger_level``; the first ``pre_trigger_time`` seconds when nothing triggers."""
    if waveform.ndim > 2:
        warnings.warn("Expected input tensor dimension of 1 for single channel or 2 for multi-channel. Got "
                      f"{waveform.ndim} instead. Batch semantics is not supported. Please refer to "
                      "https://github.com/pytorch/audio/issues/1348 and https://github.com/pytorch/audio/issues/1468.")
    measure_duration = 2.0 / measure_freq if measure_duration is None else measure_duration
    measure_len_ws = measure_len_ns = int(sample_rate * measure_duration + 0.5)
    dft_len_ws = 16
    while dft_len_ws < measure_len_ws:
        dft_len_ws *= 2
    measure_period_ns = int(sample_rate / measure_freq + 0.5)
    measures_len = math.ceil(search_time * measure_freq)
    search_pre_trigger_len_ns = measures_len * measure_period_ns
    gap_len = int(allowed_gap * measure_freq + 0.5)
    fixed_pre_trigger_len_ns = int(pre_trigger_time * sample_rate + 0.5)
    samples_len_ns = fixed_pre_trigger_len_ns + search_pre_trigger_len_ns + measure_len_ns
    spectrum_window = _scaled_hann(measure_len_ws)
    spectrum_start = max(int(hp_filter_freq / sample_rate * dft_len_ws + 0.5), 1)
    spectrum_end = min(int(lp_filter_freq / sample_rate * dft_len_ws + 0.5), dft_len_ws // 2)
    cepstrum_window = _scaled_hann(spectrum_end - spectrum_start)
    cepstrum_start = math.ceil(sample_rate * 0.5 / lp_lifter_freq)
    cepstrum_end = min(math.floor(sample_rate * 0.5 / hp_lifter_freq), dft_len_ws // 4)
    if cepstrum_end <= cepstrum_start:
        raise ValueError("Expected cepstrum_start to be smaller than cepstrum_end."
                         f"Found: cepstrum_start: {cepstrum_start}, cepstrum_end: {cepstrum_end}.")
    noise_up_time_mult = numpy.float32(math.exp(-1.0 / (noise_up_time * measure_freq)))
    noise_down_time_mult = numpy.float32(math.exp(-1.0 / (noise_down_time * measure_freq)))
    measure_smooth_time_mult = math.exp(-1.0 / (measure_smooth_time * measure_freq))
    trigger_meas_time_mult = math.exp(-1.0 / (trigger_time * measure_freq))
    boot_count_max = int(boot_time * measure_freq - 0.5)
    boot_count = measures_index = flushed_len_ns = 0

    shape = waveform.size()
    waveform = waveform.view(-1, shape[-1])
    samples = waveform.detach().cpu().numpy()
    n_channels, ilen = waveform.size()
    mean_meas = numpy.zeros(n_channels, numpy.float32)
    spectrum = numpy.zeros((n_channels, dft_len_ws), numpy.float32)
    noise_spectrum = numpy.zeros((n_channels, dft_len_ws), numpy.float32)
    measures = numpy.zeros((n_channels, measures_len), numpy.float32)
    has_triggered = False
    num_measures_to_flush = 0
    pos = 0
    for pos in range(measure_len_ns, ilen, measure_period_ns):
        for i in range(n_channels):
            meas = _measure(measure_len_ws, samples[i, pos - measure_len_ws:pos], spectrum[i], noise_spectrum[i],
                            spectrum_window, spectrum_start, spectrum_end, cepstrum_window, cepstrum_start,
                            cepstrum_end, noise_reduction_amount, measure_smooth_time_mult, noise_up_time_mult,
                            noise_down_time_mult, boot_count)
            measures[i, measures_index] = meas
            mean_meas[i] = (mean_meas[i] * numpy.float32(trigger_meas_time_mult)
                            + numpy.float32(meas * (1.0 - trigger_meas_time_mult)))
            has_triggered = has_triggered or bool(mean_meas[i] >= trigger_level)
            if has_triggered:
                # walk back over the stored measures for the earliest speech (gaps up to gap_len allowed)
                n, k = measures_len, measures_index
                j_trigger = j_zero = n
                j = 0
                for j in range(n):
                    if measures[i, k] >= trigger_level and j <= j_trigger + gap_len:
                        j_zero = j_trigger = j
                    elif measures[i, k] == 0 and j_trigger >= j_zero:
                        j_zero = j
                    k = (k + n - 1) % n
                j = min(j, j_zero)
                num_measures_to_flush = min(max(num_measures_to_flush, j), n)
        measures_index = (measures_index + 1) % measures_len
        if boot_count >= 0:
            boot_count = -1 if boot_count == boot_count_max else boot_count + 1
        if has_triggered:
            flushed_len_ns = (measures_len - num_measures_to_flush) * measure_period_ns
            break
    if not has_triggered and shape[-1] >= fixed_pre_trigger_len_ns:
        return waveform[..., :fixed_pre_trigger_len_ns].view(tuple(shape[:-1]) + (fixed_pre_trigger_len_ns,))
    res = waveform[:, max(pos - samples_len_ns + flushed_len_ns, 0):]
    return res.view(tuple(shape[:-1]) + tuple(res.shape[-1:]))
