"""Kinetics-400/600/700 action recognition videos as torchvision reads them: clips of the videos under
``root/<split>/<class>/``, with torchvision's download of the official per-video archives and annotation files."""
import csv
import os
import urllib.parse
from functools import partial
from multiprocessing import Pool
from os import path

from .folder import find_classes, make_dataset
from .utils import check_integrity, download_and_extract_archive, download_url, verify_str_arg
from .video_utils import VideoClips
from .vision import VisionDataset

__all__ = ["Kinetics"]


def _dl_wrap(tarpath, videopath, line):
    download_and_extract_archive(line, tarpath, videopath)


class Kinetics(VisionDataset):
    """Kinetics (``num_classes`` "400", "600" or "700") under ``root/split/<class>/`` (``_legacy``: ``root/<class>/``)
    as clips of ``frames_per_clip`` frames ``step_between_clips`` apart, (T, C, H, W) by default; samples are
    (video, audio, label). ``download`` fetches the split's videos and sorts them into class folders."""

    _TAR_URLS = {
        "400": "https://s3.amazonaws.com/kinetics/400/{split}/k400_{split}_path.txt",
        "600": "https://s3.amazonaws.com/kinetics/600/{split}/k600_{split}_path.txt",
        "700": "https://s3.amazonaws.com/kinetics/700_2020/{split}/k700_2020_{split}_path.txt",
    }
    _ANNOTATION_URLS = {
        "400": "https://s3.amazonaws.com/kinetics/400/annotations/{split}.csv",
        "600": "https://s3.amazonaws.com/kinetics/600/annotations/{split}.csv",
        "700": "https://s3.amazonaws.com/kinetics/700_2020/annotations/{split}.csv",
    }

    def __init__(self, root, frames_per_clip, num_classes="400", split="train", frame_rate=None,
                 step_between_clips=1, transform=None, extensions=("avi", "mp4"), download=False,
                 num_download_workers=1, num_workers=1, _precomputed_metadata=None, _video_width=0, _video_height=0,
                 _video_min_dimension=0, _audio_samples=0, _audio_channels=0, _legacy=False, output_format="TCHW"):
        self.num_classes = verify_str_arg(num_classes, arg="num_classes", valid_values=["400", "600", "700"])
        self.extensions = extensions
        self.num_download_workers = num_download_workers
        self.root = root
        self._legacy = _legacy
        if _legacy:
            self.split_folder = root
            self.split = "unknown"
            output_format = "THWC"
            if download:
                raise ValueError("Cannot download the videos using legacy_structure.")
        else:
            self.split_folder = path.join(root, split)
            self.split = verify_str_arg(split, arg="split", valid_values=["train", "val", "test"])
        if download:
            self.download_and_process_videos()
        super().__init__(self.root)
        self.classes, class_to_idx = find_classes(self.split_folder)
        self.samples = make_dataset(self.split_folder, class_to_idx, extensions, is_valid_file=None)
        video_list = [x[0] for x in self.samples]
        self.video_clips = VideoClips(video_list, frames_per_clip, step_between_clips, frame_rate,
                                      _precomputed_metadata, num_workers=num_workers, _video_width=_video_width,
                                      _video_height=_video_height, _video_min_dimension=_video_min_dimension,
                                      _audio_samples=_audio_samples, _audio_channels=_audio_channels,
                                      output_format=output_format)
        self.transform = transform

    def download_and_process_videos(self):
        """Downloads the split's videos into ``root/split`` and sorts them into one folder per class."""
        self._download_videos()
        self._make_ds_structure()

    def _download_videos(self):
        """Downloads and extracts the split's archives (listed in its ``*_path.txt``) unless ``root/split`` exists."""
        if path.exists(self.split_folder):
            return
        tar_path = path.join(self.root, "tars")
        file_list_path = path.join(self.root, "files")
        split_url = self._TAR_URLS[self.num_classes].format(split=self.split)
        split_url_filepath = path.join(file_list_path, path.basename(split_url))
        if not check_integrity(split_url_filepath):
            download_url(split_url, file_list_path)
        with open(split_url_filepath) as file:
            list_video_urls = [urllib.parse.quote(line, safe="/,:") for line in file.read().splitlines()]
        if self.num_download_workers == 1:
            for line in list_video_urls:
                download_and_extract_archive(line, tar_path, self.split_folder)
        else:
            with Pool(self.num_download_workers) as pool:
                pool.map(partial(_dl_wrap, tar_path, self.split_folder), list_video_urls)

    def _make_ds_structure(self):
        """Moves each ``split/<youtube_id>_<start>_<end>.mp4`` into ``split/<label>/`` by the split's annotations."""
        annotation_path = path.join(self.root, "annotations")
        if not check_integrity(path.join(annotation_path, f"{self.split}.csv")):
            download_url(self._ANNOTATION_URLS[self.num_classes].format(split=self.split), annotation_path)
        annotations = path.join(annotation_path, f"{self.split}.csv")
        with open(annotations) as csvfile:
            for row in csv.DictReader(csvfile):
                f = f"{row['youtube_id']}_{int(row['time_start']):06}_{int(row['time_end']):06}.mp4"
                label = row["label"].replace(" ", "_").replace("'", "").replace("(", "").replace(")", "")
                os.makedirs(path.join(self.split_folder, label), exist_ok=True)
                downloaded_file = path.join(self.split_folder, f)
                if path.isfile(downloaded_file):
                    os.replace(downloaded_file, path.join(self.split_folder, label, f))

    @property
    def metadata(self):
        """The scan of every video (pass it back as ``_precomputed_metadata`` to skip scanning)."""
        return self.video_clips.metadata

    def __len__(self):
        return self.video_clips.num_clips()

    def __getitem__(self, idx):
        video, audio, info, video_idx = self.video_clips.get_clip(idx)
        label = self.samples[video_idx][1]
        if self.transform is not None:
            video = self.transform(video)
        return video, audio, label
