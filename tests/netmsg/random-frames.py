#!/usr/bin/env python3
"""random-frames.py SEED COUNT HOST - a hostile peer's bytes for test-random-frames.sh

Writes to stdout what a peer named HOST sends a netmsgd: its NM_HELLO, look-ups of
"nm-b" and "nm-b-stuck" (so that it holds exports to send to), then COUNT frames
drawn from SEED (doc/netmsg.md, "Wire format").  Most are well formed, with the
kinds of rights, ids and items a peer could send, so that the stream gets past the
frame checks into what the frames mean; a few are not (a bad kind, side or type,
a cut body, stray NM_DATA), and the first of those ends the connection.
"""
import random
import struct
import sys

from nmpeer import (NM_CREDIT, NM_DATA, NM_DEAD, NM_HELLO, NM_LOOKUP, NM_LOOKUP_REPLY, NM_MSG, NM_ONCE_GONE,
                    NM_PING, NM_RELEASE, frame)

MIGRATED = 1 << 63
PORT_TYPES = (16, 17, 18, 19, 20, 21)   # MOVE_RECEIVE ... MAKE_SEND_ONCE
DATA_TYPES = {1: 1, 3: 4, 8: 1, 12: 1}    # BYTE, INTEGER_32, CHAR, STRING: element sizes
MEMORY = 32


def rare(p=0.02):
    return rng.random() < p


def an_id():
    r = rng.random()
    if r < 0.6:
        return rng.randint(0, 6)                # ids a peer has been given, or nearly
    if r < 0.9:
        return MIGRATED | rng.randint(0, 6)     # ports moving
    return rng.getrandbits(64)


def a_ref(kind_of_item=None):
    """A right: of the item's kind (or null, dead), any kind in a header; now and then one a peer may not send."""
    if rare(0.002):
        return struct.pack('<BBQ', rng.choice((1, 2, 4, 5)), rng.choice((0, 1, 2)), an_id())
    kind = rng.choice((kind_of_item,) * 3 + (0, 3)) if kind_of_item else rng.choice((0, 1, 1, 2, 2, 3, 4))
    ident = an_id()
    if kind == 4:
        return struct.pack('<BBQ', 4, 0, ident | MIGRATED)
    return struct.pack('<BBQ', kind, rng.choice((0, 0, 1)), ident)


def items():
    """Items, and how many region bytes follow them in NM_DATA."""
    out = bytearray()
    streamed = 0
    for _ in range(rng.randint(0, 3)):
        kind = 99 if rare(0.003) else rng.choice(PORT_TYPES + tuple(DATA_TYPES) + (MEMORY,))
        number = rng.randint(0, 4)
        out += struct.pack('<HHI', kind, 1 if rare() else 0, number)
        if kind in PORT_TYPES:
            of = 4 if kind == 16 else 2 if kind in (18, 21) else 1
            for _ in range(number):
                out += a_ref(of)
        elif kind == MEMORY:
            for _ in range(number):
                size = rng.choice((20000, 70000)) if rare(0.05) else rng.choice((0, 5, 100, 4096))
                out += struct.pack('<Q', size)
                if size <= 16384:
                    out += bytes(size)
                else:
                    streamed += size
        else:
            size = DATA_TYPES.get(kind, 1) * number
            out += bytes(rng.randint(0, 16) if rare(0.003) else size)
    return bytes(out), streamed


def a_frame():
    kind = NM_DATA if rare(0.003) else rng.choice((NM_MSG,) * 6 + (NM_RELEASE, NM_DEAD, NM_ONCE_GONE, NM_CREDIT,
                                                              NM_PING, NM_LOOKUP_REPLY, NM_LOOKUP))
    if kind == NM_MSG:
        its, streamed = items()
        body = struct.pack('<Qi', an_id(), rng.randint(0, 10)) + a_ref() + struct.pack('<I', len(its)) + its
        if rare(0.003):
            body = body[:rng.randint(0, len(body))]
    elif kind in (NM_RELEASE, NM_DEAD, NM_ONCE_GONE):
        body = struct.pack('<Q', an_id())
    elif kind == NM_CREDIT:
        body = struct.pack('<QI', an_id(), rng.randint(0, 16))
    elif kind == NM_PING:
        body = b''
    elif kind == NM_DATA:
        body = bytes(rng.randint(0, 64))
    elif kind == NM_LOOKUP_REPLY:
        body = struct.pack('<Ii', rng.randint(0, 3), rng.randint(-1, 1)) + a_ref()
    else:
        body = struct.pack('<IH', rng.randint(0, 9), 4) + b'nm-b'
    out = frame(kind, body)
    if kind == NM_MSG:
        # Its large regions follow (or, now and then, not all of them).
        left = streamed - (rng.randint(1, streamed) if streamed and rare(0.05) else 0)
        while left > 0:
            chunk = min(left, rng.choice((4096, 30000, 1 << 20)))
            out += frame(NM_DATA, bytes(chunk))
            left -= chunk
    return out


seed, count, host = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
rng = random.Random(seed)
out = frame(NM_HELLO, struct.pack('<HHH', 1, 0, len(host)) + host)
out += frame(NM_LOOKUP, struct.pack('<IH', 1, 4) + b'nm-b')
out += frame(NM_LOOKUP, struct.pack('<IH', 2, 10) + b'nm-b-stuck')
for _ in range(count):
    out += a_frame()
sys.stdout.buffer.write(out)
