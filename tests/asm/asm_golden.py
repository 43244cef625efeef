"""Annotations of the golden files (tests/asm/ok_*.s, err_*.s) and their checker.

Inline annotations (in comments):

  ; = 0xWORD [0xWORD...]      ok files: the instruction words this line assembles to, in the
                              image of the selected PE (LINES maps each pc to its line; the
                              instructions of a macro belong to the lines of its body);
                              text after the words is commentary
  ; error: TEXT               err files: an error on this line whose message contains TEXT
  ; warning: TEXT             ok files: a warning on this line whose message contains TEXT
                              (one or more); every warning of an ok file is annotated
  ; note: TEXT                err files: the error annotated last (on this or an earlier line)
                              has a note containing TEXT
An error in an included file is matched by the line of the main file that includes it.

Whole-file annotations (`;@ KEY ARGS`, anywhere):

  ;@ define NAME=VALUE        assemble with -D NAME=VALUE
  ;@ arch wse3                assemble with --arch wse3
  ;@ pe X, Y                  select the PE whose image later annotations check (default 0, 0)
  ;@ code 0x.. 0x..           the whole code of the selected image
  ;@ data ADDR: 0x.. 0x..     SRAM words at ADDR in the selected image's data chunks
  ;@ chunks [(addr, n), ...]  the chunk layout (address, word count) of the selected image
  ;@ mem_words N              the selected image's mem_words
  ;@ symbol NAME TYPE VALUE COUNT
  ;@ task KEY=VALUE ...       a task record of the selected image with these fields
  ;@ route KEY=VALUE ...      a route record (positions=((rx, tx), ...))
  ;@ dsd INDEX KEY=VALUE ...  DSD table entry INDEX has these fields
  ;@ line PC LINE COL [via MACRO LINE COL]...
                              a LINES record of the selected image (file = this file),
                              with the macro invocations its code comes from, innermost first
  ;@ nolines                  the selected image has no LINES records
  ;@ images N                 the number of distinct images
  ;@ name NAME                the selected image's name
  ;@ fabric W H               the fabric size
  ;@ placement [(x, y, w, h, image), ...]
  ;@ same X1, Y1              the selected PE runs the same image as PE (X1, Y1)
  ;@ differ X1, Y1            ... a different image
  ;@ errors N                 err files: exactly N errors

Any other `;@` keyword, or an ok annotation in an err file (or the reverse), fails the test.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from wse.isa import objfile as of

ANN = re.compile(r";\s*(=|error:|note:|warning:)\s*(.*)$")
META = re.compile(r";@\s*(\w+)\s*(.*)$")
KEYS = {"define", "arch", "pe", "code", "data", "chunks", "mem_words", "symbol", "task", "route", "dsd",
        "line", "nolines", "images", "name", "fabric", "placement", "same", "differ", "errors"}


class Spec:
    def __init__(self, path: Path):
        self.path = path
        self.defines = {}
        self.arch = None
        self.line_ann = []     # (line, kind, text)
        self.meta = []         # (line, key, args)
        self.problems = []
        text = path.read_text(encoding="utf-8", errors="replace")
        for i, line in enumerate(text.split("\n"), 1):
            m = META.search(line)
            if m:
                key, args = m.group(1), m.group(2).strip()
                if key not in KEYS:
                    self.problems.append(f"line {i}: unknown annotation `;@ {key}`")
                    continue
                if key == "define":
                    n, _, v = args.partition("=")
                    self.defines[n.strip()] = ast.literal_eval(v.strip()) if v.strip() else 1
                elif key == "arch":
                    self.arch = args
                else:
                    self.meta.append((i, key, args))
                continue
            m = ANN.search(line)
            if m and _in_comment(line, m.start()):
                self.line_ann.append((i, m.group(1), m.group(2).strip()))


def _in_comment(line: str, idx: int) -> bool:
    """True if the ';' at idx starts a comment (not inside a string)."""
    q = False
    for j, ch in enumerate(line[:idx]):
        if ch == '"' and (j == 0 or line[j - 1] != "\\"):
            q = not q
        if ch == ";" and not q:
            return False   # an earlier ';' started the comment; this is comment text
    return not q


def _words(text: str) -> list[int]:
    """The leading 0x... tokens of an annotation (anything after them is commentary)."""
    out = []
    for tok in text.split():
        if not re.fullmatch(r"0x[0-9a-fA-F]+", tok):
            break
        out.append(int(tok, 16))
    return out


def _kv(args: str) -> dict:
    out = {}
    for m in re.finditer(r"(\w+)=((?:\([^=]*\))|\S+)", args):
        out[m.group(1)] = ast.literal_eval(m.group(2))
    return out


def _lines_of(img: of.Image, fname: str):
    """line -> list of code words for the file fname."""
    recs = sorted(img.lines, key=lambda r: r.pc)
    out = {}
    for k, r in enumerate(recs):
        end = recs[k + 1].pc if k + 1 < len(recs) else len(img.code)
        if r.file == fname:
            out.setdefault(r.line, []).extend(img.code[r.pc:end])
    return out


def check_ok(spec: Spec, obj: of.ObjectFile, fname: str) -> list[str]:
    errs = list(spec.problems)
    for ln, kind, text in spec.line_ann:
        if kind not in ("=", "warning:"):
            errs.append(f"line {ln}: `; {kind}` annotation in an ok_ file")
    pe = (0, 0)
    img = obj.image_at(0, 0)
    for ln, kind, text in spec.line_ann:
        if kind == "=" and not _words(text):
            errs.append(f"line {ln}: `; =` annotation without 0x words")
    # per-line words are checked against PE (0, 0) unless ;@ pe appears before them
    events = sorted([(ln, "meta", (k, a)) for ln, k, a in spec.meta] +
                    [(ln, "words", t) for ln, k, t in spec.line_ann if k == "="])
    for ln, what, payload in events:
        if what == "words":
            if img is None:
                errs.append(f"line {ln}: no image at PE {pe}")
                continue
            got = _lines_of(img, fname).get(ln, [])
            want = _words(payload)
            if got != want:
                errs.append(f"line {ln}: words {[hex(w) for w in got]}, expected {[hex(w) for w in want]}")
            continue
        key, args = payload
        try:
            if key == "pe":
                x, y = (int(v, 0) for v in args.replace(",", " ").split())
                pe = (x, y)
                img = obj.image_at(x, y)
                if img is None:
                    errs.append(f"line {ln}: no image at PE {pe}")
                continue
            if key in ("images", "fabric", "placement", "errors"):
                if key == "images" and len(obj.images) != int(args):
                    errs.append(f"line {ln}: {len(obj.images)} images, expected {args}")
                if key == "fabric" and (obj.width, obj.height) != tuple(int(v) for v in args.split()):
                    errs.append(f"line {ln}: fabric {obj.width}x{obj.height}, expected {args}")
                if key == "placement" and [tuple(p) for p in obj.placement] != ast.literal_eval(args):
                    errs.append(f"line {ln}: placement {obj.placement}, expected {args}")
                if key == "errors":
                    errs.append(f"line {ln}: `;@ errors` in an ok_ file")
                continue
            if img is None:
                errs.append(f"line {ln}: no image at PE {pe}")
                continue
            if key == "code":
                want = [int(w, 0) for w in args.split()]
                if img.code != want:
                    errs.append(f"line {ln}: code {[hex(w) for w in img.code]}, expected {[hex(w) for w in want]}")
            elif key == "data":
                a, _, ws = args.partition(":")
                addr = int(a, 0)
                want = [int(w, 0) for w in ws.split()]
                mem = {}
                for ca, cw in img.chunks:
                    for i, w in enumerate(cw):
                        mem[ca + i] = w
                got = [mem.get(addr + i) for i in range(len(want))]
                if got != want:
                    errs.append(f"line {ln}: data at {addr:#x}: {got}, expected {want}")
            elif key == "chunks":
                got = [(a, len(w)) for a, w in img.chunks]
                if got != ast.literal_eval(args):
                    errs.append(f"line {ln}: chunks {got}, expected {args}")
            elif key == "mem_words":
                if img.mem_words != int(args, 0):
                    errs.append(f"line {ln}: mem_words {img.mem_words}, expected {args}")
            elif key == "symbol":
                n, t, v, c = args.split()
                want = of.Symbol(n, t, int(v, 0), int(c, 0))
                if want not in img.symbols:
                    errs.append(f"line {ln}: symbol {want} not in {img.symbols}")
            elif key in ("task", "route"):
                kv = _kv(args)
                recs = img.tasks if key == "task" else img.routes
                if not any(all(getattr(r, k) == v for k, v in kv.items()) for r in recs):
                    errs.append(f"line {ln}: no {key} with {kv} in {recs}")
            elif key == "dsd":
                idx, _, rest = args.partition(" ")
                kv = _kv(rest)
                d = img.dsds[int(idx)] if int(idx) < len(img.dsds) else None
                if d is None or not all(getattr(d, k) == v for k, v in kv.items()):
                    errs.append(f"line {ln}: dsd {idx} is {d}, expected {kv}")
            elif key == "line":
                head, *vias = args.split(" via ")
                pc, line, col = (int(v) for v in head.split())
                via = tuple((m, fname, int(li), int(co)) for m, li, co in (v.split() for v in vias))
                if of.Line(pc, fname, line, col, via) not in img.lines:
                    errs.append(f"line {ln}: no LINES record pc={pc} {line}:{col} in {img.lines}")
            elif key == "nolines":
                if img.lines:
                    errs.append(f"line {ln}: expected no LINES records, got {img.lines}")
            elif key == "name":
                if img.name != args:
                    errs.append(f"line {ln}: image name {img.name!r}, expected {args!r}")
            elif key in ("same", "differ"):
                x, y = (int(v, 0) for v in args.replace(",", " ").split())
                other = obj.image_at(x, y)
                same = other is img
                if same != (key == "same"):
                    errs.append(f"line {ln}: PE {pe} and PE ({x}, {y}) are {'' if same else 'not '}the same image")
        except (ValueError, SyntaxError, IndexError) as e:
            errs.append(f"line {ln}: malformed `;@ {key} {args}`: {e}")
    return errs


def check_warnings(spec: Spec, diags, fname: str) -> list[str]:
    """An ok file's warnings against its `; warning:` annotations, both ways."""
    want = [(ln, text) for ln, k, text in spec.line_ann if k == "warning:"]
    errs = []
    for ln, text in want:        # (a line in a macro body may warn once per expansion)
        if not any(d.file == fname and d.line == ln and text in d.message for d in diags):
            errs.append(f"line {ln}: expected a warning containing {text!r}")
    errs += [f"unexpected warning: {d.file}:{d.line}: {d.message}" for d in diags
             if not any(d.file == fname and d.line == ln and text in d.message for ln, text in want)]
    return errs


