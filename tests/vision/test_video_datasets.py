"""VideoClips and the UCF101, HMDB51 and Kinetics video datasets on small lossless videos written here: the scan
gives each video's frame indices and rate, clips decode to the frames written, and the clip index, folds and splits
match torchvision 0.28's own classes given the same scan (torchvision decodes through TorchCodec, not installed
here, so its side is compared on everything short of decoding)."""
import os
import pickle

import numpy
import pytest

import ember
import ember.vision.datasets as ED
from ember.vision import io as vio
from ember.vision.datasets.video_utils import VideoClips, unfold
from tests.vision import tv_oracle

av = pytest.importorskip("av")
torch = pytest.importorskip("torch")

SHORT_VIDEO = "There aren't enough frames in the current video"
pytestmark = pytest.mark.filterwarnings(f"ignore:{SHORT_VIDEO}:UserWarning")   # the short video, in most tests


def _write(path, frames, fps, audio=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    kwargs = {} if audio is None else {"audio_array": ember.from_numpy(audio), "audio_fps": 8000,
                                       "audio_codec": "pcm_s16le"}
    vio.write_video(path, ember.from_numpy(frames), fps, video_codec="libx264rgb", options={"crf": "0"}, **kwargs)


def _frames(n, seed):
    return numpy.random.default_rng(seed).integers(0, 256, (n, 8, 12, 3), dtype=numpy.uint8)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Three videos (12 frames at 10 fps with PCM audio, 20 at 25 fps, 3 at 10 fps) and their frames."""
    root = tmp_path_factory.mktemp("clips")
    specs = [("a.mkv", 12, 10, True), ("b.mp4", 20, 25, False), ("c.avi", 3, 10, False)]
    paths, frames = [], []
    for i, (name, n, fps, audio) in enumerate(specs):
        frames.append(_frames(n, i))
        sound = numpy.random.default_rng(9).integers(-9000, 9000, (1, 800 * n)).astype(numpy.int16) if audio else None
        _write(str(root / name), frames[-1], fps, sound)
        paths.append(str(root / name))
    return paths, frames


def _torch_metadata(metadata):
    return {"video_paths": list(metadata["video_paths"]), "video_fps": list(metadata["video_fps"]),
            "video_pts": [torch.from_numpy(p.numpy()) for p in metadata["video_pts"]]}


def _same_index(ours, theirs):
    assert ours.cumulative_sizes == theirs.cumulative_sizes and ours.num_clips() == theirs.num_clips()
    for a, b in zip(ours.clips, theirs.clips):
        numpy.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(ours.resampling_idxs, theirs.resampling_idxs):
        if isinstance(b, list):
            assert a == b
        else:
            numpy.testing.assert_array_equal(a.numpy(), b.numpy())
    for idx in range(ours.num_clips()):
        assert ours.get_clip_location(idx) == theirs.get_clip_location(idx)


def test_the_scan_counts_each_videos_frames_and_rate(videos):
    paths, frames = videos
    clips = VideoClips(paths, 4, 2)
    assert clips.video_fps == [10.0, 25.0, 10.0] and clips.num_videos() == 3
    for pts, written in zip(clips.metadata["video_pts"], frames):
        assert pts.dtype == ember.int64 and pts.tolist() == list(range(len(written)))
    threaded = VideoClips(paths, 4, 2, num_workers=1)   # scanned in a DataLoader worker
    assert threaded.video_fps == clips.video_fps and threaded.cumulative_sizes == clips.cumulative_sizes


@pytest.mark.parametrize("num_frames,step,frame_rate", [(4, 2, None), (3, 1, None), (5, 5, 5), (4, 3, 7.0), (2, 1, 30)])
def test_clip_index_matches_torchvision(videos, num_frames, step, frame_rate):
    tv = tv_oracle.load()
    ours = VideoClips(videos[0], num_frames, step, frame_rate)
    theirs = tv.datasets.video_utils.VideoClips(videos[0], num_frames, step, frame_rate,
                                                _torch_metadata(ours.metadata))
    _same_index(ours, theirs)
    assert len(ours) == len(theirs)
    sub, tv_sub = ours.subset([2, 0]), theirs.subset([2, 0])
    _same_index(sub, tv_sub)
    assert sub.video_paths == [videos[0][2], videos[0][0]]


def test_a_too_short_video_warns_and_gives_no_clips(videos):
    with pytest.warns(UserWarning, match=SHORT_VIDEO):
        clips = VideoClips(videos[0][2:], 4, 1)
    assert len(clips) == 0 and clips.clips[0].shape == (0, 4)


def test_clips_decode_to_the_frames_written(videos):
    paths, frames = videos
    clips = VideoClips(paths, 4, 3)
    for idx in range(len(clips)):
        video, audio, info, video_idx = clips.get_clip(idx)
        first = clips.clips[video_idx][clips.get_clip_location(idx)[1]][0].item()
        assert video.dtype == ember.uint8 and video.shape == (4, 8, 12, 3)
        numpy.testing.assert_array_equal(video.numpy(), frames[video_idx][first:first + 4])
        assert info == {"video_fps": clips.video_fps[video_idx]}
        if video_idx == 1:
            assert audio.shape == (1, 0) and audio.dtype == ember.float32
    tchw = VideoClips(paths, 4, 3, output_format="tchw").get_clip(1)[0]
    numpy.testing.assert_array_equal(tchw.numpy(), frames[0][3:7].transpose(0, 3, 1, 2))
    with pytest.raises(IndexError, match="out of range"):
        clips.get_clip(len(clips))
    with pytest.raises(ValueError, match="output_format should be either 'THWC' or 'TCHW'"):
        VideoClips(paths, 4, output_format="NHWC")


def test_resampled_clips_pick_frames_at_the_new_rate(videos):
    paths, frames = videos
    clips = VideoClips(paths[1:2], 4, 2, frame_rate=10)   # 25 fps -> every 2.5 frames
    video, _, info, _ = clips.get_clip(1)
    picked = (numpy.arange(20 * 10 // 25) * 2.5).astype(int)[2:6]
    numpy.testing.assert_array_equal(video.numpy(), frames[1][picked])
    assert info == {"video_fps": 10}
    halved = VideoClips(paths[1:2], 3, 1, frame_rate=12.5).get_clip(0)[0]   # an even ratio: a slice
    numpy.testing.assert_array_equal(halved.numpy(), frames[1][0:6:2])


def test_clip_audio_is_the_stretch_played_with_its_frames(videos):
    paths, _ = videos
    with av.open(paths[0]) as container:   # PCM: every sample as stored, as float
        stored = numpy.concatenate([f.to_ndarray() for f in container.decode(audio=0)], 1)
    stored = stored.reshape(-1, 2).T.astype(numpy.float32) / 32768   # packed stereo -> (channels, samples)
    clips = VideoClips(paths[:1], 4, 3)
    for idx, first in ((0, 0), (2, 6)):
        _, audio, _, _ = clips.get_clip(idx)
        assert audio.dtype == ember.float32
        numpy.testing.assert_array_equal(audio.numpy(), stored[:, first * 800:(first + 4) * 800])


def test_pickled_clips_rebuild_their_index(videos):
    clips = VideoClips(videos[0], 3, 2, frame_rate=7)
    restored = pickle.loads(pickle.dumps(clips))
    _same_index(restored, clips)
    assert [p.tolist() for p in restored.video_pts] == [p.tolist() for p in clips.video_pts]


def test_unfold_windows_and_rejects_other_ranks():
    windows = unfold(ember.arange(10), 3, 2, dilation=2)
    assert windows.tolist() == [[0, 2, 4], [2, 4, 6], [4, 6, 8]]
    assert unfold(ember.arange(2), 3, 1).shape == (0, 3)
    with pytest.raises(ValueError, match="tensor should have 1 dimension instead of 2"):
        unfold(ember.zeros(2, 2), 1, 1)


@pytest.fixture(scope="module")
def action_tree(tmp_path_factory):
    """root/<class>/<video>.avi for two classes, with UCF101 and HMDB51 split files; frames by path."""
    root = tmp_path_factory.mktemp("actions")
    frames = {}
    for c, cls in enumerate(("Archery", "Biking")):
        for g in range(3):
            path = str(root / "videos" / cls / f"v_{cls}_g0{g}_c01.avi")
            frames[path] = _frames(6 + g, 10 * c + g)
            _write(path, frames[path], 10)
    notes = root / "notes"
    notes.mkdir()
    (notes / "trainlist01.txt").write_text("Archery/v_Archery_g00_c01.avi 1\nBiking/v_Biking_g01_c01.avi 2\n"
                                           "Biking/v_Biking_g02_c01.avi 2\n")
    (notes / "testlist01.txt").write_text("Archery/v_Archery_g01_c01.avi\nArchery/v_Archery_g02_c01.avi\n"
                                          "Biking/v_Biking_g00_c01.avi\n")
    (notes / "trainlist02.txt").write_text("Biking/v_Biking_g00_c01.avi 2\n")
    (notes / "Archery_test_split1.txt").write_text("v_Archery_g00_c01.avi 1\nv_Archery_g01_c01.avi 2\n"
                                                   "v_Archery_g02_c01.avi 0\n")
    (notes / "Biking_test_split1.txt").write_text("v_Biking_g00_c01.avi 2\nv_Biking_g01_c01.avi 1\n"
                                                  "v_Biking_g02_c01.avi 1\n")
    (notes / "Biking_test_split2.txt").write_text("v_Biking_g02_c01.avi 1\n")
    return str(root / "videos"), str(notes), frames


def _same_dataset(ours, theirs, frames):
    assert len(ours) == len(theirs) and ours.indices == theirs.indices and ours.classes == theirs.classes
    assert [(os.fspath(p), c) for p, c in ours.samples] == [(os.fspath(p), c) for p, c in theirs.samples]
    _same_index(ours.video_clips, theirs.video_clips)
    for idx in range(len(ours)):
        video, audio, label = ours[idx]
        video_idx, clip_idx = theirs.video_clips.get_clip_location(idx)
        path, expected_label = theirs.samples[theirs.indices[video_idx]]
        first = theirs.video_clips.clips[video_idx][clip_idx][0].item()
        assert label == expected_label and audio.shape == (1, 0)
        numpy.testing.assert_array_equal(video.numpy(), frames[path][first:first + video.shape[0]])


@pytest.mark.parametrize("fold,train", [(1, True), (1, False), (2, True)])
def test_ucf101_folds_as_torchvision(action_tree, fold, train):
    tv = tv_oracle.load()
    root, notes, frames = action_tree
    ours = ED.UCF101(root, notes, 4, 2, fold=fold, train=train, num_workers=0)
    theirs = tv.datasets.UCF101(root, notes, 4, 2, fold=fold, train=train,
                                _precomputed_metadata=_torch_metadata(ours.metadata))
    _same_dataset(ours, theirs, frames)
    assert len(ours.metadata["video_paths"]) == 6 and len(ours) > 0
    with pytest.raises(ValueError, match="fold should be between 1 and 3, got 4"):
        ED.UCF101(root, notes, 4, fold=4)


@pytest.mark.parametrize("fold,train", [(1, True), (1, False), (2, True)])
def test_hmdb51_splits_as_torchvision(action_tree, fold, train):
    tv = tv_oracle.load()
    root, notes, frames = action_tree
    ours = ED.HMDB51(root, notes, 3, 3, fold=fold, train=train, num_workers=0, output_format="TCHW")
    theirs = tv.datasets.HMDB51(root, notes, 3, 3, fold=fold, train=train, output_format="TCHW",
                                _precomputed_metadata=_torch_metadata(ours.metadata))
    frames = {path: clip.transpose(0, 3, 1, 2) for path, clip in frames.items()}
    _same_dataset(ours, theirs, frames)
    assert ED.HMDB51.splits == tv.datasets.HMDB51.splits and ED.HMDB51.data_url == tv.datasets.HMDB51.data_url
    with pytest.raises(ValueError, match="fold should be between 1 and 3, got 0"):
        ED.HMDB51(root, notes, 3, fold=0)


@pytest.mark.parametrize("split,legacy", [("train", False), ("val", False), ("train", True)])
def test_kinetics_splits_as_torchvision(tmp_path, split, legacy):
    tv = tv_oracle.load()
    frames = {}
    for s in ("train", "val"):
        for c, cls in enumerate(("abseiling", "air_drumming")):
            for i in range(2):
                path = str(tmp_path / s / cls / f"clip{i}.{'mp4' if i else 'avi'}")
                frames[path] = _frames(5 + i, hash((s, c, i)) % 1000)
                _write(path, frames[path], 10)
    root = str(tmp_path / "train") if legacy else str(tmp_path)
    ours = ED.Kinetics(root, 4, split=split, step_between_clips=2, num_workers=0, _legacy=legacy)
    theirs = tv.datasets.Kinetics(root, 4, split=split, step_between_clips=2, _legacy=legacy,
                                  _precomputed_metadata=_torch_metadata(ours.metadata))
    assert ours.split == theirs.split and ours.split_folder == theirs.split_folder and len(ours) == len(theirs)
    assert ours.classes == theirs.classes and ours.samples == theirs.samples
    _same_index(ours.video_clips, theirs.video_clips)
    assert ours.video_clips.output_format == theirs.video_clips.output_format == ("THWC" if legacy else "TCHW")
    video, audio, label = ours[len(ours) - 1]
    path, expected = ours.samples[-1]
    assert label == expected and audio.shape == (1, 0)
    layout = (0, 1, 2, 3) if legacy else (0, 3, 1, 2)
    numpy.testing.assert_array_equal(video.numpy(), frames[path][-4:].transpose(layout))
    assert ED.Kinetics._TAR_URLS == tv.datasets.Kinetics._TAR_URLS
    assert ED.Kinetics._ANNOTATION_URLS == tv.datasets.Kinetics._ANNOTATION_URLS
    with pytest.raises(ValueError, match="num_classes"):
        ED.Kinetics(root, 4, num_classes="500")
    with pytest.raises(ValueError, match="Cannot download the videos using legacy_structure"):
        ED.Kinetics(root, 4, _legacy=True, download=True)


def test_kinetics_sorts_downloaded_videos_into_class_folders(tmp_path):
    split = tmp_path / "val"
    split.mkdir()
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "val.csv").write_text(
        "label,youtube_id,time_start,time_end,split\n\"riding (horse)\",abc,5,15,val\nsalsa dancing,xyz,0,10,val\n")
    _write(str(split / "abc_000005_000015.mp4"), _frames(4, 0), 10)
    dataset = ED.Kinetics.__new__(ED.Kinetics)
    dataset.root, dataset.split, dataset.split_folder, dataset.num_classes = str(tmp_path), "val", str(split), "400"
    dataset._make_ds_structure()
    assert os.path.isfile(split / "riding_horse" / "abc_000005_000015.mp4")
    assert os.path.isdir(split / "salsa_dancing") and not os.path.exists(split / "abc_000005_000015.mp4")


def test_a_clip_past_the_end_of_the_audio_has_none(tmp_path):
    path = str(tmp_path / "short_sound.mkv")
    sound = numpy.random.default_rng(4).integers(-9000, 9000, (1, 4000)).astype(numpy.int16)   # 0.5 s of 1.2 s
    _write(path, _frames(12, 5), 10, sound)
    clips = VideoClips([path], 3, 3)
    assert [clips.get_clip(i)[1].shape[1] for i in range(4)] == [2400, 1600, 0, 0]   # 0.3 s, then the rest
    assert clips.get_clip(3)[1].shape == (1, 0) and clips.get_clip(3)[1].dtype == ember.float32


@pytest.mark.parametrize("name,codec", [("bframes.avi", "mpeg4"), ("bframes.mkv", "mpeg4"), ("h264.mp4", "libx264")])
def test_clips_of_videos_with_reordered_frames_are_the_frames_shown_in_order(tmp_path, name, codec):
    path = str(tmp_path / name)
    frames = numpy.repeat(numpy.repeat(_frames(20, 6), 2, 1), 2, 2)   # lossy: each pixel a 2x2 block
    options = {"bf": "2"} if codec == "mpeg4" else {}   # two B-frames between references; x264 uses them already
    vio.write_video(path, ember.from_numpy(frames), 10, video_codec=codec, options=options)
    with av.open(path) as container:   # AVI packets carry pts out of order and seek by dts
        shown = [f.to_rgb().to_ndarray() for f in sorted(container.decode(video=0), key=lambda f: f.pts)]
    clips = VideoClips([path], 4, 3)
    assert len(shown) == 20 and len(clips) == 6
    for idx in range(len(clips)):
        numpy.testing.assert_array_equal(clips.get_clip(idx)[0].numpy(), numpy.stack(shown[3 * idx:3 * idx + 4]))


def test_kinetics_download_fetches_what_torchvision_fetches(tmp_path, monkeypatch):
    tv = tv_oracle.load()
    import ember.vision.datasets.kinetics as ours_module
    theirs_module = tv.datasets.kinetics
    calls = {}
    for name, module in (("ours", ours_module), ("theirs", theirs_module)):
        log = calls.setdefault(name, [])
        monkeypatch.setattr(module, "check_integrity", lambda path, md5=None: os.path.isfile(path))
        monkeypatch.setattr(module, "download_url", lambda url, root, *a, log=log: log.append(("url", url, root)))
        monkeypatch.setattr(module, "download_and_extract_archive",
                            lambda url, root, extract, *a, log=log: log.append(("archive", url, root, extract)))
    for name, cls in (("ours", ED.Kinetics), ("theirs", tv.datasets.Kinetics)):
        root = tmp_path / name
        (root / "files").mkdir(parents=True)
        (root / "files" / "k600_val_path.txt").write_text("https://host/k600/val/part 0.tar.gz\nhttps://host/p1.tar.gz\n")
        (root / "annotations").mkdir()
        (root / "annotations" / "val.csv").write_text("label,youtube_id,time_start,time_end,split\n")
        dataset = cls.__new__(cls)
        dataset.root, dataset.split, dataset.num_classes = str(root), "val", "600"
        dataset.split_folder, dataset.num_download_workers = str(root / "val"), 1
        dataset.download_and_process_videos()
    assert calls["ours"] == [tuple(str(x).replace(str(tmp_path / "theirs"), str(tmp_path / "ours")) for x in call)
                             for call in calls["theirs"]]
    assert [call[1] for call in calls["ours"]] == ["https://host/k600/val/part%200.tar.gz", "https://host/p1.tar.gz"]
