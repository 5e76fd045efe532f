"""Quotas end to end (docs/quota.md): SMTP RCPT 452 when full and 552 with a
SIZE= that does not fit, 552 at the end of DATA with nothing left in the
Maildir, LMTP per recipient, IMAP APPEND/COPY NO [OVERQUOTA], expunge
freeing at once, GETQUOTAROOT matching `tern user show`, SETQUOTA refused,
`tern user quota --recalc` after files were deleted by hand."""
import glob
import imaplib
import os
import re
import smtplib

import pytest

from conftest import client_tls_context

PASSWORD = "correct horse battery"
ALICE = "alice@example.test"
BOB = "bob@example.test"


def message(size=0, subject="quota"):
    body = b"x" * 70 + b"\r\n"
    lines = max(1, size // len(body))
    return (b"From: carol@remote.test\r\nTo: alice@example.test\r\nSubject: "
            + subject.encode() + b"\r\n\r\n" + body * lines)


@pytest.fixture
def server(instance):
    instance.add_user(ALICE, PASSWORD)
    instance.add_user(BOB, PASSWORD)
    return instance


def usage(inst, user=ALICE):
    out = inst.tern("user", "show", user).stdout
    m = re.search(r"^usage: (\d+)", out, re.M)
    n = re.search(r"^usage-messages: (\d+)", out, re.M)
    assert m and n, out
    return int(m.group(1)), int(n.group(1))


def files(inst, user, sub):
    return glob.glob(os.path.join(inst.maildir(user), sub, "*"))


def stored(inst, user=ALICE):
    return len(files(inst, user, "new")) + len(files(inst, user, "cur"))


def deliver(inst, rcpts=(ALICE,), data=None):
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=20) as s:
        s.sendmail("carol@remote.test", list(rcpts), data or message())


def set_quota(inst, size, user=ALICE, *extra):
    inst.tern("user", "quota", user, str(size), *extra)


def imap(inst):
    m = imaplib.IMAP4("127.0.0.1", inst.port("imap"))
    m.starttls(client_tls_context())
    m.login(ALICE, PASSWORD)
    return m


def test_rcpt_452_when_full(server):
    deliver(server)
    used, count = usage(server)
    assert count == 1 and used > 0
    set_quota(server, used)  # exactly at the limit: full
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=20) as s:
        s.ehlo("client.remote.test")
        assert s.mail("carol@remote.test")[0] == 250
        code, text = s.rcpt(ALICE)
        assert code == 452 and text.startswith(b"4.2.2")
        # another user is not concerned
        assert s.rcpt(BOB)[0] == 250
    assert stored(server) == 1
    # one byte more room: accepted again
    set_quota(server, used + 10000)
    deliver(server)
    assert stored(server) == 2


def test_rcpt_size_552(server):
    deliver(server)
    used, _ = usage(server)
    set_quota(server, used + 1000)
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=20) as s:
        s.ehlo("client.remote.test")
        assert s.mail("carol@remote.test", ["SIZE=5000"])[0] == 250
        code, text = s.rcpt(ALICE)
        assert code == 552 and text.startswith(b"5.2.2")
        s.rset()
        assert s.mail("carol@remote.test", ["SIZE=1000"])[0] == 250
        assert s.rcpt(ALICE)[0] == 250  # exactly fits
        s.rset()
        assert s.mail("carol@remote.test", ["SIZE=0"])[0] == 250
        assert s.rcpt(ALICE)[0] == 250


def test_data_552_nothing_left(server):
    deliver(server)
    used, _ = usage(server)
    set_quota(server, used + 1000)
    before = (files(server, ALICE, "new"), files(server, ALICE, "tmp"))
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=20) as s:
        s.ehlo("client.remote.test")
        # no SIZE= (sendmail would send one): refused at the end of DATA
        assert s.mail("carol@remote.test")[0] == 250
        assert s.rcpt(ALICE)[0] == 250
        code, text = s.data(message(5000))
        assert code == 552 and text.startswith(b"5.2.2")
    assert (files(server, ALICE, "new"), files(server, ALICE, "tmp")) == before
    assert files(server, ALICE, "cur") == []
    assert usage(server)[0] == used
    # a small one still fits
    deliver(server, data=message(100))
    assert len(files(server, ALICE, "new")) == 2


def test_lmtp_per_recipient(server):
    deliver(server)
    used, _ = usage(server)
    set_quota(server, used + 1000)
    c = smtplib.LMTP("127.0.0.1", server.port("lmtp"), timeout=20)
    c.ehlo("front.remote.test")
    assert c.mail("carol@remote.test")[0] == 250
    assert c.rcpt(ALICE)[0] == 250
    assert c.rcpt(BOB)[0] == 250
    c.putcmd("data")
    assert c.getreply()[0] == 354
    c.send(message(5000) + b".\r\n")
    replies = [c.getreply() for _ in range(2)]
    c.quit()
    assert replies[0][0] == 552 and b"5.2.2" in replies[0][1]
    assert replies[1][0] == 250
    assert stored(server, ALICE) == 1
    assert stored(server, BOB) == 1


