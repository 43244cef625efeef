"""Files and standard output for the command-line tools.

- write_file: an output file written beside its target and renamed over it when complete, so
  that a failed write (a full disk, a size limit, Ctrl-C) keeps the file that was there and
  leaves no partial file.
- read_limited: at most n bytes of a file, read in pieces (a file that never ends, /dev/zero
  or a FIFO, cannot eat the host's memory; a size claimed by a header is not allocated at once).
- write_stdout / StdoutError: standard output written and flushed, a failure one exception that
  says so (not an OSError, which the tools take for their own files' errors).
- printable: a text from a file (a name in a corrupt object, a source line) with its control
  characters escaped, so that a message cannot drive the terminal.
- int_arg: an argparse type for integers in ASCII digits; dash_values: argv with an option's
  value that starts with '-' (--grid -1x2) given to it, not taken for an option.
- not_utf8: what is wrong with a command-line text given in bytes that are not UTF-8.
- file_key / same_file: whether two paths name one file (an output that would replace an input).
- internal_error: the one line that reports a bug.
"""
from __future__ import annotations

import argparse
import io
import os
import stat
import sys


class OutputError(Exception):
    """An output file could not be written; str() is the whole message (the option, the file,
    the reason, and whether the file that was there is unchanged)."""


class StdoutError(Exception):
    """Writing standard output failed: its reader went away (``broken_pipe``: `| head`), the
    disk is full, a file-size limit, or it is closed (``>&-``). Not an OSError, so that a tool's
    handling of its own files' errors does not take it for one of them."""

    def __init__(self, err: OSError):
        self.os_error = err
        self.broken_pipe = isinstance(err, BrokenPipeError)
        super().__init__(f"cannot write to standard output: {err.strerror or err}")


def write_all(out, data: bytes) -> None:
    """All of data into the binary file out, looping on short writes: a raw file (stdout when
    PYTHONUNBUFFERED is set) may take part of it (up to a file-size limit) and the text layer
    above it drops the rest silently."""
    view = memoryview(data)
    while view:
        n = out.write(view)
        if n is None:           # non-blocking and full: wait for room
            import select
            select.select([], [out], [])
            continue
        if n <= 0:
            raise OSError(5, "the write made no progress")
        view = view[n:]
    out.flush()


class GuardedStdout:
    """sys.stdout (installed by wse.cli.launch) whose write and flush raise StdoutError instead
    of OSError, and whose writes are whole (see write_all) when the layer below it is a raw
    file."""

    def __init__(self, stream):
        self._stream = stream
        self._raw = isinstance(getattr(stream, "buffer", None), io.RawIOBase)

    def write(self, s):
        try:
            if self._raw and isinstance(s, str) and s:
                self._stream.flush()
                write_all(self._stream.buffer, s.encode(self._stream.encoding or "utf-8",
                                                        self._stream.errors or "strict"))
                return len(s)
            return self._stream.write(s)
        except OSError as e:
            raise StdoutError(e) from None

    def writelines(self, lines):
        for s in lines:
            self.write(s)

    def flush(self):
        try:
            return self._stream.flush()
        except OSError as e:
            raise StdoutError(e) from None

    def __getattr__(self, name):
        return getattr(self._stream, name)


