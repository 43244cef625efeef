"""A hang report says the same, word for word, on both emulators (csrc/wse_core.c state_report
and wait_print; emu/reference.py hang_report and wse.emu.errors.format_waits), and is never cut
silently.

The whole text is compared: the state of each PE (task, pc, instruction, source, registers,
the ops with every color they wait on or write, the microthreads' ops with their instruction
and issue, tasks, colors in color order, the host) and who waits on whom. Nothing is excluded:
both emulators hold the same state at every cycle boundary (the differential tests check it),
and the report says only what that state holds. A watchdog report, which stops a run anywhere
(ops mid-way, a send not tried yet), is compared too, and so is every hang and watchdog of the
differential tests (tests/emu/test_differential.py).

The C core used to build its report in a 64 KiB message buffer and stop writing at its end;
the text now grows as it needs (a note says so when host memory runs out), and a wait whose
color reaches more than WAIT_TARGETS CEs says how many more (Wait.more_targets)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from wse.emu import Fabric, HangError, WatchdogError
from wse.emu import errors as E
from wse.emu.reference import ReferenceFabric

from helpers import SEND_INTO_A_PE_AT_REST, assemble_quietly, chain_program, chains, report_diffs, section
from test_hang_report import BLOCKED_DATA_TASK, OPS_WAITING
from test_wait_records import READ_ONE, _feeders, _multicast, hang_both, _starved_grid, open_deadlock

MSG_LEN = 65536      # the C core's fixed message buffer (csrc/wse_internal.h), which hang reports outgrow


def both(src: str, grid, act=None) -> tuple[HangError, HangError]:
    """The hang of the program on each emulator: (core, reference), their records equal field
    by field and their reports equal line by line (hang_both); it must hang."""
    out = hang_both(src, grid, act, max_cycles=10**6)
    assert out is not None, "the program does not hang:\n" + src
    return out


# an op with two fabric sources (colors 1 and 2) that writes a third (color 4), on the main
# thread, and the same on a microthread
TWO_SOURCES = """    .route 1, west -> ramp
    .route 2, north -> ramp
    .route 4, ramp -> east
    .dsd in1, fabin, color=1, len=4
    .dsd in2, fabin, color=2, len=4
    .dsd out, fabout, color=4, len=4
    .task main, local, start
main:
    ldsd d1, out
    ldsd a1, in1
    ldsd b1, in2
    fadds d1, a1, b1{mode}
    exit
