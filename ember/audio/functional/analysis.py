"""torchaudio.functional's measurements and pitch tools: pitch detection, spectral centroid, sliding-window CMN,
loudness (ITU-R BS.1770-4), pitch shifting, edit and Frechet distances."""
import math

import ember
import ember.nn.functional as F

from .filtering import highpass_biquad, treble_biquad
from .functional import phase_vocoder, resample, spectrogram

__all__ = ["detect_pitch_frequency", "spectral_centroid", "sliding_window_cmn", "loudness", "pitch_shift",
           "edit_distance", "frechet_distance"]

_EPSILON = 1e-9


def _compute_nccf(waveform, sample_rate, frame_time, freq_low):
    """The normalized cross-correlation of each frame with the same frame shifted by 1 .. ceil(sr / freq_low)
    samples: (batch, frames, lags)."""
    lags = int(math.ceil(sample_rate / freq_low))
    frame_size = int(math.ceil(sample_rate * frame_time))
    length = waveform.shape[-1]
    num_of_frames = int(math.ceil(length / frame_size))
    waveform = F.pad(waveform, (0, lags + num_of_frames * frame_size - length))
    columns = []
    for lag in range(1, lags + 1):
        s1 = waveform[..., :-lag].unfold(-1, frame_size, frame_size)[..., :num_of_frames, :]
        s2 = waveform[..., lag:].unfold(-1, frame_size, frame_size)[..., :num_of_frames, :]
        columns.append(((s1 * s2).sum(-1)
                        / (_EPSILON + ember.linalg.vector_norm(s1, ord=2, dim=-1)).pow(2)
                        / (_EPSILON + ember.linalg.vector_norm(s2, ord=2, dim=-1)).pow(2)).unsqueeze(-1))
    return ember.cat(columns, -1)


