"""The C API's error conventions (csrc/wse.h's header comment), call by call: a PE outside the
fabric is WSE_BAD_ARG naming the PE and the fabric's size; a PE without a program is
WSE_NOT_FOUND for the calls that need its image or router (and a described state for the
snapshot calls); a NULL required pointer, or a NULL buffer with a count, is WSE_BAD_ARG naming
the call and the argument; a range that does not fit is WSE_BAD_ARG. Every error replaces the
message (a stale one from the call before is never shown), and a NULL handle is WSE_BAD_ARG
(or 0 for the calls that return values). The tables must name every function of wse.h.

Before API version 7, wse_symbol, wse_mem_read, wse_mem_write, wse_task_id and wse_send said
WSE_NOT_FOUND for a PE outside the fabric, and several errors left the previous message."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from wse.asm import assemble_text
from wse.emu import errors as E
from wse.emu import fabric as F
from wse.emu.fabric import Fabric, ffi, lib

HEADER = Path(__file__).resolve().parents[2] / "csrc" / "wse.h"

# (0,0) and (1,0) run `a`; (2,0) and the row y = 1 are empty. The fabric is 3x2.
SRC = """.fabric 3, 2
.program a
    .route 1, west -> ramp
    .task main, local
main:
    exit
    .data
buf: .u32 1, 2
    .export buf
    .dsd d_buf, mem1d, base=buf, len=2
