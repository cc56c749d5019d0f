#!/usr/bin/env python3
"""release-race.py ADDR:PORT NAME CERT KEY CA - a release that crosses a new reference

Connects to a netmsgd as host NAME (TLS, protocol 1.1), looks "nm-b" up (the
answer: export 1, one reference), then looks it up again and, without waiting
for that answer, releases the export saying it saw one reference - as a peer
whose last proxy holder let go just as a new reference was on its way.  The
export must live on (the second reference is still out), so a request sent to
it afterwards is answered.  Prints the outcome; exit status 0 if answered.
"""
import socket
import ssl
import struct
import sys

NM_HELLO, NM_MSG, NM_RELEASE, NM_LOOKUP, NM_LOOKUP_REPLY, NM_ONCE_GONE = 1, 2, 3, 5, 6, 7


def frame(kind, body):
    return struct.pack('<IHH', len(body), kind, 0) + body


def read_exactly(conn, n):
    out = b''
    while len(out) < n:
        chunk = conn.recv(n - len(out))
        if not chunk:
            sys.exit('release-race: the connection closed')
        out += chunk
    return out


def read_frame(conn, want):
    """The next frame of one of the kinds @want (others, PINGs among them, are skipped)."""
    while True:
        n, kind, _ = struct.unpack('<IHH', read_exactly(conn, 8))
        body = read_exactly(conn, n)
        if kind in want:
            return kind, body


def lookup(request):
    return frame(NM_LOOKUP, struct.pack('<IH', request, 4) + b'nm-b')


addr, name, cert, key, ca = sys.argv[1:6]
host, port = addr.rsplit(':', 1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
conn = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=20))
conn.sendall(frame(NM_HELLO, struct.pack('<HHH', 1, 1, len(name)) + name.encode()) + lookup(1))
_, body = read_frame(conn, (NM_LOOKUP_REPLY,))
request, code, kind, side, export = struct.unpack_from('<IiBBQ', body)
if code != 0 or kind != 1:
    sys.exit(f'release-race: look-up answered {code}')
# A second reference on its way, and a release that saw only the first.
conn.sendall(lookup(2) + frame(NM_RELEASE, struct.pack('<QI', export, 1)))
_, body = read_frame(conn, (NM_LOOKUP_REPLY,))
if struct.unpack_from('<IiBBQ', body)[4] != export:
    sys.exit('release-race: the second look-up named another export')
# A request to it (nm-task's "who", id 9) with a reply right of ours (a send-once export, id 77).
reply = struct.pack('<BBQ', 2, 0, 77)
conn.sendall(frame(NM_MSG, struct.pack('<Qi', export, 9) + reply + struct.pack('<I', 0)))
kind, body = read_frame(conn, (NM_MSG, NM_ONCE_GONE))
if kind == NM_MSG and struct.unpack_from('<Q', body)[0] == 77:
    print(f'release-race: export {export} kept, the request answered')
    sys.exit(0)
print(f'release-race: export {export} gone: the request was not answered (frame {kind})')
sys.exit(1)
