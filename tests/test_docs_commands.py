"""The documents name commands, options, modules and files that exist.

A reader follows README.md and docs/*.md literally: every command they show (a `$ ` line of a
console block, a line of a plain code block, or an inline `code span`) must name a tool of this
package or a module that `python -m` can run, with options that tool's --help lists; every
relative link and every repository path in a code span must exist, and a pytest node id
(`tests/x.py::test_y`) must name a test that is defined. These checks are cheap; the outputs
the documents show are checked where a generator owns them (tests/kernels/test_gemv.py for the
tutorial, tests/test_repo.py for the README's hello example).
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SCRIPTS = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])
# commands of other programs that documents show (the shell, git, pip, valgrind, ...): not checked
OTHER = {"python3", "pip", "git", "cd", ".", "source", "valgrind", "pytest", "export", "ls", "cat",
         "diff", "cmp", "bash", "time", "make", "perf", "gdb", "cc", "gcc"}
# subcommands of wse-llm (they have their own --help)
SUBCOMMANDS = {"wse-llm": {"info", "generate", "compare-hf"}}
REPO_DIRS = ("kernels", "docs", "isa", "asm", "emu", "csrc", "tests", ".ci")


def _fenced_blocks(text: str) -> list[tuple[str, list[str]]]:
    """(info string, lines) of every ``` block."""
    out, cur, info = [], None, ""
    for line in text.split("\n"):
        if line.startswith("```"):
            if cur is None:
                cur, info = [], line[3:].strip()
            else:
                out.append((info, cur))
                cur = None
        elif cur is not None:
            cur.append(line)
    return out


