#!/usr/bin/python3
"""A hostile HTTP/2 client for the plugin socket: many connections, each
opening gRPC streams that send part of a large message and never end it.

HTTP/2 is spoken by hand (frames, a literal-only HPACK encoder, flow
control: the sender waits for the server's WINDOW_UPDATEs as a real client
would), so nothing between this and the server smooths the attack.  Used by
tests/peers/kubelet.py (--hostile) and bench/plugin-attack.py.

    h2flood.py SOCKET CONNS STREAMS ANNOUNCE SEND [SECONDS]

sends, on CONNS connections, STREAMS Allocate streams each announcing a
message of ANNOUNCE bytes and sending SEND bytes of it (prefix included),
without END_STREAM; then holds the connections for SECONDS and prints what
the server did.
"""

import selectors
import socket
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 7, 8
END_STREAM, END_HEADERS, ACK = 1, 4, 1
MAX_FRAME = 16384


def frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def hpack_int(value, prefix_bits, first):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 127) | 128)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack(headers):
    """Literal fields without indexing, no Huffman: any bytes go through."""
    out = b""
    for name, value in headers:
        n = name if isinstance(name, bytes) else name.encode()
        v = value if isinstance(value, bytes) else value.encode()
        out += b"\x00" + hpack_int(len(n), 7, 0) + n + hpack_int(len(v), 7, 0) + v
    return out


def grpc_headers(path, authority="localhost", extra=()):
    return hpack([(":method", "POST"), (":scheme", "http"), (":path", path),
                  (":authority", authority), ("content-type", "application/grpc"),
                  ("te", "trailers")] + list(extra))


def frames_of(data):
    """Complete frames in data: (type, flags, stream, payload)."""
    out = []
    while len(data) >= 9:
        length = int.from_bytes(data[:3], "big")
        if len(data) < 9 + length:
            break
        out.append((data[3], data[4], int.from_bytes(data[5:9], "big") & 0x7fffffff,
                    data[9:9 + length]))
        data = data[9 + length:]
    return out


def blast(path, conns, streams, method, body):
    """Complete requests (body: a serialized message) on every stream of
    every connection, and never a byte read back: the replies pile up on the
    server's side.  Returns the sockets, to be held open and closed."""
    msg = b"\x00" + struct.pack(">I", len(body)) + body
    socks = []
    for _ in range(conns):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            out = PREFACE + frame(SETTINGS, 0, 0, b"")
            for i in range(streams):
                out += frame(HEADERS, END_HEADERS, 2 * i + 1, grpc_headers(method)) + \
                    frame(DATA, END_STREAM, 2 * i + 1, msg)
            s.settimeout(5)
            s.sendall(out)
            socks.append(s)
        except OSError:
            s.close()
    return socks


def still_open(sock):
    """Reads what the server sent; False once it closed the connection."""
    sock.setblocking(False)
    try:
        while sock.recv(65536):
            pass
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False


class Conn:
    def __init__(self, path, streams, announce, send, method, authority):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0, b""))
        self.sock.setblocking(False)
        self.out = b""
        self.inbuf = b""
        self.window = 65535                 # the connection's send window
        self.closed = False
        self.goaway = False
        self.streams = {}
        prefix = b"\x00" + struct.pack(">I", announce)
        for i in range(streams):
            sid = 2 * i + 1
            self.out += frame(HEADERS, END_HEADERS, sid, grpc_headers(method, authority))
            # The message prefix, then zeros (made as they are sent: 256
            # streams of 4 MiB would take the client seconds to build).
            self.streams[sid] = {"head": prefix, "left": max(send, len(prefix)),
                                 "window": 65535, "answered": False, "reset": False}

    def pump(self):
        """Queues the DATA that the windows allow; returns whether any is left."""
        more = False
        for sid, st in self.streams.items():
            if st["answered"] or st["reset"]:
                continue
            while st["left"] and self.window > 0 and st["window"] > 0 and \
                    len(self.out) < (1 << 20):
                n = min(st["left"], self.window, st["window"], MAX_FRAME)
                chunk = (st["head"] + bytes(n))[:n]
                st["head"] = st["head"][len(chunk):]
                self.out += frame(DATA, 0, sid, chunk)
                st["left"] -= n
                self.window -= n
                st["window"] -= n
            more |= bool(st["left"])
        return more

    def on_readable(self):
        try:
            chunk = self.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            return
        self.inbuf += chunk
        frames = frames_of(self.inbuf)
        used = sum(9 + len(f[3]) for f in frames)
        self.inbuf = self.inbuf[used:]
        for ftype, flags, sid, payload in frames:
            if ftype == SETTINGS and not flags & ACK:
                self.out += frame(SETTINGS, ACK, 0, b"")
            elif ftype == WINDOW_UPDATE:
                inc = int.from_bytes(payload[:4], "big") & 0x7fffffff
                if sid == 0:
                    self.window += inc
                elif sid in self.streams:
                    self.streams[sid]["window"] += inc
            elif ftype == HEADERS and flags & END_STREAM and sid in self.streams:
                self.streams[sid]["answered"] = True
            elif ftype == RST_STREAM and sid in self.streams:
                self.streams[sid]["reset"] = True
            elif ftype == GOAWAY:
                self.goaway = True

    def flush(self):
        if not self.out or self.closed:
            return
        try:
            n = self.sock.send(self.out)
            self.out = self.out[n:]
        except BlockingIOError:
            pass
        except OSError:
            self.closed = True


class Flood:
    def __init__(self, path, conns, streams, announce, send, method="/v1beta1.DevicePlugin/Allocate",
                 authority="localhost"):
        self.conns = []
        for _ in range(conns):
            try:
                self.conns.append(Conn(path, streams, announce, send, method, authority))
            except OSError:
                pass

    def run(self, seconds):
        """Sends until every stream is sent, answered or reset (or its
        connection closed), then keeps reading for the rest of seconds."""
        sel = selectors.DefaultSelector()
        for c in self.conns:
            sel.register(c.sock, selectors.EVENT_READ, c)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for c in self.conns:
                if not c.closed:
                    c.pump()
                    c.flush()
            for key, _ in sel.select(timeout=0.05):
                key.data.on_readable()
                if key.data.closed:
                    sel.unregister(key.fileobj)
        sel.close()
        return self.stats()

    def stats(self):
        st = [s for c in self.conns for s in c.streams.values()]
        return {
            "connections": len(self.conns),
            "closed": sum(1 for c in self.conns if c.closed or c.goaway),
            "streams": len(st),
            "answered": sum(1 for s in st if s["answered"]),
            "reset": sum(1 for s in st if s["reset"]),
            "fully_sent": sum(1 for s in st if not s["left"]),
        }

    def close(self):
        for c in self.conns:
            c.sock.close()


def main():
    path, conns, streams, announce, send = sys.argv[1], *map(int, sys.argv[2:6])
    seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 5
    f = Flood(path, conns, streams, announce, send)
    print(f.run(seconds))
    f.close()


if __name__ == "__main__":
    main()
