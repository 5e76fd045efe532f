"""Sieve at local delivery (docs/sieve.md, "Delivery"): the recipient's
active script (<maildir>/sieve/NAME.sieve, named by sieve/active) and the
global before/after scripts run at every local delivery, over SMTP port 25
and LMTP; redirect leaves through the queue and arrives at a second Tern
instance."""
import os
import re
import smtplib
import time

import pytest

from conftest import Instance
from test_queue_delivery import REMOTE, make_pair, stop_pair, wait_delivered

ALICE = "alice@example.test"
BOB = "bob@example.test"
PASSWORD = "correct horse battery staple"


def put_script(inst, user, text, name="main"):
    d = os.path.join(inst.maildir(user), "sieve")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".sieve"), "w") as f:
        f.write(text)
    with open(os.path.join(d, "active"), "w") as f:
        f.write(name + "\n")
    # the server may run as another account (root drops to tern): it
    # writes its vacation and duplicate state here
    st = os.stat(os.path.join(inst.dir, "mail"))
    home = inst.maildir(user)
    for p in (os.path.dirname(home), home, d, os.path.join(d, name + ".sieve"),
              os.path.join(d, "active")):
        os.chown(p, st.st_uid, st.st_gid)


def message(subject, extra="", sender="sender@elsewhere.test"):
    return (f"From: <{sender}>\r\nTo: <{ALICE}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@client.test>\r\n{extra}\r\n"
            "hello world\r\n").encode()


def smtp_send(inst, rcpts, data, sender="sender@elsewhere.test"):
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        return s.sendmail(sender, rcpts, data)


def files_in(inst, user, folder=None):
    """(name, bytes) of every message in the user's folder (None: INBOX)."""
    base = inst.maildir(user)
    if folder is not None:
        base = os.path.join(base, "." + folder)
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(base, sub)
        if os.path.isdir(d):
            for n in sorted(os.listdir(d)):
                with open(os.path.join(d, n), "rb") as f:
                    out.append((n, f.read()))
    return out


def with_subject(inst, user, subject, folder=None):
    needle = f"Subject: {subject}\r\n".encode()
    return [n for n, data in files_in(inst, user, folder) if needle in data]


def log_count(inst, needle):
    with open(inst.log_path, "rb") as f:
        return f.read().count(needle.encode())


@pytest.fixture
def server(instance):
    instance.add_user(ALICE, PASSWORD)
    instance.add_user(BOB, PASSWORD)
    return instance


def test_fileinto_create_flags_and_cache(server):
    put_script(server, ALICE, 'require ["fileinto", "mailbox", "imap4flags"];\n'
               'if header :contains "Subject" "invoice" {\n'
               '  fileinto :create "Bills";\n'
               '} else {\n  addflag "\\\\Flagged";\n  addflag "urgent";\n}\n')
    smtp_send(server, [ALICE], message("your invoice 1"))
    smtp_send(server, [ALICE], message("lunch"))
    smtp_send(server, [ALICE], message("your invoice 2"))
    assert len(with_subject(server, ALICE, "your invoice 1", "Bills")) == 1
    assert len(with_subject(server, ALICE, "your invoice 2", "Bills")) == 1
    assert with_subject(server, ALICE, "your invoice 1") == []
    kept = with_subject(server, ALICE, "lunch")
    assert len(kept) == 1
    # \Flagged is F; the keyword takes the first letter (a) of dovecot-keywords
    assert kept[0].split(":2,")[1].startswith("aF") or "F" in kept[0].split(":2,")[1]
    with open(os.path.join(server.maildir(ALICE), "dovecot-keywords")) as f:
        assert "urgent" in f.read()
    # compiled at most once per smtp process, reused for the other deliveries
    pids = re.findall(r"event=sieve\.compile path=\S+ size=\d+ pid=(\d+)", server.log())
    assert 1 <= len(pids) <= 2 and len(set(pids)) == len(pids)
    # a changed script (size, mtime) is compiled again
    put_script(server, ALICE, 'keep;\n')
    smtp_send(server, [ALICE], message("after change"))
    smtp_send(server, [ALICE], message("after change 2"))
    assert len(with_subject(server, ALICE, "after change 2")) == 1
    assert log_count(server, "size=6 pid=") in (1, 2)


