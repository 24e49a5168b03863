"""Image datasets in torchvision's shape: MNIST family, QMNIST, USPS, SEMEION, Moving MNIST, CIFAR, SVHN, STL-10,
CelebA, PASCAL VOC, SBD, Cityscapes, COCO, Flickr8k/30k, SBU, PhotoTour, Food-101, Flowers-102, DTD, GTSRB, EuroSAT,
Caltech 101/256, Oxford-IIIT Pet, Country211, FER2013, FGVC-Aircraft, Imagenette, Stanford Cars, SUN397, Rendered
SST2, CLEVR, KITTI, WIDER FACE, LFW, Places365, iNaturalist, PCAM, Sintel, FlyingChairs, FlyingThings3D, ImageNet,
Omniglot, LSUN, stereo matching pairs (Carla, KITTI 2012/2015, Middlebury 2014, SceneFlow, ...), folders of images
and fake data; KittiFlow and HD1K optical flow; clips of videos (UCF101, HMDB51, Kinetics, on video_utils.VideoClips)."""
from .caltech import Caltech101, Caltech256
from .celeba import CelebA
from .cifar import CIFAR10, CIFAR100
from .cityscapes import Cityscapes
from .clevr import CLEVRClassification
from .coco import CocoCaptions, CocoDetection
from .country211 import Country211
from .dtd import DTD
from .eurosat import EuroSAT
from .fakedata import FakeData
from .fer2013 import FER2013
from .fgvc_aircraft import FGVCAircraft
from .flickr import Flickr8k, Flickr30k
from .flowers102 import Flowers102
from .folder import DatasetFolder, ImageFolder
from .food101 import Food101
from .gtsrb import GTSRB
from .hmdb51 import HMDB51
from .imagenet import ImageNet
from .inaturalist import INaturalist
from .imagenette import Imagenette
from .kinetics import Kinetics
from .kitti import Kitti
from .lfw import LFWPairs, LFWPeople
from .lsun import LSUN, LSUNClass
from .mnist import EMNIST, KMNIST, MNIST, FashionMNIST
from .moving_mnist import MovingMNIST
from .omniglot import Omniglot
from .optical_flow import HD1K, FlyingChairs, FlyingThings3D, KittiFlow, Sintel
from .oxford_iiit_pet import OxfordIIITPet
from .pcam import PCAM
from .phototour import PhotoTour
from .places365 import Places365
from .qmnist import QMNIST
from .rendered_sst2 import RenderedSST2
from .sbd import SBDataset
from .sbu import SBU
from .semeion import SEMEION
from .stanford_cars import StanfordCars
from ._stereo_matching import (CREStereo, CarlaStereo, ETH3DStereo, FallingThingsStereo, InStereo2k, Kitti2012Stereo,
                               Kitti2015Stereo, Middlebury2014Stereo, SceneFlowStereo, SintelStereo)
from .stl10 import STL10
from .sun397 import SUN397
from .svhn import SVHN
from .ucf101 import UCF101
from .usps import USPS
from .voc import VOCDetection, VOCSegmentation
from .widerface import WIDERFace
from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "CLEVRClassification", "Caltech101", "Caltech256", "CelebA", "Cityscapes",
           "CocoCaptions", "CocoDetection", "Country211", "DTD", "DatasetFolder", "EMNIST", "EuroSAT", "FER2013",
           "FGVCAircraft", "FakeData", "FashionMNIST", "Flickr30k", "Flickr8k", "Flowers102", "FlyingChairs",
           "FlyingThings3D", "Food101", "GTSRB", "INaturalist", "ImageFolder", "ImageNet", "Imagenette", "KMNIST",
           "Kitti", "LFWPairs", "LFWPeople", "LSUN", "LSUNClass", "MNIST", "MovingMNIST", "Omniglot", "OxfordIIITPet",
           "PCAM", "PhotoTour", "Places365", "QMNIST", "RenderedSST2", "SBDataset", "SBU", "SEMEION", "STL10", "SUN397",
           "SVHN", "Sintel", "StanfordCars", "USPS", "VOCDetection", "VOCSegmentation", "VisionDataset", "WIDERFace",
           "CREStereo", "CarlaStereo", "ETH3DStereo", "FallingThingsStereo", "InStereo2k", "Kitti2012Stereo",
           "Kitti2015Stereo", "Middlebury2014Stereo", "SceneFlowStereo", "SintelStereo",
           "HD1K", "HMDB51", "Kinetics", "KittiFlow", "UCF101",
           "wrap_dataset_for_transforms_v2"]


def __getattr__(name):
    # wrap_dataset_for_transforms_v2 lives in tv_tensors, which imports this package: loaded on first use (PEP 562)
    if name == "wrap_dataset_for_transforms_v2":
        from ..tv_tensors._dataset_wrapper import wrap_dataset_for_transforms_v2
        return wrap_dataset_for_transforms_v2
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
