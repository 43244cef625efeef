"""docs/model.md's Python example runs as shown: a reader who pastes it gets no NameError,
and what it prints is what the comments on its print lines say."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def _expected(block: str) -> str:
    """The comments of the block's print lines, one line each: what it should print."""
    return "\n".join(m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+# (.*)$", block, re.M))


def test_the_expectations_are_read_from_print_comments():
    assert _expected("x = 1   # not a print\nprint(x)   # 1\nprint('a b')  # a b\n") == "1\na b"


def test_model_md_python_example_runs_and_prints_what_it_says():
    from wse.kernels.llm.weights import smollm2_gguf_path
    try:
        smollm2_gguf_path()
    except Exception as exc:  # noqa: BLE001 - the same skip as tests/llm/conftest.py
        pytest.skip(f"SmolLM2 weights unavailable: {exc}")
    blocks = _python_blocks((ROOT / "docs" / "model.md").read_text())
    assert len(blocks) == 1
    want = _expected(blocks[0])
    assert want, "the example has no print line with the expected output in a comment"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(blocks[0], "docs/model.md", "exec"), {})
    assert buf.getvalue().rstrip("\n") == want
