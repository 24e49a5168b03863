"""Keyword spotting in the style of torchaudio's speech-command tutorial, with ``import ember as torch``.

SPEECHCOMMANDS items, resampled from 16 kHz to 8 kHz, log-mel features (MelSpectrogram + AmplitudeToDB), a small
CNN, Adam, then the test accuracy. With ``--root`` holding the extracted Speech Commands
(``SpeechCommands/speech_commands_v0.02/...``) it trains on the real data; without, it writes a toy set in the same
layout: four "words" made of tones (rising, falling, steady, two-tone) with random pitch, timing and noise, 0.5 s
each, saved as 16-bit WAV files with their validation/testing lists.
"""
import argparse
import math
import os
import tempfile

import numpy

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember import audio
from ember.audio import transforms as T
from ember.utils.data import DataLoader

WORDS = ["up", "down", "stay", "two"]


def write_toy_commands(root, per_word=80, rate=16000, seconds=0.5, seed=0):
    """Writes a Speech Commands-layout toy set under root/SpeechCommands/speech_commands_v0.02."""
    rng = numpy.random.default_rng(seed)
    base = os.path.join(root, "SpeechCommands", "speech_commands_v0.02")
    t = numpy.arange(int(rate * seconds)) / rate
    lists = {"validation_list.txt": [], "testing_list.txt": []}
    for word in WORDS:
        os.makedirs(os.path.join(base, word))
        for n in range(per_word):
            f0 = rng.uniform(300, 900)
            sweep = {"up": f0 * (1 + 1.5 * t / seconds), "down": f0 * (2.5 - 1.5 * t / seconds),
                     "stay": numpy.full_like(t, f0), "two": numpy.where(t < seconds / 2, f0, 2.2 * f0)}[word]
            phase = 2 * math.pi * numpy.cumsum(sweep) / rate
            start, length = rng.uniform(0, 0.15), rng.uniform(0.25, 0.35)
            envelope = numpy.clip(numpy.minimum(t - start, start + length - t) * 40, 0, 1)
            signal = 0.5 * envelope * numpy.sin(phase) + 0.05 * rng.standard_normal(t.shape)
            name = f"{rng.integers(16 ** 8):08x}_nohash_{n % 3}.wav"
            audio.save(os.path.join(base, word, name), torch.tensor(signal[None], dtype=torch.float32), rate,
                       encoding="PCM_S", bits_per_sample=16)
            if n % 5 == 0:
                lists["validation_list.txt" if n % 10 == 0 else "testing_list.txt"].append(f"{word}/{name}")
    for filename, lines in lists.items():
        with open(os.path.join(base, filename), "w") as f:
            f.write("\n".join(lines) + "\n")


class M5ish(nn.Module):
    """Two conv blocks over log-mel frames and a linear classifier."""

    def __init__(self, n_mels, n_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn1, self.bn2 = nn.BatchNorm2d(16), nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(x.mean(dim=(2, 3)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", help="directory with the extracted SpeechCommands (default: a generated toy set)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--per-word", type=int, default=80, help="clips per word of the generated toy set")
    args = parser.parse_args()
    if args.root:
        run(args.root, args)
    else:
        with tempfile.TemporaryDirectory(prefix="speech_commands_") as root:
            write_toy_commands(root, per_word=args.per_word)
            run(root, args)


def run(root, args):
    torch.manual_seed(0)
    train_set = audio.datasets.SPEECHCOMMANDS(root, subset="training")
    test_set = audio.datasets.SPEECHCOMMANDS(root, subset="testing")
    labels = sorted({train_set.get_metadata(i)[2] for i in range(len(train_set))})
    resample = T.Resample(orig_freq=16000, new_freq=8000)
    features = nn.Sequential(T.MelSpectrogram(sample_rate=8000, n_fft=256, hop_length=128, n_mels=32),
                             T.AmplitudeToDB(top_db=80.0))

    def collate(batch):
        waveforms = [resample(item[0][0]) for item in batch]
        longest = max(w.shape[-1] for w in waveforms)
        waveforms = torch.stack([F.pad(w, (0, longest - w.shape[-1])) for w in waveforms])
        targets = torch.tensor([labels.index(item[2]) for item in batch])
        spec = features(waveforms).unsqueeze(1)
        return (spec - spec.mean()) / (spec.std() + 1e-5), targets

    train_loader = DataLoader(train_set, batch_size=32, shuffle=True, collate_fn=collate)
    test_loader = DataLoader(test_set, batch_size=64, collate_fn=collate)
    model = M5ish(32, len(labels))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        print(f"epoch {epoch}: train loss {total / len(train_set):.3f}")
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in test_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    print(f"test accuracy {correct / len(test_set):.3f} on {len(test_set)} clips of {len(labels)} words")


if __name__ == "__main__":
    main()