def test_imap_quota(server):
    deliver(server, data=message(1000))
    deliver(server, data=message(1000))
    m = imap(server)
    typ, caps = m.capability()
    assert b"QUOTA=RES-STORAGE" in caps[0] and b"QUOTA=RES-MESSAGE" in caps[0]
    m.select("INBOX")
    used, count = usage(server)
    set_quota(server, used + 1500, ALICE, "--messages", "10")
    typ, data = m.getquotaroot("INBOX")
    assert typ == "OK"
    flat = b" ".join(d for d in data[0] + data[1] if isinstance(d, bytes)) \
        if isinstance(data[0], list) else b" ".join(data)
    assert b'"INBOX" ""' in flat or b'INBOX ""' in flat
    want = b"STORAGE %d %d MESSAGE %d 10" % ((used + 1023) // 1024, (used + 1500) // 1024, count)
    assert want in flat, flat
    typ, data = m.getquota('""')
    assert typ == "OK" and want in data[0]
    typ, data = m.setquota('""', "(STORAGE 1)")
    assert typ == "NO" and b"[NOPERM]" in data[0]
    # APPEND that does not fit
    typ, data = m.append("INBOX", None, None, message(2000))
    assert typ == "NO" and b"[OVERQUOTA]" in data[0]
    # COPY of both messages does not fit either
    typ, data = m.copy("1:2", "INBOX")
    assert typ == "NO" and b"[OVERQUOTA]" in data[0]
    assert usage(server) == (used, count)
    # a small APPEND fits
    typ, _ = m.append("INBOX", None, None, message(10))
    assert typ == "OK"
    # expunge frees at once
    m.select("INBOX")
    m.store("1:*", "+FLAGS", "\\Deleted")
    total, _ = usage(server)
    typ, data = m.status("INBOX", "(DELETED-STORAGE)")
    assert typ == "OK" and b"DELETED-STORAGE %d" % (total // 1024) in data[0], data
    m.expunge()
    assert usage(server) == (0, 0)
    typ, data = m.getquota('""')
    assert b"STORAGE 0 " in data[0] and b"MESSAGE 0 10" in data[0]
    # now the big one fits
    typ, _ = m.append("INBOX", None, None, message(2000))
    assert typ == "OK"
    m.logout()


def test_recalc_after_files_deleted(server):
    for _ in range(3):
        deliver(server)
    used, count = usage(server)
    assert count == 3
    victim = sorted(files(server, ALICE, "new"))[0]
    size = os.path.getsize(victim)
    os.unlink(victim)
    # not walked: the index does not know yet
    assert usage(server) == (used, count)
    out = server.tern("user", "quota", ALICE, "--recalc").stdout
    assert f"usage: {used - size}" in out
    assert usage(server) == (used - size, 2)
    out = server.tern("user", "quota", ALICE, "2G", "--messages", "5").stdout
    assert "quota: 2G" in out and "quota-messages: 5" in out


def warnings(inst, user=ALICE):
    out = []
    for path in files(inst, user, "new") + files(inst, user, "cur"):
        with open(path, "rb") as f:
            head = f.read(2000)
        if b"Subject: Quota warning" in head:
            out.append(head)
    return out


def test_one_warning_per_crossing(server):
    server.tern("user", "quota", ALICE, "20000")
    deliver(server, data=message(10000))   # about 50 %
    assert warnings(server) == []
    deliver(server, data=message(6000))    # past 80 %
    got = warnings(server)
    assert len(got) == 1 and b"80%" in got[0]
    assert b"Auto-Submitted: auto-generated" in got[0]
    deliver(server, data=message(300))     # still between 80 and 95: no new one
    deliver(server, data=message(300))
    assert len(warnings(server)) == 1
    used, _ = usage(server)
    deliver(server, data=message(19300 - used))  # past 95 %, under 100 %
    got = warnings(server)
    assert len(got) == 2 and any(b"95%" in w for w in got)


def test_domain_default_quota(instance):
    out = instance.tern("domain", "quota", "example.test", "3G").stdout
    assert "default-quota: 3G" in out
    instance.add_user("dora@example.test", PASSWORD)
    assert "quota: 3G" in instance.tern("user", "show", "dora@example.test").stdout
    # an explicit --quota wins; removing the default gives 1G again
    instance.tern("domain", "quota", "example.test", "default")
    instance.add_user("eve@example.test", PASSWORD)
    assert "quota: 1G" in instance.tern("user", "show", "eve@example.test").stdout
    assert "quota: 3G" in instance.tern("user", "show", "dora@example.test").stdout
