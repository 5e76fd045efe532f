"""SMTP extensions against a real server: CHUNKING/BDAT and BINARYMIME
(RFC 3030), SMTPUTF8 (RFC 6531), DSN parameters (RFC 3461), REQUIRETLS
(RFC 8689) and the client's reverse DNS in Received:."""
import os
import smtplib
import socket
import ssl
import time

import pytest

from conftest import client_tls_context

USER = "alice@example.test"
PASSWORD = "correct horse battery staple"
UTF8_USER = "jörg@example.test"


@pytest.fixture
def server(instance):
    instance.add_user(USER, PASSWORD)
    return instance


def new_files(instance, address=USER, want=1, timeout=10):
    d = os.path.join(instance.maildir(address), "new")
    deadline = time.monotonic() + timeout
    while True:
        names = sorted(os.listdir(d)) if os.path.isdir(d) else []
        if len(names) >= want or time.monotonic() > deadline:
            return [os.path.join(d, n) for n in names]
        time.sleep(0.05)


def stored_body(path):
    """The stored message without the trace fields Tern put in front."""
    with open(path, "rb") as f:
        data = f.read()
    # Return-Path, Received (folded lines start with a TAB) and, on port 25,
    # Authentication-Results come first; the client's message follows.
    lines = data.split(b"\r\n")
    i = 0
    while i < len(lines) and (lines[i].startswith((b"Return-Path:", b"Received:",
                                                    b"Authentication-Results:"))
                              or lines[i].startswith((b"\t", b" "))):
        i += 1
    return b"\r\n".join(lines[i:]), data


class Raw:
    """A byte-level SMTP client."""

    def __init__(self, instance, service="smtp"):
        self.sock = socket.create_connection(("127.0.0.1", instance.port(service)), timeout=20)
        self.buf = b""
        assert self.reply()[0].startswith(b"220")

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
        lines = [self.line()]
        while lines[-1][3:4] == b"-":
            lines.append(self.line())
        return lines

    def cmd(self, text):
        self.send(text.encode() + b"\r\n" if isinstance(text, str) else text + b"\r\n")
        return self.reply()

    def bdat(self, chunk, last=False):
        self.send(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk)
        return self.reply()

    def starttls(self):
        assert self.cmd("STARTTLS")[0].startswith(b"220")
        self.sock = client_tls_context().wrap_socket(self.sock)

    def close(self):
        self.sock.close()


MESSAGE = (b"From: bob@example.net\r\nTo: alice@example.test\r\nSubject: chunks\r\n"
           b"\r\n" + b"".join(b"line %d of the body, with a dot:\r\n.\r\n" % i
                              for i in range(200)))


def test_ehlo_advertises_extensions(server):
    r = Raw(server)
    ext = b"\n".join(r.cmd("EHLO c.example"))
    for kw in (b"CHUNKING", b"BINARYMIME", b"SMTPUTF8", b"DSN", b"8BITMIME"):
        assert b"250-" + kw in ext or b"250 " + kw in ext
    assert b"REQUIRETLS" not in ext  # not before TLS
    r.starttls()
    ext = b"\n".join(r.cmd("EHLO c.example"))
    assert b"REQUIRETLS" in ext and b"CHUNKING" in ext
    r.close()


def test_bdat_chunks_arrive_byte_identical(server):
    r = Raw(server)
    r.cmd("EHLO c.example")
    # pipelined: MAIL, RCPT and three BDAT chunks, the last one LAST
    cuts = [0, 37, 38, 1500, len(MESSAGE)]
    out = b"MAIL FROM:<bob@example.net>\r\nRCPT TO:<alice@example.test>\r\n"
    for i in range(len(cuts) - 1):
        chunk = MESSAGE[cuts[i]:cuts[i + 1]]
        last = " LAST" if i == len(cuts) - 2 else ""
        out += b"BDAT %d%s\r\n" % (len(chunk), last.encode()) + chunk
    r.send(out)
    assert r.reply()[0].startswith(b"250 2.1.0")
    assert r.reply()[0].startswith(b"250 2.1.5")
    for _ in range(len(cuts) - 2):
        assert r.reply()[0].startswith(b"250 2.0.0 Ok:")
    final = r.reply()[0]
    assert final.startswith(b"250 2.0.0 Ok: queued as"), final
    assert r.cmd("QUIT")[0].startswith(b"221")
    files = new_files(server)
    assert len(files) == 1
    body, _ = stored_body(files[0])
    assert body == MESSAGE


