#!/usr/bin/env bash
# Build the emulator core with AddressSanitizer + UBSan into a separate directory and run the
# emulator tests against it:   bash csrc/build_sanitized.sh [pytest args...]
# (default args: tests/emu). The normal install is not touched: the sanitized copy of the
# Python packages lives in $WSE_ASAN_DIR (default: build/asan) and is put first on PYTHONPATH.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${WSE_ASAN_DIR:-$ROOT/build/asan}
PY=${PYTHON:-python}
rm -rf "$OUT"
mkdir -p "$OUT/wse"
for pkg in isa asm emu kernels; do
    [ -d "$ROOT/$pkg" ] && cp -r "$ROOT/$pkg" "$OUT/wse/$pkg"
done
cp -r "$ROOT/csrc" "$OUT/csrc"
find "$OUT/wse" -name '*.so' -delete
find "$OUT/wse" -name '__pycache__' -prune -exec rm -rf {} +
cd "$ROOT"
WSE_SANITIZE=1 "$PY" -c "
import sys; sys.path.insert(0, '$OUT/csrc')
from build_core import ffibuilder
ffibuilder.compile(tmpdir='$OUT', verbose=False)
"
ASAN_LIB=$(gcc -print-file-name=libasan.so)
export LD_PRELOAD="$ASAN_LIB"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export PYTHONPATH="$OUT${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -c "import wse.emu._core as c; assert c.__file__.startswith('$OUT'), c.__file__; print('sanitized core:', c.__file__)"
if [ $# -eq 0 ]; then set -- tests/emu; fi
exec "$PY" -m pytest -q -p no:cacheprovider "$@"
