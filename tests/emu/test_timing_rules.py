"""One test per timing rule of docs/timing.md.

Each test builds the smallest program that isolates a rule, computes the expected cycles from
the rule and the preset constants of wse.isa (never from an observed count), runs it on the C
core (wse.emu.Fabric) and on the reference interpreter (wse.emu.reference.ReferenceFabric),
checks that both agree on everything observable, and compares with the prediction. So the
page and the emulators cannot drift apart silently.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
import warnings

import pytest
from hypothesis import given, settings, strategies as st

from wse.asm import assemble_text, AssemblyWarning
from wse.emu import Fabric
from wse.emu.reference import ReferenceFabric
from wse.isa import load as load_isa

ISA = load_isa()
ARCHES = ("wse2", "wse3")
PRESET = ISA.presets
RUN_MAX = 4096          # timing.md, "Runs of local instructions": a run stops after 4096
NCOLORS = 24
arches = st.sampled_from(ARCHES)


def both(src, arch="wse2", sends=(), max_cycles=None, pes=()):
    """Run `src` on both emulators; assert they agree; return what they saw."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssemblyWarning)
        obj = assemble_text(src, arch=arch)
    _, w, h = Fabric.peek(obj)
    out = []
    for cls in (Fabric, ReferenceFabric):
        f = cls(w, h, arch)
        f.load(obj)
        for s in sends:
            f.send(*s)
        err = None
        try:
            f.run(max_cycles)
        except Exception as e:                  # only the run-ending errors are expected
            if type(e).__name__ not in ("HangError", "WatchdogError"):
                raise
            err = (type(e).__name__, e.cycle)
        res = {"cycle": f.cycle, "err": err,
               "rec": [(r.x, r.y, r.port, r.color, r.payload, r.ctrl, r.cycle)
                       for r in f.received()],
               "hops": f.stats()["wavelet_hops"] if cls is Fabric else f.hops,
               "pe": {}}
        for (x, y) in pes:
            s = f.pe_state(x, y)
            s.pop("mem")
            res["pe"][(x, y)] = s
        out.append(res)
    assert out[0] == out[1], ("the C core and the reference disagree", out)
    return out[0]


def payloads(res, color):
    return [r[4] for r in res["rec"] if r[3] == color]


def cost(n, width):
    """timing.md, *Instruction costs*: a memory-only tensor op."""
    return max(1, math.ceil(n / width))


# ---------------------------------------------------------------------------------------------
# A 1x1 program whose main task stores rdcyc values and sends them to the host on color 4.
def report_prog(body, data="", routes="", tasks="", extra=""):
    return f"""
.fabric 1,1
.program p
  .route 4, ramp -> east
{routes}
  .task main, local, start
{tasks}
main:
{body}
  exit
{extra}
  .data
buf: .zero 512
buf2: .zero 512
buf3: .zero 512
{data}
.endprogram
.place p,0,0
"""


SEND_R1_R2 = """
  send 4, r1
  send 4, r2
"""


# ---------------------------------------------------------------------------------------------
# Scalar instructions and the task switch
@given(arch=arches, k=st.integers(0, 20))
def test_scalar_cost_and_task_switch(arch, k):
    """The first instruction of the task picked at cycle 0 executes at task_switch; every
    scalar instruction costs 1; a sync instruction (send) executes at t0 + cost of its run."""
    ts = PRESET[arch].task_switch
    res = both(report_prog("  rdcyc r1\n" + "  nop\n" * k + "  rdcyc r2\n" + SEND_R1_R2), arch)
    assert payloads(res, 4) == [ts, ts + 1 + k]
    t_send1 = ts + k + 2
    # each send's wavelet leaves oq[4] at push + 1 and goes off the fabric at once
    assert [r[6] for r in res["rec"]] == [t_send1 + 1, t_send1 + 2]
    # exit at t_send1 + 2, the fabric is idle at the next boundary
    assert res["cycle"] == t_send1 + 3


@given(arch=arches)
def test_exit_then_next_task(arch):
    """exit at t: the scheduler looks at t + 1, the next task's first instruction is at
    t + 1 + task_switch."""
    ts = PRESET[arch].task_switch
    src = report_prog("  activate nxt", tasks="  .task nxt, local",
                      extra="nxt:\n  rdcyc r1\n  send 4, r1\n  exit")
    res = both(src, arch)
    t_exit = ts + 1                        # activate at ts (cost 1), exit right after
    assert payloads(res, 4) == [t_exit + 1 + ts]


