#!/usr/bin/python3
"""Crash-test workload and verifier for storaged (tests/storaged/test-crash.sh).

  crash_workload.py write URI STATE BASE SEED   write until the server dies
  crash_workload.py verify URI STATE BASE       check what survived

The model lives in STATE (JSON, replaced atomically after every acknowledged
flush) plus STATE.log (the writes issued since, appended before each is
sent; "A" lines record acknowledged FUA writes). Sector content is derived
from (sector, generation), so any sector can be checked on its own:
generation 0 is the base image, -1 is zeros.

write prints "progress: W writes, F flushes acknowledged" after every
acknowledged flush, and when the server dies "workload stopped after W
acknowledged writes and F acknowledged flushes: ERROR", so the test can
tell a workload that ran from one that never connected.

verify: a sector not written since the last acknowledged flush must read
back exactly as the model says; a sector written since may read as its
flushed value or as any of the later writes (a volatile cache may or may not
have kept them), but nothing else. The verifier then adopts what it found,
so the next cycle starts from the truth.
"""
import hashlib
import json
import os
import random
import sys

import nbd

SECT = 512


def content(sector, gen, base):
    if gen == 0:
        return base[sector * SECT:(sector + 1) * SECT]
    if gen == -1:
        return bytes(SECT)
    return hashlib.sha256(b"%d:%d" % (sector, gen)).digest() * (SECT // 32)


def load(state):
    try:
        with open(state) as f:
            s = json.load(f)
        return {int(k): v for k, v in s["flushed"].items()}, s["gen"]
    except FileNotFoundError:
        return {}, 0


def save(state, flushed, gen):
    tmp = state + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"flushed": {str(k): v for k, v in flushed.items()}, "gen": gen}, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, state)
    open(state + ".log", "w").close()


class Counts:
    """Acknowledged writes (FUA or not, zeroes included) and flushes."""
    writes = 0
    flushes = 0


def write(uri, state, base, seed, acked):
    flushed, gen = load(state)
    rnd = random.Random(seed)
    h = nbd.NBD()
    h.connect_uri(uri)
    nsect = h.get_size() // SECT
    pending = {}
    log = open(state + ".log", "a")
    n_ops = 0
    while True:
        n_ops += 1
        gen += 1
        r = rnd.random()
        # Mostly small writes at any sector (sub-cluster read-modify-write),
        # some whole 4 KiB clusters, some zeroes, FUA now and then.
        if r < 0.3:
            s = rnd.randrange(0, nsect // 8 - 8) * 8
            n = 8 * rnd.randint(1, 4)
        else:
            n = rnd.randint(1, 12)
            s = rnd.randrange(0, nsect - n)
        zero = rnd.random() < 0.08
        fua = rnd.random() < 0.1
        g = -1 if zero else gen
        log.write("P %d %d %d\n" % (s, n, g))
        log.flush()
        if zero:
            h.zero(n * SECT, s * SECT, nbd.CMD_FLAG_FUA if fua else 0)
        else:
            data = b"".join(content(s + i, g, base) for i in range(n))
            h.pwrite(data, s * SECT, nbd.CMD_FLAG_FUA if fua else 0)
        acked.writes += 1
        for i in range(n):
            pending[s + i] = g
        if fua:
            log.write("A %d %d %d\n" % (s, n, g))
            log.flush()
        if n_ops % 25 == 0:
            h.flush()
            acked.flushes += 1
            flushed.update(pending)
            pending.clear()
            save(state, flushed, gen)
            log = open(state + ".log", "a")
            print("progress: %d writes, %d flushes acknowledged" %
                  (acked.writes, acked.flushes), flush=True)


def verify(uri, state, base):
    flushed, gen = load(state)
    required = dict(flushed)  # sector -> generation it must hold (if no candidates)
    candidates = {}
    try:
        with open(state + ".log") as f:
            for line in f:
                parts = line.split()
                if len(parts) != 4:
                    continue  # a line cut short: its write was never sent
                kind, s, n, g = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
                for i in range(n):
                    if kind == "P":
                        candidates.setdefault(s + i, set()).add(g)
                    else:  # acknowledged FUA: durable from here on
                        required[s + i] = g
                        candidates.pop(s + i, None)
    except FileNotFoundError:
        pass
    h = nbd.NBD()
    h.connect_uri(uri)
    size = h.get_size()
    disk = bytearray()
    step = 4 << 20
    for off in range(0, size, step):
        disk += h.pread(min(step, size - off), off)
    h.shutdown()
    bad = 0
    checked = 0
    for sector in range(size // SECT):
        actual = bytes(disk[sector * SECT:(sector + 1) * SECT])
        want = required.get(sector, 0)
        opts = {want} | candidates.get(sector, set())
        found = None
        for g in opts:
            if content(sector, g, base) == actual:
                found = g
                break
        if sector not in candidates:
            checked += 1
        if found is None:
            bad += 1
            if bad <= 5:
                print("sector %d: content matches none of %s" % (sector, sorted(opts)))
            continue
        if found:
            flushed[sector] = found
        else:
            flushed.pop(sector, None)
    if bad:
        print("FAIL: %d sectors wrong" % bad)
        return 1
    save(state, flushed, gen)
    print("ok: %d sectors exact, %d with un-flushed writes resolved" %
          (checked, len(candidates)))
    return 0


def main():
    mode, uri, state, base_path = sys.argv[1:5]
    with open(base_path, "rb") as f:
        base = f.read()
    if mode == "write":
        acked = Counts()
        try:
            write(uri, state, base, int(sys.argv[5]), acked)
        except nbd.Error as e:
            print("workload stopped after %d acknowledged writes and %d acknowledged "
                  "flushes: %s" % (acked.writes, acked.flushes, e), flush=True)
        return 0
    return verify(uri, state, base)


if __name__ == "__main__":
    sys.exit(main())
