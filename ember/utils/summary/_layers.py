"""The per-layer records behind ``summary``: each submodule's call, shapes, parameters and mult-adds, gathered with
forward hooks in call order and arranged into torchinfo's tree (depth, index among its depth, children)."""
import ember


def _prod(values):
    result = 1
    for value in values:
        result *= _prod(value) if isinstance(value, (list, tuple)) else value
    return result


class Layer:
    """One submodule as the summary sees it."""

    def __init__(self, var_name, module, depth, parent):
        self.var_name, self.module, self.depth, self.parent = var_name, module, depth, parent
        self.class_name = type(module).__name__
        self.layer_id = id(module)
        self.depth_index = None
        self.children = []
        self.executed = False
        self.is_leaf = not any(True for _ in module.children())
        self.is_recursive = False
        self.input_size, self.output_size = [], []
        kernel = getattr(module, "kernel_size", None)
        self.kernel_size = list(kernel) if isinstance(kernel, (tuple, list)) else kernel
        self.num_params = self.trainable_params = self.param_bytes = self.output_bytes = self.macs = 0

    def __repr__(self):
        return f"{self.class_name}: {self.depth}"

    @property
    def trainable(self):
        """'True', 'False' or 'Partial' (some parameters frozen); '--' without parameters."""
        if self.num_params == 0:
            return "--"
        if self.trainable_params == 0:
            return "False"
        return "True" if self.trainable_params == self.num_params else "Partial"

    def count_params(self):
        self.num_params = self.trainable_params = self.param_bytes = 0
        for _, parameter in self.module.named_parameters():
            count = parameter.numel()
            self.num_params += count
            self.param_bytes += count * parameter.element_size()
            if parameter.requires_grad:
                self.trainable_params += count

    def count_macs(self):
        """Multiply-adds for the whole batch: convolutions count each weight once per output position."""
        for name, parameter in self.module.named_parameters():
            count = parameter.numel()
            if name in ("weight", "bias"):
                if "Conv" in self.class_name:
                    self.macs += int(count * _prod(self.output_size[:1] + self.output_size[2:]))
                else:
                    self.macs += self.output_size[0] * count
            elif "weight" in name or "bias" in name:   # recurrent layers' weight_ih_l0, ...
                self.macs += _prod(self.output_size[:2]) * count

    def leftover(self, attribute):
        """This layer's ``num_params``/``trainable_params`` not counted by its children."""
        counted = sum(getattr(c, attribute) if c.is_leaf else c.leftover(attribute)
                      for c in self.children if not c.is_recursive)
        return getattr(self, attribute) - counted

    def params_text(self, at_max_depth):
        if self.num_params == 0:
            return "--"
        if self.is_recursive:
            return "(recursive)"
        if at_max_depth or self.is_leaf:
            text = f"{self.num_params:,}"
            return text if self.trainable_params else f"({text})"
        leftover = self.leftover("num_params")
        return f"{leftover:,}" if leftover > 0 else "--"

    def percent_text(self, total, at_max_depth):
        if total == 0:
            return "     --"
        if self.is_recursive:
            return "(recursive)"
        params = self.num_params if at_max_depth or self.is_leaf else self.leftover("num_params")
        return "     --" if params == 0 else f"{params / total:>7.2%}"

    def macs_text(self, at_max_depth):
        if self.macs <= 0:
            return "--"
        if self.is_leaf:
            return f"{self.macs:,}"
        if at_max_depth:
            return f"{sum(c.macs for c in self.children if c.is_leaf):,}"
        return "--"


def _size(value, batch_dim):
    """(shape, bytes per element) of a module's input or output, as torchinfo measures them."""
    if isinstance(value, ember.Tensor):
        return list(value.shape), value.element_size()
    if isinstance(value, dict):
        return _size(list(value.values())[-1], None)
    if isinstance(value, (list, tuple)):
        if not value:
            return [], 0
        if isinstance(value[0], ember.Tensor) or isinstance(value, list):
            size, nbytes = _size(value[0], None)
            if batch_dim is not None and batch_dim < len(size):
                size[batch_dim] = 1
            return size, nbytes
        return _size(value[0], batch_dim)
    return [], 0


def collect_layers(model, inputs, batch_dim, mode, kwargs):
    """The model's layers in torchinfo's order after one forward pass on ``inputs`` (none: module order)."""
    found, ids, infos, handles = [], set(), {}, []

    def pre_hook_for(var_name, depth, parent):
        def pre_hook(module, args=None):
            info = Layer(var_name, module, depth, parent)
            info.count_params()
            info.is_recursive = info.layer_id in ids
            found.append(info)
            ids.add(info.layer_id)
            infos[info.layer_id] = info
        return pre_hook

    def hook(module, args, output):
        info = infos[id(module)]
        info.input_size, _ = _size(args, batch_dim)
        info.output_size, element_bytes = _size(output, batch_dim)
        info.output_bytes = element_bytes * _prod(info.output_size)
        info.executed = True
        info.count_macs()

    stack = [(type(model).__name__, model, 0, None)]
    while stack:
        var_name, module, depth, parent = stack.pop()
        infos[id(module)] = Layer(var_name, module, depth, parent)
        pre_hook = pre_hook_for(var_name, depth, parent)
        if inputs is None:
            pre_hook(module)
        else:
            handles += [module.register_forward_pre_hook(pre_hook), module.register_forward_hook(hook)]
        stack += [(name, child, depth + 1, infos[id(module)])
                  for name, child in reversed(list(module._modules.items())) if child is not None]
    if inputs is not None:
        was_training = model.training
        try:
            model.train(mode == "train")
            with ember.no_grad():
                if isinstance(inputs, dict):
                    model(**inputs, **kwargs)
                else:
                    model(*inputs, **kwargs)
        except Exception as error:
            raise RuntimeError("Failed to run torchinfo. See above stack traces for more details. Executed layers up "
                               f"to: {[layer for layer in found if layer.executed]}") from error
        finally:
            for handle in handles:
                handle.remove()
            model.train(was_training)
        _insert_missing_containers(found)
    _link(found)
    return found


def _insert_missing_containers(layers):
    """Containers whose own forward was never called (their children were called directly) get a row above them."""
    ids = {layer.layer_id for layer in layers}
    current = {}
    index = 0
    while index < len(layers):
        layer = layers[index]
        chain, parent = {}, layer.parent
        while parent is not None and parent.depth > 0:
            chain[parent.depth] = parent
            parent = parent.parent
        for depth in range(1, layer.depth):
            ancestor = chain[depth]
            if (depth not in current or current[depth].module is not ancestor.module) and \
                    ancestor is not layers[index - 1]:
                ancestor.count_params()
                ancestor.is_recursive = ancestor.layer_id in ids
                layers.insert(index, ancestor)
                ids.add(ancestor.layer_id)
                current[depth] = ancestor
                index += 1
        current[layer.depth] = layer
        deeper = layer.depth + 1
        while deeper in current:
            current.pop(deeper)
            deeper += 1
        index += 1


def _link(layers):
    counts = {}
    for i, layer in enumerate(layers):
        counts[layer.depth] = counts.get(layer.depth, 0) + 1
        layer.depth_index = counts[layer.depth]
        end = i + 1
        while end < len(layers) and layers[end].depth > layer.depth:
            end += 1
        layer.children = layers[i + 1:end]
