#!/usr/bin/python3
"""Take a QEMU screendump over QMP and fingerprint one region of it.

usage: screendump.py QMP_SOCKET OUT_PREFIX X Y W H
Writes OUT_PREFIX.ppm (what QEMU wrote) and OUT_PREFIX.png (for people),
then prints the sha256 of the region's RGB bytes and, on the next lines, the
region as text ('#' for dark pixels), so a log shows what was on screen.
For programs that draw only on the framebuffer (memtest86+ started as a
UEFI program takes no command line, so it has no serial console).
"""
import hashlib
import json
import socket
import struct
import sys
import zlib


def qmp(sock_path, cmd):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sock_path)
    f = s.makefile("rwb")
    f.readline()  # greeting
    for c in ({"execute": "qmp_capabilities"}, cmd):
        f.write(json.dumps(c).encode() + b"\n")
        f.flush()
        while True:
            r = json.loads(f.readline())
            if "return" in r or "error" in r:
                break
        if "error" in r:
            raise SystemExit("qmp: %s" % r["error"])
    s.close()


def read_ppm(path):
    d = open(path, "rb").read()
    magic, dims, maxval, px = d.split(b"\n", 3)
    assert magic == b"P6" and maxval == b"255", "not a P6 PPM"
    w, h = map(int, dims.split())
    return w, h, px


def write_png(path, w, h, px):
    raw = b"".join(b"\x00" + px[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))

    hdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", hdr) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    sock, out = sys.argv[1], sys.argv[2]
    x0, y0, cw, ch = map(int, sys.argv[3:7])
    qmp(sock, {"execute": "screendump", "arguments": {"filename": out + ".ppm"}})
    w, h, px = read_ppm(out + ".ppm")
    write_png(out + ".png", w, h, px)
    if x0 + cw > w or y0 + ch > h:
        print("screen is %dx%d: no region %d,%d %dx%d" % (w, h, x0, y0, cw, ch))
        return
    rows = [px[(y * w + x0) * 3:(y * w + x0 + cw) * 3] for y in range(y0, y0 + ch)]
    print(hashlib.sha256(b"".join(rows)).hexdigest())
    for r in rows:
        print("".join("#" if sum(r[i:i + 3]) < 200 else "." for i in range(0, len(r), 3)))


main()
