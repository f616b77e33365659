#!/usr/bin/env python3
"""Looks for bytes in a tcpdump capture (classic pcap, Ethernet or Linux
cooked link layer, IPv4/IPv6 + TCP), in every TCP stream reassembled by
sequence number and in the raw file.

  pcap.py FILE [--secret NAME:HEX]... [--canary NAME:HEX]... [--plain NAME:TEXT]...

--secret: must NOT appear in any form: raw bytes, hex (lower or upper case),
          base64 (standard or URL-safe, at each of the 3 alignments a value
          can have inside a longer base64 text), base58.
--canary: the same forms, but MUST be found (a control that the search
          finds what is there).
--plain:  this text MUST appear (a control that the capture saw the traffic).
Prints each finding and per-port byte counts; exit 1 when any rule is broken.
"""
import base64
import struct
import sys

A = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58e(b):
    n = int.from_bytes(b, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = A[r] + s
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + s


def forms(secret):
    """(form name, bytes) that reveal the secret."""
    out = [("raw", secret), ("hex", secret.hex().encode()), ("HEX", secret.hex().upper().encode())]
    for pad in range(3):
        for name, enc in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            full = enc(b"\0" * pad + secret)
            # characters that depend only on the secret's bytes: skip the ones
            # mixed with the padding in front and the last partial group
            start = (pad * 4 + 2) // 3 if pad else 0
            body = full[start:]
            keep = (len(secret) + pad) // 3 * 4 - start
            body = body[:keep]
            if pad == 0 and len(secret) % 3 == 0:
                body = full.rstrip(b"=")
            if len(body) >= 16:
                out.append((f"{name}@{pad}", body))
    out.append(("base58", b58e(secret).encode()))
    return out


def packets(path):
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise SystemExit(f"{path}: not a classic pcap file")
    link = struct.unpack(e + "I", data[20:24])[0]
    i = 24
    while i + 16 <= len(data):
        incl = struct.unpack(e + "I", data[i + 8:i + 12])[0]
        pkt = data[i + 16:i + 16 + incl]
        i += 16 + incl
        if link == 1:      # Ethernet
            off, etype = 14, struct.unpack(">H", pkt[12:14])[0]
        elif link == 113:  # Linux cooked
            off, etype = 16, struct.unpack(">H", pkt[14:16])[0]
        elif link == 0:    # BSD loopback
            off, etype = 4, 0x0800 if pkt[0] == 2 or pkt[3] == 2 else 0x86DD
        else:
            raise SystemExit(f"link type {link} not handled")
        ip = pkt[off:]
        if etype == 0x0800 and len(ip) >= 20:
            ihl = (ip[0] & 15) * 4
            if ip[9] != 6:
                continue
            total = struct.unpack(">H", ip[2:4])[0]
            src, dst, tcp = ip[12:16], ip[16:20], ip[ihl:total]
        elif etype == 0x86DD and len(ip) >= 40:
            if ip[6] != 6:
                continue
            src, dst, tcp = ip[8:24], ip[24:40], ip[40:40 + struct.unpack(">H", ip[4:6])[0]]
        else:
            continue
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        payload = tcp[(tcp[12] >> 4) * 4:]
        yield (src, sport, dst, dport), seq, payload


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    path, rules = args[0], []
    it = iter(args[1:])
    for a in it:
        v = next(it)
        name, val = v.split(":", 1)
        rules.append((a, name, val))
    streams, ports = {}, {}
    for flow, seq, payload in packets(path):
        if not payload:
            continue
        streams.setdefault(flow, {})[seq] = payload  # a retransmission replaces its copy
        ports[flow[1]] = ports.get(flow[1], 0) + len(payload)
    blobs = [open(path, "rb").read()]
    for flow, segs in streams.items():
        base = min(segs)
        blobs.append(b"".join(segs[s] for s in sorted(segs, key=lambda s: (s - base) % (1 << 32))))
    print("payload bytes by source port: " + ", ".join(f"{p}:{n}" for p, n in sorted(ports.items())))
    bad = 0
    for kind, name, val in rules:
        if kind == "--plain":
            found = any(val.encode() in b for b in blobs)
            print(f"{'ok' if found else 'FAIL'}: plaintext control {name} ({val[:12]}..) "
                  f"{'seen' if found else 'NOT seen'} on the wire")
            bad += not found
            continue
        secret = bytes.fromhex(val)
        hits = [f for f, needle in forms(secret) if any(needle in b for b in blobs)]
        if kind == "--secret":
            print(f"{'FAIL' if hits else 'ok'}: secret {name}: " +
                  (f"FOUND on the wire as {hits}" if hits else "not on the wire in any form"))
            bad += bool(hits)
        else:
            print(f"{'ok' if hits else 'FAIL'}: canary {name}: " +
                  (f"found as {hits}" if hits else "NOT found: the search is blind"))
            bad += not hits
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
