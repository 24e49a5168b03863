"""``ember run``: runs an unmodified PyTorch program on ember, as ``python`` would run it.

    ember run train.py [args...]          (also: python -m ember run ...)
    ember run -m package.module [args...]
    ember run -c "import torch; print(torch.ones(2))" [args...]
"""
import os
import re
import runpy
import sys

USAGE = ("usage: ember run script.py [args...] | ember run -m module [args...] | ember run -c command [args...]\n"
         "Runs a PyTorch program with torch, torchvision, torchaudio, torchtext, lightning, torchsummary and "
         "torchinfo imported from ember.")
_RUNNER_FILES = {os.path.abspath(__file__), os.path.abspath(runpy.__file__), "<frozen runpy>"}


def main(argv=None):
    """The ``ember`` command line: ``ember run ...``; returns only for ``--help`` and usage errors."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if argv[:1] != ["run"] or len(argv) < 2 or (argv[1] in ("-m", "-c") and len(argv) < 3):
        print(USAGE, file=sys.stderr)
        return 2
    from ._alias import install_torch_alias
    install_torch_alias()
    _children_import_this_ember()
    try:
        _run(argv[1:])
    except SystemExit:
        raise
    except BaseException as error:  # print as Python does for an uncaught error, without the runner's frames
        _report(error)
        if isinstance(error, KeyboardInterrupt):
            _exit_by_sigint()
        return 1
    return 0


def _run(args):
    if args[0] == "-m":
        sys.argv = [args[1], *args[2:]]  # run_module puts the module's file in argv[0]
        sys.path[0] = os.getcwd()
        from ._alias import unlist
        unlist(args[1])
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    elif args[0] == "-c":
        sys.argv = ["-c", *args[2:]]
        sys.path[0] = ""
        main_module = type(sys)("__main__")
        main_module.__dict__.update(__builtins__=__builtins__, __spec__=None, __package__=None)
        sys.modules["__main__"] = main_module
        exec(compile(args[1], "<string>", "exec"), main_module.__dict__)
    else:
        sys.argv = list(args)
        path = os.path.abspath(args[0])
        if os.path.isfile(path):
            sys.path[0] = os.path.dirname(path)
            _run_file(path)
        else:
            del sys.path[0]  # run_path puts the directory or zip file there itself
            runpy.run_path(path, run_name="__main__")


def _run_file(path):
    """Runs a script as ``python path`` does: a fresh ``__main__`` module that stays after the run, for atexit
    handlers and pickles of classes defined in the script."""
    from importlib.machinery import SourceFileLoader
    main_module = type(sys)("__main__")
    main_module.__dict__.update(__file__=path, __loader__=SourceFileLoader("__main__", path), __cached__=None,
                                __builtins__=__builtins__, __spec__=None, __package__=None)
    sys.modules["__main__"] = main_module
    with open(path, "rb") as file:
        code = compile(file.read(), path, "exec")
    exec(code, main_module.__dict__)


def _children_import_this_ember():
    """Puts the directory holding this ember first on PYTHONPATH, so spawned children import the same ember."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if paths[0] != root:
        os.environ["PYTHONPATH"] = os.pathsep.join([root] + [p for p in paths if p])


def _report(error):
    traceback = error.__traceback__
    while traceback is not None and traceback.tb_frame.f_code.co_filename in _RUNNER_FILES:
        traceback = traceback.tb_next
    missing = re.match(r"cannot import name '(\w+)' from 'ember[.'\w]*", str(error))
    if isinstance(error, ImportError) and missing and error.name:
        from ._alias import REPORT, public_name
        error.add_note(f"ember does not implement {public_name(error.name)}.{missing.group(1)}; {REPORT}")
    sys.excepthook(type(error), error.with_traceback(traceback), traceback)


def _exit_by_sigint():
    """Ends the process by SIGINT after the usual clean-up, as Python does after an uncaught KeyboardInterrupt."""
    import atexit
    import signal
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
