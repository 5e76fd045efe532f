"""The SMTP receiving session against a real server: replies, pipelining,
STARTTLS, limits, and what ends up in the Maildir."""
import os
import smtplib
import socket

import pytest

from conftest import client_tls_context

USER = "alice@example.test"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def server(instance):
    instance.add_user(USER, PASSWORD)
    return instance


def new_files(instance, address=USER):
    d = os.path.join(instance.maildir(address), "new")
    if not os.path.isdir(d):
        return []
    return [os.path.join(d, n) for n in sorted(os.listdir(d))]


class Raw:
    """A line-level SMTP client that sends exactly what it is told."""

    def __init__(self, instance, service="smtp"):
        self.sock = socket.create_connection(("127.0.0.1", instance.port(service)), timeout=20)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """A whole (multi-line) reply as a list of lines."""
        lines = [self.line()]
        while lines[-1][3:4] == b"-":
            lines.append(self.line())
        return lines

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.reply()

    def nothing_for(self, seconds):
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(20)
        self.buf += data
        return False

    def close(self):
        self.sock.close()


def test_greeting_and_ehlo(server):
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=20) as s:
        code, text = s.ehlo("client.test")
        assert code == 250
        assert s.has_extn("pipelining") and s.has_extn("8bitmime")
        assert s.has_extn("enhancedstatuscodes") and s.has_extn("starttls")
        assert int(s.esmtp_features["size"]) > 0
        assert not s.has_extn("auth") and not s.has_extn("requiretls")  # no TLS yet
        assert s.has_extn("chunking") and s.has_extn("smtputf8")  # test_smtp_ext.py
    r = Raw(server)
    assert r.line().startswith(b"220 mail.example.test ESMTP Tern")
    assert r.cmd("HELO c.test")[0].startswith(b"250 ")
    # no enhanced codes after HELO
    assert r.cmd("NOOP") == [b"250 Ok"]
    assert r.cmd("EHLO c.test")[-1] == b"250 ENHANCEDSTATUSCODES"
    assert r.cmd("NOOP") == [b"250 2.0.0 Ok"]
    assert r.cmd("QUIT")[0].startswith(b"221 2.0.0")
    r.close()


def test_delivery_with_trace_fields(server):
    msg = b"Subject: hi\r\n\r\nline one\r\n.dot line\r\n"
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=20) as s:
        s.ehlo("client.test")
        s.mail("bob@remote.test")
        assert s.rcpt("Alice@Example.TEST")[0] == 250
        code, text = s.data(msg)
        assert code == 250 and text.startswith(b"2.0.0 Ok: queued as ")
    files = new_files(server)
    assert len(files) == 1
    with open(files[0], "rb") as f:
        stored = f.read()
    assert stored.startswith(b"Return-Path: <bob@remote.test>\r\nReceived: from client.test ")
    assert b"by mail.example.test (Tern) with ESMTP id " in stored
    assert b"for <Alice@example.test>;" in stored  # local part kept, domain lower-cased
    assert stored.endswith(b"\r\n" + msg)  # dot-stuffing undone, CRLF kept


def test_sequence_and_syntax_errors(server):
    r = Raw(server)
    r.line()
    assert r.cmd("MAIL FROM:<a@b.test>")[0].startswith(b"503")
    r.cmd("EHLO c.test")
    assert r.cmd("RCPT TO:<alice@example.test>")[0].startswith(b"503 5.5.1")
    assert r.cmd("DATA")[0].startswith(b"503 5.5.1")
    assert r.cmd("FROB")[0].startswith(b"500 5.5.2")
    assert r.cmd("MAIL FROM:<bad address>")[0].startswith(b"501 5.1.7")
    assert r.cmd("MAIL FROM:<a@b.test> FOO=BAR")[0].startswith(b"555 5.5.4")
    assert r.cmd("MAIL FROM: <a@b.test>")[0].startswith(b"250 2.1.0")
    assert r.cmd("MAIL FROM:<a@b.test>")[0].startswith(b"503 5.5.1")
    assert r.cmd("RCPT TO:<a b>")[0].startswith(b"501 5.1.3")
    assert r.cmd("DATA")[0].startswith(b"554")
    assert r.cmd("VRFY alice")[0].startswith(b"252")
    assert r.cmd("RSET")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<alice@example.test>")[0].startswith(b"503")
    r.close()


