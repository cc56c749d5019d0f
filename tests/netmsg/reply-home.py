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
import struct
import sys

from nmpeer import NM_LOOKUP, NM_LOOKUP_REPLY, NM_MSG, NM_PING, connect, frame, read_frame

conn = connect(*sys.argv[1:6], minor=0)
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
conn.sendall(frame(NM_PING, b''))
conn.settimeout(10)
try:
    read_frame(conn, (NM_PING,))
except (socket.timeout, SystemExit):
    pass
conn.close()