def test_bdat_binarymime(server):
    binary = (b"From: bob@example.net\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: application/octet-stream\r\n"
              b"Content-Transfer-Encoding: binary\r\n\r\n" + bytes(range(256)) * 4)
    r = Raw(server)
    r.cmd("EHLO c.example")
    assert r.cmd("MAIL FROM:<bob@example.net> BODY=BINARYMIME")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<alice@example.test>")[0].startswith(b"250")
    # RFC 3030 section 3: no DATA for BINARYMIME
    assert r.cmd("DATA")[0].startswith(b"503 5.5.1")
    assert r.bdat(binary[:500])[0].startswith(b"250 2.0.0")
    rest = binary[500:]
    assert r.bdat(rest, last=True)[0].startswith(b"250 2.0.0 Ok: queued")
    # without BINARYMIME the same bytes (bare CR/LF in them) are refused
    assert r.cmd("MAIL FROM:<bob@example.net>")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<alice@example.test>")[0].startswith(b"250")
    assert r.bdat(binary, last=True)[0].startswith(b"554 5.6.0")
    assert r.cmd("NOOP")[0].startswith(b"250")
    r.close()
    files = new_files(server)
    assert len(files) == 1
    body, _ = stored_body(files[0])
    assert body == binary


def test_bdat_over_size_limit(server):
    r = Raw(server)
    ext = b"\n".join(r.cmd("EHLO c.example"))
    limit = int([l for l in ext.split(b"\n") if b"SIZE" in l][0].split()[-1])
    assert r.cmd("MAIL FROM:<bob@example.net>")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<alice@example.test>")[0].startswith(b"250")
    # a chunk far beyond the limit is refused unread, and the session ends
    r.send(b"BDAT %d LAST\r\n" % (limit * 3))
    assert r.reply()[0].startswith(b"552 5.3.4")
    with pytest.raises(EOFError):
        r.reply()
    r.close()
    assert new_files(server, want=1, timeout=0.5) == []


def test_bdat_data_never_arrives_times_out(instance_dir):
    from conftest import Instance
    inst = Instance(instance_dir)
    with open(inst.config) as f:
        conf = f.read()
    assert "login_timeout" not in conf
    # the session's idle limit is 5x limits.login_timeout
    with open(inst.config, "a") as f:
        f.write("\nlimits {\n\tlogin_timeout = 1\n}\n")
    inst.start()
    try:
        inst.add_user(USER, PASSWORD)
        r = Raw(inst)
        r.cmd("EHLO c.example")
        r.cmd("MAIL FROM:<bob@example.net>")
        r.cmd("RCPT TO:<alice@example.test>")
        r.send(b"BDAT 1000 LAST\r\npartial")
        start = time.monotonic()
        with pytest.raises((EOFError, ConnectionResetError)):
            while True:
                r.line()  # a 421 may come first; then the close
        assert time.monotonic() - start < 15
        r.close()
        assert new_files(inst, want=1, timeout=0.5) == []
    finally:
        inst.stop()


def test_smtputf8_to_utf8_local_part(server):
    server.add_user(UTF8_USER, PASSWORD)
    server.tern("alias", "add", "δοκιμή@example.test", UTF8_USER)
    assert "δοκιμή@example.test" in server.tern("alias", "list").stdout
    msg = ("From: Jörg <jörg@example.test>\r\nTo: δοκιμή@example.test\r\n"
           "Subject: Grüße\r\n\r\nHallo Jörg\r\n").encode()
    r = Raw(server)
    r.cmd("EHLO c.example")
    # without SMTPUTF8 a UTF-8 address is refused (RFC 6531 section 3.5)
    assert r.cmd("MAIL FROM:<jörg@example.test>")[0].startswith(b"553 5.6.7")
    assert r.cmd("MAIL FROM:<bob@example.net>")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<jörg@example.test>")[0].startswith(b"553 5.6.7")
    assert r.cmd("RSET")[0].startswith(b"250")
    # by DATA to the user, by BDAT to the alias that delivers to the user
    assert r.cmd("MAIL FROM:<bob@bücher.example> SMTPUTF8")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<jörg@example.test>")[0].startswith(b"250")
    assert r.cmd("DATA")[0].startswith(b"354")
    assert r.cmd(msg + b".")[0].startswith(b"250 2.0.0")
    assert r.cmd("MAIL FROM:<bob@example.net> SMTPUTF8")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<δοκιμή@example.test>")[0].startswith(b"250")
    assert r.bdat(msg, last=True)[0].startswith(b"250 2.0.0")
    r.close()
    files = new_files(server, UTF8_USER, want=2)
    assert len(files) == 2
    wholes = []
    for path in files:
        body, whole = stored_body(path)
        assert body == msg  # UTF-8 header fields stored as they are
        assert b"with UTF8SMTP" in whole
        wholes.append(whole)
    # the Return-Path of the first, its domain in A-label form
    assert any(b"Return-Path: <bob@xn--bcher-kva.example>" in w for w in wholes)


def test_utf8_domain_forms_are_one_domain(instance):
    instance.tern("domain", "add", "bücher.example")
    instance.add_user("anna@xn--bcher-kva.example", PASSWORD)
    r = Raw(instance)
    r.cmd("EHLO c.example")
    assert r.cmd("MAIL FROM:<bob@example.net> SMTPUTF8")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<anna@BÜCHER.example>")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<anna@bücher.example>")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<nobody@bücher.example>")[0].startswith(b"550 5.1.1")
    assert r.bdat(b"Subject: x\r\n", last=True)[0].startswith(b"250 2.0.0 Ok: queued")
    r.close()
    assert len(new_files(instance, "anna@xn--bcher-kva.example", want=1)) == 1


