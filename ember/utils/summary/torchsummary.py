"""torchsummary's ``summary(model, input_size, batch_size=-1, device="cuda")``: one row per called submodule
(Sequential and ModuleList left out) with its output shape and weight+bias count, then totals and sizes."""
import collections

import numpy

import ember
from ember import nn


def summary(model, input_size, batch_size=-1, device="cuda", dtypes=None):
    """Prints torchsummary's table for ``model`` run on random inputs of ``input_size`` (batch excluded)."""
    device = device.lower()
    if device not in ("cuda", "cpu"):
        raise AssertionError("Input device is not valid, please specify 'cuda' or 'cpu'")
    device = "cuda" if device == "cuda" and ember.cuda.is_available() else "cpu"
    if isinstance(input_size, tuple):
        input_size = [input_size]
    dtypes = dtypes or [ember.float32] * len(input_size)
    inputs = [ember.rand(2, *size).to(dtype).to(device) for size, dtype in zip(input_size, dtypes)]
    rows, handles = collections.OrderedDict(), []

    def hook(module, args, output):
        key = f"{type(module).__name__}-{len(rows) + 1}"
        row = rows[key] = {"input_shape": [batch_size] + list(args[0].shape)[1:]}
        if isinstance(output, (list, tuple)):
            row["output_shape"] = [[-1] + list(o.shape)[1:] for o in output]
        else:
            row["output_shape"] = [batch_size] + list(output.shape)[1:]
        params = 0
        weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
        if hasattr(weight, "shape"):
            params += int(numpy.prod(list(weight.shape)))
            row["trainable"] = weight.requires_grad
        if hasattr(bias, "shape"):
            params += int(numpy.prod(list(bias.shape)))
        row["nb_params"] = params

    for module in model.modules():
        if not isinstance(module, (nn.Sequential, nn.ModuleList)) and module is not model:
            handles.append(module.register_forward_hook(hook))
    try:
        model(*inputs)
    finally:
        for handle in handles:
            handle.remove()

    print("----------------------------------------------------------------")
    print("{:>20}  {:>25} {:>15}".format("Layer (type)", "Output Shape", "Param #"))
    print("================================================================")
    total_params = total_output = trainable_params = 0
    for name, row in rows.items():
        print("{:>20}  {:>25} {:>15}".format(name, str(row["output_shape"]), f"{row['nb_params']:,}"))
        total_params += row["nb_params"]
        total_output += numpy.prod(row["output_shape"])
        if row.get("trainable"):
            trainable_params += row["nb_params"]
    input_mb = abs(numpy.prod(input_size) * batch_size * 4.0 / 1024 ** 2)
    output_mb = abs(2.0 * total_output * 4.0 / 1024 ** 2)   # x2 for gradients
    params_mb = abs(total_params * 4.0 / 1024 ** 2)
    print("================================================================")
    print(f"Total params: {total_params:,}")
    print(f"Trainable params: {trainable_params:,}")
    print(f"Non-trainable params: {total_params - trainable_params:,}")
    print("----------------------------------------------------------------")
    print("Input size (MB): %0.2f" % input_mb)
    print("Forward/backward pass size (MB): %0.2f" % output_mb)
    print("Params size (MB): %0.2f" % params_mb)
    print("Estimated Total Size (MB): %0.2f" % (params_mb + output_mb + input_mb))
    print("----------------------------------------------------------------")
