"""LMTP (RFC 2033, docs/smtp.md "LMTP") against a real server, driven by
Python's smtplib.LMTP over TCP and over the Unix socket: LHLO, one reply
per accepted recipient after the data, delivery per recipient, HELO/EHLO
refused, and only trusted networks or the socket."""
import email
import os
import shutil
import smtplib

import pytest

PASSWORD = "correct horse battery"
ALICE = "alice@example.test"
BOB = "bob@example.test"
MESSAGE = (b"From: front@remote.test\r\nTo: alice@example.test\r\n"
           b"Subject: by lmtp\r\n"
           b"Authentication-Results: front.remote.test; spf=pass smtp.mailfrom=remote.test\r\n"
           b"\r\nHello over LMTP.\r\n")


@pytest.fixture
def server(instance):
    instance.add_user(ALICE, PASSWORD)
    instance.add_user(BOB, PASSWORD)
    return instance


def socket_path(inst):
    return os.path.join(inst.dir, "run", "lmtp.sock")


def connect(inst, over):
    if over == "unix":
        return smtplib.LMTP(socket_path(inst), timeout=10)
    return smtplib.LMTP("127.0.0.1", inst.port("lmtp"), timeout=10)


def messages(inst, address):
    new = os.path.join(inst.maildir(address), "new")
    if not os.path.isdir(new):
        return []
    out = []
    for name in sorted(os.listdir(new)):
        with open(os.path.join(new, name), "rb") as f:
            out.append(f.read())
    return out


def transaction(c, rcpts, data=MESSAGE):
    """MAIL, the RCPTs and DATA; returns the RCPT replies and the replies
    after the final dot (smtplib reads only one: the others are read here,
    one per accepted recipient as RFC 2033 4.2 says)."""
    code, _ = c.ehlo("front.remote.test")  # smtplib.LMTP sends LHLO
    assert code == 250
    assert c.mail("front@remote.test")[0] == 250
    rcpt_replies = [c.rcpt(r) for r in rcpts]
    accepted = sum(1 for code, _ in rcpt_replies if code == 250)
    c.putcmd("data")
    assert c.getreply()[0] == 354
    c.send(data + b".\r\n")
    return rcpt_replies, [c.getreply() for _ in range(accepted)]


@pytest.mark.parametrize("over", ["tcp", "unix"])
def test_one_reply_per_recipient(server, over):
    """Two local users and an unknown one: 550 5.1.1 at RCPT for the
    unknown, then one 250 per accepted recipient, in RCPT order, and the
    message in both Maildirs with the front's Authentication-Results."""
    c = connect(server, over)
    rcpt, data = transaction(c, [ALICE, "nobody@example.test", BOB])
    assert rcpt[0][0] == 250
    assert rcpt[1][0] == 550 and rcpt[1][1].startswith(b"5.1.1")
    assert rcpt[2][0] == 250
    assert [code for code, _ in data] == [250, 250]
    assert b"<alice@example.test>" in data[0][1]
    assert b"<bob@example.test>" in data[1][1]
    # the session goes on after the replies
    assert c.noop()[0] == 250
    c.quit()
    for user in (ALICE, BOB):
        got = messages(server, user)
        assert len(got) == 1
        msg = email.message_from_bytes(got[0])
        assert msg["Subject"] == "by lmtp"
        assert msg["Return-Path"] == "<front@remote.test>"
        assert "with LMTP" in msg["Received"]
        # no SPF/DKIM/DMARC here: the front's verdict stays, ours is absent
        assert msg.get_all("Authentication-Results") == [
            "front.remote.test; spf=pass smtp.mailfrom=remote.test"]
        assert got[0].endswith(b"\r\nHello over LMTP.\r\n")


