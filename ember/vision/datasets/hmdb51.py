"""HMDB51 action recognition videos as torchvision reads them: clips of each ``.avi`` under ``root/<class>/``, the
videos tagged train (1) or test (2) in one of the three official splits."""
import glob
import os

from .folder import find_classes, make_dataset
from .video_utils import VideoClips
from .vision import VisionDataset

__all__ = ["HMDB51"]


class HMDB51(VisionDataset):
    """HMDB51 under ``root`` (one folder of ``.avi`` videos per class), the videos of ``annotation_path``'s
    ``*test_split{fold}.txt`` files tagged for the train or test split, as clips of ``frames_per_clip`` frames
    ``step_between_clips`` apart; samples are (video, audio, label)."""

    data_url = "https://serre-lab.clps.brown.edu/wp-content/uploads/2013/10/hmdb51_org.rar"
    splits = {"url": "https://serre-lab.clps.brown.edu/wp-content/uploads/2013/10/test_train_splits.rar",
              "md5": "15e67781e70dcfbdce2d7dbb9b3344b5"}
    TRAIN_TAG = 1
    TEST_TAG = 2

    def __init__(self, root, annotation_path, frames_per_clip, step_between_clips=1, frame_rate=None, fold=1,
                 train=True, transform=None, _precomputed_metadata=None, num_workers=1, _video_width=0,
                 _video_height=0, _video_min_dimension=0, _audio_samples=0, output_format="THWC"):
        super().__init__(root)
        if fold not in (1, 2, 3):
            raise ValueError(f"fold should be between 1 and 3, got {fold}")
        self.classes, class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, class_to_idx, ("avi",))
        video_paths = [path for path, _ in self.samples]
        video_clips = VideoClips(video_paths, frames_per_clip, step_between_clips, frame_rate, _precomputed_metadata,
                                 num_workers=num_workers, _video_width=_video_width, _video_height=_video_height,
                                 _video_min_dimension=_video_min_dimension, _audio_samples=_audio_samples,
                                 output_format=output_format)
        self.full_video_clips = video_clips   # its metadata covers every video, not only the fold's
        self.fold = fold
        self.train = train
        self.indices = self._select_fold(video_paths, annotation_path, fold, train)
        self.video_clips = video_clips.subset(self.indices)
        self.transform = transform

    @property
    def metadata(self):
        """The scan of every video (pass it back as ``_precomputed_metadata`` to skip scanning)."""
        return self.full_video_clips.metadata

    def _select_fold(self, video_list, annotations_dir, fold, train):
        target_tag = self.TRAIN_TAG if train else self.TEST_TAG
        selected_files = set()
        for filepath in glob.glob(os.path.join(annotations_dir, f"*test_split{fold}.txt")):
            with open(filepath) as fid:
                for line in fid.readlines():
                    video_filename, tag_string = line.split()
                    if int(tag_string) == target_tag:
                        selected_files.add(video_filename)
        return [i for i, path in enumerate(video_list) if os.path.basename(path) in selected_files]

    def __len__(self):
        return self.video_clips.num_clips()

    def __getitem__(self, idx):
        video, audio, _, video_idx = self.video_clips.get_clip(idx)
        _, class_index = self.samples[self.indices[video_idx]]
        if self.transform is not None:
            video = self.transform(video)
        return video, audio, class_index
