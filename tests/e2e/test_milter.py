"""The milter client (docs/filter.md) against a milter written with
Debian's python3-milter, libmilter being the reference implementation:
rejects, tempfails, header changes, a replaced body, quarantine into Junk,
discard, a changed sender, and default_action with the milter down."""
import glob
import os
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import Instance

HERE = os.path.dirname(os.path.abspath(__file__))
USER = "rcpt@example.test"
OTHER = "other@example.test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("milter not listening")


@pytest.fixture
def rules_milter():
    port = free_port()
    proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "milter", "rules_milter.py"),
                             str(port)], stdout=subprocess.PIPE)
    wait_listening(port)
    yield port
    proc.kill()
    proc.wait(timeout=10)


def start(instance_dir, port, action="tempfail"):
    inst = Instance(instance_dir)
    with open(inst.config, "a") as f:
        f.write("\nmilter rules {\n\taddress = 127.0.0.1:%d\n\tdefault_action = %s\n"
                "\ttimeout = 10s\n\tlisteners = smtp\n}\n" % (port, action))
    inst.start()
    inst.add_user(USER, "password1234")
    return inst


def send(inst, subject, rcpts=(USER,), body="Hello.\r\n"):
    msg = ("From: sender@example.org\r\nTo: %s\r\nSubject: %s\r\nX-Remove-Me: yes\r\n\r\n%s"
           % (USER, subject, body))
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as c:
        c.ehlo("client.example")
        return c.sendmail("sender@example.org", list(rcpts), msg)


def stored(inst, folder=""):
    md = inst.maildir(USER)
    path = os.path.join(md, folder, "new", "*") if folder else os.path.join(md, "new", "*")
    files = sorted(glob.glob(path))
    return [open(p, "rb").read() for p in files]


@pytest.fixture
def inst(instance_dir, rules_milter):
    i = start(instance_dir, rules_milter)
    yield i
    i.stop()
    i.check_sanitizers()


def test_clean_message_delivered(inst):
    send(inst, "hello")
    msgs = stored(inst)
    assert len(msgs) == 1 and b"Subject: hello" in msgs[0]


def test_reject_with_milter_text(inst):
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(inst, "please reject")
    assert e.value.smtp_code == 554
    assert b"5.7.1 Spam rejected by rule" in e.value.smtp_error
    assert stored(inst) == []


def test_tempfail(inst):
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(inst, "tempfail me")
    assert e.value.smtp_code == 451 and b"Try again by rule" in e.value.smtp_error


def test_rcpt_reject_refuses_that_recipient(inst):
    refused = send(inst, "hello", rcpts=(USER, "blocked@example.test"))
    assert refused["blocked@example.test"][0] == 550
    assert len(stored(inst)) == 1


def test_headers_changed(inst):
    send(inst, "addheader")
    msg = stored(inst)[0]
    assert b"X-Milter-Rule: added\r\n" in msg
    assert b"X-Remove-Me" not in msg
    assert b"Subject: changed addheader\r\n" in msg
    assert b"Subject: addheader\r\n" not in msg


def test_large_body_reaches_milter(inst):
    line = "x" * 998 + "\r\n"
    send(inst, "bodysize", body=line * 300)  # 300,000 bytes
    msg = stored(inst)[0]
    # libmilter may join or split packets; the bytes must all be there
    assert b"X-Body-Size: 300000 bytes in " in msg


def test_body_replaced(inst):
    send(inst, "replacebody", body="Original text.\r\n")
    msg = stored(inst)[0]
    assert msg.endswith(b"\r\n\r\nThe body the milter wrote.\r\n")
    assert b"Original text" not in msg


def test_quarantine_into_junk(inst):
    send(inst, "quarantine")
    assert stored(inst) == []
    junk = stored(inst, ".Junk")
    assert len(junk) == 1 and b"Subject: quarantine" in junk[0]


def test_discard(inst):
    send(inst, "discard")  # 250
    assert stored(inst) == [] and stored(inst, ".Junk") == []


def test_sender_changed(inst):
    send(inst, "chgfrom")
    assert "event=milter.sender_changed from=<changed@example.org>" in inst.log()
    msg = stored(inst)[0]
    assert msg.startswith(b"Return-Path: <changed@example.org>\r\n")


def test_recipients_changed(inst):
    inst.add_user(OTHER, "password1234")
    send(inst, "addrcpt")
    assert stored(inst) == []
    got = sorted(glob.glob(os.path.join(inst.maildir(OTHER), "new", "*")))
    assert len(got) == 1
    assert b"Subject: addrcpt" in open(got[0], "rb").read()


def test_milter_down_tempfail(instance_dir):
    inst = start(instance_dir, free_port(), "tempfail")
    with pytest.raises(smtplib.SMTPSenderRefused) as e:
        send(inst, "hello")
    assert e.value.smtp_code == 451
    assert stored(inst) == []
    inst.stop()
    inst.check_sanitizers()


def test_milter_down_accept(instance_dir):
    inst = start(instance_dir, free_port(), "accept")
    send(inst, "hello")
    assert len(stored(inst)) == 1
    assert "event=milter.failed milter=rules" in inst.log()
    inst.stop()
    inst.check_sanitizers()


def test_bdat_goes_through_milter(inst):
    msg = (b"From: sender@example.org\r\nTo: rcpt@example.test\r\nSubject: addheader\r\n"
           b"\r\nBy chunks.\r\n")
    with socket.create_connection(("127.0.0.1", inst.port("smtp")), timeout=30) as s:
        f = s.makefile("rb")

        def reply():
            lines = [f.readline()]
            while lines[-1][3:4] == b"-":
                lines.append(f.readline())
            return lines[-1]

        assert reply().startswith(b"220")
        for cmd in (b"EHLO client.example", b"MAIL FROM:<sender@example.org>",
                    b"RCPT TO:<rcpt@example.test>"):
            s.sendall(cmd + b"\r\n")
            assert reply().startswith(b"250"), cmd
        s.sendall(b"BDAT %d LAST\r\n" % len(msg) + msg)
        assert reply().startswith(b"250")
        s.sendall(b"QUIT\r\n")
    stored_msg = stored(inst)[0]
    assert b"X-Milter-Rule: added\r\n" in stored_msg
    assert b"Subject: changed addheader\r\n" in stored_msg


def test_lmtp_reject_answers_each_recipient(instance_dir, rules_milter):
    inst = Instance(instance_dir)
    with open(inst.config, "a") as f:
        f.write("\nmilter rules {\n\taddress = 127.0.0.1:%d\n\tlisteners = lmtp\n}\n"
                % rules_milter)
    inst.start()
    inst.add_user(USER, "password1234")
    inst.add_user(OTHER, "password1234")
    msg = "From: a@example.org\r\nSubject: please reject\r\n\r\nx\r\n"
    with smtplib.LMTP("127.0.0.1", inst.port("lmtp"), timeout=30) as c:
        c.ehlo("client.example")
        c.mail("a@example.org")
        assert c.rcpt(USER)[0] == 250 and c.rcpt(OTHER)[0] == 250
        c.putcmd("data")
        assert c.getreply()[0] == 354
        c.send(msg.encode() + b".\r\n")
        assert c.getreply()[0] == 554
        assert c.getreply()[0] == 554  # one reply per recipient (RFC 2033 4.2)
        c.rset()
        assert c.noop()[0] == 250
    assert stored(inst) == []
    inst.stop()
    inst.check_sanitizers()
