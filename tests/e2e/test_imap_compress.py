"""COMPRESS=DEFLATE (RFC 4978) end to end: after `COMPRESS DEFLATE` both
directions are raw deflate (zlib wbits -15), over STARTTLS and over IMAPS;
a 10 MB APPEND literal, IDLE woken by an SMTP delivery, pipelined
compressed bytes right after the command, [COMPRESSIONACTIVE]."""
import imaplib
import re
import socket
import time
import zlib

from test_imap import USER, PASSWORD, MESSAGE, connect_imaps, connect_starttls, deliver


class Deflated:
    """A raw IMAP client over a socket after COMPRESS: every command is
    compressed and sync-flushed; replies are inflated."""

    def __init__(self, sock, pending=b""):
        self.sock = sock
        self.sock.settimeout(20)
        self.comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.decomp = zlib.decompressobj(-15)
        self.buf = pending
        self.wire_in = 0

    def send(self, data):
        self.sock.sendall(self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH))

    def _fill(self):
        chunk = self.sock.recv(65536)
        assert chunk, "server closed the connection"
        self.wire_in += len(chunk)
        self.buf += self.decomp.decompress(chunk)

    def readline(self):
        for _ in range(100000):
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                return line
            self._fill()
        raise AssertionError("no line")

    def read_exact(self, n):
        for _ in range(100000):
            if len(self.buf) >= n:
                data, self.buf = self.buf[:n], self.buf[n:]
                return data
            self._fill()
        raise AssertionError("short read")

    def command(self, tag, text):
        """Send `tag text`; returns (untagged bytes with literals, tagged line)."""
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        out = b""
        for _ in range(100000):
            line = self.readline()
            if line.startswith(tag + b" "):
                return out, line
            out += line
            lit = re.search(rb"\{(\d+)\}\r\n$", line)
            if lit:
                out += self.read_exact(int(lit.group(1)))
        raise AssertionError("no tagged reply")


def start_compress(m):
    """COMPRESS DEFLATE on a logged-in imaplib connection; returns the raw
    deflated client on its socket."""
    m.send(b"Z1 COMPRESS DEFLATE\r\n")
    line = m.readline()
    assert line.startswith(b"Z1 OK"), line
    return Deflated(m.sock)


def capabilities(m):
    typ, data = m.capability()
    return data[0].split()


def check_session(z):
    """Commands and a FETCH of a stored message through the compression."""
    untagged, tagged = z.command(b"A1", b"SELECT INBOX")
    assert tagged.startswith(b"A1 OK"), tagged
    assert b"* 1 EXISTS" in untagged
    untagged, tagged = z.command(b"A2", b"FETCH 1 (BODY.PEEK[])")
    assert tagged.startswith(b"A2 OK")
    assert MESSAGE in untagged
    _, tagged = z.command(b"A3", b"COMPRESS DEFLATE")
    assert tagged.startswith(b"A3 NO [COMPRESSIONACTIVE]"), tagged
    _, tagged = z.command(b"A4", b"NOOP")
    assert tagged.startswith(b"A4 OK")


def test_compress_over_starttls(instance):
    instance.add_user(USER, PASSWORD)
    deliver(instance)
    m = connect_starttls(instance)
    assert b"COMPRESS=DEFLATE" in capabilities(m)
    z = start_compress(m)
    check_session(z)
    z.send(b"A9 LOGOUT\r\n")
    assert z.until(b"A9")[1].startswith(b"A9 OK")


def test_compress_over_imaps(instance):
    instance.add_user(USER, PASSWORD)
    deliver(instance)
    m = connect_imaps(instance)
    z = start_compress(m)
    check_session(z)


def test_compress_not_before_login(instance):
    instance.add_user(USER, PASSWORD)
    m = imaplib.IMAP4("127.0.0.1", instance.port("imap"))
    typ, data = m._simple_command("CAPABILITY")
    assert b"COMPRESS" not in m.untagged_responses["CAPABILITY"][0]
    m.send(b"Z0 COMPRESS DEFLATE\r\n")
    line = m.readline()
    assert line.startswith(b"Z0 BAD") or line.startswith(b"Z0 NO"), line
    # the session is still plaintext and usable
    assert m.noop()[0] == "OK"


def test_unknown_mechanism(instance):
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    m.send(b"Z0 COMPRESS LZW\r\n")
    assert m.readline().startswith(b"Z0 BAD")
    assert m.noop()[0] == "OK"


