"""torchaudio.compliance.kaldi: Kaldi's spectrogram, filter-bank (fbank) and MFCC features of a waveform, frame by
frame as Kaldi's compute-*-feats computes them (povey window, pre-emphasis, DC removal, power-of-two FFT, mel banks
with optional VTLN warping), composed from ember's public ops."""
import math

import ember
import ember.nn.functional as F

from ..functional import create_dct

__all__ = ["get_mel_banks", "inverse_mel_scale", "inverse_mel_scale_scalar", "mel_scale", "mel_scale_scalar",
           "spectrogram", "fbank", "mfcc", "vtln_warp_freq", "vtln_warp_mel_freq"]

EPSILON = ember.tensor(ember.finfo(ember.float).eps)
MILLISECONDS_TO_SECONDS = 0.001

HAMMING = "hamming"
HANNING = "hanning"
POVEY = "povey"
RECTANGULAR = "rectangular"
BLACKMAN = "blackman"
WINDOWS = [HAMMING, HANNING, POVEY, RECTANGULAR, BLACKMAN]


def _get_epsilon(device, dtype):
    return EPSILON.to(device=device, dtype=dtype)


def _next_power_of_2(x):
    return 1 if x == 0 else 2 ** (x - 1).bit_length()


def _get_strided(waveform, window_size, window_shift, snip_edges):
    """(frames, window_size) windows of a 1-d waveform: whole windows only (``snip_edges``), or
    (n + shift // 2) // shift windows over the waveform reflected at both ends."""
    assert waveform.dim() == 1
    num_samples = waveform.size(0)
    if snip_edges:
        if num_samples < window_size:
            return ember.empty((0, 0), dtype=waveform.dtype, device=waveform.device)
        frames = 1 + (num_samples - window_size) // window_shift
    else:
        reversed_waveform = ember.flip(waveform, [0])
        frames = (num_samples + (window_shift // 2)) // window_shift
        pad = window_size // 2 - window_shift // 2
        if pad > 0:
            waveform = ember.cat((reversed_waveform[-pad:], waveform, reversed_waveform), dim=0)
        else:
            waveform = ember.cat((waveform[-pad:], reversed_waveform), dim=0)
    stride = waveform.stride(0)
    return waveform.as_strided((frames, window_size), (window_shift * stride, stride))


def _feature_window_function(window_type, window_size, blackman_coeff, device, dtype):
    """Kaldi's symmetric analysis windows; "povey" is the Hann window to the power 0.85."""
    if window_type == HANNING:
        return ember.hann_window(window_size, periodic=False, device=device, dtype=dtype)
    if window_type == HAMMING:
        return ember.hamming_window(window_size, periodic=False, alpha=0.54, beta=0.46, device=device, dtype=dtype)
    if window_type == POVEY:
        return ember.hann_window(window_size, periodic=False, device=device, dtype=dtype).pow(0.85)
    if window_type == RECTANGULAR:
        return ember.ones(window_size, device=device, dtype=dtype)
    if window_type == BLACKMAN:
        a = 2 * math.pi / (window_size - 1)
        n = ember.arange(window_size, device=device, dtype=dtype)
        return (blackman_coeff - 0.5 * ember.cos(a * n)
                + (0.5 - blackman_coeff) * ember.cos(2 * a * n)).to(device=device, dtype=dtype)
    raise Exception("Invalid window type " + window_type)


def _get_log_energy(strided_input, epsilon, energy_floor):
    """log of each frame's energy, floored at epsilon and at ``energy_floor`` when non-zero."""
    log_energy = ember.max(strided_input.pow(2).sum(1), epsilon).log()
    if energy_floor == 0.0:
        return log_energy
    return ember.max(log_energy, ember.tensor(math.log(energy_floor), device=strided_input.device,
                                              dtype=strided_input.dtype))


def _get_waveform_and_window_properties(waveform, channel, sample_frequency, frame_shift, frame_length,
                                        round_to_power_of_two, preemphasis_coefficient):
    """The channel's samples, and the window shift, size and FFT size in samples (with Kaldi's checks)."""
    channel = max(channel, 0)
    assert channel < waveform.size(0), "Invalid channel {} for size {}".format(channel, waveform.size(0))
    waveform = waveform[channel, :]
    window_shift = int(sample_frequency * frame_shift * MILLISECONDS_TO_SECONDS)
    window_size = int(sample_frequency * frame_length * MILLISECONDS_TO_SECONDS)
    padded_window_size = _next_power_of_2(window_size) if round_to_power_of_two else window_size
    assert 2 <= window_size <= len(waveform), "choose a window size {} that is [2, {}]".format(
        window_size, len(waveform))
    assert 0 < window_shift, "`window_shift` must be greater than 0"
    assert padded_window_size % 2 == 0, ("the padded `window_size` must be divisible by two. use "
                                         "`round_to_power_of_two` or change `frame_length`")
    assert 0.0 <= preemphasis_coefficient <= 1.0, "`preemphasis_coefficient` must be between [0,1]"
    assert sample_frequency > 0, "`sample_frequency` must be greater than zero"
    return waveform, window_shift, window_size, padded_window_size


def _get_window(waveform, padded_window_size, window_size, window_shift, window_type, blackman_coeff, snip_edges,
                raw_energy, energy_floor, dither, remove_dc_offset, preemphasis_coefficient):
    """The windowed frames, zero-padded to the FFT size, and each frame's log energy (before pre-emphasis and
    windowing when ``raw_energy``)."""
    device, dtype = waveform.device, waveform.dtype
    epsilon = _get_epsilon(device, dtype)
    strided_input = _get_strided(waveform, window_size, window_shift, snip_edges)
    if dither != 0.0:
        strided_input = strided_input + ember.randn(strided_input.shape, device=device, dtype=dtype) * dither
    if remove_dc_offset:
        strided_input = strided_input - ember.mean(strided_input, dim=1).unsqueeze(1)
    if raw_energy:
        signal_log_energy = _get_log_energy(strided_input, epsilon, energy_floor)
    if preemphasis_coefficient != 0.0:
        previous = F.pad(strided_input.unsqueeze(0), (1, 0), mode="replicate").squeeze(0)
        strided_input = strided_input - preemphasis_coefficient * previous[:, :-1]
    window = _feature_window_function(window_type, window_size, blackman_coeff, device, dtype).unsqueeze(0)
    strided_input = strided_input * window
    if padded_window_size != window_size:
        strided_input = F.pad(strided_input.unsqueeze(0), (0, padded_window_size - window_size), mode="constant",
                              value=0).squeeze(0)
    if not raw_energy:
        signal_log_energy = _get_log_energy(strided_input, epsilon, energy_floor)
    return strided_input, signal_log_energy


def _subtract_column_mean(tensor, subtract_mean):
    return tensor - ember.mean(tensor, dim=0).unsqueeze(0) if subtract_mean else tensor


def spectrogram(waveform, blackman_coeff=0.42, channel=-1, dither=0.0, energy_floor=1.0, frame_length=25.0,
                frame_shift=10.0, min_duration=0.0, preemphasis_coefficient=0.97, raw_energy=True,
                remove_dc_offset=True, round_to_power_of_two=True, sample_frequency=16000.0, snip_edges=True,
                subtract_mean=False, window_type=POVEY):
    """Kaldi's compute-spectrogram-feats of a (channels, time) waveform: (frames, fft_size // 2 + 1) log power
    spectra, column 0 replaced by the frame's log energy."""
    device, dtype = waveform.device, waveform.dtype
    epsilon = _get_epsilon(device, dtype)
    waveform, window_shift, window_size, padded_window_size = _get_waveform_and_window_properties(
        waveform, channel, sample_frequency, frame_shift, frame_length, round_to_power_of_two,
        preemphasis_coefficient)
    if len(waveform) < min_duration * sample_frequency:
        return ember.empty(0)
    strided_input, signal_log_energy = _get_window(
        waveform, padded_window_size, window_size, window_shift, window_type, blackman_coeff, snip_edges, raw_energy,
        energy_floor, dither, remove_dc_offset, preemphasis_coefficient)
    fft = ember.fft.rfft(strided_input)
    power_spectrum = ember.max(fft.abs().pow(2.0), epsilon).log()
    power_spectrum[:, 0] = signal_log_energy
    return _subtract_column_mean(power_spectrum, subtract_mean)


def inverse_mel_scale_scalar(mel_freq):
    """Kaldi's mel to Hz: 700 (exp(mel / 1127) - 1)."""
    return 700.0 * (math.exp(mel_freq / 1127.0) - 1.0)


def inverse_mel_scale(mel_freq):
    """inverse_mel_scale_scalar of each element."""
    return 700.0 * ((mel_freq / 1127.0).exp() - 1.0)


def mel_scale_scalar(freq):
    """Kaldi's Hz to mel: 1127 log(1 + f / 700)."""
    return 1127.0 * math.log(1.0 + freq / 700.0)


def mel_scale(freq):
    """mel_scale_scalar of each element."""
    return 1127.0 * (1.0 + freq / 700.0).log()


def vtln_warp_freq(vtln_low_cutoff, vtln_high_cutoff, low_freq, high_freq, vtln_warp_factor, freq):
    """Kaldi's piecewise-linear VTLN frequency warping: scaled by 1 / vtln_warp_factor between the cutoffs
    (adjusted by the factor), linear to the band edges outside them, unchanged outside [low_freq, high_freq]."""
    assert vtln_low_cutoff > low_freq, "be sure to set the vtln_low option higher than low_freq"
    assert vtln_high_cutoff < high_freq, "be sure to set the vtln_high option lower than high_freq [or negative]"
    low = vtln_low_cutoff * max(1.0, vtln_warp_factor)
    high = vtln_high_cutoff * min(1.0, vtln_warp_factor)
    scale = 1.0 / vtln_warp_factor
    warped_low, warped_high = scale * low, scale * high
    assert low > low_freq and high < high_freq
    scale_left = (warped_low - low_freq) / (low - low_freq)
    scale_right = (high_freq - warped_high) / (high_freq - high)
    res = ember.empty_like(freq)
    outside = ember.lt(freq, low_freq) | ember.gt(freq, high_freq)
    before_low, before_high, after_high = ember.lt(freq, low), ember.lt(freq, high), ember.ge(freq, high)
    res[after_high] = high_freq + scale_right * (freq[after_high] - high_freq)
    res[before_high] = scale * freq[before_high]
    res[before_low] = low_freq + scale_left * (freq[before_low] - low_freq)
    res[outside] = freq[outside]
    return res


def vtln_warp_mel_freq(vtln_low_cutoff, vtln_high_cutoff, low_freq, high_freq, vtln_warp_factor, mel_freq):
    """vtln_warp_freq applied in Hz to mel frequencies."""
    return mel_scale(vtln_warp_freq(vtln_low_cutoff, vtln_high_cutoff, low_freq, high_freq, vtln_warp_factor,
                                    inverse_mel_scale(mel_freq)))


def get_mel_banks(num_bins, window_length_padded, sample_freq, low_freq, high_freq, vtln_low, vtln_high,
                  vtln_warp_factor):
    """((num_bins, window_length_padded // 2) triangular mel filters over the FFT bins, (num_bins,) centre
    frequencies in Hz); a non-positive ``high_freq`` / ``vtln_high`` counts down from Nyquist."""
    assert num_bins > 3, "Must have at least 3 mel bins"
    assert window_length_padded % 2 == 0
    num_fft_bins = window_length_padded / 2
    nyquist = 0.5 * sample_freq
    if high_freq <= 0.0:
        high_freq += nyquist
    assert (0.0 <= low_freq < nyquist) and (0.0 < high_freq <= nyquist) and (low_freq < high_freq), (
        "Bad values in options: low-freq {} and high-freq {} vs. nyquist {}".format(low_freq, high_freq, nyquist))
    fft_bin_width = sample_freq / window_length_padded
    mel_low_freq, mel_high_freq = mel_scale_scalar(low_freq), mel_scale_scalar(high_freq)
    mel_freq_delta = (mel_high_freq - mel_low_freq) / (num_bins + 1)
    if vtln_high < 0.0:
        vtln_high += nyquist
    assert vtln_warp_factor == 1.0 or ((low_freq < vtln_low < high_freq) and (0.0 < vtln_high < high_freq)
                                       and (vtln_low < vtln_high)), (
        "Bad values in options: vtln-low {} and vtln-high {}, versus low-freq {} and high-freq {}".format(
            vtln_low, vtln_high, low_freq, high_freq))
    bin = ember.arange(num_bins).unsqueeze(1)
    left_mel = mel_low_freq + bin * mel_freq_delta
    center_mel = mel_low_freq + (bin + 1.0) * mel_freq_delta
    right_mel = mel_low_freq + (bin + 2.0) * mel_freq_delta
    if vtln_warp_factor != 1.0:
        left_mel = vtln_warp_mel_freq(vtln_low, vtln_high, low_freq, high_freq, vtln_warp_factor, left_mel)
        center_mel = vtln_warp_mel_freq(vtln_low, vtln_high, low_freq, high_freq, vtln_warp_factor, center_mel)
        right_mel = vtln_warp_mel_freq(vtln_low, vtln_high, low_freq, high_freq, vtln_warp_factor, right_mel)
    center_freqs = inverse_mel_scale(center_mel)
    mel = mel_scale(fft_bin_width * ember.arange(num_fft_bins)).unsqueeze(0)
    up_slope = (mel - left_mel) / (center_mel - left_mel)
    down_slope = (right_mel - mel) / (right_mel - center_mel)
    if vtln_warp_factor == 1.0:
        bins = ember.max(ember.zeros(1), ember.min(up_slope, down_slope))
    else:
        bins = ember.zeros_like(up_slope)
        up_idx = ember.gt(mel, left_mel) & ember.le(mel, center_mel)
        down_idx = ember.gt(mel, center_mel) & ember.lt(mel, right_mel)
        bins[up_idx] = up_slope[up_idx]
        bins[down_idx] = down_slope[down_idx]
    return bins, center_freqs


def fbank(waveform, blackman_coeff=0.42, channel=-1, dither=0.0, energy_floor=1.0, frame_length=25.0,
          frame_shift=10.0, high_freq=0.0, htk_compat=False, low_freq=20.0, min_duration=0.0, num_mel_bins=23,
          preemphasis_coefficient=0.97, raw_energy=True, remove_dc_offset=True, round_to_power_of_two=True,
          sample_frequency=16000.0, snip_edges=True, subtract_mean=False, use_energy=False, use_log_fbank=True,
          use_power=True, vtln_high=-500.0, vtln_low=100.0, vtln_warp=1.0, window_type=POVEY):
    """Kaldi's compute-fbank-feats of a (channels, time) waveform: (frames, num_mel_bins) log mel energies (plus
    the log energy first, or last with ``htk_compat``, when ``use_energy``)."""
    device, dtype = waveform.device, waveform.dtype
    waveform, window_shift, window_size, padded_window_size = _get_waveform_and_window_properties(
        waveform, channel, sample_frequency, frame_shift, frame_length, round_to_power_of_two,
        preemphasis_coefficient)
    if len(waveform) < min_duration * sample_frequency:
        return ember.empty(0, device=device, dtype=dtype)
    strided_input, signal_log_energy = _get_window(
        waveform, padded_window_size, window_size, window_shift, window_type, blackman_coeff, snip_edges, raw_energy,
        energy_floor, dither, remove_dc_offset, preemphasis_coefficient)
    spectrum = ember.fft.rfft(strided_input).abs()
    if use_power:
        spectrum = spectrum.pow(2.0)
    mel_energies, _ = get_mel_banks(num_mel_bins, padded_window_size, sample_frequency, low_freq, high_freq,
                                    vtln_low, vtln_high, vtln_warp)
    mel_energies = mel_energies.to(device=device, dtype=dtype)
    mel_energies = F.pad(mel_energies, (0, 1), mode="constant", value=0)   # the Nyquist bin has no filter
    mel_energies = ember.mm(spectrum, mel_energies.T)
    if use_log_fbank:
        mel_energies = ember.max(mel_energies, _get_epsilon(device, dtype)).log()
    if use_energy:
        signal_log_energy = signal_log_energy.unsqueeze(1)
        pieces = (mel_energies, signal_log_energy) if htk_compat else (signal_log_energy, mel_energies)
        mel_energies = ember.cat(pieces, dim=1)
    return _subtract_column_mean(mel_energies, subtract_mean)


def _get_dct_matrix(num_ceps, num_mel_bins):
    dct_matrix = create_dct(num_mel_bins, num_mel_bins, "ortho")
    dct_matrix[:, 0] = math.sqrt(1 / float(num_mel_bins))   # Kaldi's first basis vector
    return dct_matrix[:, :num_ceps]


def _get_lifter_coeffs(num_ceps, cepstral_lifter):
    i = ember.arange(num_ceps)
    return 1.0 + 0.5 * cepstral_lifter * ember.sin(math.pi * i / cepstral_lifter)


def mfcc(waveform, blackman_coeff=0.42, cepstral_lifter=22.0, channel=-1, dither=0.0, energy_floor=1.0,
         frame_length=25.0, frame_shift=10.0, high_freq=0.0, htk_compat=False, low_freq=20.0, num_ceps=13,
         min_duration=0.0, num_mel_bins=23, preemphasis_coefficient=0.97, raw_energy=True, remove_dc_offset=True,
         round_to_power_of_two=True, sample_frequency=16000.0, snip_edges=True, subtract_mean=False,
         use_energy=False, vtln_high=-500.0, vtln_low=100.0, vtln_warp=1.0, window_type=POVEY):
    """Kaldi's compute-mfcc-feats: the DCT of the log mel energies, liftered, (frames, num_ceps); the log energy
    replaces c0 when ``use_energy``, and moves last with ``htk_compat``."""
    assert num_ceps <= num_mel_bins, "num_ceps cannot be larger than num_mel_bins: %d vs %d" % (num_ceps,
                                                                                                num_mel_bins)
    device, dtype = waveform.device, waveform.dtype
    feature = fbank(waveform=waveform, blackman_coeff=blackman_coeff, channel=channel, dither=dither,
                    energy_floor=energy_floor, frame_length=frame_length, frame_shift=frame_shift,
                    high_freq=high_freq, htk_compat=htk_compat, low_freq=low_freq, min_duration=min_duration,
                    num_mel_bins=num_mel_bins, preemphasis_coefficient=preemphasis_coefficient,
                    raw_energy=raw_energy, remove_dc_offset=remove_dc_offset,
                    round_to_power_of_two=round_to_power_of_two, sample_frequency=sample_frequency,
                    snip_edges=snip_edges, subtract_mean=False, use_energy=use_energy, use_log_fbank=True,
                    use_power=True, vtln_high=vtln_high, vtln_low=vtln_low, vtln_warp=vtln_warp,
                    window_type=window_type)
    if use_energy:
        signal_log_energy = feature[:, num_mel_bins if htk_compat else 0]
        mel_offset = int(not htk_compat)
        feature = feature[:, mel_offset:(num_mel_bins + mel_offset)]
    feature = feature.matmul(_get_dct_matrix(num_ceps, num_mel_bins).to(dtype=dtype, device=device))
    if cepstral_lifter != 0.0:
        feature *= _get_lifter_coeffs(num_ceps, cepstral_lifter).unsqueeze(0).to(device=device, dtype=dtype)
    if use_energy:
        feature[:, 0] = signal_log_energy
    if htk_compat:
        energy = feature[:, 0].unsqueeze(1)
        feature = feature[:, 1:]
        if not use_energy:
            energy *= math.sqrt(2)
        feature = ember.cat((feature, energy), dim=1)
    return _subtract_column_mean(feature, subtract_mean)
