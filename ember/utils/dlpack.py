"""``utils.dlpack``: exchange tensors with other libraries through DLPack (``to_dlpack`` gives a capsule,
``from_dlpack`` takes a capsule or any object with ``__dlpack__``), and DLPack's device codes."""
import enum

from ..ops.creation import from_dlpack, to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device type codes, as ``Tensor.__dlpack_device__`` reports them."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17