# ---------------------------------------------------------------------------------------------
# Tensor op costs per class and preset
# (op, class, element sizes of dst, src0, src1 in words; None: no such operand)
OPS = [
    ("faddh d0, a0, b0", "h_arith", 1, 1, 1),
    ("fadds d0, a0, b0", "s_arith", 2, 2, 2),
    ("fmuls d0, a0, b0", "s_mul", 2, 2, 2),
    ("faddhs d0, a0, b0", "mixed", 2, 2, 1),
    ("fmaxh d0, a0, b0", "h_max", 1, 1, 1),
    ("fmaxs d0, a0, b0", "s_max", 2, 2, 2),
    ("fh2s d0, a0", "conv", 2, 1, None),
    ("add16 d0, a0, b0", "i16", 1, 1, 1),
    ("mov32 d0, a0", "mov32", 2, 2, None),
    ("sll16 d0, a0, b0", "shift16", 1, 1, 1),
]


def tensor_prog(op, n, strides=(1, 1, 1), bases=("buf", "buf2", "buf3")):
    sd, sa, sb = strides
    bd, ba, bb = bases
    return report_prog(f"""
  ldsd d0, dv
  ldsd a0, av
  ldsd b0, bv
  rdcyc r1
  {op}
  rdcyc r2
{SEND_R1_R2}""", routes=f"""
  .dsd dv, mem1d, base={bd}, len={n}, stride={sd}
  .dsd av, mem1d, base={ba}, len={n}, stride={sa}
  .dsd bv, mem1d, base={bb}, len={n}, stride={sb}""")


def op_cycles(res):
    r1, r2 = payloads(res, 4)
    return r2 - r1 - 1                     # minus the rdcyc itself


@given(arch=arches, op=st.sampled_from(OPS), n=st.integers(1, 40))
def test_tensor_cost_per_class(arch, op, n):
    """A memory-only op over unit-stride operands costs max(1, ceil(n / width)) with the
    preset's SIMD width for its class."""
    mn, cls, *_ = op
    res = both(tensor_prog(mn, n), arch)
    assert op_cycles(res) == cost(n, PRESET[arch].simd[cls])


@given(arch=arches, op=st.sampled_from(OPS), n=st.integers(1, 30),
       which=st.integers(0, 2), stride=st.sampled_from([2, 3, -1]))
def test_tensor_cost_non_unit_stride(arch, op, n, which, stride):
    """Any memory operand that is not unit-stride makes the width 1 (n cycles)."""
    mn, cls, *_ = op
    if which == 2 and "b0" not in mn:
        which = 1
    strides = [1, 1, 1]
    strides[which] = stride
    bases = ["buf", "buf2", "buf3"]
    if stride < 0:
        bases[which] = f"{bases[which]}+{4 * n}"        # the elements stay inside the buffer
    res = both(tensor_prog(mn, n, tuple(strides), tuple(bases)), arch)
    assert op_cycles(res) == (1 if n == 1 else n)


@settings(max_examples=40)
@given(arch=arches, op=st.sampled_from(OPS), n0=st.integers(1, 6), n1=st.integers(1, 5),
       stride1=st.integers(2, 9), gap=st.booleans())
def test_tensor_cost_mem4d(arch, op, n0, n1, stride1, gap):
    """A mem4d operand that is one contiguous run is unit-stride (the preset's width), whatever
    the stride of a dimension of length 1; one with a gap between its rows makes the width 1.
    The destination is [n0, 1, n1] with strides [1, stride1, n0 (+1 with a gap)]
    (core_mutants.py: mem4d_length_one_dim_not_unit)."""
    mn, cls, *_ = op
    n = n0 * n1
    src = report_prog(f"""
  ldsd d0, dv
  ldsd a0, av
  ldsd b0, bv
  rdcyc r1
  {mn}
  rdcyc r2
{SEND_R1_R2}""", routes=f"""
  .dsd dv, mem4d, base=buf, len=[{n0}, 1, {n1}], stride=[1, {stride1}, {n0 + gap}]
  .dsd av, mem1d, base=buf2, len={n}
  .dsd bv, mem1d, base=buf3, len={n}""")
    res = both(src, arch)
    unit = not gap or n1 == 1
    assert op_cycles(res) == cost(n, PRESET[arch].simd[cls] if unit else 1)


