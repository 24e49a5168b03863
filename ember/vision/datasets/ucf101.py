"""UCF101 action recognition videos as torchvision reads them: clips of each ``.avi`` under ``root/<class>/``, the
videos of one of the three official train/test folds."""
import os

from .folder import find_classes, make_dataset
from .video_utils import VideoClips
from .vision import VisionDataset

__all__ = ["UCF101"]


class UCF101(VisionDataset):
    """UCF101 under ``root`` (one folder of ``.avi`` videos per class), the videos listed in
    ``annotation_path/{train,test}list0{fold}.txt``, as clips of ``frames_per_clip`` frames ``step_between_clips``
    apart; samples are (video, audio, label)."""

    def __init__(self, root, annotation_path, frames_per_clip, step_between_clips=1, frame_rate=None, fold=1,
                 train=True, transform=None, _precomputed_metadata=None, num_workers=1, _video_width=0,
                 _video_height=0, _video_min_dimension=0, _audio_samples=0, output_format="THWC"):
        super().__init__(root)
        if not 1 <= fold <= 3:
            raise ValueError(f"fold should be between 1 and 3, got {fold}")
        self.fold = fold
        self.train = train
        self.classes, class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, class_to_idx, ("avi",), is_valid_file=None)
        video_list = [x[0] for x in self.samples]
        video_clips = VideoClips(video_list, frames_per_clip, step_between_clips, frame_rate, _precomputed_metadata,
                                 num_workers=num_workers, _video_width=_video_width, _video_height=_video_height,
                                 _video_min_dimension=_video_min_dimension, _audio_samples=_audio_samples,
                                 output_format=output_format)
        self.full_video_clips = video_clips   # its metadata covers every video, not only the fold's
        self.indices = self._select_fold(video_list, annotation_path, fold, train)
        self.video_clips = video_clips.subset(self.indices)
        self.transform = transform

    @property
    def metadata(self):
        """The scan of every video (pass it back as ``_precomputed_metadata`` to skip scanning)."""
        return self.full_video_clips.metadata

    def _select_fold(self, video_list, annotation_path, fold, train):
        name = f"{'train' if train else 'test'}list{fold:02d}.txt"
        with open(os.path.join(annotation_path, name)) as fid:
            entries = [line.strip().split(" ")[0] for line in fid.readlines()]
        selected_files = {os.path.join(self.root, *entry.split("/")) for entry in entries}
        return [i for i in range(len(video_list)) if video_list[i] in selected_files]

    def __len__(self):
        return self.video_clips.num_clips()

    def __getitem__(self, idx):
        video, audio, info, video_idx = self.video_clips.get_clip(idx)
        label = self.samples[self.indices[video_idx]][1]
        if self.transform is not None:
            video = self.transform(video)
        return video, audio, label
