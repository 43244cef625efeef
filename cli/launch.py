"""The entry points of the console scripts (pyproject.toml, [project.scripts]).

Each is a thin function that imports its tool inside a try: the imports (numpy, the C core,
click, lark) take a noticeable time and memory, and a Ctrl-C or an out-of-memory during them
was a raw traceback. Around the whole run, whatever the tool itself does not handle becomes one
line and the exit status its --help gives:

- Ctrl-C at any moment: "<tool>: interrupted", exit 130 (a tool that is interrupted inside its
  work says more first: wse-emu's state report, wse-llm's text so far);
- out of host memory (also while starting): one line, with the address-space limit when there is
  one (ulimit -v), and the tool's out-of-memory status;
- a module that cannot be loaded while starting (under a tight ulimit -v, a shared library's
  segment cannot be mapped; or a broken installation): one line;
- standard output that cannot be written (a full disk, a file-size limit, closed with >&-): one
  line "cannot write to standard output: ..." and the tool's output-error status; its reader
  going away (`| head`) is not an error: the output stops there, quietly, and the status is the
  tool's own (wse-emu still writes its output files);
- any other exception is a bug: one line "internal error, please report", with where.

The file descriptors 0-2 are kept open (on /dev/null when they were closed), so that a file the
tool opens never takes the number of standard output; stdout is wrapped so that a failed write
raises StdoutError (wse.cli.files), which the tools can tell from their own files' errors.

This module imports only what the interpreter has loaded already (os, sys).
"""
import os
import sys

# prog: (module, interface, message prefix, status when out of memory (also a module that cannot
# be loaded under a memory limit), on an internal error (or a module that cannot be loaded
# without one: a broken installation), when stdout cannot be written)
TOOLS = {
    "wse-as": ("wse.asm.cli", "click", "error: ", 1, 2, 1),
    "wse-objdump": ("wse.asm.objdump_cli", "click", "error: ", 1, 2, 1),
    "wse-emu": ("wse.emu.cli", "argv", "wse-emu: error: ", 2, 2, 2),
    "wse-bench": ("wse.kernels.bench", "click", "wse-bench: error: ", 1, 1, 1),
    "wse-llm": ("wse.kernels.llm.cli", "argv", "wse-llm: error: ", 3, 4, 2),
}
INTERRUPTED = 130


def wse_as():
    return run("wse-as")


def wse_objdump():
    return run("wse-objdump")


def wse_emu():
    return run("wse-emu")


def wse_bench():
    return run("wse-bench")


def wse_llm():
    return run("wse-llm")


def _keep_std_fds() -> bool:
    """Open /dev/null on each of the descriptors 0-2 that is closed, so that no file the tool
    opens takes its number. True when stdout (1) was closed."""
    closed = False
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            nul = os.open(os.devnull, os.O_RDWR)
            if nul != fd:
                os.dup2(nul, fd)
                os.close(nul)
            closed |= fd == 1
    return closed


