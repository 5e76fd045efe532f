"""IMAP end to end: imaplib against a real server, over STARTTLS and
implicit TLS; fetched bytes are compared with the delivered Maildir file."""
import glob
import imaplib
import os
import smtplib
import socket
import time

from conftest import client_tls_context

USER = "alice@example.test"
PASSWORD = "correct horse battery"
MESSAGE = (b"From: bob@remote.test\r\nTo: alice@example.test\r\n"
           b"Subject: hello imap\r\nX-Extra: one\r\n two\r\n\r\n"
           b"Line one\r\nLine two\r\n")


def deliver(instance, body=MESSAGE):
    with smtplib.SMTP("127.0.0.1", instance.port("smtp"), timeout=10) as s:
        s.sendmail("bob@remote.test", [USER], body)


def stored_files(instance):
    md = instance.maildir(USER)
    return sorted(glob.glob(os.path.join(md, "new", "*")) +
                  glob.glob(os.path.join(md, "cur", "*")))


def connect_starttls(instance):
    m = imaplib.IMAP4("127.0.0.1", instance.port("imap"))
    m.starttls(client_tls_context())
    m.login(USER, PASSWORD)
    return m


def connect_imaps(instance):
    m = imaplib.IMAP4_SSL("127.0.0.1", instance.port("imaps"),
                          ssl_context=client_tls_context())
    m.login(USER, PASSWORD)
    return m


def setup_mail(instance, count=1):
    instance.add_user(USER, PASSWORD)
    for _ in range(count):
        deliver(instance)


def literal(resp):
    return resp[1][0][1]


def test_login_requires_tls(instance):
    instance.add_user(USER, PASSWORD)
    m = imaplib.IMAP4("127.0.0.1", instance.port("imap"))
    assert "LOGINDISABLED" in m.capabilities
    assert "STARTTLS" in m.capabilities
    try:
        m.login(USER, PASSWORD)
        assert False, "login without TLS succeeded"
    except imaplib.IMAP4.error as e:
        assert "PRIVACYREQUIRED" in str(e)
    m.starttls(client_tls_context())
    try:
        m.login(USER, "Wr0ngPa55w0rd!")
        assert False, "wrong password accepted"
    except imaplib.IMAP4.error as e:
        assert "AUTHENTICATIONFAILED" in str(e)
    typ, data = m.login(USER, PASSWORD)
    assert typ == "OK" and b"CAPABILITY" in data[0]
    m.logout()
    log = instance.log()
    assert "event=imap.login_failed" in log
    assert "Wr0ngPa55w0rd!" not in log and PASSWORD not in log


def test_authenticate_plain(instance):
    instance.add_user(USER, PASSWORD)
    m = imaplib.IMAP4_SSL("127.0.0.1", instance.port("imaps"),
                          ssl_context=client_tls_context())
    typ, _ = m.authenticate("PLAIN", lambda _: f"\0{USER}\0{PASSWORD}".encode())
    assert typ == "OK"
    m.logout()


def test_list_select_fetch(instance):
    setup_mail(instance)
    raw = open(stored_files(instance)[0], "rb").read()
    header, text = raw.split(b"\r\n\r\n", 1)
    header += b"\r\n\r\n"
    m = connect_starttls(instance)
    typ, data = m.list()
    # A new account gets the usual special-use folders (docs/imap.md).
    assert data[0] == b'(\\HasNoChildren) "/" "INBOX"' and len(data) == 6
    assert m.list('""', '""')[1] == [b'(\\Noselect) "/" ""']
    typ, data = m.select("INBOX")
    assert (typ, data) == ("OK", [b"1"])
    typ, data = m.fetch("1", "(FLAGS UID RFC822.SIZE INTERNALDATE)")
    assert b"UID 1" in data[0] and b"RFC822.SIZE %d" % len(raw) in data[0]
    assert literal(m.fetch("1", "BODY.PEEK[]")) == raw
    assert literal(m.fetch("1", "BODY.PEEK[HEADER]")) == header
    assert literal(m.fetch("1", "BODY.PEEK[TEXT]")) == text
    assert literal(m.fetch("1", "RFC822.HEADER")) == header
    assert literal(m.fetch("1", "BODY.PEEK[]<5.10>")) == raw[5:15]
    assert literal(m.fetch("1", "BODY.PEEK[HEADER.FIELDS (X-EXTRA)]")) == \
        b"X-Extra: one\r\n two\r\n\r\n"
    assert b"\\Seen" not in m.fetch("1", "FLAGS")[1][0]
    assert literal(m.fetch("1", "RFC822.TEXT")) == text
    assert b"\\Seen" in m.fetch("1", "FLAGS")[1][0]
    assert literal(m.fetch("1", "RFC822")) == raw
    assert literal(m.fetch("1", "BODY[]")) == raw
    assert m.uid("FETCH", "1:*", "FLAGS")[0] == "OK"
    try:
        m.fetch("5", "FLAGS")
        assert False, "a message number that does not exist was accepted"
    except imaplib.IMAP4.error as e:
        assert "Invalid messageset" in str(e)
    m.logout()


def test_store_seen_elsewhere_and_after_restart(instance):
    setup_mail(instance, 2)
    a = connect_imaps(instance)
    b = connect_starttls(instance)
    a.select("INBOX")
    b.select("INBOX")
    typ, data = a.store("1", "+FLAGS", "(\\Flagged \\Answered)")
    assert typ == "OK" and b"\\Flagged" in data[0]
    # The other session learns about it at its next NOOP (RFC 3501 7.4.1
    # keeps FETCH free of mailbox updates here).
    b.noop()
    assert b"\\Flagged" in b.fetch("1", "FLAGS")[1][0]
    a.logout()
    b.logout()
    instance.restart()
    c = connect_imaps(instance)
    c.select("INBOX")
    assert b"\\Answered \\Flagged" in c.fetch("1", "FLAGS")[1][0]
    assert c.search(None, "FLAGGED")[1] == [b"1"]
    c.store("1", "+FLAGS.SILENT", "(\\Deleted)")
    typ, data = c.expunge()
    assert data == [b"1"]
    assert c.fetch("1:*", "UID")[1] == [b"1 (UID 2)"]
    c.logout()
    assert len(stored_files(instance)) == 1


def test_new_mail_seen_by_noop(instance):
    setup_mail(instance)
    m = connect_imaps(instance)
    m.select("INBOX")
    deliver(instance)
    time.sleep(0.2)
    m.noop()
    assert m.untagged_responses.get("EXISTS")[-1] == b"2"
    m.logout()


def test_garbage_and_long_lines(instance):
    setup_mail(instance)
    s = socket.create_connection(("127.0.0.1", instance.port("imap")))
    f = s.makefile("rwb")
    assert f.readline().startswith(b"* OK")
    f.write(b"garbage\r\n")
    f.flush()
    assert f.readline().startswith(b"* BAD")
    f.write(b"a1 " + b"x" * 20000 + b"\r\n")
    f.flush()
    assert f.readline().startswith(b"a1 BAD")
    f.write(b"a2 NOOP\r\n")
    f.flush()
    assert f.readline().startswith(b"a2 OK")
    # Another client is served meanwhile.
    m = connect_imaps(instance)
    assert m.select("INBOX")[0] == "OK"
    m.logout()
    # Too many errors: the server says BYE and closes.
    for i in range(10):
        f.write(b"x%d BOGUS\r\n" % i)
    f.flush()
    lines = f.read().splitlines()
    assert lines[-1].startswith(b"* BYE")
    s.close()