.endprogram
.place a, 0, 0, 2, 1
"""
OBJ = assemble_text(SRC)
OUTSIDE = r"PE \(3,0\) is outside the 3x2 fabric"
FAR = r"PE \(4294967295,0\) is outside the 3x2 fabric"      # (no wrap-around of x)
EMPTY = r"PE \(2,0\) has no program"
STALE = "stale message of the call before"


@pytest.fixture
def fab():
    f = Fabric(3, 2, "wse2")
    f.load(OBJ)
    return f


class Out:
    """Out-parameters for the calls (fresh per case)."""

    def __init__(self):
        self.u = ffi.new("unsigned int *")
        self.u2 = ffi.new("unsigned int *")
        self.i = ffi.new("int *")
        self.ull = ffi.new("unsigned long long *")
        self.s = ffi.new("const char **")
        self.s2 = ffi.new("const char **")
        self.u3 = ffi.new("unsigned int *")
        self.words = ffi.new("unsigned short[4]")
        self.pay = ffi.new("unsigned int[1]", [7])
        self.stats = ffi.new("wse_stats *")
        self.state = ffi.new("wse_pe_state *")
        self.fault = ffi.new("wse_fault_info *")
        self.info = ffi.new("wse_waits_info *")
        self.recv = ffi.new("wse_host_wavelet[1]")
        self.ev = ffi.new("wse_trace_event[1]")
        self.xy = ffi.new("unsigned int[2]")


# Calls that name one PE: call(h, o, x, y) -> status.
PE_CALLS = {
    "wse_symbol": lambda h, o, x, y: lib.wse_symbol(h, x, y, b"buf", o.u, o.u2, o.i),
    "wse_symbol_count": lambda h, o, x, y: lib.wse_symbol_count(h, x, y, o.u),
    "wse_symbol_at": lambda h, o, x, y: lib.wse_symbol_at(h, x, y, 0, o.s, o.i),
    "wse_dsd_name": lambda h, o, x, y: lib.wse_dsd_name(h, x, y, 0, o.s),
    "wse_source": lambda h, o, x, y: lib.wse_source(h, x, y, 0, 0, o.s, o.u, o.u2, o.s2, o.u3),
    "wse_mem_read": lambda h, o, x, y: lib.wse_mem_read(h, x, y, 0, 1, o.words),
    "wse_mem_write": lambda h, o, x, y: lib.wse_mem_write(h, x, y, 100, 1, o.words),
    "wse_task_id": lambda h, o, x, y: lib.wse_task_id(h, x, y, b"main", o.i),
    # (east: the port that faces the edge at x = 2; at x = 0 the west one)
    "wse_send": lambda h, o, x, y: lib.wse_send(h, x, y, lib.WSE_API_PORT_WEST if x == 0 else
                                                lib.WSE_API_PORT_EAST, 1, o.pay, 1, 0),
    "wse_pe_stats": lambda h, o, x, y: lib.wse_pe_stats(h, x, y, o.stats),
    "wse_pe_state_get": lambda h, o, x, y: lib.wse_pe_state_get(h, x, y, o.state, ffi.NULL),
}
# the snapshot calls describe a PE without a program instead of refusing it
SNAPSHOTS = {"wse_pe_stats": lambda o: o.stats.pes == 0 and o.stats.instructions == 0,
             "wse_pe_state_get": lambda o: o.state.placed == 0 and o.state.pc == -1}

# Calls that take a rectangle: call(h, o, x0, y0, w, h) -> status, and the message's words.
RECT_CALLS = {
    "wse_symbol_rect": (lambda h, o, x0, y0, w, hh: lib.wse_symbol_rect(h, b"buf", x0, y0, w, hh, 1, o.words, 0),
                        r"rectangle \({x0},{y0}\) {w}x{h} is not inside the 3x2 fabric"),
    "wse_launch": (lambda h, o, x0, y0, w, hh: lib.wse_launch(h, 0, x0, y0, w, hh),
                   r"rectangle \({x0},{y0}\) {w}x{h} is not inside the 3x2 fabric"),
    "wse_launch_name": (lambda h, o, x0, y0, w, hh: lib.wse_launch_name(h, b"main", x0, y0, w, hh),
                        r"rectangle \({x0},{y0}\) {w}x{h} is not inside the 3x2 fabric"),
    "wse_trace_window": (lambda h, o, x0, y0, w, hh: lib.wse_trace_window(h, x0, y0, w, hh, 0, 10),
                         r"rectangle \({x0}, {y0}, {w}, {h}\) is not inside the 3x2 fabric"),
}

# A NULL required pointer (or a NULL buffer with a count): call(h, o) -> status, message.
NULL_CALLS = [
    ("wse_load", lambda h, o: lib.wse_load(h, ffi.NULL, 10), r"wse_load: a null data"),
    ("wse_symbol", lambda h, o: lib.wse_symbol(h, 0, 0, ffi.NULL, o.u, o.u2, o.i), r"wse_symbol: a null name"),
    ("wse_symbol_count", lambda h, o: lib.wse_symbol_count(h, 0, 0, ffi.NULL), r"wse_symbol_count: a null count"),
    ("wse_symbol_at", lambda h, o: lib.wse_symbol_at(h, 0, 0, 0, ffi.NULL, o.i), r"wse_symbol_at: a null name"),
    ("wse_dsd_name", lambda h, o: lib.wse_dsd_name(h, 0, 0, 0, ffi.NULL), r"wse_dsd_name: a null name"),
    ("wse_symbol_pes", lambda h, o: lib.wse_symbol_pes(h, ffi.NULL, 0, ffi.NULL, 0, o.ull), r"wse_symbol_pes: a null name"),
    ("wse_symbol_pes", lambda h, o: lib.wse_symbol_pes(h, b"buf", 0, ffi.NULL, 0, ffi.NULL), r"wse_symbol_pes: a null count"),
    ("wse_symbol_pes", lambda h, o: lib.wse_symbol_pes(h, b"buf", 0, ffi.NULL, 1, o.ull), r"a null buffer for 1 PEs"),
    ("wse_source", lambda h, o: lib.wse_source(h, 0, 0, 0, 0, ffi.NULL, o.u, o.u2, o.s2, o.u3), r"wse_source: a null file"),
    ("wse_source", lambda h, o: lib.wse_source(h, 0, 0, 0, 0, o.s, o.u, o.u2, o.s2, ffi.NULL), r"wse_source: a null iteration"),
    ("wse_mem_read", lambda h, o: lib.wse_mem_read(h, 0, 0, 0, 1, ffi.NULL), r"wse_mem_read: a null buffer for 1 words"),
    ("wse_mem_write", lambda h, o: lib.wse_mem_write(h, 0, 0, 100, 1, ffi.NULL), r"wse_mem_write: a null buffer for 1 words"),
    ("wse_symbol_rect", lambda h, o: lib.wse_symbol_rect(h, ffi.NULL, 0, 0, 1, 1, 1, o.words, 0), r"wse_symbol_rect: a null name"),
    ("wse_symbol_rect", lambda h, o: lib.wse_symbol_rect(h, b"buf", 0, 0, 1, 1, 1, ffi.NULL, 0), r"wse_symbol_rect: a null buffer"),
    ("wse_task_id", lambda h, o: lib.wse_task_id(h, 0, 0, ffi.NULL, o.i), r"wse_task_id: a null name"),
    ("wse_launch_name", lambda h, o: lib.wse_launch_name(h, ffi.NULL, 0, 0, 1, 1), r"wse_launch_name: a null name"),
    ("wse_send", lambda h, o: lib.wse_send(h, 0, 0, lib.WSE_API_PORT_WEST, 1, ffi.NULL, 1, 0),
     r"wse_send: a null buffer for 1 payloads"),
    ("wse_received_read", lambda h, o: lib.wse_received_read(h, 0, 1, ffi.NULL), r"wse_received_read: a null buffer for 1"),
    ("wse_trace_read", lambda h, o: lib.wse_trace_read(h, 0, 1, ffi.NULL), r"wse_trace_read: a null buffer for 1"),
    ("wse_trace_open", lambda h, o: lib.wse_trace_open(h, 0, 0, o.ev, ffi.NULL), r"wse_trace_open: a null count"),
    ("wse_trace_open", lambda h, o: lib.wse_trace_open(h, 0, 1, ffi.NULL, o.ull), r"wse_trace_open: a null buffer for 1 spans"),
    ("wse_fault_get", lambda h, o: lib.wse_fault_get(h, ffi.NULL), r"wse_fault_get: a null output"),
    ("wse_waits", lambda h, o: lib.wse_waits(h, ffi.NULL, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL, 0), r"wse_waits: a null info"),
    ("wse_waits", lambda h, o: lib.wse_waits(h, o.info, ffi.NULL, 1, ffi.NULL, 0, ffi.NULL, 0), r"a null buffer for 1 waits"),
    ("wse_stats_get", lambda h, o: lib.wse_stats_get(h, ffi.NULL), r"wse_stats_get: a null output"),
    ("wse_pe_stats", lambda h, o: lib.wse_pe_stats(h, 0, 0, ffi.NULL), r"wse_pe_stats: a null output"),
    ("wse_pe_state_get", lambda h, o: lib.wse_pe_state_get(h, 0, 0, ffi.NULL, ffi.NULL), r"wse_pe_state_get: a null output"),
]

# Counts, addresses and indexes that do not fit: call(h, o) -> status, message. (The calls run on
# the loaded fabric before any run: nothing received, nothing traced.)
U64 = 2**64 - 1
RANGE_CALLS = [
    ("wse_mem_read", lambda h, o: lib.wse_mem_read(h, 0, 0, 2**32 - 1, 2, o.words),
     r"words \[4294967295, 4294967297\) are outside SRAM \[0, 24576\)"),
    ("wse_mem_write", lambda h, o: lib.wse_mem_write(h, 0, 0, 24575, 2, o.words),
     r"words \[24575, 24577\) are outside SRAM"),
    ("wse_symbol_at", lambda h, o: lib.wse_symbol_at(h, 0, 0, 9, o.s, o.i), r"has 2 symbols; there is no symbol 9"),
    ("wse_dsd_name", lambda h, o: lib.wse_dsd_name(h, 0, 0, 1, o.s), r"PE \(0,0\) \(image a\) has 1 DSDs; there is no DSD 1"),
    ("wse_symbol_pes", lambda h, o: lib.wse_symbol_pes(h, b"buf", 3, ffi.NULL, 0, o.ull), r"kind 3 is not 0"),
    ("wse_symbol_rect", lambda h, o: lib.wse_symbol_rect(h, b"buf", 0, 0, 1, 1, 5, o.words, 0),
     r"symbol 'buf' at PE \(0,0\) has 2 elements \(4 words\); 5 words asked"),
    ("wse_launch", lambda h, o: lib.wse_launch(h, 64, 0, 0, 1, 1), r"task id 64 is not 0..63"),
    ("wse_send", lambda h, o: lib.wse_send(h, 0, 0, 3, 1, o.pay, 1, 0), r"port 3 is not NORTH"),
    ("wse_send", lambda h, o: lib.wse_send(h, 0, 0, lib.WSE_API_PORT_WEST, 24, o.pay, 1, 0), r"color 24 is not 0..23"),
    # start + n wraps around to 0: refused (it used to pass the check and copy from start)
    ("wse_received_read", lambda h, o: lib.wse_received_read(h, 1, U64, o.recv),
     r"wavelets \[1, \+18446744073709551615\) are not within the 0 received"),
    ("wse_received_read", lambda h, o: lib.wse_received_read(h, 0, 1, o.recv), r"are not within the 0 received"),
    ("wse_trace_read", lambda h, o: lib.wse_trace_read(h, 1, U64, o.ev),
     r"events \[1, \+18446744073709551615\) are not within the 0 recorded"),
    ("wse_trace_window", lambda h, o: lib.wse_trace_window(h, 0, 0, 1, 1, 5, 5), r"the cycles \[5, 5\) are empty"),
    ("wse_trace_open", lambda h, o: lib.wse_trace_open(h, 1, U64, o.ev, o.ull),
     r"wse_trace_open: spans \[1, \+18446744073709551615\) are not within the 0 open"),
    ("wse_trace_open", lambda h, o: lib.wse_trace_open(h, 0, 1, o.ev, o.ull), r"spans \[0, \+1\) are not within the 0 open"),
    ("wse_run", lambda h, o: (lib.wse_run(h, 10, 0), lib.wse_run(h, U64, 5))[1],
     r"max_cycles 5 is before the fabric's cycle 10"),
]

# The calls that return a value rather than a status, and what they give for a NULL handle.
VALUE_CALLS = {
    "wse_api_version": lambda: lib.wse_api_version() == lib.WSE_API_VERSION == F.API_VERSION,
    "wse_message": lambda: ffi.string(lib.wse_message(ffi.NULL)) == b"no fabric",
    "wse_close": lambda: lib.wse_close(ffi.NULL) is None,
    "wse_pe_placed": lambda: lib.wse_pe_placed(ffi.NULL, 0, 0) == 0,
    "wse_received_count": lambda: lib.wse_received_count(ffi.NULL) == 0,
    "wse_cycle": lambda: lib.wse_cycle(ffi.NULL) == 0,
    "wse_is_idle": lambda: lib.wse_is_idle(ffi.NULL) == 0,
    "wse_trace_count": lambda: lib.wse_trace_count(ffi.NULL) == 0,
    "wse_f16_to_f32": lambda: lib.wse_f16_to_f32(0x3C00) == 0x3F800000,
    "wse_f32_to_f16": lambda: lib.wse_f32_to_f16(0x3F800000) == 0x3C00,
}

# Every call that takes a handle, with a NULL one: WSE_BAD_ARG.
NULL_HANDLE = {
    "wse_load": lambda o: lib.wse_load(ffi.NULL, OBJ, len(OBJ)),
    "wse_info": lambda o: lib.wse_info(ffi.NULL, o.u, o.u2, o.i, o.ull, o.u3),
    "wse_symbol": lambda o: PE_CALLS["wse_symbol"](ffi.NULL, o, 0, 0),
    "wse_state_report": lambda o: lib.wse_state_report(ffi.NULL),
    "wse_source": lambda o: PE_CALLS["wse_source"](ffi.NULL, o, 0, 0),
    "wse_mem_read": lambda o: PE_CALLS["wse_mem_read"](ffi.NULL, o, 0, 0),
    "wse_mem_write": lambda o: PE_CALLS["wse_mem_write"](ffi.NULL, o, 0, 0),
    "wse_symbol_rect": lambda o: RECT_CALLS["wse_symbol_rect"][0](ffi.NULL, o, 0, 0, 1, 1),
    "wse_symbol_count": lambda o: PE_CALLS["wse_symbol_count"](ffi.NULL, o, 0, 0),
    "wse_symbol_at": lambda o: PE_CALLS["wse_symbol_at"](ffi.NULL, o, 0, 0),
    "wse_dsd_name": lambda o: PE_CALLS["wse_dsd_name"](ffi.NULL, o, 0, 0),
    "wse_symbol_pes": lambda o: lib.wse_symbol_pes(ffi.NULL, b"buf", 0, ffi.NULL, 0, o.ull),
    "wse_task_id": lambda o: PE_CALLS["wse_task_id"](ffi.NULL, o, 0, 0),
    "wse_launch": lambda o: RECT_CALLS["wse_launch"][0](ffi.NULL, o, 0, 0, 1, 1),
    "wse_launch_name": lambda o: RECT_CALLS["wse_launch_name"][0](ffi.NULL, o, 0, 0, 1, 1),
    "wse_send": lambda o: PE_CALLS["wse_send"](ffi.NULL, o, 0, 0),
    "wse_received_read": lambda o: lib.wse_received_read(ffi.NULL, 0, 0, o.recv),
    "wse_run": lambda o: lib.wse_run(ffi.NULL, U64, 0),
    "wse_run_slice": lambda o: lib.wse_run_slice(ffi.NULL, U64, 0, 1),
    "wse_run_timed": lambda o: lib.wse_run_timed(ffi.NULL, U64, 0, 1),
    "wse_fault_get": lambda o: lib.wse_fault_get(ffi.NULL, o.fault),
    "wse_waits": lambda o: lib.wse_waits(ffi.NULL, o.info, ffi.NULL, 0, ffi.NULL, 0, ffi.NULL, 0),
    "wse_stats_get": lambda o: lib.wse_stats_get(ffi.NULL, o.stats),
    "wse_pe_stats": lambda o: PE_CALLS["wse_pe_stats"](ffi.NULL, o, 0, 0),
    "wse_pe_state_get": lambda o: PE_CALLS["wse_pe_state_get"](ffi.NULL, o, 0, 0),
    "wse_trace_enable": lambda o: lib.wse_trace_enable(ffi.NULL, 1),
    "wse_trace_window": lambda o: RECT_CALLS["wse_trace_window"][0](ffi.NULL, o, 0, 0, 1, 1),
    "wse_trace_read": lambda o: lib.wse_trace_read(ffi.NULL, 0, 0, o.ev),
    "wse_trace_open": lambda o: lib.wse_trace_open(ffi.NULL, 0, 0, o.ev, o.ull),
}

# The calls without a handle, refusing a NULL buffer or a bad size.
NO_HANDLE = {
    "wse_open": lambda o: [lib.wse_open(3, 2, 0, ffi.NULL), lib.wse_open(0, 2, 0, ffi.new("wse_fabric **")),
                           lib.wse_open(4097, 1, 0, ffi.new("wse_fabric **")),
                           lib.wse_open(1, 1, 99, ffi.new("wse_fabric **"))],
    "wse_disasm": lambda o: [lib.wse_disasm(0, ffi.NULL, 16), lib.wse_disasm(0, ffi.new("char[4]"), 0)],
    "wse_peek": lambda o: [lib.wse_peek(ffi.NULL, 32, o.i, o.u, o.u2, ffi.NULL, 0)],
}


def _stale(h) -> None:
    """Leave a message that the next error must replace."""
    lib.wse_symbol_pes(h, b"x", 9, ffi.NULL, 0, ffi.new("unsigned long long *"))
    assert "kind 9" in F._str(lib.wse_message(h))
    msg = ffi.new("char[]", STALE.encode())
    ffi.memmove(lib.wse_message(h), msg, len(STALE) + 1)


def _message(h) -> str:
    return F._str(lib.wse_message(h))


@pytest.mark.parametrize("name", sorted(PE_CALLS))
@pytest.mark.parametrize("x, words", [(3, OUTSIDE), (2**32 - 1, FAR)])
def test_a_pe_outside_the_fabric_is_bad_arg_naming_it_and_the_fabric(fab, name, x, words):
    h = fab._f
    _stale(h)
    assert PE_CALLS[name](h, Out(), x, 0) == lib.WSE_BAD_ARG
    assert re.fullmatch(words, _message(h)), _message(h)


def test_pe_placed_says_0_outside_the_fabric(fab):
    assert lib.wse_pe_placed(fab._f, 3, 0) == 0 and lib.wse_pe_placed(fab._f, 0, 2) == 0
    assert lib.wse_pe_placed(fab._f, 1, 0) == 1


@pytest.mark.parametrize("name", sorted(PE_CALLS))
def test_a_pe_without_a_program(fab, name):
    h, o = fab._f, Out()
    _stale(h)
    st = PE_CALLS[name](h, o, 2, 0)
    if name in SNAPSHOTS:
        assert st == lib.WSE_OK and SNAPSHOTS[name](o)
        assert _message(h) == STALE                # (no error: the message is untouched)
    else:
        assert st == lib.WSE_NOT_FOUND
        assert re.fullmatch(EMPTY, _message(h)), _message(h)


@pytest.mark.parametrize("name", sorted(PE_CALLS))
def test_the_same_calls_work_on_a_pe_with_a_program(fab, name):
    """(so that the refusals above are about the PE, not about the rest of the arguments)"""
    o = Out()
    assert PE_CALLS[name](fab._f, o, 0, 0) == lib.WSE_OK, _message(fab._f)
    if name in SNAPSHOTS:
        assert not SNAPSHOTS[name](o)


@pytest.mark.parametrize("name", sorted(RECT_CALLS))
@pytest.mark.parametrize("rect", [(2, 0, 2, 1), (0, 1, 1, 2), (2**32 - 1, 0, 2, 1), (0, 0, 0, 1)])
def test_a_rectangle_not_inside_the_fabric_is_bad_arg_naming_it(fab, name, rect):
    call, words = RECT_CALLS[name]
    h = fab._f
    _stale(h)
    assert call(h, Out(), *rect) == lib.WSE_BAD_ARG
    x0, y0, w, hh = rect
    assert re.search(words.format(x0=x0, y0=y0, w=w, h=hh), _message(h)), _message(h)


@pytest.mark.parametrize("name, want", [("wse_symbol_rect", lib.WSE_NOT_FOUND), ("wse_launch", lib.WSE_NOT_FOUND),
                                        ("wse_launch_name", lib.WSE_NOT_FOUND), ("wse_trace_window", lib.WSE_OK)])
def test_a_rectangle_of_pes_without_a_program(fab, name, want):
    call, _ = RECT_CALLS[name]
    h = fab._f
    _stale(h)
    assert call(h, Out(), 0, 1, 3, 1) == want
    if name == "wse_symbol_rect":
        assert _message(h) == "PE (0,1) has no program"
    elif want == lib.WSE_NOT_FOUND:
        assert re.fullmatch(r"no PE in the rectangle \(0,1\) 3x1 defines task (0|'main')", _message(h)), _message(h)
    assert call(h, Out(), 0, 0, 2, 1) == lib.WSE_OK          # the PEs with a program


@pytest.mark.parametrize("name, call, words", NULL_CALLS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(NULL_CALLS)])
def test_a_null_required_pointer_is_bad_arg_naming_the_call_and_argument(fab, name, call, words):
    h = fab._f
    _stale(h)
    assert call(h, Out()) == lib.WSE_BAD_ARG
    assert re.search(words, _message(h)), _message(h)


@pytest.mark.parametrize("name, call, words", RANGE_CALLS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(RANGE_CALLS)])
def test_a_range_that_does_not_fit_is_bad_arg_saying_both(fab, name, call, words):
    h = fab._f
    _stale(h)
    assert call(h, Out()) == lib.WSE_BAD_ARG
    assert re.search(words, _message(h)), _message(h)


def test_a_send_past_the_host_queue_counters_is_refused_before_reading_the_payloads(fab):
    """The queue's counters are 32-bit: one more wavelet than fits is refused (the check comes
    before the payloads are read, so a one-element buffer with a huge count is safe here)."""
    h, o = fab._f, Out()
    assert lib.wse_send(h, 0, 0, lib.WSE_API_PORT_WEST, 1, o.pay, 1, 0) == lib.WSE_OK
    assert lib.wse_send(h, 0, 0, lib.WSE_API_PORT_WEST, 1, o.pay, 2**32 - 1, 0) == lib.WSE_BAD_ARG
    assert re.search(r"1 host wavelets already wait at port WEST of PE \(0,0\); 4294967295 more would pass",
                     _message(h)), _message(h)
    with pytest.raises(E.HangError):            # (nothing reads color 1 on PE (0,0))
        fab.run()
    assert fab.stats()["host_in"] == 1          # the one queued wavelet, and no more


@pytest.mark.parametrize("name", sorted(NULL_HANDLE))
def test_a_null_handle_is_bad_arg(name):
    assert NULL_HANDLE[name](Out()) == lib.WSE_BAD_ARG


@pytest.mark.parametrize("name", sorted(NO_HANDLE))
def test_the_calls_without_a_handle_refuse_a_null_buffer_or_a_bad_size(name):
    assert set(NO_HANDLE[name](Out())) == {lib.WSE_BAD_ARG}


@pytest.mark.parametrize("name", sorted(VALUE_CALLS))
def test_the_calls_that_return_values(name):
    assert VALUE_CALLS[name]()


def test_the_tables_name_every_function_of_the_header():
    """A function added to wse.h without a row here fails this test."""
    declared = set(re.findall(r"^[a-z][\w \*]*?\b(wse_\w+)\(", HEADER.read_text(), re.M))
    assert len(declared) >= 35, declared
    covered = (set(PE_CALLS) | set(RECT_CALLS) | {n for n, _, _ in NULL_CALLS} | {n for n, _, _ in RANGE_CALLS}
               | set(VALUE_CALLS) | set(NULL_HANDLE) | set(NO_HANDLE))
    assert declared - covered == set(), "add these to the tables"
    assert covered - declared == set()
    # and each call that takes a handle has its NULL-handle row
    takes_handle = set(re.findall(r"^[a-z][\w \*]*?\b(wse_\w+)\((?:const )?wse_fabric \*f\b", HEADER.read_text(), re.M))
    assert takes_handle - set(NULL_HANDLE) == {"wse_close", "wse_message", "wse_pe_placed", "wse_received_count",
                                               "wse_cycle", "wse_is_idle", "wse_trace_count"}


def test_the_header_states_the_conventions():
    text = HEADER.read_text()
    for words in ("is outside the WxH fabric", "has no program", "a null what", "start + n may not wrap",
                  "replaces wse_message()"):
        assert words in text, words


# ---- the Python side: each status becomes its typed exception, with the core's message ----
STATUS_ERRORS = [("WSE_BAD_ARG", E.BadArgError), ("WSE_NOT_FOUND", E.NotFoundError),
                 ("WSE_LOAD_ERROR", E.LoadError), ("WSE_NOMEM", MemoryError), ("WSE_FAULT", E.FaultError),
                 ("WSE_HANG", E.HangError), ("WSE_WATCHDOG", E.WatchdogError), ("WSE_YIELD", E.WseError)]


@pytest.mark.parametrize("status, exc", STATUS_ERRORS)
def test_fabric_maps_each_error_status_to_its_exception(fab, status, exc):
    _stale(fab._f)
    with pytest.raises(exc) as e:
        fab._check(getattr(lib, status))
    assert STALE in str(e.value)               # the core's message is the exception's text
    assert fab._check(lib.WSE_OK) == lib.WSE_OK and fab._check(lib.WSE_PAUSED) == lib.WSE_PAUSED


def test_the_statuses_of_the_enum_are_all_mapped():
    names = re.findall(r"^\s+(WSE_[A-Z_]+) = \d+", HEADER.read_text().split("enum wse_status {")[1].split("};")[0], re.M)
    assert set(names) == {s for s, _ in STATUS_ERRORS} | {"WSE_OK", "WSE_PAUSED"}


@pytest.mark.parametrize("call, exc, words", [
    (lambda f: f.read_mem(2, 0, 0, 1), E.NotFoundError, "PE (2,0) has no program"),
    (lambda f: f.write_mem(2, 1, 0, [1]), E.NotFoundError, "PE (2,1) has no program"),
    (lambda f: f.read_mem(0, 0, 24575, 2), E.BadArgError, "words [24575, 24577) are outside SRAM [0, 24576)"),
    (lambda f: f.send(1, 2, 0, "east", [1]), E.NotFoundError, "PE (2,0) has no program"),
    (lambda f: f.source(0, 0, 5), E.BadArgError, "pc 5 is outside the code of PE (0,0) (1 instructions)"),
    (lambda f: f.read_mem(3, 0, 0, 1), E.BadArgError, "x 3 is out of range 0..2"),
])
def test_python_callers_get_the_typed_error_with_its_words(fab, call, exc, words):
    with pytest.raises(exc) as e:
        call(fab)
    assert words in str(e.value) and "Traceback" not in str(e.value)
