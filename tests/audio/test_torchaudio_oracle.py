"""ember.audio against torchaudio itself, run in a separate environment (torchaudio is pinned to other torch
versions, so it never enters the test venv): set EMBER_TORCHAUDIO_PYTHON to an interpreter that imports torchaudio.
One that reuses the test venv's torch 2.13: ``python -m venv /tmp/ta && echo <test venv site-packages> >
/tmp/ta/lib/python3.11/site-packages/venv.pth && /tmp/ta/bin/pip install --no-deps torchaudio==2.11.0``, then move
the wheel's compiled extensions (``torchaudio/lib/*.so``, built for CUDA and torch 2.11) out of the way: the
transforms and functionals compared here are plain PyTorch code.

Each case is an expression over ``A`` (the audio package), ``torch`` and the inputs; the oracle interpreter
evaluates them with torchaudio and PyTorch, this process with ember.audio and ember; shapes, dtypes and values
(float32: 1e-4 relative) must agree."""
import os
import subprocess
import textwrap
import warnings

import numpy
import pytest

import ember
import ember.audio

PYTHON = os.environ.get("EMBER_TORCHAUDIO_PYTHON")
pytestmark = pytest.mark.skipif(not PYTHON, reason="set EMBER_TORCHAUDIO_PYTHON to a Python with torchaudio")

