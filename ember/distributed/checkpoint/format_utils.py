"""``torch.distributed.checkpoint.format_utils``: converting between a DCP directory and one ``torch.save`` file,
in one process (also ``python -m torch.distributed.checkpoint.format_utils {torch_to_dcp,dcp_to_torch} SRC DST``)."""
import argparse
import os
from enum import Enum

from .default_planner import _EmptyStateDictLoadPlanner
from .filesystem import FileSystemReader, FileSystemWriter
from .state_dict_loader import _load_state_dict
from .state_dict_saver import _save_state_dict

__all__ = ["dcp_to_torch_save", "torch_save_to_dcp"]


def dcp_to_torch_save(dcp_checkpoint_dir, torch_save_path):
    """Given a directory containing a DCP checkpoint, this function will convert it into a Torch save file."""
    from ... import serialization
    sd = {}
    _load_state_dict(sd, storage_reader=FileSystemReader(dcp_checkpoint_dir), planner=_EmptyStateDictLoadPlanner(),
                     no_dist=True)
    serialization.save(sd, torch_save_path)


def torch_save_to_dcp(torch_save_path, dcp_checkpoint_dir):
    """Given the location of a torch save file, converts it into a DCP checkpoint (the file is loaded with
    ``weights_only=False``, as PyTorch does: convert only files you trust)."""
    from ... import serialization
    state_dict = serialization.load(torch_save_path, weights_only=False)
    _save_state_dict(state_dict, storage_writer=FileSystemWriter(dcp_checkpoint_dir), no_dist=True)


def _main(argv=None):
    class FormatMode(Enum):
        TORCH_TO_DCP = "torch_to_dcp"
        DCP_TO_TORCH = "dcp_to_torch"

    parser = argparse.ArgumentParser()
    parser.add_argument("mode", type=str, help="Conversion mode", choices=[m.value for m in FormatMode],
                        default=FormatMode.TORCH_TO_DCP)
    parser.add_argument("src", type=str, help="Path to the source model")
    parser.add_argument("dst", type=str, help="Path to the destination model")
    args = parser.parse_args(argv)
    print(f"Converting checkpoint from {args.src} to {args.dst} using method: '{args.mode}'")
    missing = f"No checkpoint found at {args.src}. Skipping conversion."
    if args.mode == FormatMode.TORCH_TO_DCP.value:
        torch_save_to_dcp(args.src, args.dst) if os.path.isfile(args.src) else print(missing)
    else:
        dcp_to_torch_save(args.src, args.dst) if os.path.isdir(args.src) else print(missing)


if __name__ == "__main__":
    _main()
