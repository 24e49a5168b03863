"""``KeyPoints``: points (x, y) on an image, alone or in groups."""
import ember

from ._tv_tensor import TVTensor


def _first_keypoints(args):
    for arg in args:
        if isinstance(arg, KeyPoints):
            return arg
        if isinstance(arg, (tuple, list)):
            found = _first_keypoints(arg)
            if found is not None:
                return found
    return None


class KeyPoints(TVTensor):
    """Points of shape ``[..., 2]`` (x, y) on an image of ``canvas_size`` = (H, W); a 1-d input is one point."""

    @classmethod
    def _wrap(cls, tensor, *, canvas_size, check_dims=True):
        if check_dims:
            if tensor.ndim == 1:
                tensor = tensor.unsqueeze(0)
            elif tensor.shape[-1] != 2:
                raise ValueError(f"Expected a tensor of shape (..., 2), not {tensor.shape}")
        points = tensor.as_subclass(cls)
        points.canvas_size = canvas_size
        return points

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        """``tensor`` as keypoints on ``like``'s canvas, unless ``kwargs`` give ``canvas_size``."""
        return cls._wrap(tensor, canvas_size=kwargs.get("canvas_size", like.canvas_size))

    def __new__(cls, data, *, canvas_size, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        return cls._wrap(tensor, canvas_size=canvas_size)

    @classmethod
    def _wrap_output(cls, output, args):
        canvas_size = _first_keypoints(args).canvas_size
        if isinstance(output, ember.Tensor) and not isinstance(output, KeyPoints):
            return cls._wrap(output, canvas_size=canvas_size, check_dims=False)
        if isinstance(output, (tuple, list)):
            return type(output)(cls._wrap_output(part, args) for part in output)
        return output

    def __repr__(self):
        return self._make_repr(canvas_size=self.canvas_size)