"""


@pytest.mark.parametrize("src, grid, act", [
    pytest.param(OPS_WAITING, (1, 1), None, id="ops-waiting"),
    pytest.param(SEND_INTO_A_PE_AT_REST, (2, 1), None, id="send-into-a-pe-at-rest"),
    pytest.param(open_deadlock(), (2, 1), None, id="deadlock-example"),
    pytest.param(BLOCKED_DATA_TASK, (1, 1), lambda f: f.send(5, 0, 0, "west", list(range(40))),
                 id="blocked-data-task-and-host"),
    pytest.param(TWO_SOURCES.format(mode=""), (1, 1), None, id="two-sources"),
    pytest.param(TWO_SOURCES.format(mode=" async ut3"), (1, 1), None, id="two-sources-async"),
    pytest.param(_starved_grid(5, 4), (5, 4), None, id="more-waits-than-shown"),
    pytest.param(_starved_grid(9, 8), (9, 8), None, id="more-pes-than-described"),
    pytest.param(_feeders(E.WAIT_TARGETS + 3), (E.WAIT_TARGETS + 4, 1), None, id="feeders-beyond-64"),
    pytest.param(_multicast(E.WAIT_TARGETS + 1), (E.WAIT_TARGETS + 2, 1), None, id="multicast-beyond-64"),
    pytest.param(".route 1, west -> east\n" + READ_ONE, (1, 1), None, id="no-ramp"),
])
def test_the_same_report_on_both_emulators(src, grid, act):
    core, _ = both(src, grid, act)
    assert core.report.startswith(f"hang at cycle {core.cycle}: nothing can happen any more")


def _same_end(data: bytes, w: int, h: int, max_cycles: int) -> None:
    """Both emulators end the run the same way (finished, hang or watchdog) and, when it
    stops, with the same report."""
    ends = []
    for cls in (Fabric, ReferenceFabric):
        fab = cls(w, h, "wse2")
        fab.load(data)
        try:
            ends.append(("ok", fab.run(max_cycles=max_cycles)))
        except (HangError, WatchdogError) as e:
            ends.append((type(e).__name__, e.report))
    assert ends[0][0] == ends[1][0]
    if ends[0][0] != "ok":
        d = report_diffs(ends[0][1], ends[1][1])
        assert not d, "\n".join(d)


@given(chains())
def test_generated_chains_give_the_same_report(chain):
    w, h, path, closed, roles, head_from, counts, fillers = chain
    data = assemble_quietly(chain_program(w, h, path, closed, roles, head_from, counts, fillers))
    _same_end(data, w, h, 10**5)


@pytest.mark.parametrize("async_, who", [("", "    fabric op: 0 of 4 elements done; "), (" async ut3", ", ")])
def test_an_op_with_two_fabric_sources_names_both_colors(async_, who):
    """The C core named only the first fabric source, and ran "waits ... writes ..." together."""
    core, _ = both(TWO_SOURCES.format(mode=async_), (1, 1))
    sep = "; " if not async_ else ", "
    want = (f"waits for wavelets on color 1 (a1 loaded from DSD `in1` by the ldsd at pc 1, <string>:10:5)"
            f"{sep}waits for wavelets on color 2 (b1 loaded from DSD `in2` by the ldsd at pc 2, <string>:11:5)"
            f"{sep}writes color 4 (d1 loaded from DSD `out` by the ldsd at pc 0, <string>:9:5)\n")
    assert who + want in core.report, core.report
    if async_:
        assert ("  ut3: fadds d1, a1, b1 async ut3 (issued by task 0 (main) at pc 3, <string>:12:5), "
                "0 of 4 elements done, " + want) in core.report, core.report
    assert sorted((w.kind, w.color) for w in core.waits) == [("fabin", 1), ("fabin", 2)]


@pytest.mark.parametrize("extra", [0, 1, 5])
def test_a_wait_beyond_64_targets_says_how_many_more(extra):
    n = E.WAIT_TARGETS + extra
    core, ref = both(_multicast(n), (n + 1, 1))
    [w] = core.waits
    assert w.more_targets == extra == ref.waits[0].more_targets
    assert len(w.waits_on) == E.WAIT_TARGETS
    [line] = section(core.report)[1:]
    head = line.split(";")[0]
    assert head.endswith(f"PE ({E.WAIT_TARGETS},0)" + (f" and {extra} more" if extra else "")), head
    assert str(w) == line.strip()


def test_a_report_longer_than_the_old_64_kib_buffer_is_whole():
    """17 rows, each with a wait on 65 CEs (16 printed, each with its 64 targets and a note for
    each), after the state of 64 PEs: the C core used to cut this at 64 KiB, silently."""
    core, _ = both(_multicast(E.WAIT_TARGETS + 1, E.WAIT_SHOW + 1), (E.WAIT_TARGETS + 2, E.WAIT_SHOW + 1))
    assert len(core.report) > MSG_LEN
    assert len(core.waits) == E.WAIT_SHOW + 1 and all(w.more_targets == 1 for w in core.waits)
    assert section(core.report) == E.format_waits(core.waits, core.deadlock)
    assert section(core.report)[-1] == "  ... and 1 more waits"
    assert "... and " in core.report.split("who waits on whom")[0]        # "... and N more PEs"
    assert "not enough host memory" not in core.report


def test_the_state_report_grows_too():
    """wse_state_report (what wse-emu prints on Ctrl-C) is built the same way: the state of
    64 PEs of the same program, whole, ending with how many more PEs there are."""
    fab = Fabric(E.WAIT_TARGETS + 2, E.WAIT_SHOW + 1, "wse2")
    fab.load(assemble_quietly(_multicast(E.WAIT_TARGETS + 1, E.WAIT_SHOW + 1)))
    with pytest.raises(HangError) as e:
        fab.run()
    text = fab.state_report()
    assert text.startswith(f"state at cycle {e.value.cycle}:\n")
    assert text.split("\n", 1)[1] == e.value.report.split("\n", 1)[1].split("who waits on whom")[0]
    assert text.rstrip("\n").splitlines()[-1].startswith("... and ")


@settings(max_examples=60)
@given(chain=chains(), stop=st.integers(1, 120))
def test_a_watchdog_report_is_the_same_on_both_emulators(chain, stop):
    """The watchdog report (the state where max_cycles stopped the run, without the waits) too,
    wherever in the run it stops: ops still going, queues filling, tasks between instructions."""
    w, h, path, closed, roles, head_from, counts, fillers = chain
    data = assemble_quietly(chain_program(w, h, path, closed, roles, head_from, counts, fillers))
    _same_end(data, w, h, stop)