@given(arch=arches, n=st.integers(1, 40), lag=st.integers(1, 10), half=st.booleans())
def test_recurrence_width(arch, n, lag, half):
    """A source that starts L elements before the destination and overlaps it limits the
    width to min(width, L)."""
    e = 1 if half else 2
    op, cls = ("faddh d0, a0, b0", "h_arith") if half else ("fadds d0, a0, b0", "s_arith")
    overlaps = lag < n
    res = both(tensor_prog(op, n, bases=(f"buf+{e * 40}", f"buf+{e * (40 - lag)}", "buf2")), arch)
    width = PRESET[arch].simd[cls]
    assert op_cycles(res) == cost(n, min(width, lag) if overlaps else width)


@given(arch=arches, n=st.integers(2, 40), ahead=st.integers(0, 10))
def test_recurrence_source_at_or_after_destination(arch, n, ahead):
    """A source that starts at or after the destination keeps the full width; so does a
    16-bit source of a 32-bit destination (faddhs src1), although such a source, starting
    after the destination, reads words the op already wrote (timing.md says so)."""
    res = both(tensor_prog("fadds d0, a0, b0", n,
                           bases=("buf+40", f"buf+{40 + 2 * ahead}", "buf2")), arch)
    assert op_cycles(res) == cost(n, PRESET[arch].simd["s_arith"])
    res = both(tensor_prog("faddhs d0, a0, b0", n,
                           bases=("buf+40", "buf2", f"buf+{40 + ahead}")), arch)
    assert op_cycles(res) == cost(n, PRESET[arch].simd["mixed"])


@given(arch=arches, n=st.integers(2, 40), before=st.integers(1, 5))
def test_recurrence_mixed_sizes(arch, n, before):
    """A source that starts before the destination, overlaps it and has another element size
    makes the width 1 (the fp16 source covers `n` words from 40 - before: it overlaps the
    destination's words from 40 when before < n)."""
    res = both(tensor_prog("faddhs d0, a0, b0", n,
                           bases=("buf+40", "buf2", f"buf+{40 - before}")), arch)
    assert op_cycles(res) == (n if before < n else cost(n, PRESET[arch].simd["mixed"]))


# ---------------------------------------------------------------------------------------------
# Async memory ops and the one-datapath rule
ASYNC_HDR = """
  ldsd d0, dv
  ldsd a0, av
  ldsd b0, av
"""


def async_prog(body, n, extra=""):
    return report_prog(ASYNC_HDR + body, tasks="  .task done, local", routes=f"""
  .dsd dv, mem1d, base=buf, len={n}
  .dsd av, mem1d, base=buf2, len={n}""", extra=extra)


@given(arch=arches, n=st.integers(1, 60))
def test_async_memory_op_activates_on_finish(arch, n):
    """An async memory op issued at t0 costs the main thread 1 cycle; it finishes at
    t0 + cost and activates its task then; an idle CE picks it in that cycle."""
    p = PRESET[arch]
    ts = p.task_switch
    src = async_prog("""
  fadds d0, a0, b0 async ut1 activate done
  rdcyc r1
  send 4, r1""", n, extra="done:\n  rdcyc r2\n  send 4, r2\n  exit")
    res = both(src, arch)
    t0 = ts + 3                                  # after three ldsd
    t_exit = t0 + 3                              # rdcyc at t0 + 1, send at t0 + 2, exit
    finish = t0 + cost(n, p.simd["s_arith"])
    pick = max(finish, t_exit + 1)
    assert payloads(res, 4) == [t0 + 1, pick + ts]


@given(arch=arches, n=st.integers(1, 60))
def test_datapath_shared_by_async_and_sync(arch, n):
    """One datapath: a synchronous memory op issued while an async one runs starts when it
    finishes, and holds the main thread through the wait."""
    p = PRESET[arch]
    c = cost(n, p.simd["s_arith"])
    src = async_prog("""
  fadds d0, a0, b0 async ut1
  fadds d0, a0, b0
  rdcyc r1
  send 4, r1""", n, extra="done:\n  exit")
    res = both(src, arch)
    t0 = p.task_switch + 3
    assert payloads(res, 4) == [max(t0 + 1, t0 + c) + c]


