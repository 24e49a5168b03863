"""Audio feature speed, ember beside librosa (and PyTorch's stft for the spectrogram part), each in its own warmed-up
block: MelSpectrogram of a batch of 16 ten-second 16 kHz clips, and Resample 44.1 kHz -> 16 kHz of the same batch.

Run: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_THREAD_TIMEOUT=4 PYTHONPATH=. python bench/bench_audio.py``
Prints medians and the ratio ember / the faster reference."""
import argparse
import statistics
import time

import numpy

import ember
from ember.audio import transforms as T


def median_time(fn, repeat):
    fn()   # warm-up (numba / FFT plan caches, first allocations)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    rng = numpy.random.default_rng(0)
    clips = rng.standard_normal((args.batch, 160000)).astype(numpy.float32) * 0.1
    rows = []

    mel = T.MelSpectrogram(16000, n_fft=400, hop_length=160, n_mels=80)
    x = ember.from_numpy(clips)
    rows.append(("MelSpectrogram 16x10 s @16 kHz", "ember", median_time(lambda: mel(x), args.repeat)))
    try:
        import librosa
        rows.append(("MelSpectrogram 16x10 s @16 kHz", "librosa", median_time(
            lambda: librosa.feature.melspectrogram(y=clips, sr=16000, n_fft=400, hop_length=160, n_mels=80,
                                                   htk=True, norm=None, pad_mode="reflect"), args.repeat)))
    except ImportError:
        pass
    try:
        import torch
        window, fb = torch.hann_window(400), torch.from_numpy(mel.mel_scale.fb.numpy())
        tx = torch.from_numpy(clips)
        rows.append(("MelSpectrogram 16x10 s @16 kHz", "torch.stft+matmul", median_time(
            lambda: torch.matmul(torch.stft(tx, 400, 160, window=window, return_complex=True).abs().pow(2)
                                 .transpose(-1, -2), fb), args.repeat)))
    except ImportError:
        pass

    clips44 = rng.standard_normal((args.batch, 441000)).astype(numpy.float32) * 0.1
    resample = T.Resample(44100, 16000)
    x44 = ember.from_numpy(clips44)
    rows.append(("Resample 16x10 s 44.1->16 kHz", "ember", median_time(lambda: resample(x44), args.repeat)))
    try:
        import librosa
        for res_type in ("soxr_hq", "polyphase"):
            rows.append(("Resample 16x10 s 44.1->16 kHz", f"librosa {res_type}", median_time(
                lambda res_type=res_type: librosa.resample(clips44, orig_sr=44100, target_sr=16000,
                                                           res_type=res_type), args.repeat)))
    except ImportError:
        pass

    for case in dict.fromkeys(row[0] for row in rows):
        timings = {lib: t for c, lib, t in rows if c == case}
        references = [t for lib, t in timings.items() if lib != "ember"]
        fastest = min(references) if references else float("nan")
        for lib, t in timings.items():
            print(f"{case:32s} {lib:20s} {t * 1000:9.1f} ms")
        print(f"{case:32s} {'ember / fastest':20s} {timings['ember'] / fastest:9.2f}")


if __name__ == "__main__":
    main()