CASES = {
    "spectrogram": "A.transforms.Spectrogram(n_fft=128, hop_length=32)(x)",
    "spectrogram_complex_normalized": "A.transforms.Spectrogram(n_fft=100, win_length=80, power=None, "
                                      "normalized=True, pad=3)(x)",
    "spectrogram_frame_length": "A.transforms.Spectrogram(n_fft=64, power=1.0, normalized='frame_length', "
                                "center=False)(x)",
    "inverse_spectrogram": "A.transforms.InverseSpectrogram(n_fft=128, hop_length=32)(A.transforms.Spectrogram("
                           "n_fft=128, hop_length=32, power=None)(x), length=900)",
    "griffinlim": "A.transforms.GriffinLim(n_fft=128, hop_length=32, n_iter=4, rand_init=False)(A.transforms."
                  "Spectrogram(n_fft=128, hop_length=32)(x[0, 0]))",
    "melspectrogram": "A.transforms.MelSpectrogram(16000, n_fft=256, hop_length=64, n_mels=40)(x)",
    "melspectrogram_slaney": "A.transforms.MelSpectrogram(22050, n_fft=256, n_mels=30, f_min=40.0, f_max=9000.0, "
                             "norm='slaney', mel_scale='slaney')(x)",
    "inverse_mel": "A.transforms.InverseMelScale(n_stft=65, n_mels=16, sample_rate=16000)(A.transforms."
                   "MelSpectrogram(16000, n_fft=128, n_mels=16)(x))",
    "mfcc": "A.transforms.MFCC(16000, n_mfcc=13, melkwargs={'n_fft': 256, 'hop_length': 64, 'n_mels': 40})(x)",
    "mfcc_log": "A.transforms.MFCC(16000, n_mfcc=10, log_mels=True, norm=None, melkwargs={'n_fft': 200, "
                "'n_mels': 20})(x)",
    "lfcc": "A.transforms.LFCC(16000, n_filter=32, n_lfcc=12, speckwargs={'n_fft': 256, 'hop_length': 128})(x)",
    "amplitude_to_db": "A.transforms.AmplitudeToDB('magnitude', top_db=30.0)(x.abs())",
    "db_to_amplitude": "A.functional.DB_to_amplitude(x * 10, 2.0, 0.5)",
    "melscale_fbanks": "A.functional.melscale_fbanks(201, 10.0, 7000.0, 40, 16000, 'slaney', 'slaney')",
    "linear_fbanks": "A.functional.linear_fbanks(129, 0.0, 8000.0, 20, 16000)",
    "create_dct": "A.functional.create_dct(13, 40, None)",
    "resample_hann": "A.transforms.Resample(44100, 16000)(x)",
    "resample_kaiser": "A.functional.resample(x, 16000, 22050, lowpass_filter_width=4, rolloff=0.9, "
                       "resampling_method='sinc_interp_kaiser', beta=9.0)",
    "compute_deltas": "A.transforms.ComputeDeltas(win_length=7)(x)",
    "mu_law": "A.functional.mu_law_decoding(A.functional.mu_law_encoding(x.clamp(-1, 1), 256), 256)",
    "lfilter": "A.functional.lfilter(x, torch.tensor([1.0, -0.6, 0.2]), "
               "torch.tensor([0.2, 0.3, 0.1]))",
    "lowpass": "A.functional.lowpass_biquad(x, 16000, 1500.0, 0.8)",
    "highpass": "A.functional.highpass_biquad(x, 16000, 300.0)",
    "time_stretch": "A.transforms.TimeStretch(hop_length=32, n_freq=65, fixed_rate=1.3)(A.transforms.Spectrogram("
                    "n_fft=128, hop_length=32, power=None)(x))",
    "fade": "A.transforms.Fade(100, 200, 'logarithmic')(x)",
    "vol": "A.transforms.Vol(3.0, 'db')(x)",
    "fftconvolve_same": "A.functional.fftconvolve(x, x[:, :1, :50], mode='same')",
    "fftconvolve_valid": "A.functional.fftconvolve(x[0], x[1, :, :300], mode='valid')",
    "convolve": "A.functional.convolve(x[:1], x[:, :, :40])",
    "convolve_valid": "A.functional.convolve(x[:, :, :30], x[:1], mode='valid')",
    "add_noise": "A.functional.add_noise(x, x.flip(-1), torch.tensor([[10.0, 3.0, 0.0], [20.0, 5.0, -3.0]]), "
                 "torch.tensor([[1000, 900, 500], [10, 1000, 999]]))",
    "speed": "A.functional.speed(x, 16000, 1.1)[0]",
    "preemphasis": "A.functional.preemphasis(x, 0.9)",
    "deemphasis": "A.functional.deemphasis(x * 0.1, 0.8)",
    "detect_pitch": "A.functional.detect_pitch_frequency(torch.sin(torch.arange(4000.0) * 0.05 + x[0, 0, 0]) + "
                    "x.repeat(1, 1, 4) * 0.1, 8000, win_length=5)",
    "spectral_centroid": "A.functional.spectral_centroid(x, 16000, 2, torch.hann_window(128), 128, 32, 128)",
    "sliding_window_cmn": "A.functional.sliding_window_cmn(x.transpose(-1, -2)[..., :40, :], cmn_window=10, "
                          "min_cmn_window=4, norm_vars=True)",
    "sliding_window_cmn_center": "A.functional.sliding_window_cmn(x[0].transpose(-1, -2)[:30], cmn_window=7, "
                                 "center=True)",
    "loudness": "A.functional.loudness(x.repeat(1, 1, 8), 4000)",
    "pitch_shift": "A.functional.pitch_shift(x, 16000, 3, n_fft=128)",
    "allpass": "A.functional.allpass_biquad(x, 16000, 1000.0, 0.5)",
    "band": "A.functional.band_biquad(x, 16000, 2000.0, 1.2, noise=True)",
    "bandpass": "A.functional.bandpass_biquad(x, 16000, 800.0, const_skirt_gain=True)",
    "bandreject": "A.functional.bandreject_biquad(x, 16000, 3000.0)",
    "bass": "A.functional.bass_biquad(x, 16000, 6.0)",
    "treble": "A.functional.treble_biquad(x, 16000, -4.0, 2500.0, 0.9)",
    "equalizer": "A.functional.equalizer_biquad(x, 16000, 1200.0, 5.0, 2.0)",
    "deemph": "A.functional.deemph_biquad(x, 44100)",
    "riaa": "A.functional.riaa_biquad(x * 0.1, 48000)",
    "filtfilt": "A.functional.filtfilt(x, torch.tensor([[1.0, -0.6, 0.2], [1.0, 0.3, 0.0], [1.0, 0.0, 0.0]]), "
                "torch.tensor([[0.2, 0.3, 0.1], [0.5, 0.5, 0.0], [0.3, 0.0, 0.0]]))",
    "contrast": "A.functional.contrast(x, 40.0)",
    "dcshift": "A.functional.dcshift(x.clone() * 4, 0.5, 0.05)",
    "dcshift_negative": "A.functional.dcshift(x.clone() * 4, -0.3, 0.1)",
    "overdrive": "A.functional.overdrive(x, 10.0, 30.0)",
    "spec_augment": "(torch.manual_seed(3), A.transforms.SpecAugment(2, 20, 2, 8, p=0.5)(A.transforms.Spectrogram("
                    "n_fft=64)(x)))[1]",
    "spec_augment_shared": "(torch.manual_seed(4), A.transforms.SpecAugment(1, 20, 1, 8, iid_masks=False, "
                           "zero_masking=True)(A.transforms.Spectrogram(n_fft=64)(x)))[1]",
    "speed_perturbation": "(torch.manual_seed(5), A.transforms.SpeedPerturbation(16000, [0.9, 1.1, 1.3])(x)[0])[1]",
    "speed_lengths": "A.transforms.Speed(16000, 0.9)(x, torch.tensor([[1000, 500, 3], [7, 8, 9]]))[1]",
    "pitch_shift_module": "A.transforms.PitchShift(16000, -2, n_fft=128)(x)",
    "spectral_centroid_module": "A.transforms.SpectralCentroid(16000, n_fft=100, pad=3)(x)",
    "flanger": "A.functional.flanger(x, 8000, delay=2.0, regen=30.0, phase=40.0)",
    "flanger_quadratic": "A.functional.flanger(x[0].double(), 8000, depth=5.0, speed=2.0, "
                         "modulation='triangular', interpolation='quadratic')",
    "phaser": "A.functional.phaser(x, 8000)",
    "phaser_triangle": "A.functional.phaser(x[1], 16000, 0.6, 0.9, 4.0, 0.7, 1.5, False)",
    "dither": "(torch.manual_seed(7), A.functional.dither(x.clone()))[1]",
    "dither_rpdf": "(torch.manual_seed(8), A.functional.dither(x.clone(), 'RPDF', noise_shaping=True))[1]",
    "dither_gpdf": "(torch.manual_seed(9), A.functional.dither(x.clone(), 'GPDF'))[1]",
    "vad": "A.functional.vad(torch.cat([x[0].flatten() * 0.005, x[1, 0] * 0.005, sum(torch.sin(6.283185307179586 "
           "* 150 * k * torch.arange(16000.0) / 8000) / k for k in range(1, 20)) * 0.3]), 8000)",
    "vad_module": "A.transforms.Vad(8000, trigger_level=4.0, pre_trigger_time=0.05, allowed_gap=0.1, "
                  "boot_time=0.2)(torch.stack([torch.cat([x[0].flatten() * 0.002, sum(torch.sin("
                  "6.283185307179586 * 110 * k * torch.arange(12000.0) / 8000) / k for k in range(1, 30)) * 0.2]), "
                  "torch.cat([x[1].flatten() * 0.002, torch.zeros(12000)])]))",
    "psd_mask": "A.transforms.PSD(multi_mask=True)(_stft(x), x.abs()[:, :, :65].reshape(2, 3, 65, 1)"
                ".expand(2, 3, 65, 16))",
    "souden_mvdr": "A.transforms.SoudenMVDR()(_stft(x), A.functional.psd(_stft(x)), A.functional.psd("
                   "_stft(x.flip(-1))) + 0.1 * torch.eye(3), 1)",
    "souden_soft_reference": "A.functional.mvdr_weights_souden(A.functional.psd(_stft(x)), A.functional.psd("
                             "_stft(x.flip(-1))), torch.tensor([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]]))",
    "rtf_mvdr": "A.transforms.RTFMVDR()(_stft(x), A.functional.rtf_power(A.functional.psd(_stft(x)), "
                "A.functional.psd(_stft(x.flip(-1))), 0, n_iter=4), A.functional.psd(_stft(x.flip(-1))), "
                "torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]]))",
    "rtf_power_one": "A.functional.rtf_power(A.functional.psd(_stft(x)), A.functional.psd(_stft(x.flip(-1))), "
                     "torch.tensor([0.0, 0.0, 1.0]), n_iter=1)",
    "rtf_evd_abs": "A.functional.rtf_evd(A.functional.psd(_stft(x).to(torch.complex128))).abs()",
    "kaldi_fbank": "A.compliance.kaldi.fbank(x[0].repeat(1, 4), num_mel_bins=40, channel=1)",
    "kaldi_fbank_options": "A.compliance.kaldi.fbank(x[1] * 3, num_mel_bins=12, sample_frequency=8000, "
                           "frame_length=20.0, frame_shift=7.5, snip_edges=False, use_energy=True, "
                           "htk_compat=True, window_type='hamming', dither=0.0, use_power=False, low_freq=60.0, "
                           "high_freq=-200.0, vtln_warp=1.1, subtract_mean=True, raw_energy=False)",
    "kaldi_spectrogram": "A.compliance.kaldi.spectrogram(x[0].repeat(1, 3), window_type='blackman', "
                         "remove_dc_offset=False, round_to_power_of_two=False, frame_length=20.0)",
    "kaldi_mfcc": "A.compliance.kaldi.mfcc(x[0].repeat(1, 4), num_ceps=13, use_energy=True)",
    "kaldi_mfcc_htk": "A.compliance.kaldi.mfcc(x[1], sample_frequency=8000, htk_compat=True, num_mel_bins=20, "
                      "num_ceps=10, window_type='hanning', preemphasis_coefficient=0.0, energy_floor=0.0, "
                      "cepstral_lifter=0.0)",
    "kaldi_dither": "(torch.manual_seed(6), A.compliance.kaldi.fbank(x[0].repeat(1, 3), dither=1.0))[1]",
    "kaldi_mel_banks": "A.compliance.kaldi.get_mel_banks(30, 512, 16000.0, 20.0, 7000.0, 300.0, -1200.0, 0.9)[0]",
}