@given(arch=arches, n=st.integers(1, 60))
def test_datapath_shared_by_two_microthreads(arch, n):
    """Two async memory ops on two microthreads run one after the other on the datapath."""
    p = PRESET[arch]
    c = cost(n, p.simd["s_arith"])
    ts = p.task_switch
    src = async_prog("""
  fadds d0, a0, b0 async ut1
  fadds d0, a0, b0 async ut2 activate done
  rdcyc r1
  send 4, r1""", n, extra="done:\n  rdcyc r2\n  send 4, r2\n  exit")
    res = both(src, arch)
    t0 = ts + 3
    finish2 = max(t0 + 1, t0 + c) + c
    t_exit = t0 + 4                  # second op t0+1, rdcyc t0+2, send t0+3, exit t0+4
    assert payloads(res, 4) == [t0 + 2, max(finish2, t_exit + 1) + ts]


# ---------------------------------------------------------------------------------------------
# Wavelets: hop latency, the RAMP, host streams, control wavelets
def chain_prog(k):
    s = f"""
.fabric {k},1
.program src
  .route 3, ramp -> east
  .task main, local, start
main:
  send 3, r0
  exit
.endprogram
.program mid
  .route 3, west -> east
.endprogram
.place src, 0, 0
"""
    return s + "".join(f".place mid, {i}, 0\n" for i in range(1, k))


@given(arch=arches, k=st.integers(1, 8))
def test_hop_latency_along_a_row(arch, k):
    """send at t pushes into oq with ready t + 1; each router moves it when ready and the next
    buffer is ready hop_latency later; the host records the cycle of the last move."""
    p = PRESET[arch]
    res = both(chain_prog(k), arch)
    t_send = p.task_switch
    t_off = t_send + 1 + (k - 1) * p.hop_latency
    assert res["rec"] == [(k - 1, 0, 2, 3, 0, False, t_off)]       # port 2: EAST
    assert res["hops"] == k
    assert res["cycle"] == t_off + 1


DATA_TASK = """
.fabric 1,1
.program p
  .route 3, west -> ramp
  .route 4, ramp -> east
  .task got, data, color=3
  .task ct, control, id=5
got:
  rdcyc r2
  send 4, r2
  exit
ct:
  rdcyc r2
  send 4, r2
  exit
.endprogram
.place p,0,0
"""


@given(arch=arches, ctrl=st.booleans())
def test_host_wavelet_to_task(arch, ctrl):
    """A host wavelet enters rb at cycle 0 (ready hop_latency) and moves to the RAMP then.
    A data wavelet lands in iq ready one cycle later, so its task is picked at
    hop_latency + 1; a control wavelet sets its task's activated bit as it is pushed, so
    its task is picked in that very cycle."""
    p = PRESET[arch]
    res = both(DATA_TASK, arch, sends=[(3, 0, 0, "west", [5], ctrl)])
    pick = p.hop_latency + (0 if ctrl else 1)
    assert payloads(res, 4) == [pick + p.task_switch]


@given(arch=arches, q=st.integers(0, 7), extra=st.integers(1, 6))
def test_iq_and_router_buffer_depth(arch, q, extra):
    """A stream from the host into a blocked data task fills iq[c] (iq_depth[q]) and then
    rb[c] (router_depth); the rest waits at the host; the hang comes one cycle after the last
    wavelet that entered became ready."""
    p = PRESET[arch]
    d, r, h = p.iq_depth[q], p.router_depth, p.hop_latency
    m = d + r + extra
    src = f"""
.fabric 1,1
.program p
  .route 3, west -> ramp, iq={q}
  .task got, data, color=3, blocked
got:
  exit
.endprogram
.place p,0,0
"""
    res = both(src, arch, sends=[(3, 0, 0, "west", list(range(m)))], pes=[(0, 0)])
    s = res["pe"][(0, 0)]
    assert len(s["iq"][3]) == d
    assert len(s["rb"][3]) == r
    # one host wavelet enters per cycle: the last one that fits enters at d + r - 1
    assert res["err"] == ("HangError", d + r - 1 + h + 1)


