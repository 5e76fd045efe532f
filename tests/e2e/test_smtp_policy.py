"""The SMTP session and its port-25 policy (docs/smtp.md "Protocol and
policy") against a real server: syntax known by its kind, and clients that
leave while a stage waits."""
import time

import pytest

from test_smtp import PASSWORD, USER, Raw, new_files


@pytest.fixture
def server(instance):
    instance.add_user(USER, PASSWORD)
    return instance


def test_rcpt_address_literal_is_a_syntax_error(server):
    """The directory has no address literals: 501 5.1.3, from the parsed
    address, not a 451 lookup failure."""
    r = Raw(server)
    r.line()
    r.cmd("EHLO c.test")
    assert r.cmd("MAIL FROM:<a@b.test>")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<x@[192.0.2.1]>")[0].startswith(b"501 5.1.3")
    assert r.cmd("RCPT TO:<x@[IPv6:2001:db8::1]>")[0].startswith(b"501 5.1.3")
    assert r.cmd("RCPT TO:<alice@example.test>")[0].startswith(b"250 2.1.5")
    r.close()


@pytest.mark.parametrize("where", ["after_rcpt", "after_dot"])
def test_client_gone_while_a_stage_waits(server, where):
    """A client that pipelines a transaction and leaves at once: the
    stages still pending (RCPT lookup, mail authentication, the commit)
    finish without it and the server goes on serving."""
    for _ in range(5):
        r = Raw(server)
        r.line()
        data = b"EHLO c.test\r\nMAIL FROM:<bob@remote.test>\r\nRCPT TO:<alice@example.test>\r\n"
        if where == "after_dot":
            data += b"DATA\r\n"
        r.send(data)
        if where == "after_dot":
            assert r.reply()[0].startswith(b"250")  # EHLO
            assert r.reply()[0].startswith(b"250")  # MAIL
            assert r.reply()[0].startswith(b"250")  # RCPT
            assert r.reply()[0].startswith(b"354")
            r.send(b"Subject: gone\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        r.close()
    time.sleep(0.5)
    r = Raw(server)
    r.line()
    r.cmd("EHLO c.test")
    assert r.cmd("MAIL FROM:<bob@remote.test>")[0].startswith(b"250")
    assert r.cmd("RCPT TO:<alice@example.test>")[0].startswith(b"250")
    assert r.cmd("DATA")[0].startswith(b"354")
    r.send(b"Subject: after\r\n\r\nstill here\r\n.\r\n")
    assert r.reply()[0].startswith(b"250 2.0.0")
    r.close()
    stored = [open(p, "rb").read() for p in new_files(server)]
    assert sum(m.endswith(b"\r\nstill here\r\n") for m in stored) == 1
