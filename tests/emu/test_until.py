"""wse-emu --until CYCLE: stop at a cycle and show what every busy PE is doing there (the state
report), exit 0, and save --output as the symbols are at that cycle (said on stderr). A run that
ends before the cycle is an ordinary run. And a report of a run that is only paused (the
watchdog, --until, Ctrl-C) neither lists who waits on whom nor says of a color that "no data
task or op reads it" while the PE's task is still running (it may read it later): both are
claims that only hold at a hang."""
import numpy as np
import pytest

from wse.asm import assemble_file, assemble_text
from wse.emu import Fabric, WatchdogError
from wse.emu.cli import main
from wse.emu.reference import ReferenceFabric
from wse.kernels.driver import kernel_source


@pytest.fixture
def stencil(tmp_path):
    p = tmp_path / "st.wso"
    p.write_bytes(assemble_file(str(kernel_source("examples/stencil.s")), defines={"P": 8, "N": 16}))
    return p


def _full_run_cycles(path) -> int:
    return int(Fabric.from_object(path.read_bytes()).run())


def test_until_stops_there_and_reports_the_state(stencil, tmp_path, capsys):
    end = _full_run_cycles(stencil)
    stop = end // 3
    out = tmp_path / "buf.npy"
    assert main([str(stencil), "--until", str(stop), "--output", f"buf={out}"]) == 0
    o, err = capsys.readouterr()
    assert f"cycles: {stop} " in o and f"state at cycle {stop}:" in o and "PE (" in o
    assert "who waits on whom" not in o and "no data task or op reads it" not in o
    assert f"stopped at cycle {stop} as --until asked" in err
    # the saved symbols are the state at that cycle, as Fabric.run_until leaves them
    fab = Fabric.from_object(stencil.read_bytes())
    fab.run_until(stop)
    assert np.array_equal(np.load(out), fab.read("buf"))


def test_until_after_the_end_is_a_normal_run(stencil, capsys):
    end = _full_run_cycles(stencil)
    assert main([str(stencil), "--until", str(end + 100)]) == 0
    o, err = capsys.readouterr()
    assert f"cycles: {end} " in o and "state at cycle" not in o and err == ""


@pytest.mark.parametrize("args, words", [
    (["--until", "0"], "--until must be 1 .. 2**64-2"),
    (["--until", "5", "--max-cycles", "9"], "--until and --max-cycles exclude each other"),
])
def test_bad_until(stencil, capsys, args, words):
    assert main([str(stencil)] + args) == 2
    assert words in capsys.readouterr().err


SLOW_READER = """
.fabric 2, 1
.program a
    .route 1, ramp -> east
    .task main, local, start
main:
    li r2, 7
    send 1, r2
    exit
.endprogram
.program b
    .route 1, west -> ramp
    .dsd inbox, fabin, color=1, len=1
    .dsd slot, mem1d, base=got, len=1
    .task main, local, start
main:
    li r3, 60
spin:
    addi r3, r3, -1
    bne r3, r0, spin
    ldsd d0, slot
    ldsd a0, inbox
    mov32 d0, a0
    exit
    .data
got: .u32 0
    .export got
.endprogram
.place a, 0, 0
.place b, 1, 0
"""


@pytest.mark.parametrize("cls", [Fabric, ReferenceFabric], ids=["core", "reference"])
def test_a_paused_report_makes_no_claim_a_running_task_may_undo(cls):
    """PE (1,0) spins before it reads color 1: at the watchdog the wavelet waits in its input
    queue, and the report must not say that nothing reads it (it is read at the end), nor
    list waits."""
    fab = cls(2, 1, "wse2")
    fab.load(assemble_text(SLOW_READER))
    with pytest.raises(WatchdogError) as e:
        fab.run(max_cycles=30)
    text = str(e.value)
    assert "color 1: router buffer 0, output queue 0, input queue 1 wavelet(s)" in text
    assert "no data task or op reads it" not in text and "who waits on whom" not in text
    assert int(fab.run()) > 60
    assert fab.read("got", rect=(1, 0, 1, 1))[0, 0, 0] == 7


@pytest.mark.parametrize("cls", [Fabric, ReferenceFabric], ids=["core", "reference"])
def test_a_stop_between_two_tasks_says_which_data_task_runs_next(cls):
    """kernels/examples/stream.s (N=32, K=4, wse3): at cycle 100 PE (1,0)'s CE is between two
    runs of its data task, with 8 wavelets in its input queue. The report says that the task is
    to run (it listed only the queues, which read like a stall); at cycle 105 the task runs and
    the line is gone."""
    obj = assemble_file(str(kernel_source("examples/stream.s")), defines={"N": 32, "K": 4}, arch="wse3")
    lines = {}
    for stop in (100, 105):
        fab = cls(2, 1, "wse3")
        fab.load(obj)
        fab.write("x", np.arange(32, dtype=np.float32), rect=(0, 0, 1, 1))
        with pytest.raises(WatchdogError) as e:
            fab.run(max_cycles=stop)
        lines[stop] = [ln for ln in str(e.value).splitlines() if "between tasks" in ln]
    assert lines[100] == ["  color 0: router buffer 4, output queue 0, input queue 8 wavelet(s); route position 0 "
                          "tx RAMP; the CE is between tasks: its data task 1(consume) is to run for it; own input "
                          "queue full"]
    assert lines[105] == []