def _find_max_per_frame(nccf, sample_rate, freq_high):
    """Each frame's best lag (plus torchaudio's calibration offset of 1), preferring the best lag of the first half
    when it comes within 1 % of the overall best."""
    lag_min = int(math.ceil(sample_rate / freq_high))
    best_values, best_indices = ember.max(nccf[..., lag_min:], -1)
    half_values, half_indices = ember.max(nccf[..., lag_min:nccf.shape[-1] // 2], -1)
    take_half = half_values > 0.99 * best_values
    indices = take_half * half_indices + ~take_half * best_indices
    return indices + lag_min + 1


def _median_smoothing(indices, win_length):
    """The lower median over a window of ``win_length`` frames ending (win_length - 1) // 2 frames ahead, the first
    frame repeated in front."""
    pad_length = (win_length - 1) // 2
    indices = F.pad(indices, (pad_length, 0), mode="constant", value=0.0)
    indices[..., :pad_length] = ember.cat(pad_length * [indices[..., pad_length].unsqueeze(-1)], dim=-1)
    return ember.median(indices.unfold(-1, win_length, 1), -1)[0]


def detect_pitch_frequency(waveform, sample_rate, frame_time=10 ** (-2), win_length=30, freq_low=85,
                           freq_high=3400):
    """The pitch (Hz) of each ``frame_time`` frame of (..., time) waveforms, (..., frames): the lag maximizing the
    normalized cross-correlation, median-smoothed over ``win_length`` frames."""
    shape = list(waveform.shape)
    waveform = waveform.reshape([-1] + shape[-1:])
    nccf = _compute_nccf(waveform, sample_rate, frame_time, freq_low)
    indices = _median_smoothing(_find_max_per_frame(nccf, sample_rate, freq_high), win_length)
    freq = sample_rate / (_EPSILON + indices.to(ember.float))
    return freq.reshape(shape[:-1] + list(freq.shape[-1:]))


def spectral_centroid(waveform, sample_rate, pad, window, n_fft, hop_length, win_length):
    """The magnitude-weighted mean frequency (Hz) of each STFT frame: (..., time) -> (..., frames)."""
    specgram = spectrogram(waveform, pad=pad, window=window, n_fft=n_fft, hop_length=hop_length,
                           win_length=win_length, power=1.0, normalized=False)
    freqs = ember.linspace(0, sample_rate // 2, steps=1 + n_fft // 2, device=specgram.device).reshape((-1, 1))
    return (freqs * specgram).sum(dim=-2) / specgram.sum(dim=-2)


def _cmn_window(t, num_frames, cmn_window, min_cmn_window, center):
    """Kaldi's [start, end) window of frames whose statistics normalize frame t."""
    if center:
        start = t - cmn_window // 2
        end = start + cmn_window
    else:
        start, end = t - cmn_window, t + 1
    if start < 0:
        end -= start
        start = 0
    if not center and end > t:
        end = max(t + 1, min_cmn_window)
    if end > num_frames:
        start = max(start - (end - num_frames), 0)
        end = num_frames
    return start, end


def sliding_window_cmn(specgram, cmn_window=600, min_cmn_window=100, center=False, norm_vars=False):
    """Kaldi's sliding-window cepstral mean (and, with ``norm_vars``, variance) normalization of (..., time, freq)
    features, the statistics kept as running sums over a window of ``cmn_window`` frames (to the left of each
    frame, or centred on it)."""
    input_shape = specgram.shape
    num_frames, num_feats = input_shape[-2:]
    specgram = specgram.view(-1, num_frames, num_feats)
    channels = specgram.shape[0]
    like = {"dtype": specgram.dtype, "device": specgram.device}
    cur_sum = ember.zeros(channels, num_feats, **like)
    cur_sumsq = ember.zeros(channels, num_feats, **like)
    output = ember.zeros(channels, num_frames, num_feats, **like)
    last_start = last_end = -1
    for t in range(num_frames):
        start, end = _cmn_window(t, num_frames, cmn_window, min_cmn_window, center)
        if last_start == -1:
            # torchaudio's first window is frames [start, end - start) (the same as [start, end) when start is 0)
            first = specgram[:, start:end - start, :]
            cur_sum += first.sum(1)
            if norm_vars:
                cur_sumsq += ember.cumsum(first ** 2, 1)[:, -1, :]
        else:
            if start > last_start:
                removed = specgram[:, last_start, :]
                cur_sum -= removed
                if norm_vars:
                    cur_sumsq -= removed ** 2
            if end > last_end:
                added = specgram[:, last_end, :]
                cur_sum += added
                if norm_vars:
                    cur_sumsq += added ** 2
        frames = end - start
        last_start, last_end = start, end
        output[:, t, :] = specgram[:, t, :] - cur_sum / frames
        if norm_vars:
            if frames == 1:
                output[:, t, :] = ember.zeros(channels, num_feats, **like)
            else:
                variance = cur_sumsq / frames - cur_sum ** 2 / frames ** 2
                output[:, t, :] *= ember.pow(variance, -0.5)
    output = output.view(tuple(input_shape[:-2]) + (num_frames, num_feats))
    return output.squeeze(0) if len(input_shape) == 2 else output


def loudness(waveform, sample_rate):
    """The integrated loudness (LKFS) of (..., channels, time) audio, at most 5 channels: K-weighting, 400 ms
    blocks overlapping by 75 %, absolute (-70 LKFS) and relative (-10 LU) gating."""
    if waveform.shape[-2] > 5:
        raise ValueError("Only up to 5 channels are supported.")
    gate_samples = int(round(0.4 * sample_rate))
    step = int(round(gate_samples * (1 - 0.75)))
    kweight_bias = -0.691
    waveform = treble_biquad(waveform, sample_rate, 4.0, 1500.0, 1 / math.sqrt(2))
    waveform = highpass_biquad(waveform, sample_rate, 38.0, 0.5)
    energy = ember.square(waveform).unfold(-1, gate_samples, step).mean(dim=-1)
    g = ember.tensor([1.0, 1.0, 1.0, 1.41, 1.41], dtype=waveform.dtype, device=waveform.device)[:energy.shape[-2]]
    block_loudness = kweight_bias + 10 * ember.log10(ember.sum(g.unsqueeze(-1) * energy, dim=-2))

    def gated_energy(gate):
        gate = gate.unsqueeze(-2)
        filtered = ember.sum(gate * energy, dim=-1) / ember.count_nonzero(gate, dim=-1)
        return ember.sum(g * filtered, dim=-1)

    gated = block_loudness > -70.0
    gamma_rel = kweight_bias + 10 * ember.log10(gated_energy(gated)) - 10
    gated = ember.logical_and(gated, block_loudness > gamma_rel.unsqueeze(-1))
    return kweight_bias + 10 * ember.log10(gated_energy(gated))


def _stretch_waveform(waveform, n_steps, bins_per_octave=12, n_fft=512, win_length=None, hop_length=None,
                      window=None):
    """The waveform slowed by 2 ** (n_steps / bins_per_octave) with a phase vocoder (pitch kept)."""
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if window is None:
        window = ember.hann_window(window_length=win_length, device=waveform.device)
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])
    rate = 2.0 ** (-float(n_steps) / bins_per_octave)
    spec = ember.stft(input=waveform, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                      center=True, pad_mode="reflect", normalized=False, onesided=True, return_complex=True)
    phase_advance = ember.linspace(0, math.pi * hop_length, spec.shape[-2], device=spec.device)[..., None]
    stretched = phase_vocoder(spec, rate, phase_advance)
    return ember.istft(stretched, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                       length=int(round(shape[-1] / rate)))


def _fix_waveform_shape(shifted, shape):
    """The shifted waveform cut or zero-padded to the original length and given back its leading dims."""
    length = shape[-1]
    if shifted.shape[-1] > length:
        shifted = shifted[..., :length]
    else:
        shifted = F.pad(shifted, [0, length - shifted.shape[-1]])
    return shifted.view(tuple(shape[:-1]) + tuple(shifted.shape[-1:]))


def pitch_shift(waveform, sample_rate, n_steps, bins_per_octave=12, n_fft=512, win_length=None, hop_length=None,
                window=None):
    """(..., time) waveforms shifted by ``n_steps`` of 1 / bins_per_octave octave, same length: stretched by a
    phase vocoder, then resampled back."""
    stretched = _stretch_waveform(waveform, n_steps, bins_per_octave, n_fft, win_length, hop_length, window)
    rate = 2.0 ** (-float(n_steps) / bins_per_octave)
    return _fix_waveform_shape(resample(stretched, int(sample_rate / rate), sample_rate), waveform.shape)


def edit_distance(seq1, seq2):
    """The Levenshtein distance (insertions, deletions, substitutions) between two sequences: characters of two
    strings, words of two lists."""
    previous = list(range(len(seq2) + 1))
    for i in range(1, len(seq1) + 1):
        current = [i] + [0] * len(seq2)
        for j in range(1, len(seq2) + 1):
            if seq1[i - 1] == seq2[j - 1]:
                current[j] = previous[j - 1]
            else:
                current[j] = min(previous[j - 1], current[j - 1], previous[j]) + 1
        previous = current
    return int(previous[-1])


def frechet_distance(mu_x, sigma_x, mu_y, sigma_y):
    """The Frechet distance between the Gaussians N(mu_x, sigma_x) and N(mu_y, sigma_y):
    |mu_x - mu_y|^2 + tr(sigma_x + sigma_y - 2 sqrt(sigma_x sigma_y))."""
    if len(mu_x.size()) != 1:
        raise ValueError(f"Input mu_x must be one-dimensional; got dimension {len(mu_x.size())}.")
    if len(sigma_x.size()) != 2:
        raise ValueError(f"Input sigma_x must be two-dimensional; got dimension {len(sigma_x.size())}.")
    if sigma_x.size(0) != sigma_x.size(1) != mu_x.size(0):
        raise ValueError("Each of sigma_x's dimensions must match mu_x's size.")
    if mu_x.size() != mu_y.size():
        raise ValueError(f"Inputs mu_x and mu_y must have the same shape; got {mu_x.size()} and {mu_y.size()}.")
    if sigma_x.size() != sigma_y.size():
        raise ValueError(f"Inputs sigma_x and sigma_y must have the same shape; got {sigma_x.size()} and "
                         f"{sigma_y.size()}.")
    mean_term = (mu_x - mu_y).square().sum()
    trace_term = sigma_x.trace() + sigma_y.trace()
    root_term = ember.linalg.eigvals(sigma_x @ sigma_y).sqrt().real.sum()
    return mean_term + trace_term - 2 * root_term
