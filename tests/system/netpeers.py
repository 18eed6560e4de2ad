# SPDX-License-Identifier: MIT
#
# Hostile and observing network peers for system tests, on loopback only: a
# counting/delaying UDP proxy in front of a real server (to watch politeness from
# the server side) and a spoofing server that answers with wrong IDs, questions
# and source ports before (optionally) the right answer.

import socket
import struct
import threading
import time

# Linux: receive timestamps in a struct timespec (also the control message's type)
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def free_loopback_addr(port=53, start=200):
    """A 127.X.Y.1 address on which nothing listens on UDP @port."""
    import random
    for _ in range(200):
        addr = "127.%d.%d.%d" % (random.randint(start, 254), random.randint(1, 254),
                                 random.randint(1, 254))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((addr, port))
            return addr
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free loopback address")


def parse_question(msg):
    """(id, qname_wire, qtype, qclass, end_offset) of a query message."""
    qid = struct.unpack("!H", msg[:2])[0]
    i = 12
    while msg[i] != 0:
        i += 1 + msg[i]
    i += 1
    qtype, qclass = struct.unpack("!HH", msg[i:i + 4])
    return qid, msg[12:i], qtype, qclass, i + 4


def make_answer(query, qid=None, qname=None, a_addr="192.0.2.99", ttl=60):
    """A minimal authoritative answer with one A record for the query's question."""
    oid, oname, qtype, qclass, end = parse_question(query)
    qid = oid if qid is None else qid
    qname = oname if qname is None else qname
    hdr = struct.pack("!HHHHHH", qid, 0x8400, 1, 1, 0, 0)
    question = qname + struct.pack("!HH", 1, 1)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, ttl, 4) + socket.inet_aton(a_addr)
    return hdr + question + rr


class SpoofingServer:
    """Answers each query first with forgeries (wrong ID, wrong question, wrong
    source port), then, unless honest=False, with the real answer after @delay."""

    def __init__(self, addr, port=53, honest=True, delay=0.2):
        self.addr, self.port, self.honest, self.delay = addr, port, honest, delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.other.bind((addr, 0))  # same address, another port
        self.sock.settimeout(0.2)
        self.queries = 0
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_flag:
            try:
                q, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries += 1
            qid = parse_question(q)[0]
            other_name = b"\x05other\x07example\x00"
            self.sock.sendto(make_answer(q, qid=(qid + 1) & 0xFFFF, a_addr="192.0.2.66"), peer)
            self.sock.sendto(make_answer(q, qname=other_name, a_addr="192.0.2.67"), peer)
            self.other.sendto(make_answer(q, a_addr="192.0.2.68"), peer)
            self.sock.sendto(b"\x00\x01garbage", peer)
            if self.honest:
                time.sleep(self.delay)
                self.sock.sendto(make_answer(q, a_addr="192.0.2.99"), peer)

    def close(self):
        self.stop_flag = True
        self.thread.join(timeout=2)
        self.sock.close()
        self.other.close()


class CountingProxy:
    """A proxy in front of a real server that holds each answer for @hold seconds
    and records, as the server side sees it, how many queries were outstanding at
    once and how many arrived in each second. UDP, and TCP on the same port: each
    query of a connection (RFC 7766 pipelining) is forwarded over UDP as it
    arrives and its answer written back when held, in whatever order."""

    def __init__(self, addr, upstream, port=53, hold=0.02):
        self.addr, self.upstream, self.hold = addr, upstream, hold
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.1)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((addr, port))
        self.lsock.listen(16)
        self.lsock.settimeout(0.1)
        self.tcp_connections = 0
        self.tcp_queries = 0
        # arrival times from the kernel (when the datagram reached the socket), not
        # from this thread, which the scan under test may keep off the CPU for a while
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.lock = threading.Lock()
        self.outstanding = 0
        self.max_outstanding = 0
        self.received = 0
        self.arrivals = []
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.tcp_thread = threading.Thread(target=self._run_tcp, daemon=True)
        self.tcp_thread.start()

    def _arrived(self, at):
        with self.lock:
            self.received += 1
            self.outstanding += 1
            self.max_outstanding = max(self.max_outstanding, self.outstanding)
            self.arrivals.append(at)

    def _forward(self, q, peer, conn=None, wlock=None):
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(2)
        done = False
        try:
            up.sendto(q, self.upstream)
            ans, _ = up.recvfrom(65535)
            time.sleep(self.hold)
            # the query stops being outstanding when its answer leaves, not later
            with self.lock:
                self.outstanding -= 1
                done = True
            if conn is None:
                self.sock.sendto(ans, peer)
            else:
                with wlock:
                    conn.sendall(struct.pack("!H", len(ans)) + ans)
        except OSError:
            pass
        finally:
            up.close()
            if not done:
                with self.lock:
                    self.outstanding -= 1

    def _run_tcp(self):
        while not self.stop_flag:
            try:
                conn, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.tcp_connections += 1
            threading.Thread(target=self._serve_tcp, args=(conn,), daemon=True).start()

    def _serve_tcp(self, conn):
        conn.settimeout(0.1)
        wlock = threading.Lock()
        buf = b""
        try:
            while not self.stop_flag:
                try:
                    data = conn.recv(65535)
                except socket.timeout:
                    continue
                if not data:
                    return
                at = time.time()
                buf += data
                while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                    n = struct.unpack("!H", buf[:2])[0]
                    q, buf = buf[2:2 + n], buf[2 + n:]
                    self._arrived(at)
                    with self.lock:
                        self.tcp_queries += 1
                    threading.Thread(target=self._forward, args=(q, None, conn, wlock),
                                     daemon=True).start()
        except OSError:
            pass
        finally:
            if self.stop_flag:
                conn.close()

    def _run(self):
        while not self.stop_flag:
            try:
                q, anc, _, peer = self.sock.recvmsg(65535, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            except OSError:
                return
            at = time.time()
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
                    sec, nsec = struct.unpack("qq", data[:16])
                    at = sec + nsec / 1e9
            self._arrived(at)
            threading.Thread(target=self._forward, args=(q, peer), daemon=True).start()

    def close(self):
        self.stop_flag = True
        self.thread.join(timeout=2)
        self.tcp_thread.join(timeout=2)
        self.sock.close()
        self.lsock.close()

    def max_in_window(self, window=1.0):
        """The largest number of queries that arrived within any @window seconds."""
        with self.lock:
            t = sorted(self.arrivals)
        best, j = 0, 0
        for i in range(len(t)):
            while t[i] - t[j] > window:
                j += 1
            best = max(best, i - j + 1)
        return best