def test_size_parameter_over_limit(server):
    r = Raw(server)
    r.line()
    lines = r.cmd("EHLO c.test")
    size = int([x for x in lines if x[4:8] == b"SIZE"][0][9:])
    assert r.cmd(f"MAIL FROM:<a@b.test> SIZE={size + 1}")[0].startswith(b"552 5.3.4")
    assert r.cmd(f"MAIL FROM:<a@b.test> SIZE={size}")[0].startswith(b"250")
    r.close()


def test_pipelining_replies_in_order(server):
    r = Raw(server)
    r.line()
    r.cmd("EHLO c.test")
    r.send(b"MAIL FROM:<bob@remote.test>\r\nRCPT TO:<nobody@example.test>\r\n"
           b"RCPT TO:<alice@example.test>\r\nRCPT TO:<x@elsewhere.test>\r\nDATA\r\n")
    assert r.reply()[0].startswith(b"250 2.1.0")
    assert r.reply()[0].startswith(b"550 5.1.1 <nobody@example.test>")
    assert r.reply()[0].startswith(b"250 2.1.5")
    assert r.reply()[0].startswith(b"554 5.7.1 <x@elsewhere.test>: Relay access denied")
    assert r.reply()[0].startswith(b"354")
    r.send(b"Subject: p\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n")
    assert r.reply()[0].startswith(b"250 2.0.0 Ok: queued as")
    assert r.reply()[0].startswith(b"250 2.0.0")
    assert r.reply()[0].startswith(b"221")
    r.close()
    assert len(new_files(server)) == 1


def test_many_pipelined_commands(server):
    r = Raw(server)
    r.line()
    r.cmd("EHLO c.test")
    r.send(b"NOOP\r\n" * 250)
    for _ in range(250):
        assert r.reply() == [b"250 2.0.0 Ok"]
    r.close()


def test_bare_lf_read_to_end_then_refused(server):
    r = Raw(server)
    r.line()
    r.cmd("EHLO c.test")
    r.cmd("MAIL FROM:<bob@remote.test>")
    r.cmd(f"RCPT TO:<{USER}>")
    assert r.cmd("DATA")[0].startswith(b"354")
    r.send(b"Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@remote.test>\r\nmore\r.\r\n")
    assert r.nothing_for(1.0)
    r.send(b"\r\n.\r\n")
    assert r.reply()[0].startswith(b"554 5.6.0")
    assert r.cmd("NOOP")[0].startswith(b"250")
    r.close()
    assert new_files(server) == []


def test_message_too_big_nothing_stored(server):
    r = Raw(server)
    r.line()
    lines = r.cmd("EHLO c.test")
    size = int([x for x in lines if x[4:8] == b"SIZE"][0][9:])
    r.cmd("MAIL FROM:<bob@remote.test>")
    r.cmd(f"RCPT TO:<{USER}>")
    r.cmd("DATA")
    chunk = (b"x" * 998 + b"\r\n") * 1000
    sent = 0
    while sent <= size:
        r.send(chunk)
        sent += len(chunk)
    r.send(b".\r\n")
    assert r.reply()[0].startswith(b"552 5.3.4")
    r.close()
    assert new_files(server) == []
    spool = os.path.join(server.dir, "mail", ".spool")
    assert not os.path.isdir(spool) or os.listdir(spool) == []


def test_long_line_then_resync(server):
    r = Raw(server)
    r.line()
    r.send(b"NOOP " + b"a" * 100000 + b"\r\n")
    assert r.reply()[0].startswith(b"500")
    assert r.cmd("NOOP")[0].startswith(b"250")
    r.close()


def test_too_many_errors_disconnects(server):
    r = Raw(server)
    r.line()
    r.cmd("EHLO c.test")
    last = None
    for _ in range(50):
        last = r.cmd("FROB")
        if last[0].startswith(b"421"):
            break
    assert last[0].startswith(b"421 4.7.0")
    with pytest.raises((EOFError, ConnectionResetError)):
        r.line()