def test_failed_mailbox_gets_its_own_error(server):
    """Bob's Maildir cannot take the message (its new/ is a file): bob gets
    451 4.3.0 after the data, alice 250, and alice has the message."""
    c = connect(server, "tcp")
    # a first message makes both Maildirs (as the server's user)
    _, data = transaction(c, [BOB, ALICE])
    assert [code for code, _ in data] == [250, 250]
    new = os.path.join(server.maildir(BOB), "new")
    shutil.rmtree(new)
    with open(new, "w") as f:
        f.write("not a directory\n")
    rcpt, data = transaction(c, [BOB, ALICE])
    assert [code for code, _ in rcpt] == [250, 250]
    assert data[0][0] == 451 and data[0][1].startswith(b"4.3.0 <bob@example.test>")
    assert data[1][0] == 250 and b"<alice@example.test>" in data[1][1]
    c.quit()
    assert len(messages(server, ALICE)) == 2
    assert os.path.isfile(new)


def test_two_recipients_one_mailbox(server):
    """An alias and its user in one transaction: a reply for each
    recipient, one copy in the mailbox they share."""
    server.tern("alias", "add", "sales@example.test", ALICE)
    c = connect(server, "unix")
    rcpt, data = transaction(c, ["sales@example.test", ALICE])
    assert [code for code, _ in rcpt] == [250, 250]
    assert [code for code, _ in data] == [250, 250]
    assert b"<sales@example.test>" in data[0][1]
    c.quit()
    assert len(messages(server, ALICE)) == 1


def test_helo_ehlo_refused(server):
    """RFC 2033 4.1: an SMTP greeting on the LMTP port is refused, LHLO
    is answered with the extensions; AUTH is not offered."""
    c = connect(server, "tcp")
    assert c.docmd("HELO front.remote.test")[0] == 500
    assert c.docmd("EHLO front.remote.test")[0] == 500
    assert c.docmd("MAIL FROM:<front@remote.test>")[0] == 503
    code, text = c.ehlo("front.remote.test")
    assert code == 250
    assert b"PIPELINING" in text and b"ENHANCEDSTATUSCODES" in text
    assert b"AUTH" not in text
    assert b"STARTTLS" not in text  # the listener says tls = none
    assert c.docmd("AUTH PLAIN")[0] == 502
    c.quit()


def test_protocol_refusal_once_per_recipient(server):
    """A message the protocol refuses (a bare LF) gets the refusal once
    per accepted recipient, and nothing is stored."""
    c = connect(server, "tcp")
    _, data = transaction(c, [ALICE, BOB], data=b"Subject: x\r\n\r\nbare\nLF\r\n")
    assert [code for code, _ in data] == [554, 554]
    assert c.noop()[0] == 250
    c.quit()
    assert messages(server, ALICE) == [] and messages(server, BOB) == []


def test_only_trusted_networks_or_the_socket(instance_dir):
    """lmtp.trusted_networks without loopback: MAIL over TCP from 127.0.0.1
    gets 550 5.7.1; the Unix socket is still allowed."""
    from conftest import Instance
    inst = Instance(instance_dir)
    with open(inst.config) as f:
        text = f.read()
    assert "\ttrusted_networks = 127.0.0.0/8, ::1/128\n" in text
    with open(inst.config, "w") as f:
        f.write(text.replace("\ttrusted_networks = 127.0.0.0/8, ::1/128\n",
                             "\ttrusted_networks = 192.0.2.0/24\n"))
    inst.add_user(ALICE, PASSWORD)
    inst.start()
    try:
        c = connect(inst, "tcp")
        c.ehlo("front.remote.test")
        code, text = c.mail("front@remote.test")
        assert code == 550 and text.startswith(b"5.7.1")
        c.quit()
        c = connect(inst, "unix")
        _, data = transaction(c, [ALICE])
        assert [code for code, _ in data] == [250]
        c.quit()
        assert len(messages(inst, ALICE)) == 1
    finally:
        inst.stop()
    inst.check_sanitizers()


def test_socket_file_mode(server):
    """The socket is a socket, mode 0666 (docs/smtp.md)."""
    st = os.stat(socket_path(server))
    import stat
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o666