def test_fileinto_without_create_keeps(server):
    put_script(server, ALICE, 'require "fileinto";\nfileinto "Nowhere";\n')
    smtp_send(server, [ALICE], message("no folder"))
    assert len(with_subject(server, ALICE, "no folder")) == 1
    assert not os.path.isdir(os.path.join(server.maildir(ALICE), ".Nowhere"))


def test_discard(server):
    put_script(server, ALICE, 'if header :is "Subject" "junk" { discard; }\n')
    smtp_send(server, [ALICE], message("junk"))
    smtp_send(server, [ALICE], message("not junk"))
    server.wait_for_log(f"event=sieve.discard user={ALICE}")
    assert with_subject(server, ALICE, "junk") == []
    assert len(with_subject(server, ALICE, "not junk")) == 1


def test_reject_smtp_550(server):
    put_script(server, ALICE, 'require "reject";\nreject "I do not want this";\n')
    with pytest.raises(smtplib.SMTPDataError) as e:
        smtp_send(server, [ALICE], message("rejected"))
    assert e.value.smtp_code == 550
    assert b"5.7.1" in e.value.smtp_error and b"I do not want this" in e.value.smtp_error
    assert with_subject(server, ALICE, "rejected") == []


def lmtp_transaction(inst, rcpts, data):
    c = smtplib.LMTP("127.0.0.1", inst.port("lmtp"), timeout=10)
    try:
        assert c.ehlo("front.remote.test")[0] == 250
        assert c.mail("front@remote.test")[0] == 250
        for r in rcpts:
            assert c.rcpt(r)[0] == 250
        c.putcmd("data")
        assert c.getreply()[0] == 354
        c.send(data + b".\r\n")
        return [c.getreply() for _ in rcpts]
    finally:
        c.close()


def test_reject_lmtp_per_recipient(server):
    put_script(server, ALICE, 'require "ereject";\nereject "not for alice";\n')
    put_script(server, BOB, 'require ["fileinto", "mailbox"];\n'
               'if header :contains "Subject" "lmtp" { fileinto :create "Via LMTP"; }\n')
    replies = lmtp_transaction(server, [ALICE, BOB], message("by lmtp"))
    assert replies[0][0] == 550 and b"5.7.1" in replies[0][1]
    assert b"not for alice" in replies[0][1]
    assert replies[1][0] == 250
    assert with_subject(server, ALICE, "by lmtp") == []
    assert with_subject(server, BOB, "by lmtp") == []
    assert len(with_subject(server, BOB, "by lmtp", "Via LMTP")) == 1


def test_runtime_error_keeps_in_inbox(server):
    # reject conflicts with fileinto: a run-time error, implicit keep
    put_script(server, ALICE, 'require ["reject", "fileinto"];\n'
               'fileinto "Elsewhere";\nreject "no";\n')
    smtp_send(server, [ALICE], message("kept anyway"))
    assert len(with_subject(server, ALICE, "kept anyway")) == 1
    server.wait_for_log(f"event=sieve.error user={ALICE}")
    assert "line=" in server.log()


def test_syntax_error_delivers_to_inbox(server):
    put_script(server, ALICE, 'if header :bogus "x" {\n')
    smtp_send(server, [ALICE], message("broken script"))
    assert len(with_subject(server, ALICE, "broken script")) == 1
    server.wait_for_log(f"event=sieve.error user={ALICE}")


