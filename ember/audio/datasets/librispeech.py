"""LibriSpeech (Panayotov et al. 2015): read English audiobooks at 16 kHz with transcripts (OpenSLR 12)."""
import os
from pathlib import Path

from ember.utils.data import Dataset

from .._backend import load
from .utils import fetch_archive

URL = "train-clean-100"
FOLDER_IN_ARCHIVE = "LibriSpeech"
SAMPLE_RATE = 16000
_DATA_SUBSETS = ["dev-clean", "dev-other", "test-clean", "test-other", "train-clean-100", "train-clean-360",
                 "train-other-500"]
_CHECKSUMS = {
    "http://www.openslr.org/resources/12/dev-clean.tar.gz":
        "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3",
    "http://www.openslr.org/resources/12/dev-other.tar.gz":
        "12661c48e8c3fe1de2c1caa4c3e135193bfb1811584f11f569dd12645aa84365",
    "http://www.openslr.org/resources/12/test-clean.tar.gz":
        "39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23",
    "http://www.openslr.org/resources/12/test-other.tar.gz":
        "d09c181bba5cf717b3dee7d4d592af11a3ee3a09e08ae025c5506f6ebe961c29",
    "http://www.openslr.org/resources/12/train-clean-100.tar.gz":
        "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2",
    "http://www.openslr.org/resources/12/train-clean-360.tar.gz":
        "146a56496217e96c14334a160df97fffedd6e0a04e66b9c5af0d40be3c792ecf",
    "http://www.openslr.org/resources/12/train-other-500.tar.gz":
        "ddb22f27f96ec163645d53215559df6aa36515f26e01dd70798188350adcb6d2",
}


class LIBRISPEECH(Dataset):
    """Items are (waveform, sample_rate, transcript, speaker_id, chapter_id, utterance_id), read from
    ``root/LibriSpeech/<url>/<speaker>/<chapter>/`` (FLAC audio: needs soundfile)."""

    _ext_txt = ".trans.txt"
    _ext_audio = ".flac"

    def __init__(self, root, url=URL, folder_in_archive=FOLDER_IN_ARCHIVE, download=False):
        if url not in _DATA_SUBSETS:
            raise ValueError(f"Invalid url '{url}' given; please provide one of {_DATA_SUBSETS}.")
        root = os.fspath(root)
        self._archive = os.path.join(root, folder_in_archive)
        self._path = os.path.join(self._archive, url)
        if not os.path.isdir(self._path):
            if download:
                archive_url = f"http://www.openslr.org/resources/12/{url}.tar.gz"
                fetch_archive(archive_url, root, _CHECKSUMS[archive_url])
            else:
                raise RuntimeError(f"Dataset not found at {self._path}. Please set `download=True` to download the "
                                   "dataset.")
        self._walker = sorted(p.stem for p in Path(self._path).glob("*/*/*" + self._ext_audio))

    def get_metadata(self, n):
        """(relative audio path, sample rate, transcript, speaker_id, chapter_id, utterance_id) of item n."""
        fileid = self._walker[n]
        speaker_id, chapter_id, utterance_id = fileid.split("-")
        folder = os.path.join(self._path, speaker_id, chapter_id)
        with open(os.path.join(folder, f"{speaker_id}-{chapter_id}{self._ext_txt}")) as transcripts:
            for line in transcripts:
                key, _, transcript = line.strip().partition(" ")
                if key == fileid:
                    break
            else:
                raise FileNotFoundError(f"Translation not found for {fileid}")
        relpath = os.path.relpath(os.path.join(folder, fileid + self._ext_audio), self._archive)
        return relpath, SAMPLE_RATE, transcript, int(speaker_id), int(chapter_id), int(utterance_id)

    def __getitem__(self, n):
        relpath, _, transcript, speaker_id, chapter_id, utterance_id = self.get_metadata(n)
        waveform, sample_rate = load(os.path.join(self._archive, relpath))
        return waveform, sample_rate, transcript, speaker_id, chapter_id, utterance_id

    def __len__(self):
        return len(self._walker)
