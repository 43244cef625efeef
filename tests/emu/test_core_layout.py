"""Large fabrics: after a load, the core moves every PE's structures into one block (huge pages,
see relocate_pes in csrc/wse_core.c). The results must be those of the per-PE allocations (the
figures below were recorded with the core before that change), also after a reload."""
import numpy as np

from wse.emu import Fabric
from wse.emu.perf import build_multicast

EXPECTED = {"cycles": 146, "instructions": 4800, "busy_cycles": 128400, "idle_cycles": 46800,
            "wavelets_sent": 0, "wavelets_received": 76800, "wavelet_hops": 151680, "stalls": 0,
            "tasks": 1200, "tensor_elements": 76800, "host_in": 1920, "host_out": 0, "pes": 1200}


def _run(fab, w=40, h=30, n=64):
    for y in range(h):
        fab.send(3, 0, y, "west", np.arange(n, dtype=np.uint32) + 7)
    fab.run()
    st = fab.stats()
    return {k: st[k] for k in EXPECTED}


def test_large_fabric_multicast_matches_recorded_figures_and_reload():
    data = build_multicast(40, 30, 64)
    fab = Fabric.from_object(data)
    assert _run(fab) == EXPECTED
    assert fab.pe_stats(39, 29)["wavelets_received"] == 64
    assert int(fab.read("sink", rect=(5, 7, 1, 1)).ravel()[0]) == 63 + 7
    fab.load(data)                    # frees the block, builds a new one
    assert _run(fab) == EXPECTED
    assert int(fab.read("sink", rect=(39, 29, 1, 1)).ravel()[0]) == 63 + 7


def test_perf_command_help_and_bad_argument(capsys):
    """`python -m wse.emu.perf --help` prints the usage without measuring; a stray argument is a
    usage error (exit 2), not silently ignored."""
    import pytest

    from wse.emu.perf import main

    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0 and "--json" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["--bogus"])
    assert e.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err