def check_err(spec: Spec, diags, fname: str) -> list[str]:
    errs = list(spec.problems)
    for ln, kind, text in spec.line_ann:
        if kind in ("=", "warning:"):
            errs.append(f"line {ln}: `; {kind}` annotation in an err_ file")
    expected = [(ln, text) for ln, k, text in spec.line_ann if k == "error:"]
    notes = []
    last = None
    for ln, k, text in spec.line_ann:
        if k == "error:":
            last = ln
        elif k == "note:":
            notes.append((last if last is not None else ln, text))

    def at(d, ln):
        if d.file == fname and d.line == ln:
            return True
        return any(f"{fname}:{ln}:" in n for n in d.notes)
    if not expected:
        errs.append("an err_ file must have at least one `; error:` annotation")
    used = set()
    for ln, text in expected:
        hit = None
        for i, d in enumerate(diags):
            if i in used:
                continue
            if at(d, ln) and text in d.message:
                hit = i
                break
        if hit is None:
            errs.append(f"line {ln}: expected an error containing {text!r}; got: " +
                        "; ".join(f"{d.file}:{d.line}: {d.message}" for d in diags))
        else:
            used.add(hit)
    for ln, text in notes:
        if not any(at(d, ln) and any(text in n for n in d.notes) for d in diags):
            errs.append(f"line {ln}: expected a note containing {text!r}")
    for i, d in enumerate(diags):
        if i not in used:
            errs.append(f"unexpected error: {d.file}:{d.line}: {d.message}")
    for ln, key, args in spec.meta:
        if key == "errors":
            if len(diags) != int(args):
                errs.append(f"line {ln}: {len(diags)} errors, expected {args}")
        else:
            errs.append(f"line {ln}: `;@ {key}` is not valid in an err_ file")
    for d in diags:
        text = d.render()
        if d.line is not None and d.source is None and d.file == fname:
            errs.append(f"diagnostic without its source line: {text}")
    return errs