def test_global_before_and_after(server):
    before = os.path.join(server.dir, "before.sieve")
    after = os.path.join(server.dir, "after.sieve")
    with open(before, "w") as f:
        f.write('require "imap4flags";\nif header :is "X-Seen" "yes" { addflag "\\\\Seen"; }\n')
    with open(after, "w") as f:
        f.write('require ["fileinto", "mailbox"];\n'
                'if header :contains "X-Spam" "yes" { fileinto :create "Junk"; }\n')
    with open(server.config, "a") as f:
        f.write(f"\nsieve {{\n\tbefore = {before}\n\tafter = {after}\n}}\n")
    server.stop()
    server.start()
    # bob has no script of his own: the globals still run
    smtp_send(server, [BOB], message("spammy", "X-Spam: yes\r\n"))
    smtp_send(server, [BOB], message("clean"))
    assert len(with_subject(server, BOB, "spammy", "Junk")) == 1
    assert with_subject(server, BOB, "spammy") == []
    assert len(with_subject(server, BOB, "clean")) == 1
    # alice's own script files into a folder; the after script still sees spam
    put_script(server, ALICE, 'require ["fileinto", "mailbox"];\n'
               'if header :contains "Subject" "list" { fileinto :create "Lists"; }\n')
    smtp_send(server, [ALICE], message("list post"))
    smtp_send(server, [ALICE], message("spam post", "X-Spam: yes\r\n"))
    assert len(with_subject(server, ALICE, "list post", "Lists")) == 1
    assert len(with_subject(server, ALICE, "spam post", "Junk")) == 1
    assert with_subject(server, ALICE, "spam post") == []


VACATION = ('require "vacation";\n'
            'vacation :days 1 :subject "Away" :addresses ["alice@example.test"] '
            '"I am away until Monday.";\n')


def test_vacation_once_per_sender(server):
    put_script(server, ALICE, VACATION)
    # bob is local: the reply goes through the queue into his INBOX
    smtp_send(server, [ALICE], message("v1", sender=BOB), sender=BOB)
    smtp_send(server, [ALICE], message("v2", sender=BOB), sender=BOB)
    smtp_send(server, [ALICE], message("v3", "List-Id: <l.elsewhere.test>\r\n",
                                       sender="dora@elsewhere.test"),
              sender="dora@elsewhere.test")
    smtp_send(server, [ALICE], message("v4", "Auto-Submitted: auto-replied\r\n",
                                       sender="erin@elsewhere.test"),
              sender="erin@elsewhere.test")
    smtp_send(server, [ALICE], message("v5"), sender="")
    for s in ("v1", "v2", "v3", "v4", "v5"):
        assert len(with_subject(server, ALICE, s)) == 1
    assert log_count(server, f"event=sieve.vacation user={ALICE} to=<{BOB}>") == 1
    assert log_count(server, "event=sieve.vacation user=") == 1
    assert log_count(server, "event=sieve.vacation_skipped") == 4
    deadline = time.time() + 20
    while time.time() < deadline and not with_subject(server, BOB, "Away"):
        time.sleep(0.1)
    replies = [d for _, d in files_in(server, BOB) if b"Subject: Away\r\n" in d]
    assert len(replies) == 1
    assert b"Auto-Submitted: auto-replied" in replies[0]
    assert b"In-Reply-To: <v1@client.test>" in replies[0]
    assert b"I am away until Monday." in replies[0]
    assert replies[0].startswith(b"Return-Path: <>\r\n")


@pytest.fixture(autouse=False)
def _pair_dirs(instance_dir):
    os.makedirs(os.path.join(instance_dir, "a"))
    os.makedirs(os.path.join(instance_dir, "b"))


def test_redirect_through_queue(instance_dir, _pair_dirs):
    # the default scan_interval (5m): the queue role is told of the entry
    first, second = make_pair(instance_dir)
    try:
        first.add_user(ALICE, PASSWORD)
        put_script(first, ALICE, f'require "copy";\nredirect :copy "{REMOTE}";\n')
        smtp_send(first, [ALICE], message("forward me"))
        assert len(with_subject(first, ALICE, "forward me")) == 1
        assert wait_delivered(second, REMOTE, "forward me", timeout=30) == 1
        first.wait_for_log(f"event=sieve.redirect user={ALICE} to=<{REMOTE}>")
        got = [d for _, d in files_in(second, REMOTE) if b"Subject: forward me" in d][0]
        # the envelope sender is SRS-rewritten in the forwarding domain
        assert b"Return-Path: <SRS0" in got and b"@example.test>" in got.split(b"\r\n")[0]
    finally:
        stop_pair(first, second)
