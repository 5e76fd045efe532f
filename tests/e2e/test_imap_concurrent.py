"""Two IMAP sessions on one account at once (a phone and a desktop): a
change one session makes must not be lost or break the other, which has
not synced since."""
import imaplib
import os
import re
import ssl
import time

from test_imap import USER, PASSWORD, connect_starttls

imaplib.Commands.setdefault("MOVE", ("SELECTED",))

MESSAGE = (b"From: bob@remote.test\r\nTo: alice@example.test\r\n"
           b"Subject: two sessions\r\n\r\nthe body\r\n")


def two_sessions(instance, flags=r"(\Seen)"):
    """Sessions a and b, both with INBOX selected, holding one message."""
    instance.add_user(USER, PASSWORD)
    a = connect_starttls(instance)
    b = connect_starttls(instance)
    typ, data = a.append("INBOX", flags, None, MESSAGE)
    assert typ == "OK", data
    assert a.select("INBOX")[0] == "OK"
    assert b.select("INBOX")[0] == "OK"
    return a, b


def flags_of(m, num=b"1"):
    typ, data = m.fetch(num, "(FLAGS)")
    assert typ == "OK", data
    found = [d for d in data if isinstance(d, bytes) and d.startswith(num + b" (FLAGS")]
    assert found, data
    # \Recent is the first selecting session's only (test_imap_recent.py)
    return set(re.search(rb"FLAGS \(([^)]*)\)", found[-1]).group(1).split()) - {b"\\Recent"}


def test_store_applies_to_current_flags(instance):
    """A adds \\Answered, then B (whose view still says only \\Seen)
    removes \\Seen: both changes hold."""
    a, b = two_sessions(instance)
    typ, data = a.store("1", "+FLAGS", r"(\Answered)")
    assert typ == "OK", data
    typ, data = b.store("1", "-FLAGS", r"(\Seen)")
    assert typ == "OK", data
    # B's own STORE answer already shows the current flags.
    assert any(b"\\Answered" in d for d in data if d), data
    assert flags_of(b) == {b"\\Answered"}
    a.noop()
    assert flags_of(a) == {b"\\Answered"}
    # FLAGS (replace) from a stale view, then +FLAGS from the other.
    assert b.store("1", "FLAGS", r"(\Flagged)")[0] == "OK"
    assert a.store("1", "+FLAGS", r"(\Draft)")[0] == "OK"
    b.noop()
    assert flags_of(a) == flags_of(b) == {b"\\Flagged", b"\\Draft"}
    a.logout()
    b.logout()


def test_fetch_copy_move_after_other_session_renamed(instance):
    """A's flag change renames the message file; B, not synced since,
    still reads, copies and moves the message."""
    a, b = two_sessions(instance)
    assert a.create("Other")[0] == "OK"
    assert a.store("1", "+FLAGS", r"(\Flagged)")[0] == "OK"
    typ, data = b.fetch("1", "(BODY.PEEK[])")
    assert typ == "OK", data
    assert data[0][1] == MESSAGE
    assert a.store("1", "-FLAGS", r"(\Flagged)")[0] == "OK"
    typ, data = b.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])")
    assert typ == "OK", data
    assert b"two sessions" in data[0][1]
    assert a.store("1", "+FLAGS", r"(\Answered)")[0] == "OK"
    typ, data = b.search(None, "BODY", '"the body"')
    assert typ == "OK" and data[0] == b"1", data
    assert a.store("1", "+FLAGS", r"(\Draft)")[0] == "OK"
    typ, data = b.copy("1", "Other")
    assert typ == "OK", data
    assert a.store("1", "-FLAGS", r"(\Draft)")[0] == "OK"
    typ, data = b._simple_command("MOVE", "1", "Other")
    assert typ == "OK", data
    b.select("Other")
    typ, data = b.fetch("1:*", "(BODY.PEEK[])")
    assert typ == "OK", data
    assert [d[1] for d in data if isinstance(d, tuple)] == [MESSAGE, MESSAGE]
    a.logout()
    b.logout()


def lsub_names(m):
    typ, data = m.lsub()
    assert typ == "OK", data
    return sorted(d.rsplit(b" ", 1)[-1].strip(b'"') for d in data if d)


def test_subscriptions_start_empty(instance):
    """A Maildir that already has a folder at first login (delivered to
    Junk by SMTP, or taken over from another server) has no subscription
    file: only INBOX counts as subscribed, and the first change does not
    subscribe every mailbox."""
    instance.add_user(USER, PASSWORD)
    md = instance.maildir(USER)
    mail = os.path.dirname(os.path.dirname(md))
    owner = os.stat(mail)
    dirs = [os.path.dirname(md), md] + [os.path.join(md, s) for s in ("cur", "new", "tmp")]
    dirs += [os.path.join(md, ".Lists", s) for s in ("", "cur", "new", "tmp")]
    for p in dirs:
        os.makedirs(p, mode=0o700, exist_ok=True)
        os.chown(p, owner.st_uid, owner.st_gid)
    a = connect_starttls(instance)
    b = connect_starttls(instance)
    assert lsub_names(a) == [b"INBOX"]
    assert a.create("Work")[0] == "OK"
    assert lsub_names(b) == [b"INBOX"]
    assert b.subscribe("Work")[0] == "OK"
    assert lsub_names(a) == [b"INBOX", b"Work"]
    assert a.unsubscribe("Work")[0] == "OK"
    assert lsub_names(b) == [b"INBOX"]
    assert len(a.list()[1]) == 3
    a.logout()
    b.logout()


def test_search_over_bodies_lets_other_sessions_run(instance):
    """A SEARCH TEXT that reads many big messages works in slices: the
    other session's NOOP is answered while it still runs, and its result
    is complete and in order with the commands pipelined after it."""
    instance.add_user(USER, PASSWORD)
    a = connect_starttls(instance)
    b = connect_starttls(instance)
    cur = os.path.join(instance.maildir(USER), "cur")
    st = os.stat(cur)
    filler = b"x" * 76 + b"\r\n"
    body = filler * 1600  # 125 KiB
    want = []
    for i in range(300):
        p = os.path.join(cur, "%d.M%dP1.host:2,S" % (1700000000 + i, i))
        with open(p, "wb") as f:
            f.write(b"Subject: n%d\r\n\r\n" % i + body)
            if i % 50 == 7:
                f.write(b"the needle\r\n")
                want.append(i + 1)
        os.chown(p, st.st_uid, st.st_gid)
    assert a.select("INBOX")[0] == "OK"
    assert b.select("INBOX")[0] == "OK"
    a.send(b"S1 SEARCH TEXT needle\r\nS2 NOOP\r\n")
    time.sleep(0.05)  # the search has started
    assert b.noop()[0] == "OK"
    # B was served while A's search still ran: nothing of A's answer (the
    # result line comes at the end) has arrived yet.
    a.sock.setblocking(False)
    try:
        early = a.sock.recv(65536)
    except ssl.SSLWantReadError:
        early = b""
    a.sock.setblocking(True)
    assert early == b""
    lines = []
    while not lines or not lines[-1].startswith(b"S2 "):
        lines.append(a.readline())
    assert lines[0] == b"* SEARCH " + b" ".join(b"%d" % n for n in want) + b"\r\n"
    assert lines[1].startswith(b"S1 OK") and lines[-1].startswith(b"S2 OK")
    a.logout()
    b.logout()