ORACLE = textwrap.dedent("""
    import sys, numpy, torch, torchaudio as A
    inputs = numpy.load(sys.argv[1])
    x = torch.tensor(inputs["x"])
    _stft = lambda w: A.transforms.Spectrogram(n_fft=128, hop_length=64, power=None)(w)
    results = {}
    for name, expression in eval(sys.argv[3]).items():
        out = eval(expression)
        results[name] = out.detach().resolve_conj().numpy()
    numpy.savez(sys.argv[2], **results)
""")


def test_audio_matches_torchaudio(tmp_path):
    x = (numpy.random.default_rng(0).standard_normal((2, 3, 1000)) * 0.2).astype(numpy.float32)
    numpy.savez(tmp_path / "inputs.npz", x=x)
    result = subprocess.run([PYTHON, "-W", "ignore", "-c", ORACLE, str(tmp_path / "inputs.npz"),
                             str(tmp_path / "oracle.npz"), repr(CASES)], capture_output=True, text=True, timeout=240,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = numpy.load(tmp_path / "oracle.npz")
    namespace = {"A": ember.audio, "torch": ember, "x": ember.tensor(x),
                 "_stft": lambda w: ember.audio.transforms.Spectrogram(n_fft=128, hop_length=64, power=None)(w)}
    # TimeStretch and pitch_shift accumulate phases over frames: the phase vocoder's float32 angles (atan2, whose
    # last bit NumPy and PyTorch's SLEEF round differently) shift by an ulp, which the float32 cumulative sum of
    # phases near 100 rad amplifies to ~1e-3.
    rtol = dict.fromkeys(CASES, 1e-4) | {"time_stretch": 2e-3, "pitch_shift": 2e-3,
                                                "pitch_shift_module": 2e-3}
    failures = []
    for name, expression in CASES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # tiny filter banks have empty mel filters, as in the oracle
            out = eval(expression, namespace).detach().numpy()
        reference = expected[name]
        if out.shape != reference.shape or out.dtype != reference.dtype:
            failures.append(f"{name}: {out.shape} {out.dtype} != torchaudio {reference.shape} {reference.dtype}")
        elif not numpy.allclose(out, reference, rtol=rtol[name],
                                atol=rtol[name] / 10 * max(numpy.abs(reference).max(), 1e-12)):
            failures.append(f"{name}: max difference {numpy.abs(out - reference).max():.3g}")
    assert not failures, "\n".join(failures)