@given(arch=arches, q=st.integers(0, 7), iq=st.integers(0, 7))
def test_oq_depth_and_backpressure(arch, q, iq):
    """Sends into a color whose far end is blocked fill the far iq, the far rb and then the
    sender's oq (oq_depth[q]); the next send waits (its failed retries are not activity), so
    the hang comes one cycle after the last wavelet sent became ready."""
    p = PRESET[arch]
    o, r, d = p.oq_depth[q], p.router_depth, p.iq_depth[iq]
    m = o + r + d
    src = f"""
.fabric 2,1
.program a
  .route 3, ramp -> east, oq={q}
  .task main, local, start
main:
  .rep {m + 5}
  send 3, r0
  .endr
  exit
.endprogram
.program b
  .route 3, west -> ramp, iq={iq}
  .task got, data, color=3, blocked
got:
  exit
.endprogram
.place a,0,0
.place b,1,0
"""
    res = both(src, arch, pes=[(0, 0), (1, 0)])
    a, b = res["pe"][(0, 0)], res["pe"][(1, 0)]
    assert a["stats"]["wavelets_sent"] == m
    assert (len(a["oq"][3]), len(b["rb"][3]), len(b["iq"][3])) == (o, r, d)
    t_last_send = p.task_switch + m - 1          # one send per cycle from the first
    assert res["err"] == ("HangError", t_last_send + 1 + 1)


@given(arch=arches, n=st.integers(1, 8))
def test_multicast_and_its_backpressure(arch, n):
    """A move copies the wavelet to every tx port in the same cycle (one hop each); it waits
    until every destination has room, so a full iq also holds back the East copy."""
    p = PRESET[arch]
    src = """
.fabric 1,1
.program p
  .route 3, west -> ramp | east
  .task got, data, color=3 {blk}
got:
  exit
.endprogram
.place p,0,0
"""
    n = min(n, p.iq_depth[3])        # no more than the iq holds: the data task is slower
    res = both(src.format(blk=""), arch, sends=[(3, 0, 0, "west", list(range(n)))])
    h = p.hop_latency
    assert [(r[4], r[6]) for r in res["rec"]] == [(j, j + h) for j in range(n)]
    assert res["hops"] == 2 * n
    d = p.iq_depth[3]
    res = both(src.format(blk=", blocked"), arch,
               sends=[(3, 0, 0, "west", list(range(d + 6)))], pes=[(0, 0)])
    assert payloads(res, 3) == list(range(d))
    assert len(res["pe"][(0, 0)]["iq"][3]) == d


@given(before=st.integers(0, 3), after=st.integers(1, 3))
def test_switch_advances_after_a_control_wavelet(before, after):
    """A control wavelet leaves by the current position's tx, then the position advances:
    the wavelets behind it take the next route."""
    src = """
.fabric 1,1
.program p
  .route 3, west -> east, west -> north
.endprogram
.place p,0,0
"""
    sends = [(3, 0, 0, "west", list(range(before))), (3, 0, 0, "west", [99], True),
             (3, 0, 0, "west", list(range(10, 10 + after)))]
    res = both(src, "wse2", sends=[s for s in sends if s[4]], pes=[(0, 0)])
    east, north = 2, 1
    assert [(r[2], r[4], r[5]) for r in res["rec"]] == (
        [(east, j, False) for j in range(before)] + [(east, 99, True)]
        + [(north, j, False) for j in range(10, 10 + after)])
    assert res["pe"][(0, 0)]["switch"] == {3: 1}


def link_model(t0, queues):
    """timing.md's link rule: one wavelet per link per cycle; colors are tried in the order
    (t + k) mod 24. queues: color -> payloads, all ready from t0. Returns (color, payload,
    cycle) in order."""
    out, t = [], t0
    queues = {c: list(v) for c, v in queues.items()}
    while any(queues.values()):
        for k in range(NCOLORS):
            c = (t + k) % NCOLORS
            if queues.get(c):
                out.append((c, queues[c].pop(0), t))
                break
        t += 1
    return out


