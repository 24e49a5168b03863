"""Speech Commands (Warden 2018): one-second 16 kHz recordings of 35 spoken words, by label folder."""
import os
from pathlib import Path

from ember.utils.data import Dataset

from .._backend import load
from .utils import fetch_archive

FOLDER_IN_ARCHIVE = "SpeechCommands"
URL = "speech_commands_v0.02"
HASH_DIVIDER = "_nohash_"
EXCEPT_FOLDER = "_background_noise_"
SAMPLE_RATE = 16000
_CHECKSUMS = {
    "http://download.tensorflow.org/data/speech_commands_v0.01.tar.gz":
        "743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d",
    "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz":
        "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
}


def _load_list(root, *filenames):
    output = []
    for filename in filenames:
        with open(os.path.join(root, filename)) as fileobj:
            output += [os.path.normpath(os.path.join(root, line.strip())) for line in fileobj if line.strip()]
    return output


class SPEECHCOMMANDS(Dataset):
    """Items are (waveform, sample_rate, label, speaker_id, utterance_number); ``subset`` "training",
    "validation" or "testing" follows validation_list.txt / testing_list.txt, None takes every recording."""

    def __init__(self, root, url=URL, folder_in_archive=FOLDER_IN_ARCHIVE, download=False, subset=None):
        if subset not in (None, "training", "validation", "testing"):
            raise ValueError("When `subset` is not None, it must be one of ['training', 'validation', 'testing'].")
        if url in ("speech_commands_v0.01", "speech_commands_v0.02"):
            url = f"http://download.tensorflow.org/data/{url}.tar.gz"
        basename = os.path.basename(url).rsplit(".tar.gz", 1)[0]
        root = os.fspath(root)
        self._archive = os.path.join(root, folder_in_archive)
        self._path = os.path.join(self._archive, basename)
        if download and not os.path.isdir(self._path):
            fetch_archive(url, self._path, _CHECKSUMS.get(url))
        if not os.path.isdir(self._path):
            raise RuntimeError(f"The path {self._path} doesn't exist. Please check the ``root`` path or set "
                               "`download=True` to download it")
        if subset == "validation":
            self._walker = _load_list(self._path, "validation_list.txt")
        elif subset == "testing":
            self._walker = _load_list(self._path, "testing_list.txt")
        else:
            walker = sorted(str(p) for p in Path(self._path).glob("*/*.wav"))
            walker = [w for w in walker if HASH_DIVIDER in w and EXCEPT_FOLDER not in w]
            if subset == "training":
                excludes = set(_load_list(self._path, "validation_list.txt", "testing_list.txt"))
                walker = [w for w in walker if os.path.normpath(w) not in excludes]
            self._walker = walker

    def get_metadata(self, n):
        """(relative path, sample rate, label, speaker_id, utterance_number) of item n, without loading audio."""
        filepath = self._walker[n]
        relpath = os.path.relpath(filepath, self._archive)
        label = os.path.basename(os.path.dirname(filepath))
        speaker_id, utterance = os.path.splitext(os.path.basename(filepath))[0].split(HASH_DIVIDER)
        return relpath, SAMPLE_RATE, label, speaker_id, int(utterance)

    def __getitem__(self, n):
        relpath, sample_rate, label, speaker_id, utterance = self.get_metadata(n)
        waveform, sample_rate = load(os.path.join(self._archive, relpath))
        return waveform, sample_rate, label, speaker_id, utterance

    def __len__(self):
        return len(self._walker)
