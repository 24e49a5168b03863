"""``torchvision.io``: image decoding and encoding (``image``, on Pillow) and video reading and writing (``video``,
``video_reader``, on PyAV); each library is imported on first use."""
from .image import (ImageReadMode, decode_gif, decode_image, decode_jpeg, decode_png, decode_webp, encode_jpeg,
                    encode_png, read_file, read_image, write_file, write_jpeg, write_png)
from .video import read_video, read_video_timestamps, write_video
from .video_reader import VideoReader

__all__ = ["ImageReadMode", "VideoReader", "decode_gif", "decode_image", "decode_jpeg", "decode_png", "decode_webp",
           "encode_jpeg", "encode_png", "read_file", "read_image", "read_video", "read_video_timestamps", "write_file",
           "write_jpeg", "write_png", "write_video"]