@given(ca=st.integers(0, 23), cb=st.integers(0, 23), na=st.integers(1, 4), nb=st.integers(1, 4))
def test_link_shared_by_two_colors(ca, cb, na, nb):
    """Two colors leaving by one port: one wavelet per cycle, chosen by rotating priority."""
    if ca == cb:
        cb = (ca + 1) % NCOLORS
    src = f"""
.fabric 1,1
.program p
  .route {ca}, west -> east
  .route {cb}, north -> east
.endprogram
.place p,0,0
"""
    a, b = list(range(100, 100 + na)), list(range(200, 200 + nb))
    res = both(src, "wse2", sends=[(ca, 0, 0, "west", a), (cb, 0, 0, "north", b)])
    # each host port injects one wavelet per cycle: wavelet j is ready at j + hop_latency,
    # never later than the link can take it, so the model can take them as all ready
    h = PRESET["wse2"].hop_latency
    assert [(r[3], r[4], r[6]) for r in res["rec"]] == link_model(h, {ca: a, cb: b})


@given(k=st.integers(1, 5))
def test_rb_and_oq_alternate(k):
    """A color with through traffic (rb) and the CE's sends (oq): when both heads are ready
    the toggle decides, starting at rb and flipping after every move of the color."""
    body = "  li r1, 100\n" + "".join("  send 3, r1\n  addi r1, r1, 1\n" for _ in range(k))
    src = f"""
.fabric 1,1
.program p
  .route 3, west | ramp -> east
  .task main, local, start
main:
{body}
  exit
.endprogram
.place p,0,0
"""
    p = PRESET["wse2"]
    host = list(range(1, 2 * k + 3))
    res = both(src, "wse2", sends=[(3, 0, 0, "west", host)])
    # model: rb wavelet j ready at j + hop; send i at task_switch + 2 + 2i, ready one later
    rb = [(j + p.hop_latency, v) for j, v in enumerate(host)]
    oq = [(p.task_switch + 2 + 2 * i + 1, 100 + i) for i in range(k)]
    want, t, rb_first = [], 0, True
    while rb or oq:
        cand = [q for q in ((rb, oq) if rb_first else (oq, rb)) if q and q[0][0] <= t]
        if cand:
            want.append((cand[0].pop(0)[1], t))
            rb_first = not rb_first
        t += 1
    assert [(r[4], r[6]) for r in res["rec"]] == want


# ---------------------------------------------------------------------------------------------
# Fabric tensor ops
def fabin_prog(n, asy, late):
    op = "fmovs d0, a0" + (" async ut2 activate fin" if asy else "")
    return report_prog("  ldsd d0, dv\n  ldsd a0, av\n" + "  nop\n" * late
                       + f"  {op}\n  rdcyc r1\n  send 4, r1",
                       routes=f"""
  .route 3, west -> ramp
  .dsd dv, mem1d, base=buf, len={n}
  .dsd av, fabin, color=3, len={n}""", tasks="  .task fin, local",
                       extra="fin:\n  rdcyc r1\n  send 4, r1\n  exit")


@given(arch=arches, n=st.integers(1, 20), asy=st.booleans(), late=st.integers(0, 12))
def test_fabric_input_op_one_element_per_cycle(arch, n, asy, late):
    """A fabric source op processes one element per cycle when its wavelet is ready in iq; a
    synchronous one starts in its issue cycle, an async one at issue + 1 on its microthread;
    either finishes the cycle after its last element."""
    p = PRESET[arch]
    ts, h = p.task_switch, p.hop_latency
    res = both(fabin_prog(n, asy, late), arch, sends=[(3, 0, 0, "west", list(range(n)))])
    t0 = ts + 2 + late
    first = t0 + (1 if asy else 0)
    # host wavelet j enters at j, reaches iq at j + h, ready j + h + 1; the iq never holds
    # more than it can, as the op takes one per cycle (when it is late, the stream waits for
    # room one wavelet at a time, and refills the iq one per cycle)
    last = max(first + n - 1, (n - 1) + h + 1)
    finish = last + 1
    if asy:
        t_exit = t0 + 3
        assert payloads(res, 4) == [t0 + 1, max(finish, t_exit + 1) + ts]
    else:
        assert payloads(res, 4) == [finish]