def test_starttls_resets_and_discards_pipelined(server):
    r = Raw(server)
    r.line()
    r.cmd("EHLO c.test")
    # A command pipelined after STARTTLS must never be acted on (RFC 3207).
    r.send(b"STARTTLS\r\nMAIL FROM:<evil@remote.test>\r\n")
    assert r.reply()[0].startswith(b"220 2.0.0")
    tls = client_tls_context().wrap_socket(r.sock, server_hostname="mail.example.test")
    f = tls.makefile("rwb")
    f.write(b"MAIL FROM:<bob@remote.test>\r\n")
    f.flush()
    assert f.readline().startswith(b"503")  # EHLO needed again
    f.write(b"EHLO c.test\r\n")
    f.flush()
    lines = []
    while True:
        lines.append(f.readline())
        if lines[-1][3:4] != b"-":
            break
    assert not any(b"STARTTLS" in x for x in lines)
    for cmd in (b"MAIL FROM:<bob@remote.test>", f"RCPT TO:<{USER}>".encode(), b"DATA"):
        f.write(cmd + b"\r\n")
        f.flush()
        f.readline()
    f.write(b"Subject: tls\r\n\r\nsecret\r\n.\r\n")
    f.flush()
    assert f.readline().startswith(b"250 2.0.0")
    tls.close()
    with open(new_files(server)[0], "rb") as fh:
        stored = fh.read()
    assert b"with ESMTPS id" in stored and b"(using TLSv1." in stored


def test_postmaster_of_local_domain_accepted(server):
    # RFC 5321 4.5.1: "postmaster" is a case-insensitive local name every
    # domain served must accept; 4.1.1.3: so is the bare <Postmaster>, which
    # Tern delivers as postmaster@<hostname> (docs/smtp.md). The README's way
    # to give a domain its postmaster is an alias.
    server.tern("domain", "add", "mail.example.test")
    for domain in ("example.test", "mail.example.test"):
        server.tern("alias", "add", "postmaster@" + domain, USER)
    r = Raw(server)
    r.line()
    r.cmd("EHLO c.test")
    assert r.cmd("MAIL FROM:<>")[0].startswith(b"250")
    for rcpt in ("postmaster@example.test", "POSTMASTER@Example.Test", "PostMaster",
                 "postmaster"):
        assert r.cmd(f"RCPT TO:<{rcpt}>") == [b"250 2.1.5 Ok"], rcpt
    assert r.cmd("DATA")[0].startswith(b"354")
    assert r.cmd("Subject: to the postmaster\r\n\r\nhello\r\n.")[0].startswith(b"250 2.0.0")
    r.close()
    # all four are the alias target: one copy in its Maildir
    files = new_files(server)
    assert len(files) == 1
    with open(files[0], "rb") as f:
        assert f.read().endswith(b"Subject: to the postmaster\r\n\r\nhello\r\n")


def relay_attempt(instance):
    """The replies to a relay attempt (a remote recipient) and, in the same
    transaction, to a local one."""
    r = Raw(instance)
    r.line()
    r.cmd("EHLO c.test")
    assert r.cmd("MAIL FROM:<>")[0].startswith(b"250")
    remote = r.cmd("RCPT TO:<x@elsewhere.test>")
    local = r.cmd(f"RCPT TO:<{USER}>")
    r.close()
    return remote, local


def set_trusted_networks(instance, value):
    with open(instance.config) as f:
        text = f.read()
    assert "\ttrusted_networks =\n" in text
    with open(instance.config, "w") as f:
        f.write(text.replace("\ttrusted_networks =\n", f"\ttrusted_networks = {value}\n"))
    instance.restart()


def test_relay_refused_from_untrusted_network(server):
    # Not relaying for 127.0.0.1 by default (trusted_networks is empty).
    remote, local = relay_attempt(server)
    assert remote[0].startswith(b"554 5.7.1 <x@elsewhere.test>: Relay access denied")
    assert local == [b"250 2.1.5 Ok"]
    # nor when 127.0.0.1 is outside every trusted network
    set_trusted_networks(server, "192.0.2.0/24, 2001:db8::/32")
    remote, local = relay_attempt(server)
    assert remote[0].startswith(b"554 5.7.1 <x@elsewhere.test>: Relay access denied")
    assert local == [b"250 2.1.5 Ok"]


def test_trusted_network_may_relay(server):
    # A peer in smtp.trusted_networks may relay (into the outbound spool,
    # tests/e2e/test_queue_spool.py).
    set_trusted_networks(server, "192.0.2.0/24, 127.0.0.0/8")
    remote, local = relay_attempt(server)
    assert remote == [b"250 2.1.5 Ok"]
    assert local == [b"250 2.1.5 Ok"]


def test_sigterm_says_goodbye(server):
    r = Raw(server)
    r.line()
    r.cmd("EHLO c.test")
    server.stop()
    assert r.line().startswith(b"421 4.3.2")
    r.close()
