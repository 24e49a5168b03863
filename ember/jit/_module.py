"""ScriptModule and ScriptFunction: what trace, script and load return — methods are IR graphs run by the
interpreter over the module's own parameters and buffers, so no Python class or source is needed."""
from ..nn.modules.module import Module
from ._interpreter import Interpreter


class ScriptModule(Module):
    """A module whose methods are graphs: ``forward``, ``graph``, ``code``, parameters, buffers and submodules."""

    def __init__(self, original_name="Module"):
        super().__init__()
        self.original_name = original_name
        self._graphs = {}
        self._interpreters = {}
        self._variants = {}   # method name -> jit.script's choice of graph for a call (``_script.Variants``)

    def _define(self, name, graph, variants=None):
        """Installs ``graph`` as method ``name`` (``forward`` or an exported method); ``variants``, where given,
        picks the graph for each call."""
        self._graphs[name] = graph
        self._interpreters[name] = Interpreter(graph)
        if variants is not None:
            self._variants[name] = variants
        if name != "forward":
            self.__dict__[name] = lambda *args, **kwargs: self._run(name, args, kwargs)

    def _run(self, name, args, kwargs):
        variants = self._variants.get(name)
        if variants is None:
            return self._interpreters[name](self, args, kwargs)
        interpreter, args, kwargs = variants(self._interpreters[name], args, kwargs)
        return interpreter(self, args, kwargs)

    def forward(self, *args, **kwargs):
        """Runs the forward graph on ``args`` and ``kwargs`` (named by the graph's inputs)."""
        if "forward" not in self._interpreters:
            raise RuntimeError(f"Method 'forward' is not defined on the traced submodule {self.original_name}; "
                               "call the top-level module")
        return self._run("forward", args, kwargs)

    @property
    def graph(self):
        """The forward method's graph."""
        if "forward" not in self._graphs:
            raise RuntimeError(f"'{self.original_name}' has no traced forward graph")
        return self._graphs["forward"]

    inlined_graph = graph

    @property
    def code(self):
        """The forward method as Python-like source."""
        return self.graph.code()

    def save(self, f, _extra_files=None):
        """Saves this module to ``f`` (see ``ember.jit.save``)."""
        from ._serialization import save
        save(self, f, _extra_files)

    def _get_name(self):
        return self.original_name

    def extra_repr(self):
        return f"original_name={self.original_name}"

    def __reduce_ex__(self, protocol):
        raise RuntimeError("ScriptModule cannot be pickled; use ember.jit.save")


class RecursiveScriptModule(ScriptModule):
    """What ``script`` makes of a module, and ``load`` and ``freeze`` return: shown under this class's name (with
    ``original_name`` beside it), submodules too."""

    __module__ = "ember.jit._script"

    def _get_name(self):
        return type(self).__name__


class TracedModule(ScriptModule):
    """A submodule of a traced module: shown under its original class's name."""

    __module__ = "ember.jit._trace"


class TopLevelTracedModule(TracedModule):
    """What ``trace`` makes of a module."""

    __module__ = "ember.jit._trace"


class ScriptFunction:
    """A traced function: call it like the original; ``graph`` and ``code`` show the recorded program."""

    def __init__(self, name, graph):
        self.name, self.graph = name, graph
        self._interpreter = Interpreter(graph)
        self._function = None   # the Python function jit.script compiled, if it was scripted
        self._variants = None   # jit.script's choice of graph for a call (``_script.Variants``)

    def __call__(self, *args, **kwargs):
        if self._variants is None:
            return self._interpreter(None, args, kwargs)
        interpreter, args, kwargs = self._variants(self._interpreter, args, kwargs)
        return interpreter(None, args, kwargs)

    @property
    def code(self):
        """The function as Python-like source."""
        return self.graph.code()

    def save(self, f, _extra_files=None):
        """Saves the function as a module whose forward it is (``ember.jit.load`` gives that module back)."""
        from ._serialization import save
        save(self, f, _extra_files)

    def as_module(self):
        """A ScriptModule whose forward is this function."""
        module = RecursiveScriptModule(self.name)
        module._define("forward", self.graph)
        return module


def mirror(module, kind=RecursiveScriptModule, child_kind=None):
    """A ScriptModule of class ``kind`` (its submodules ``child_kind``, the same when None) with ``module``'s
    structure, sharing its parameters and buffers (as torch's traced modules)."""
    child_kind = child_kind or kind
    copy = kind(type(module).__name__)
    copy._parameters.update(module._parameters)
    copy._buffers.update(module._buffers)
    copy._non_persistent_buffers_set = set(getattr(module, "_non_persistent_buffers_set", ()))
    for name, child in module._modules.items():
        copy._modules[name] = None if child is None else mirror(child, child_kind)
    copy.training = module.training
    return copy