@given(arch=arches, n=st.integers(1, 20), asy=st.booleans())
def test_fabric_output_op_one_element_per_cycle(arch, n, asy):
    """A fabric destination op pushes one element per cycle into oq (ready one cycle later);
    the router sends them off the fabric one per cycle."""
    p = PRESET[arch]
    op = "fmovs d0, a0" + (" async ut2" if asy else "")
    src = report_prog(f"  ldsd d0, dv\n  ldsd a0, av\n  {op}\n  rdcyc r1\n  send 5, r1",
                      routes=f"""
  .route 3, ramp -> east
  .route 5, ramp -> south
  .dsd dv, fabout, color=3, len={n}
  .dsd av, mem1d, base=buf, len={n}""")
    res = both(src, arch)
    t0 = p.task_switch + 2
    first = t0 + (1 if asy else 0)
    assert [r[6] for r in res["rec"] if r[3] == 3] == [first + i + 1 for i in range(n)]
    assert payloads(res, 5) == [t0 + 1 if asy else first + n]


# ---------------------------------------------------------------------------------------------
# Runs of local instructions
@given(arch=arches)
def test_poll_sees_async_write_only_at_a_run_boundary(arch):
    """A run executes up to 4096 instructions at its first cycle's state: a polling loop
    sees an async op's write only in the next run."""
    ts = PRESET[arch].task_switch
    src = report_prog("""
  ldsd d0, dv
  ldsd a0, av
  fmovs d0, a0 async ut1
loop:
  ld32 r3, [r0+buf]
  beq r3, r0, loop
  rdcyc r1
  send 4, r1""", routes="""
  .route 3, west -> ramp
  .dsd dv, mem1d, base=buf, len=1
  .dsd av, fabin, color=3, len=1""")
    res = both(src, arch, sends=[(3, 0, 0, "west", [9])])
    t0 = ts + 2                                  # the async op starts the run
    # the run: the op, then RUN_MAX - 1 loop instructions (ld32, beq, ld32, ...)
    nxt_is_beq = (RUN_MAX - 1) % 2 == 1
    t1 = t0 + RUN_MAX                            # the next run sees the value
    assert payloads(res, 4) == [t1 + (3 if nxt_is_beq else 2)]


# ---------------------------------------------------------------------------------------------
# Hang and watchdog
def test_hang_activated_but_blocked():
    """A cycle passes with nothing happening and nothing scheduled: the hang is at 1."""
    src = """
.fabric 1,1
.program p
  .task t, local, start, blocked
t:
  exit
.endprogram
.place p,0,0
"""
    for arch in ARCHES:
        assert both(src, arch)["err"] == ("HangError", 1)


@given(arch=arches, k=st.integers(0, 6), unblock=st.booleans())
def test_a_blocked_data_task_is_not_runnable(arch, k, unblock):
    """The scheduler: a data task is runnable only if it is not blocked, whatever its iq holds.
    The host's wavelet is ready in iq[3] (at hop_latency + 1) before main exits; once main
    has exited the idle CE picks the data task only if main unblocked it, else the fabric hangs
    with the wavelet still queued (core_mutants.py: blocked_data_task_runs)."""
    p = PRESET[arch]
    ts, n = p.task_switch, p.hop_latency + 2 + k
    body = "  nop\n" * n + ("  unblock got\n" if unblock else "")
    src = f"""
.fabric 1,1
.program p
  .route 3, west -> ramp
  .route 4, ramp -> east
  .task got, data, color=3, blocked
  .task main, local, start
main:
{body}  exit
got:
  rdcyc r2
  send 4, r2
  exit
.endprogram
.place p,0,0
"""
    res = both(src, arch, sends=[(3, 0, 0, "west", [7])], pes=[(0, 0)])
    t_exit = ts + n + (1 if unblock else 0)        # unblock is sync: it executes at ts + n
    if unblock:
        assert res["err"] is None
        assert payloads(res, 4) == [t_exit + 1 + ts]
    else:
        assert res["err"][0] == "HangError"
        assert res["rec"] == []
        assert [w[0] for w in res["pe"][(0, 0)]["iq"][3]] == [7]


