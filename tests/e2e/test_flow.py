"""One message from an SMTP client into a Maildir and back out through IMAP,
with the durability and lifecycle promises around it."""
import imaplib
import os
import smtplib
import socket
import subprocess

import pytest

from conftest import client_tls_context

USER = "alice@example.test"
PASSWORD = "correct horse battery staple"


def message(subject, body="Hello from the tests.\r\n", size=None):
    text = (f"From: Bob <bob@remote.test>\r\nTo: Alice <{USER}>\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{subject}@remote.test>\r\n\r\n{body}")
    if size:
        line = "x" * 998 + "\r\n"
        text += line * (size // len(line) + 1)
    return text.encode()


def send(instance, msg, rcpt=USER, starttls=False):
    with smtplib.SMTP("127.0.0.1", instance.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        if starttls:
            s.starttls(context=client_tls_context())
            s.ehlo("client.test")
        s.sendmail("bob@remote.test", [rcpt], msg)


def imap(instance, implicit=False):
    if implicit:
        conn = imaplib.IMAP4_SSL("127.0.0.1", instance.port("imaps"),
                                 ssl_context=client_tls_context(), timeout=30)
    else:
        conn = imaplib.IMAP4("127.0.0.1", instance.port("imap"), timeout=30)
        conn.starttls(ssl_context=client_tls_context())
    conn.login(USER, PASSWORD)
    return conn


def fetch_body(conn, num):
    typ, data = conn.fetch(num, "(BODY.PEEK[])")
    assert typ == "OK"
    return data[0][1]


def strip_trace(raw):
    """The message as the client sent it: without the Return-Path,
    Received and Authentication-Results fields the server prepends."""
    lines = raw.split(b"\r\n")
    i = 0
    while lines[i].startswith((b"Return-Path:", b"Received:", b"Authentication-Results:",
                               b" ", b"\t")):
        i += 1
    return b"\r\n".join(lines[i:])


@pytest.fixture
def server(instance):
    instance.add_user(USER, PASSWORD)
    return instance


@pytest.mark.parametrize("starttls", [False, True])
def test_smtplib_to_imap_byte_for_byte(server, starttls):
    msg = message("journey", body="Line one\r\n.Leading dot\r\n\r\nLast line\r\n")
    send(server, msg, starttls=starttls)
    for implicit in (False, True):
        conn = imap(server, implicit=implicit)
        typ, data = conn.select("INBOX")
        assert typ == "OK" and data[0] == b"1"
        raw = fetch_body(conn, "1")
        assert strip_trace(raw) == msg
        assert raw.startswith(b"Return-Path: <bob@remote.test>\r\n")
        assert b"Received: from client.test" in raw
        conn.logout()


def test_swaks_plain_and_starttls(server):
    for extra in ([], ["-tls"]):
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                            str(server.port("smtp")), "--from", "bob@remote.test",
                            "--to", USER, "--helo", "swaks.test",
                            "--header", "Subject: swaks", "--body", "via swaks"] + extra,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
    conn = imap(server)
    typ, data = conn.select("INBOX")
    assert data[0] == b"2"
    assert b"via swaks" in fetch_body(conn, "2")
    conn.logout()


def test_relay_and_unknown_user_refused(server):
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.mail("bob@remote.test")
        code, text = s.rcpt("someone@elsewhere.test")
        assert code == 554 and b"5.7.1" in text
        code, text = s.rcpt("nobody@example.test")
        assert code == 550 and b"5.1.1" in text
        code, _ = s.rcpt(USER)
        assert code == 250


def test_garbage_and_long_lines_keep_server_serving(server):
    with socket.create_connection(("127.0.0.1", server.port("smtp")), timeout=30) as bad:
        bf = bad.makefile("rwb")
        bf.readline()
        bf.write(b"\x00\xff garbage\r\n")
        bf.flush()
        assert bf.readline()[:1] == b"5"
        bf.write(b"NOOP " + b"a" * 100000 + b"\r\n")
        bf.flush()
        assert bf.readline()[:1] == b"5"
        with socket.create_connection(("127.0.0.1", server.port("imap")), timeout=30) as bi:
            fi = bi.makefile("rwb")
            fi.readline()
            fi.write(b"a1 FROBNICATE\r\n")
            fi.flush()
            assert fi.readline().startswith(b"a1 BAD")
            fi.write(b"a2 NOOP " + b"x" * 100000 + b"\r\n")
            fi.flush()
            assert b"BAD" in fi.readline()
            # Meanwhile another client is served normally.
            send(server, message("meanwhile"))
            fi.write(b"a3 NOOP\r\n")
            fi.flush()
            assert fi.readline().startswith(b"a3 OK")
        bf.write(b"NOOP\r\n")
        bf.flush()
        assert bf.readline().startswith(b"250")
    conn = imap(server)
    assert conn.select("INBOX")[1][0] == b"1"
    conn.logout()


def test_kill9_after_250_loses_nothing(server):
    send(server, message("durable"))
    server.kill9()
    server.start()
    conn = imap(server)
    typ, data = conn.select("INBOX")
    assert data[0] == b"1"
    assert b"Subject: durable" in fetch_body(conn, "1")
    conn.logout()


def test_message_dropped_into_new_gets_uid(server):
    send(server, message("first"))
    conn = imap(server)
    conn.select("INBOX")
    uid1 = conn.fetch("1", "(UID)")[1][0]
    conn.logout()
    server.stop()
    new = os.path.join(server.maildir(USER), "new")
    with open(os.path.join(new, "1700000000.M1P1.other"), "wb") as f:
        f.write(message("dropped"))
    server.start()
    conn = imap(server)
    typ, data = conn.select("INBOX")
    assert data[0] == b"2"
    typ, data = conn.fetch("1:2", "(UID)")
    uids = [int(d.split(b"UID ")[1].rstrip(b")")) for d in data]
    assert uids[0] == int(uid1.split(b"UID ")[1].rstrip(b")")) and uids[1] > uids[0]
    assert b"Subject: dropped" in fetch_body(conn, "2")
    conn.logout()
