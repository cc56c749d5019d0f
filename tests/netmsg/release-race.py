#!/usr/bin/env python3
"""release-race.py ADDR:PORT NAME CERT KEY CA - a release that crosses a new reference

Connects to a netmsgd as host NAME (TLS, protocol 1.1), looks "nm-b" up (the
answer: export 1, one reference), then looks it up again and, without waiting
for that answer, releases the export saying it saw one reference - as a peer
whose last proxy holder let go just as a new reference was on its way.  The
export must live on (the second reference is still out), so a request sent to
it afterwards is answered.  Prints the outcome; exit status 0 if answered.
"""
import struct
import sys

from nmpeer import NM_LOOKUP, NM_LOOKUP_REPLY, NM_MSG, NM_ONCE_GONE, NM_RELEASE, connect, frame, read_frame


def lookup(request):
    return frame(NM_LOOKUP, struct.pack('<IH', request, 4) + b'nm-b')


conn = connect(*sys.argv[1:6])
conn.sendall(lookup(1))
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