@given(arch=arches, n=st.integers(1, 6), got=st.integers(0, 6), asy=st.booleans())
def test_hang_of_a_starved_fabric_op(arch, n, got, asy):
    """An op that waits for wavelets that never come: the hang is reported two cycles after
    the last cycle in which something happened (its issue, or its last element)."""
    got = min(got, n - 1)
    p = PRESET[arch]
    ts, h = p.task_switch, p.hop_latency
    op = "fmovs d0, a0" + (" async ut1" if asy else "")
    src = report_prog(f"  ldsd d0, dv\n  ldsd a0, av\n  {op}", routes=f"""
  .route 3, west -> ramp
  .dsd dv, mem1d, base=buf, len={n}
  .dsd av, fabin, color=3, len={n}""")
    res = both(src, arch, sends=[(3, 0, 0, "west", list(range(1, got + 1)))])
    t0 = ts + 2
    first = t0 + (1 if asy else 0)
    last = t0 + (1 if asy else 0)                # the op's issue (sync) / main's exit (async)
    if got:
        last = max(last, max(first + got - 1, (got - 1) + h + 1))
    assert res["err"] == ("HangError", last + 2)


@given(arch=arches, m=st.integers(1, 9000))
@settings(max_examples=20)
def test_watchdog_fires_at_max_cycles(arch, m):
    src = report_prog("  jmp main")
    assert both(src, arch, max_cycles=m)["err"] == ("WatchdogError", m)


# ---------------------------------------------------------------------------------------------
# Time jumps are unobservable
@pytest.mark.parametrize("arch", ARCHES)
def test_time_jump_unobservable(arch):
    """Stepping one cycle at a time gives the state of a run that jumps over idle cycles."""
    src = async_prog("  fmaxs d0, a0, b0 async ut1 activate done", 200,
                     extra="done:\n  rdcyc r1\n  send 4, r1\n  exit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssemblyWarning)
        obj = assemble_text(src, arch=arch)
    for cls in (Fabric, ReferenceFabric):
        a, b = cls(1, 1, arch), cls(1, 1, arch)
        a.load(obj)
        b.load(obj)
        a.run()
        while not b.run_until(b.cycle + 1):
            pass
        sa, sb = a.pe_state(0, 0), b.pe_state(0, 0)
        assert a.cycle == b.cycle
        assert sa["stats"] == sb["stats"] and sa["regs"] == sb["regs"]
        assert [r.cycle for r in a.received()] == [r.cycle for r in b.received()]


# ---------------------------------------------------------------------------------------------
# The worked example of docs/timing.md
DOC = Path(__file__).resolve().parents[2] / "docs" / "timing.md"


def _worked_example():
    text = DOC.read_text()
    sec = text[text.index("## Worked example"):]
    sec = sec[:sec.index("\n## ", 1)]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", sec, flags=re.S | re.M)
    src = next(b for info, b in blocks if info == "asm")
    console = next(b for info, b in blocks if info == "")
    return src, console


def test_worked_example():
    src, console = _worked_example()
    shown = {a: c for c, a in re.findall(r"cycles: (\d+) .*?, (wse\d)\)", console)}
    hops_shown = set(re.findall(r"wavelet hops: (\d+)", console))
    n = 4
    for arch in ARCHES:
        p = PRESET[arch]
        ts, h = p.task_switch, p.hop_latency
        t_out = ts + 2                           # the sender's fmovs, after two ldsd
        ready = [t_out + i + 1 + h + 1 for i in range(n)]   # in the receiver's iq
        t = ts + 4                               # the receiver's fadds, after four ldsd
        elems = []
        for i in range(n):
            t = max(t, ready[i])
            elems.append(t)
            t += 1
        t_exit = elems[-1] + 1 + cost(n, p.simd["s_mul"])
        res = both(src, arch)
        assert res["cycle"] == t_exit + 1 == int(shown[arch])
        assert res["hops"] == 2 * n and hops_shown == {str(2 * n)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AssemblyWarning)
            obj = assemble_text(src, arch=arch)
        for cls in (Fabric, ReferenceFabric):
            f = cls(2, 1, arch)
            f.load(obj)
            f.run()
            assert [float(v) for v in f.read("y", (1, 0, 1, 1)).ravel()] == [
                (x + 0.5) ** 2 for x in (1.0, 2.0, 3.0, 4.0)]