def test_pipelined_after_compress(instance):
    """Compressed bytes sent in the same packet as the command are taken
    as compressed (RFC 4978 section 3)."""
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    m.send(b"Z1 COMPRESS DEFLATE\r\n" + comp.compress(b"P1 NOOP\r\n") +
           comp.flush(zlib.Z_SYNC_FLUSH))
    # read the plain OK off the socket itself: imaplib's buffered file
    # would swallow the compressed bytes that follow it
    raw = b""
    for _ in range(1000):
        if b"\r\n" in raw:
            break
        raw += m.sock.recv(1)
    assert raw.startswith(b"Z1 OK"), raw
    z = Deflated(m.sock)
    z.comp = comp
    _, tagged = z.until(b"P1")
    assert tagged.startswith(b"P1 OK")


def test_big_append_and_fetch(instance):
    """A 10 MB literal goes up compressed and comes back identical; the
    reply stream is much smaller than the bytes it carries."""
    instance.add_user(USER, PASSWORD)
    m = connect_imaps(instance)
    z = start_compress(m)
    line = b"Subject: big\r\n\r\n" + b"".join(
        b"line %08d of a big message, quite compressible\r\n" % i for i in range(200000))
    body = line[:10 * 1024 * 1024]
    z.send(b"B1 APPEND INBOX {%d}\r\n" % len(body))
    assert z.readline().startswith(b"+")
    z.send(body + b"\r\n")
    _, tagged = z.until(b"B1")
    assert tagged.startswith(b"B1 OK [APPENDUID"), tagged
    z.command(b"B2", b"SELECT INBOX")
    before = z.wire_in
    untagged, tagged = z.command(b"B3", b"FETCH 1 (BODY.PEEK[])")
    assert tagged.startswith(b"B3 OK")
    assert body in untagged
    assert z.wire_in - before < len(body) // 4


def test_idle_wakes_while_compressed(instance):
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    z = start_compress(m)
    assert z.command(b"S1", b"SELECT INBOX")[1].startswith(b"S1 OK")
    z.send(b"I1 IDLE\r\n")
    assert z.readline().startswith(b"+")
    time.sleep(0.2)
    start = time.monotonic()
    deliver(instance)
    for _ in range(100):
        line = z.readline()
        if re.match(rb"\* 1 EXISTS", line):
            break
    else:
        raise AssertionError("no EXISTS while in IDLE")
    assert time.monotonic() - start < 3
    z.send(b"DONE\r\n")
    assert z.until(b"I1")[1].startswith(b"I1 OK")


def test_corrupt_stream_closes(instance):
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    z = start_compress(m)
    z.sock.sendall(b"\xff\xff\xff\xff garbage that is not deflate")
    z.sock.settimeout(10)
    data = b""
    for _ in range(100):
        chunk = z.sock.recv(4096)
        if not chunk:
            break
        data += chunk
    assert instance.wait_for_log("corrupt compressed input") is None


def test_mbsync_uses_compress(instance, tmp_path):
    """A real client: isync 1.4 asks for COMPRESS DEFLATE by itself when it
    is advertised; 200 messages go down through it."""
    import glob
    import os
    import subprocess

    import pytest
    from test_imap_mbsync import MBSYNC, write_config

    if MBSYNC is None:
        pytest.skip("mbsync (isync) is not installed")
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    for i in range(200):
        body = (b"From: bob@remote.test\r\nSubject: z %d\r\n\r\n" % i +
                b"compressible body line\r\n" * 3)
        assert m.append("INBOX", None, None, body)[0] == "OK"
    m.logout()
    local = str(tmp_path / "mail")
    os.makedirs(local)
    config = write_config(instance, str(tmp_path), local)
    r = subprocess.run([MBSYNC, "-c", config, "-a"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    got = glob.glob(os.path.join(local, "INBOX", "cur", "*")) + \
        glob.glob(os.path.join(local, "INBOX", "new", "*"))
    assert len(got) == 200
    assert "event=imap.compress mech=DEFLATE" in instance.log()


def test_compress_plaintext(instance):
    """No TLS below (auth { plaintext_on_loopback = yes }): the deflate
    stream is straight on the TCP socket."""
    with open(instance.config) as f:
        text = f.read()
    with open(instance.config, "w") as f:
        f.write(text.replace("plaintext_on_loopback = no", "plaintext_on_loopback = yes"))
    instance.restart()
    instance.add_user(USER, PASSWORD)
    deliver(instance)
    m = imaplib.IMAP4("127.0.0.1", instance.port("imap"))
    m.login(USER, PASSWORD)
    z = start_compress(m)
    assert isinstance(z.sock, socket.socket) and not hasattr(z.sock, "cipher")
    check_session(z)
