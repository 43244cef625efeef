"""Program-building helpers for the C core's tests (no assembler: wse.isa.builder)."""
import numpy as np

from wse.emu import Fabric
from wse.isa import objfile
from wse.isa.builder import ImageBuilder

N, E, S, W, R = 1, 2, 4, 8, 16


def li(b, r, v):
    v &= 0xFFFFFFFF
    b.emit("lui", r1=r, uimm16=v >> 16)
    b.emit("ori", r1=r, r2=r, uimm16=v & 0xFFFF)


def fbits(x):
    return int(np.float32(x).view(np.uint32))


def hbits(x):
    return int(np.float16(x).view(np.uint16))


def obj_bytes(images, w=None, h=None, arch="wse2"):
    w = w or max(x for x, _ in images) + 1
    h = h or max(y for _, y in images) + 1
    return objfile.ObjectFile.from_pe_images(arch, w, h, images).to_bytes()


def make(images, w=None, h=None, arch="wse2", cls=Fabric):
    data = obj_bytes(images, w, h, arch)
    w = w or max(x for x, _ in images) + 1
    h = h or max(y for _, y in images) + 1
    f = cls(w, h, arch)
    f.load(data)
    return f


def single(build, arch="wse2", cls=Fabric, setup=None):
    """A 1x1 fabric running one activated task whose body `build(b)` emits (exit appended)."""
    b = ImageBuilder("t")
    if setup:
        setup(b)
    b.label("main")
    build(b)
    b.emit("exit")
    b.task(0, "main", activated=True)
    img = b.build()
    return make({(0, 0): img}, arch=arch, cls=cls), b


def regs_after(build, cls=Fabric):
    """The registers of PE (0, 0) after `single(build)` ran to the end."""
    f, _ = single(build, cls=cls)
    f.run()
    return f.pe_state(0, 0)["regs"]


def binop(mn, a, b, cls=Fabric):
    """r3 = mn(a, b) on a 1x1 fabric of class cls."""
    def body(bb):
        li(bb, 1, a)
        li(bb, 2, b)
        bb.emit(mn, r1=3, r2=1, r3=2)
    return regs_after(body, cls)[3]
