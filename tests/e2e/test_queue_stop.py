"""Stopping the queue role while messages are in flight (issue 9, the
torture test's finding 2): a stop (SIGTERM to the server, or the roles'
parent-death signal) waits a bounded time for the reply to a message that
went out entirely, and records it, so the next start does not send it
again. The peer here is a raw-socket SMTP server on 127.0.0.2 that keeps
each message at the final dot (as a real MTA commits it) and answers 250
only 1 s later: the window a stop used to cut."""
import os
import re
import smtplib
import socket
import threading
import time

from conftest import Instance

DELAY = 1.0


class SlowPeer:
    """ESMTP on 127.0.0.2: every message is kept at its final dot (by
    Message-ID), the 250 after it comes DELAY seconds later."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.2", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = []   # Message-IDs, one per message at its dot
        self.dots = 0
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.done:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        conn.settimeout(30)
        f = conn.makefile("rb")
        try:
            conn.sendall(b"220 slow.other.test ESMTP\r\n")
            for _ in range(10000):
                line = f.readline()
                if not line:
                    return
                cmd = line.strip().upper()
                if cmd.startswith(b"EHLO"):
                    conn.sendall(b"250-slow.other.test\r\n250 8BITMIME\r\n")
                elif cmd == b"DATA":
                    conn.sendall(b"354 go\r\n")
                    body = []
                    for _ in range(100000):
                        data = f.readline()
                        if not data or data == b".\r\n":
                            break
                        body.append(data)
                    if not data:
                        return
                    m = re.search(rb"Message-ID: <([^>]+)>", b"".join(body))
                    with self.lock:
                        self.received.append(m.group(1).decode() if m else "?")
                        self.dots += 1
                    time.sleep(DELAY)
                    conn.sendall(b"250 2.0.0 kept\r\n")
                elif cmd == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")
        except OSError:
            return
        finally:
            conn.close()

    def close(self):
        self.done = True
        self.thread.join()
        self.sock.close()


def send(inst, subject):
    body = (f"From: <sender@elsewhere.test>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@client.test>\r\n\r\nhello\r\n")
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.sendmail("sender@elsewhere.test", ["fwd@example.test"], body.encode())


def queue_ids(inst):
    d = os.path.join(inst.dir, "queue")
    return sorted(n[:-4] for n in os.listdir(d) if n.endswith(".env")) if os.path.isdir(d) else []


def test_stop_waits_for_the_reply_to_data(instance_dir):
    peer = SlowPeer()
    first = Instance(os.path.join(instance_dir, "a"))
    try:
        first.write_zone("other.test MX 10 mx.other.test\nmx.other.test A 127.0.0.2\n")
        with open(first.config, "a") as f:
            f.write("\nqueue {\n\tport = %d\n\tretry_first = 60s\n"
                    "\tcommand_timeout = 10s\n\tmax_per_destination = 4\n}\n" % peer.port)
        first.tern("alias", "add", "fwd@example.test", "bob@other.test")
        first.start()
        first.wait_for_log("role=queue event=role.ready")
        count = 4
        for rnd in range(2):
            subjects = [f"stop{rnd}-{i}" for i in range(count)]
            for s in subjects:
                send(first, s)
            # stop while the peer holds messages at their dot, before its 250
            deadline = time.time() + 20
            while time.time() < deadline and peer.dots < (rnd + 1) * 1:
                time.sleep(0.02)
            assert peer.dots >= rnd + 1
            first.stop()
            first.start()
            first.wait_for_log("role=queue event=role.ready")
            first.tern("queue", "flush")  # nothing may wait for retry_first
            deadline = time.time() + 30
            while time.time() < deadline and queue_ids(first):
                time.sleep(0.1)
            assert queue_ids(first) == []
            time.sleep(0.3)
            with peer.lock:
                got = list(peer.received)
            for s in subjects:
                n = got.count(f"{s}@client.test")
                assert n == 1, (s, n, got)
        assert "event=queue.stop_wait" in first.log()
    finally:
        if first.proc is not None:
            first.stop()
        first.check_sanitizers()
        peer.close()