def _as_bytes(err):
    """The codec error handler of stderr: a byte of a command-line argument that was not UTF-8
    (Python keeps it as a surrogate, U+DC80..U+DCFF: a file name in Latin-1) is shown as the
    byte, \\xff, as wse.cli.files.printable shows it; anything else that cannot be encoded as
    Python escapes it (\\u2028)."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    text = err.object[err.start:err.end]
    return "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF
                   else ascii(c)[1:-1] for c in text), err.end


def _bytes_on_stderr() -> None:
    """Messages that name such an argument (a file name) show its byte as \\xff, where stderr's
    own handler wrote \\udcff."""
    import codecs
    codecs.register_error("wse-bytes", _as_bytes)
    try:
        if sys.stderr is not None:
            sys.stderr.reconfigure(errors="wse-bytes")
    except (AttributeError, ValueError, OSError):     # not a text file of io: left as it is
        pass


def _say(line: str) -> None:
    try:
        if sys.stderr is not None:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
    except (OSError, ValueError):      # stderr cannot be written either: nowhere to say it
        pass


def _memory_limit() -> str:
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, OSError, ValueError, AttributeError, MemoryError):
        return ""
    if soft == resource.RLIM_INFINITY:
        return ""
    return f" (the address space is limited to {soft // 1024} KiB: ulimit -v)"


# What loading numpy maps at least (its libraries, and OpenBLAS's buffer of a thread): with less
# address space left under a limit (ulimit -v), OpenBLAS fails inside its initialisation and
# exits the process itself ("OpenBLAS error: Memory allocation still failed after 10 retries,
# giving up", exit 1), which no handler can catch. Measured: numpy 2 adds 85 MiB to the 14 MiB
# Python starts with, and OpenBLAS fails with 52..80 MiB left.
NUMPY_ROOM = 84 << 20


def _room_for_numpy() -> bool:
    """False when an address-space limit leaves less than NUMPY_ROOM: probed by reserving (not
    touching) that much."""
    if "numpy" in sys.modules:
        return True
    import mmap
    try:
        mmap.mmap(-1, NUMPY_ROOM).close()
    except (OSError, ValueError, MemoryError):
        return False
    return True


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line: numpy's ImportError is paragraphs of advice around
    "Original error was: ..."."""
    text = str(exc)
    if "Original error was:" in text:
        text = text.split("Original error was:", 1)[1]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def _status(code) -> int:
    """sys.exit's argument as an exit status (None: 0; a message: printed, 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    _say(str(code))
    return 1


def run(prog: str, main=None, spec=None) -> int:
    """Run the tool `prog` (a key of TOOLS); `main`: its main function when the caller has it
    already (python -m), else it is imported here. `spec`: a tuple as TOOLS' entries, for a tool
    that is not a console script (the python -m tools: wse.kernels._cli.guarded). Returns the
    exit status."""
    module, kind, prefix, oom, internal, output = spec or TOOLS[prog]
    limit = ""
    try:
        # first, while there is room: the resource module is an extension that a tight limit
        # could keep from loading later, when the message needs it
        limit = _memory_limit()
        from wse.cli.files import ClosedStdout, GuardedStdout, StdoutError, silence_stdout
        closed = _keep_std_fds()
        sys.stdout = ClosedStdout() if closed or sys.stdout is None else GuardedStdout(sys.stdout)
        _bytes_on_stderr()
        if prog == "wse-emu":
            # the emulator uses no BLAS threads, and OpenBLAS allocating buffers for one per
            # core fails under a memory limit (and exits the process itself)
            os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        if main is None:
            if prog in ("wse-emu", "wse-llm") and limit and not _room_for_numpy():
                raise MemoryError
            import importlib
            main = importlib.import_module(module).main
    except KeyboardInterrupt:
        _say(f"{prog}: interrupted")
        return INTERRUPTED
    except MemoryError:
        _say(f"{prefix}out of host memory while starting{limit}; free memory or raise the limit")
        return oom
    except Exception as e:  # ImportError, SystemError: an extension module that could not load
        _say(f"{prefix}cannot start: {_cannot_load(e, limit)}")
        return oom if limit else internal
    rc = 0
    try:
        try:
            if kind == "click":
                import click
                try:
                    rc = main.main(args=sys.argv[1:], prog_name=prog, standalone_mode=False)
                except click.exceptions.Abort:     # click's name for a KeyboardInterrupt
                    raise KeyboardInterrupt from None
                except click.exceptions.ClickException as e:
                    e.show()
                    rc = e.exit_code
            else:
                rc = main()
        except SystemExit as e:
            rc = e.code
        rc = _status(rc)
        if sys.stdout is not None:
            sys.stdout.flush()
        return rc
    except StdoutError as e:
        silence_stdout()
        if e.broken_pipe:          # the reader stopped reading (| head): not an error
            return rc
        _say(f"{prefix}{e}")
        return output
    except KeyboardInterrupt:
        _say(f"{prog}: interrupted")
        return INTERRUPTED
    except MemoryError as e:
        _say(f"{prefix}out of host memory{f' ({e})' if str(e) else ''}{limit}; free memory")
        return oom
    except ImportError as e:       # a module imported on the way (under a limit: cannot be mapped)
        _say(f"{prefix}cannot load a module: {_cannot_load(e, limit)}")
        return oom if limit else internal
    except Exception as e:
        from wse.cli.files import internal_error
        _say(f"{prog}: {internal_error(e)}")
        return internal


def _cannot_load(e: BaseException, limit: str) -> str:
    why = (f"; the likely cause is the memory limit{limit}: raise it" if limit else
           "; the installation may be broken: reinstall wse")
    return f"{type(e).__name__}: {_one_line(e)}{why}"