def _strip_fences(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _command_lines(text: str) -> list[str]:
    """Every command line a document shows."""
    cmds = []
    for info, lines in _fenced_blocks(text):
        if info in ("asm", "python", "toml", "c", "json", "text"):
            continue
        for line in lines:
            s = line.strip()
            if s.startswith("$ "):
                cmds.append(s[2:])
            elif info == "" and s.split(" ", 1)[0] in SCRIPTS | {"python", "python3", "git"}:
                cmds.append(s)
    prose = _strip_fences(text)
    for span in re.findall(r"`([^`\n]+)`", prose):
        if span.split(" ", 1)[0] in SCRIPTS or span.startswith("python -m "):
            cmds.append(span)
    for line in prose.split("\n"):           # indented code blocks
        if line.startswith("    ") and line.strip().split(" ", 1)[0] in SCRIPTS | {"python"}:
            cmds.append(line.strip())
    return cmds


def _simple_commands(line: str) -> list[list[str]]:
    """Split a command line at &&, ||, |, ; and drop redirections and comments."""
    try:
        toks = shlex.split(line, comments=True)
    except ValueError:       # an unfinished quote in prose: not a command
        return []
    out, cur = [], []
    for t in toks:
        if t in ("&&", "||", "|", ";"):
            out.append(cur)
            cur = []
        elif t in (">", "<", "2>", ">>"):
            cur.append("\0redirect")
        else:
            cur.append(t)
    out.append(cur)
    cleaned = []
    for argv in out:
        argv = [t for i, t in enumerate(argv) if t != "\0redirect" and (i == 0 or argv[i - 1] != "\0redirect")]
        argv = [t.strip("()") for t in argv]
        if argv:
            cleaned.append(argv)
    return cleaned


@functools.cache
def _help(argv: tuple[str, ...]) -> str:
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               COLUMNS="200")
    r = subprocess.run([*argv, "--help"], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert r.returncode == 0, f"{' '.join(argv)} --help failed: {r.stderr.strip()[-300:]}"
    return r.stdout


def _tool(argv: list[str]) -> tuple[tuple[str, ...], list[str]] | None:
    """(the command whose --help lists the options, the arguments after it), or None when the
    command is not this package's."""
    if argv[0] in SCRIPTS:
        subs = SUBCOMMANDS.get(argv[0], set())
        if len(argv) > 1 and argv[1] in subs:
            return (argv[0], argv[1]), argv[2:]
        return (argv[0],), argv[1:]
    if argv[0] in ("python", "python3") and len(argv) > 2 and argv[1] == "-m" and argv[2].startswith("wse"):
        return (sys.executable, "-m", argv[2]), argv[3:]
    return None


def _options(args: list[str]) -> list[str]:
    return [a.split("=", 1)[0] for a in args
            if re.fullmatch(r"--?[A-Za-z][-A-Za-z0-9]*(=.*)?", a) and a != "--"]


def _doc_commands():
    for doc in DOCS:
        for line in _command_lines(doc.read_text()):
            for argv in _simple_commands(line):
                yield doc, line, argv


CASES = [(d, l, a) for d, l, a in _doc_commands()]


def test_the_documents_show_commands():
    """The extraction finds the commands the reader is told to type (so the checks below are
    not vacuous): the README's main command and hello example, the tutorial's steps and the
    math page's measurement."""
    names = {(d.name, a[0] if a[0] in SCRIPTS else " ".join(a[:3])) for d, _, a in CASES}
    for want in [("README.md", "wse-llm"), ("README.md", "wse-as"), ("README.md", "wse-emu"),
                 ("README.md", "wse-bench"), ("tutorial.md", "python -m wse.kernels.gemv.tutorial"),
                 ("math.md", "python -m wse.kernels.lib.measure"), ("model.md", "wse-llm")]:
        assert want in names, f"no {want[1]!r} command found in {want[0]}"


@pytest.mark.parametrize("doc,line,argv", CASES, ids=lambda v: v.name if isinstance(v, Path) else "")
def test_every_command_names_a_tool_and_options_that_exist(doc, line, argv):
    name = argv[0]
    if name in OTHER or name.startswith(("/", "OLD", "<")) or "=" in name:
        return
    if name in ("python", "python3") and argv[1:2] != ["-m"]:
        return                                  # python -c / a script
    if name in ("python", "python3"):
        mod = argv[2]
        if mod.startswith("wse"):
            assert importlib.util.find_spec(mod) is not None, \
                f"{doc.name}: `{line}` runs the module {mod}, which does not exist"
        else:
            return                              # python -m venv / pytest / pip
    tool = _tool(argv)
    assert tool is not None, f"{doc.name}: `{line}` runs {name!r}, which is not a command of this package"
    cmd, args = tool
    if name in SCRIPTS and name in SUBCOMMANDS and args and not args[0].startswith("-") \
            and len(cmd) == 1 and args[0] not in SUBCOMMANDS[name] and args[0].isidentifier():
        pytest.fail(f"{doc.name}: `{line}`: {name} has no subcommand {args[0]!r}")
    text = _help(cmd)
    for opt in _options(args):
        assert re.search(rf"(?<![-\w]){re.escape(opt)}(?![-\w])", text), \
            f"{doc.name}: `{line}` uses {opt}, which `{' '.join(cmd[-2:] if cmd[0] == sys.executable else cmd)} --help` does not list"


def _paths(doc: Path):
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        yield doc.parent / target.split("#")[0], target
    for span in re.findall(r"`([^`\n]+)`", _strip_fences(text)):
        for tok in span.split():
            tok = tok.rstrip(".,;:)")
            if re.fullmatch(rf"({'|'.join(map(re.escape, REPO_DIRS))})/[\w./-]+(::\w+)?", tok):
                yield ROOT / tok, tok


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_linked_or_named_repository_path_exists(doc):
    for path, shown in _paths(doc):
        file, _, test = str(path).partition("::")
        assert Path(file).exists(), f"{doc.name} names {shown}, which does not exist"
        if test:
            assert re.search(rf"^\s*def {re.escape(test)}\(", Path(file).read_text(), re.M), \
                f"{doc.name} names the test {shown}, which is not defined in {Path(file).name}"


def test_the_checks_catch_a_wrong_option_a_missing_module_and_a_missing_path(tmp_path):
    """The extraction and the checks on a document with one mistake of each kind."""
    doc = tmp_path / "bad.md"
    doc.write_text("Run `wse-emu --gird 4x4 a.wso` and\n\n```\n$ python -m wse.kernels.nosuch 1\n```\n\n"
                   "See [x](../nosuch.md) and `kernels/gemv/nosuch.s`, "
                   "`tests/kernels/test_gemv.py::test_nosuch`.\n")
    cases = [(doc, l, a) for l in _command_lines(doc.read_text()) for a in _simple_commands(l)]
    assert [a[:3] for _, _, a in cases] == [["python", "-m", "wse.kernels.nosuch"], ["wse-emu", "--gird", "4x4"]]
    for case in cases:
        with pytest.raises(AssertionError):
            test_every_command_names_a_tool_and_options_that_exist(*case)
    shown = [s for p, s in _paths(doc) if not Path(str(p).partition("::")[0]).exists()
             or "::" in s]
    assert shown == ["../nosuch.md", "kernels/gemv/nosuch.s", "tests/kernels/test_gemv.py::test_nosuch"]
    with pytest.raises(AssertionError, match="nosuch.md"):
        test_every_linked_or_named_repository_path_exists(doc)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation other than - and _ dropped,
    spaces to hyphens (`## Layout: programs on rectangles` -> layout-programs-on-rectangles)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(doc: Path) -> set[str]:
    return {_slug(h) for h in re.findall(r"^#+\s+(.*)$", _strip_fences(doc.read_text()), re.M)}


def _broken_anchors(doc: Path) -> list[str]:
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
        path, _, frag = target.partition("#")
        if not frag or re.match(r"[a-z]+:", target):
            continue
        file = (doc.parent / path) if path else doc
        if file.suffix == ".md" and file.exists() and frag not in _anchors(file):
            bad.append(target)
    return bad


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_link_to_a_section_names_a_heading_that_exists(doc):
    """A link `[x](page.md#anchor)` or `[x](#anchor)` lands on a heading of that page (a
    renamed heading otherwise leaves the link pointing at the top of the page)."""
    assert not _broken_anchors(doc), f"{doc.name} links to sections that do not exist: {_broken_anchors(doc)}"


def test_the_anchor_check_finds_a_missing_heading(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n\n## Layout: programs on rectangles\n\n```\n## not a heading\n```\n")
    doc = tmp_path / "b.md"
    doc.write_text("[ok](a.md#layout-programs-on-rectangles) [bad](a.md#not-a-heading) [self](#b) "
                   "[web](https://example.org/#x)\n\n## B\n")
    assert _broken_anchors(doc) == ["a.md#not-a-heading"]
