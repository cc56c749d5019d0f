"""nmpeer.py - what the Python peers of the cross-host tests share: a TLS connection
to a netmsgd as a host of the test CA, and frames (doc/netmsg.md, "Wire format")."""
import socket
import ssl
import struct
import sys

NM_HELLO, NM_MSG, NM_RELEASE, NM_DEAD, NM_LOOKUP, NM_LOOKUP_REPLY = 1, 2, 3, 4, 5, 6
NM_ONCE_GONE, NM_PING, NM_CREDIT, NM_DATA = 7, 8, 9, 10


def frame(kind, body):
    return struct.pack('<IHH', len(body), kind, 0) + body


def read_exactly(conn, n):
    out = b''
    while len(out) < n:
        chunk = conn.recv(n - len(out))
        if not chunk:
            sys.exit(f'{sys.argv[0]}: the connection closed')
        out += chunk
    return out


def read_frame(conn, want=None):
    """The next frame (kind, body); with @want, the next of those kinds (PINGs and others skipped)."""
    while True:
        n, kind, _ = struct.unpack('<IHH', read_exactly(conn, 8))
        body = read_exactly(conn, n)
        if want is None or kind in want:
            return kind, body


def connect(addr, name, cert, key, ca, minor=1):
    """A TLS connection to the netmsgd at @addr as host @name, its NM_HELLO sent."""
    host, port = addr.rsplit(':', 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    conn = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=20))
    conn.sendall(frame(NM_HELLO, struct.pack('<HHH', 1, minor, len(name)) + name.encode()))
    return conn
