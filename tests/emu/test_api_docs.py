"""docs/emulator.md's Python API example runs as pasted from the repository root, and each of
its print lines prints what its comment says (a changed result, name or default breaks this
test rather than leaving the reference page wrong)."""
from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "emulator.md"


def _api_block() -> str:
    text = DOC.read_text()
    section = text[text.index("## Python API\n"):text.index("\n## ", text.index("## Python API\n") + 1)]
    blocks = re.findall(r"<!-- emulator-python:.*?-->\n```python\n(.*?)^```", section, re.S | re.M)
    assert len(blocks) == 1, "the Python API section should hold one checked python block"
    return blocks[0]


def _expected(block: str) -> list[str]:
    """The comment of each print line (a print call that is the whole statement)."""
    return [m.group(1).strip() for m in re.finditer(r"^\s*print\(.*\)\s+# (.*)$", block, re.M)]


def test_expectations_are_read_from_print_comments():
    assert _expected("x = 1   # no\nprint(x)   # 1\n    print('a b')  # a b\n") == ["1", "a b"]


def test_the_python_api_example_prints_what_it_says():
    block = _api_block()
    want = _expected(block)
    assert len(want) >= 8, "the example should show its results"
    buf = io.StringIO()
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(buf):
            exec(compile(block, str(DOC), "exec"), {})
    finally:
        os.chdir(old)
    assert buf.getvalue().splitlines() == want


def test_every_public_fabric_method_is_in_the_reference_table():
    from wse.emu import Fabric
    text = DOC.read_text()
    section = text[text.index("## Python API\n"):text.index("## The C API")]
    public = [n for n in dir(Fabric) if not n.startswith("_")]
    missing = [n for n in public if not re.search(rf"`(Fabric\.)?{n}\b", section)]
    assert not missing, f"not in docs/emulator.md's Python API section: {missing}"