class ClosedStdout:
    """sys.stdout when the tool was started with it closed (>&-): Python leaves sys.stdout None
    and print() drops everything silently; this says so at the first write."""
    encoding, errors = "utf-8", "strict"

    def write(self, s):
        raise StdoutError(OSError(9, "it is closed"))

    def writelines(self, lines):
        for s in lines:
            self.write(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        raise OSError(9, "standard output is closed")


def silence_stdout() -> None:
    """After stdout failed: what is still buffered, and whatever is printed later, goes to
    /dev/null (the interpreter's last flush would fail again: "Exception ignored ...")."""
    try:
        nul = os.open(os.devnull, os.O_WRONLY)
        os.dup2(nul, 1)
        os.close(nul)
    except OSError:
        pass


def write_stdout(text: str) -> None:
    """Write text to standard output whole and flush it; a failure is a StdoutError (also when
    stdout is closed: Python then has sys.stdout None, and print would drop the text silently;
    and a short write, which print would let pass)."""
    out = sys.stdout
    if out is None:
        raise StdoutError(OSError(9, "it is closed"))
    try:
        out.flush()
        buf = getattr(out, "buffer", None)
        if buf is None:
            out.write(text)
            out.flush()
        else:
            write_all(buf, text.encode(out.encoding or "utf-8", out.errors or "strict"))
    except StdoutError:
        raise
    except OSError as e:
        raise StdoutError(e) from None


def write_file(path: str, write, what: str | None = None) -> None:
    """Write exactly `path` (no suffix added) with write(binary file object), leaving nothing
    lost on a failure: a regular file is written beside the target and renamed over it, so the
    file that was there survives a failed write (disk full, ...) and no partial file is left; a
    device or pipe (/dev/null, /dev/stdout, also when it is redirected to a file) is written in
    place. Raises OutputError ("WHAT: cannot write PATH: reason")."""
    head = f"{what}: " if what else ""
    if not path:
        raise OutputError(f"{head}the file name is empty; give the file to write")
    special = os.path.abspath(path).startswith(("/dev/", "/proc/"))
    if special or (os.path.exists(path) and not os.path.isfile(path)):
        buf = io.BytesIO()          # numpy's save needs a seekable file; a pipe is not
        write(buf)
        try:
            with open(path, "wb") as fh:
                fh.write(buf.getvalue())
        except OSError as e:
            raise OutputError(f"{head}cannot write {path}: {e.strerror or e}") from None
        return
    target = os.path.realpath(path)          # a symlink keeps pointing at the new file
    d, base = os.path.split(target)
    old_mode = stat.S_IMODE(os.stat(target).st_mode) if os.path.exists(target) else None
    if old_mode is not None and not os.access(target, os.W_OK):
        # a read-only file is kept, as open() would refuse it (the rename below would not)
        raise OutputError(f"{head}cannot write {path}: Permission denied (the file is read-only); "
                          f"the file that was there is unchanged")
    tmp = None
    try:
        for n in range(100):
            cand = os.path.join(d, f".{base}.{os.getpid()}.{n}.partial")
            try:
                fd = os.open(cand, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            tmp = cand
            break
        else:
            raise OSError(f"cannot create a temporary file beside {path}")
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        why = f"{e.strerror or e}"
        if isinstance(e, FileNotFoundError) and not os.path.isdir(d):    # what to do about it
            why += f" (the folder {d} does not exist: mkdir -p {d})"
        raise OutputError(f"{head}cannot write {path}: {why}"
                          + ("; the file that was there is unchanged" if old_mode is not None else "")) from None
    finally:                 # also on Ctrl-C or MemoryError while writing
        if tmp is not None:
            try:
                os.remove(tmp)
            except OSError:
                pass


def read_limited(fh, n: int, piece: int = 1 << 20) -> bytes:
    """At most n bytes from the binary file fh, read `piece` at a time: fh.read(n) would
    allocate n bytes at once (a corrupt header can claim gigabytes), and fh.read() of a device
    that never ends (/dev/zero, a FIFO) would read until the memory is gone."""
    parts = []
    left = n
    while left > 0:
        b = fh.read(min(left, piece))
        if not b:
            break
        parts.append(b)
        left -= len(b)
    return b"".join(parts)


def read_object(path: str) -> bytes:
    """The bytes of the object file at `path`, read no further than its header says: the
    32-byte header first, then at most the file size it states (a u32: at most 4 GiB). A file
    that is not an object (its first bytes are not the magic: /dev/zero) or that goes on past
    the size its header states is refused without reading the rest, so a file that never ends
    (a device, a FIFO) cannot take the host's memory. Raises OSError, or ObjectFormatError
    with the reason wse.isa.objfile.read gives; a file shorter than its header says is returned
    as it is (the readers say so)."""
    from wse.isa import objfile as of
    with open(path, "rb") as fh:
        head = read_limited(fh, 32)
        if len(head) < 32:
            return head
        if head[:4] != of.MAGIC:
            raise of.magic_error(head + read_limited(fh, 256 - 32))
        size = int.from_bytes(head[20:24], "little")      # the header's file size
        data = head + read_limited(fh, max(size, 32) - 32 + 1)
        if len(data) > size:
            st = os.fstat(fh.fileno())
            has = f"{st.st_size}" if stat.S_ISREG(st.st_mode) else "more"
            raise of.ObjectFormatError(f"header says {size} bytes but the file has {has}")
        return data


def file_key(path: str):
    """Identity of a file for collision checks: the inode of an existing file, else the
    resolved path of the one to be created."""
    try:
        st = os.stat(path)
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", os.path.normcase(os.path.realpath(path)))


def same_file(a: str, b: str) -> bool:
    """a and b are one file (the same inode: also through a link, or another spelling)."""
    return file_key(a) == file_key(b)


def size_text(n: int) -> str:
    """A byte count for a message: 64 MiB, 3.5 KiB, 100 bytes."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            v = n / (1 << shift)
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} bytes"


def printable(text: str) -> str:
    """text with what a terminal would act on or hide escaped as Python's repr writes it
    (\\x1b, \\n, \\u202e): the names and snippets a corrupt object or a binary source puts into
    a message. A byte that was not valid UTF-8 (decoded with surrogateescape: U+DC80..U+DCFF)
    is shown as that byte, \\xff."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= ord(ch) <= 0xDCFF:
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        else:
            out.append(repr(ch)[1:-1])
    return "".join(out)


def internal_error(exc: BaseException) -> str:
    """The one line that reports a bug (an exception no handler expected), with where it was
    raised."""
    import traceback
    tb = traceback.extract_tb(exc.__traceback__)
    where = f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "?"
    return f"internal error, please report: {type(exc).__name__}: {exc} (at {where})"


def not_utf8(text: str, iconv: bool = True) -> str | None:
    """What is wrong with a command-line text given as bytes that are not valid UTF-8 (Python
    keeps each such byte as a surrogate, U+DC80..U+DCFF), or None: "is not valid UTF-8 (byte
    0xff at offset 3); give the text in UTF-8", and with `iconv` how to convert a file.

    Such a text is refused rather than passed on as bytes (wse-llm's prompt, wse-emu's symbol and
    task names): the names of an object and the tokenizers take Unicode text, and such bytes are
    almost always text in another encoding (Latin-1 from an old file or terminal) that the user
    wants read as the characters they see, which only they can say. (File names are fine in any
    bytes.)"""
    for i, ch in enumerate(text):
        if 0xD800 <= ord(ch) <= 0xDFFF:
            enc = sys.getfilesystemencoding()
            name = "UTF-8" if enc.lower().replace("-", "") == "utf8" else enc
            off = len(text[:i].encode(enc, "surrogateescape"))
            byte = f"byte {ord(ch) - 0xDC00:#04x}" if 0xDC80 <= ord(ch) <= 0xDCFF else "a character"
            return (f"is not valid {name} ({byte} at offset {off}); give the text in {name}"
                    + (" (iconv -f LATIN1 -t UTF-8 converts a Latin-1 file, for example)" if iconv else ""))
    return None


def dash_values(parser, argv) -> list:
    """argv with an option's value that starts with '-' and a digit attached to the option
    (`--grid -1x2` -> `--grid=-1x2`, `-n -1x` -> `-n-1x`): argparse takes such a value for an
    option of its own unless it is a plain negative number, and said "argument --grid: expected
    one argument" of an option that was given one, where the value's own error is meant."""
    import re
    takes = {s for a in parser._actions if a.option_strings and a.nargs is None for s in a.option_strings}
    out, i = [], 0
    argv = list(argv)
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return out + argv[i:]
        if a in takes and i + 1 < len(argv) and re.match(r"-\d", argv[i + 1]):
            out.append(f"{a}={argv[i + 1]}" if a.startswith("--") else a + argv[i + 1])
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def int_arg(text: str) -> int:
    """An argparse type: an integer in ASCII digits, with an optional sign (int() alone also
    takes other scripts' digits, '٣' or '３', which the other options refuse)."""
    t = text.strip()
    digits = t[1:] if t[:1] in "+-" else t
    if not (digits.isascii() and digits.isdigit()):
        raise argparse.ArgumentTypeError(f"expected an integer (ASCII digits), got {text!r}")
    return int(t)
