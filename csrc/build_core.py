"""cffi builder for the emulator core: API (out-of-line) mode, module `wse.emu._core`.

csrc/wse.h is the one public header: it is compiled into the core and given to cdef (its
include guard lines are dropped for cdef). `setup.py` names `csrc/build_core.py:ffibuilder`.
Environment: WSE_SANITIZE=1 adds -fsanitize=address,undefined (see csrc/build_sanitized.sh).
"""
import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
SOURCES = ["wse_core.c", "wse_load.c"]


def cdef_text() -> str:
    lines = []
    for line in (HERE / "wse.h").read_text().splitlines():
        s = line.strip()
        if s.startswith("#ifndef") or s.startswith("#endif") or s == "#define WSE_H":
            continue
        lines.append(line)
    return "\n".join(lines)


def extra_compile_args() -> list[str]:
    args = ["-O3", "-ffp-contract=off", "-fno-strict-aliasing", "-std=c11", "-Wall", "-Wextra",
            "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-Wno-unused-function"]
    if os.environ.get("WSE_SANITIZE"):
        args += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                 "-fno-sanitize-recover=all", "-O1", "-g"]
    return args


def extra_link_args() -> list[str]:
    if os.environ.get("WSE_SANITIZE"):
        return ["-fsanitize=address,undefined"]
    return []


ffibuilder = FFI()
ffibuilder.cdef(cdef_text())
ffibuilder.set_source(
    "wse.emu._core",
    '#include "wse.h"\n',
    sources=[str(Path("csrc") / s) for s in SOURCES],
    include_dirs=["csrc"],
    extra_compile_args=extra_compile_args(),
    extra_link_args=extra_link_args(),
    libraries=["m"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