def test_dsn_parameters_accepted(server):
    s = smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=20)
    s.ehlo("c.example")
    assert s.has_extn("dsn")
    s.sendmail("bob@example.net", [USER], b"Subject: dsn\r\n\r\nbody\r\n",
               mail_options=["RET=HDRS", "ENVID=QQ314159+2Bx"],
               rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;alice+2Bx@example.test"])
    # a bad xtext is a syntax error
    code, _ = s.mail("bob@example.net", ["ENVID=a+2"])
    assert code == 501
    code, _ = s.mail("bob@example.net", ["RET=FULL"])
    assert code == 250
    code, _ = s.rcpt(USER, ["NOTIFY=NEVER,DELAY"])
    assert code == 501
    s.quit()
    assert len(new_files(server)) == 1


def test_requiretls_only_over_tls(server):
    r = Raw(server)
    r.cmd("EHLO c.example")
    assert r.cmd("MAIL FROM:<bob@example.net> REQUIRETLS")[0].startswith(b"530 5.7.10")
    r.starttls()
    r.cmd("EHLO c.example")
    assert r.cmd("MAIL FROM:<bob@example.net> REQUIRETLS")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<alice@example.test>")[0].startswith(b"250")
    assert r.bdat(b"Subject: tls\r\n\r\nx", last=True)[0].startswith(b"250 2.0.0 Ok: queued")
    r.close()
    files = new_files(server)
    assert len(files) == 1
    with open(files[0], "rb") as f:
        assert b"with ESMTPS" in f.read()


def test_received_has_ptr_name(server):
    server.write_zone("1.0.0.127.in-addr.arpa PTR client.example.test\n"
                      "client.example.test A 127.0.0.1\n")
    server.restart()
    s = smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=20)
    s.ehlo("helo.example")
    s.sendmail("bob@example.net", [USER], b"Subject: ptr\r\n\r\nbody\r\n")
    s.quit()
    files = new_files(server)
    with open(files[0], "rb") as f:
        data = f.read()
    assert b"Received: from helo.example (client.example.test [127.0.0.1])" in data


def test_received_ptr_without_forward_match_is_unknown(server):
    server.write_zone("1.0.0.127.in-addr.arpa PTR liar.example.test\n"
                      "liar.example.test A 192.0.2.7\n")
    server.restart()
    s = smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=20)
    s.ehlo("helo.example")
    s.sendmail("bob@example.net", [USER], b"Subject: ptr\r\n\r\nbody\r\n")
    s.quit()
    with open(new_files(server)[0], "rb") as f:
        data = f.read()
    assert b"Received: from helo.example (unknown [127.0.0.1])" in data


@pytest.mark.parametrize("service", ["submission", "submissions"])
def test_extensions_on_submission_ports(server, service):
    """587 and 465 run the same extensions (465 with implicit TLS, where
    REQUIRETLS is offered at once; 587 after STARTTLS, which it requires),
    for an authenticated user (docs/submission.md)."""
    import base64
    server.tern("user", "allow-sender", USER, "bob@example.net")
    raw = socket.create_connection(("127.0.0.1", server.port(service)), timeout=20)
    r = Raw.__new__(Raw)
    r.sock, r.buf = raw, b""
    if service == "submissions":
        r.sock = client_tls_context().wrap_socket(raw)
    assert r.reply()[0].startswith(b"220")
    if service == "submission":
        assert b"REQUIRETLS" not in b"\n".join(r.cmd("EHLO c.example"))
        assert r.cmd("STARTTLS")[0].startswith(b"220")
        r.sock = client_tls_context().wrap_socket(raw)
    ext = b"\n".join(r.cmd("EHLO c.example"))
    assert b"CHUNKING" in ext and b"SMTPUTF8" in ext and b"DSN" in ext
    assert b"REQUIRETLS" in ext  # TLS is on by now on both
    ir = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    assert r.cmd("AUTH PLAIN " + ir)[0].startswith(b"235")
    assert r.cmd("MAIL FROM:<bob@example.net>")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<alice@example.test> NOTIFY=FAILURE")[0].startswith(b"250")
    assert r.bdat(MESSAGE[:100])[0].startswith(b"250 2.0.0")
    assert r.bdat(MESSAGE[100:], last=True)[0].startswith(b"250 2.0.0 Ok: queued")
    r.close()
    body, _ = stored_body(new_files(server)[0])
    # the submission fixes (RFC 6409 8) go after the client's fields
    head, text = body.split(b"\r\n\r\n", 1)
    mhead, mtext = MESSAGE.split(b"\r\n\r\n", 1)
    assert text == mtext and head.startswith(mhead + b"\r\nMessage-ID: <")
