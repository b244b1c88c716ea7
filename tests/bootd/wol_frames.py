#!/usr/bin/python3
"""Count the Wake-on-LAN frames for one MAC in a pcap file (Ethernet).

usage: wol_frames.py PCAP MAC   prints "raw=N udp=M bad=K"

raw: frames to ff:ff:ff:ff:ff:ff with EtherType 0x0842 whose payload is
exactly the magic packet for MAC; udp: IPv4 datagrams to 255.255.255.255
port 9 whose payload is exactly it. The magic packet is built here, from
its definition (6 x 0xff, then MAC 16 times), not by fleetboot's code.
bad: frames of either kind that carry anything else (another MAC's magic
packet counts as bad unless it is well formed for some MAC). A record cut
short at the end of the file (tcpdump still writing) is ignored.
"""
import struct
import sys


def magic_for(mac):
    return b"\xff" * 6 + mac * 16


def well_formed(p):
    # a magic packet for some MAC: 6 x 0xff, then one MAC 16 times
    return len(p) == 102 and p[:6] == b"\xff" * 6 and p[6:12] * 16 == p[6:]


def main():
    path, mac_text = sys.argv[1], sys.argv[2]
    mac = bytes(int(x, 16) for x in mac_text.replace("-", ":").split(":"))
    want = magic_for(mac)
    raw = udp = bad = 0
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        print("raw=0 udp=0 bad=0")
        return
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            break
        fr = data[off:off + incl]
        off += incl
        if len(fr) < 14:
            continue
        dst, etype = fr[:6], struct.unpack(">H", fr[12:14])[0]
        body = fr[14:]
        if etype == 0x0842:
            if dst == b"\xff" * 6 and body == want:
                raw += 1
            elif not (dst == b"\xff" * 6 and well_formed(body)):
                bad += 1
        elif etype == 0x0800 and len(body) >= 28 and body[9] == 17:
            ihl = (body[0] & 15) * 4
            ip_dst = body[16:20]
            dport = struct.unpack(">H", body[ihl + 2:ihl + 4])[0]
            ulen = struct.unpack(">H", body[ihl + 4:ihl + 6])[0]
            payload = body[ihl + 8:ihl + ulen]
            if dport != 9:
                continue
            if ip_dst == b"\xff" * 4 and payload == want:
                udp += 1
            elif not (ip_dst == b"\xff" * 4 and well_formed(payload)):
                bad += 1
    print("raw=%d udp=%d bad=%d" % (raw, udp, bad))


main()
