#!/usr/bin/env python3
"""reply-home.py ADDR:PORT NAME CERT KEY CA - a peer that sends a reply right home unused

Connects to a netmsgd as host NAME (TLS, its certificate), answers the first
NM_LOOKUP it is asked with an export of its own (id 5), waits for the NM_MSG
that comes for it, and sends the reply right that message carried back home
in a message to an export that does not exist (id 999).  The netmsgd there
cannot deliver it: the reply right must go back to its owner, so that the
task waiting for the answer hears its server died instead of waiting on.
Prints what it did; exit status 0 once the message is sent.
"""
import socket
import ssl
import struct
import sys

NM_HELLO, NM_MSG, NM_LOOKUP, NM_LOOKUP_REPLY = 1, 2, 5, 6


def frame(kind, body):
    return struct.pack('<IHH', len(body), kind, 0) + body


def read_frame(conn):
    head = read_exactly(conn, 8)
    n, kind, _ = struct.unpack('<IHH', head)
    return kind, read_exactly(conn, n)


def read_exactly(conn, n):
    out = b''
    while len(out) < n:
        chunk = conn.recv(n - len(out))
        if not chunk:
            sys.exit('reply-home: the connection closed')
        out += chunk
    return out


addr, name, cert, key, ca = sys.argv[1:6]
host, port = addr.rsplit(':', 1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.check_hostname = False
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
conn = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=20))
conn.sendall(frame(NM_HELLO, struct.pack('<HHH', 1, 0, len(name)) + name.encode()))
while True:
    kind, body = read_frame(conn)
    if kind == NM_LOOKUP:
        request = struct.unpack_from('<I', body)[0]
        conn.sendall(frame(NM_LOOKUP_REPLY, struct.pack('<Ii', request, 0) + struct.pack('<BBQ', 1, 0, 5)))
        print('reply-home: answered the look-up with export 5', flush=True)
    elif kind == NM_MSG:
        dest, msg_id = struct.unpack_from('<Qi', body)
        rkind, rside, rid = struct.unpack_from('<BBQ', body, 12)
        if dest != 5 or rkind != 2 or rside != 0:
            sys.exit(f'reply-home: unexpected message to {dest}, reply ({rkind}, {rside}, {rid})')
        # Its reply right, going home (side 1: the receiver's own export), with a message nobody can take.
        body = struct.pack('<Qi', 999, msg_id + 100) + struct.pack('<BBQ', 2, 1, rid) + struct.pack('<I', 0)
        conn.sendall(frame(NM_MSG, body))
        print(f'reply-home: sent reply right {rid} home to export 999', flush=True)
        break
# Stay until the other side has read it and answered a PING of ours with one of its own.
conn.sendall(frame(8, b''))
conn.settimeout(10)
try:
    while read_frame(conn)[0] != 8:
        pass
except (socket.timeout, SystemExit):
    pass
conn.close()
