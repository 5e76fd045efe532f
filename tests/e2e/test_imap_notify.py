"""NOTIFY (RFC 5465) end to end: one session sets NOTIFY, another appends,
expunges, flags, creates, renames, deletes and (un)subscribes, and an SMTP
delivery arrives; the first session gets, without sending a command, the
`* STATUS` of other mailboxes, `* LIST` for names and subscriptions, and
for its selected mailbox EXISTS/EXPUNGE and MessageNew's FETCH items."""
import re
import select
import socket
import time

from test_imap import USER, PASSWORD, connect_starttls, deliver

NEW_MSG = b"From: carol@remote.test\r\nSubject: appended\r\n\r\nbody\r\n"


class Raw:
    """Raw lines over an imaplib connection's TLS socket."""

    def __init__(self, m):
        self.m = m
        self.tag = 0

    def command(self, text):
        self.tag += 1
        tag = b"N%d" % self.tag
        self.m.send(tag + b" " + text + b"\r\n")
        lines = []
        for _ in range(10000):
            line = self.m.readline()
            assert line, "connection closed"
            if line.startswith(tag + b" "):
                return lines, line
            lines.append(line)
        raise AssertionError("no tagged reply")

    def wait_for(self, pattern, timeout=5):
        """Unsolicited lines until one matches; returns all read."""
        self.m.sock.settimeout(timeout)
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.m.readline()
            except (socket.timeout, TimeoutError):
                break
            assert line, "connection closed"
            got.append(line)
            if re.search(pattern, line):
                return got
        raise AssertionError(f"{pattern!r} not seen; got {got!r}")

    def quiet(self, seconds=0.7):
        """Lines that arrive within seconds (expected: none). Waits with
        select, so the file never times out (imaplib's file is unusable
        after a timeout)."""
        got = []
        self.m.sock.settimeout(10)
        deadline = time.monotonic() + seconds
        for _ in range(100):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([self.m.sock], [], [], remaining)
            if not ready and not self.m.sock.pending():
                break
            got.append(self.m.readline())
        return got


def watcher(instance):
    m = connect_starttls(instance)
    assert b"NOTIFY" in m.capability()[1][0].split()
    return Raw(m)


def test_notify_other_mailboxes_status(instance):
    instance.add_user(USER, PASSWORD)
    other = connect_starttls(instance)
    assert other.create("Work")[0] == "OK"
    w = watcher(instance)
    lines, tagged = w.command(b"NOTIFY SET STATUS (PERSONAL (MessageNew MessageExpunge "
                              b"FlagChange))")
    assert tagged.startswith(b"N1 OK"), tagged
    # SET STATUS: the watched mailboxes' STATUS at once
    assert any(l.startswith(b'* STATUS "Work" (MESSAGES 0 ') for l in lines), lines
    assert other.append("Work", None, None, NEW_MSG)[0] == "OK"
    got = w.wait_for(rb'^\* STATUS "Work" \(MESSAGES 1 UIDNEXT 2 UNSEEN 1')
    # flags: UNSEEN goes to 0
    other.select("Work")
    other.store("1", "+FLAGS", "\\Seen \\Deleted")
    w.wait_for(rb'^\* STATUS "Work" \(MESSAGES 1 UIDNEXT 2 UNSEEN 0')
    other.expunge()
    w.wait_for(rb'^\* STATUS "Work" \(MESSAGES 0 UIDNEXT 2 ')
    # an SMTP delivery to INBOX
    deliver(instance)
    w.wait_for(rb'^\* STATUS "INBOX" \(MESSAGES 1 UIDNEXT 2 UNSEEN 1')
    # NOTIFY NONE: nothing more
    lines, tagged = w.command(b"NOTIFY NONE")
    assert tagged.startswith(b"N2 OK")
    deliver(instance)
    assert w.quiet() == []


def test_notify_selected_message_new_fetch(instance):
    instance.add_user(USER, PASSWORD)
    w = watcher(instance)
    _, tagged = w.command(b"SELECT INBOX")
    assert tagged.startswith(b"N1 OK")
    _, tagged = w.command(b"NOTIFY SET (SELECTED (MessageNew (UID BODY.PEEK[HEADER.FIELDS "
                          b"(Subject)]) MessageExpunge FlagChange)) (PERSONAL (MessageNew "
                          b"MessageExpunge))")
    assert tagged.startswith(b"N2 OK"), tagged
    deliver(instance)
    got = w.wait_for(rb"^\* 1 EXISTS")
    got += w.wait_for(rb"(?i)^\* 1 FETCH \(UID 1 BODY\[HEADER.FIELDS \(Subject\)\] \{")
    literal = w.m.readline()
    assert literal.lower().startswith(b"subject: hello imap"), literal
    # the fetch closes with an untagged OK, never a tag the client did not send
    got += w.wait_for(rb"^\* OK ")
    # the selected mailbox gets no STATUS of its own
    assert not any(b'* STATUS "INBOX"' in l for l in got)
    other = connect_starttls(instance)
    other.select("INBOX")
    other.store("1", "+FLAGS", "\\Flagged \\Deleted")
    w.wait_for(rb"^\* 1 FETCH \(FLAGS \(.*\\Flagged")
    other.expunge()
    w.wait_for(rb"^\* 1 EXPUNGE")
    _, tagged = w.command(b"NOOP")
    assert tagged.startswith(b"N3 OK")


def test_notify_mailbox_names_and_subscriptions(instance):
    instance.add_user(USER, PASSWORD)
    w = watcher(instance)
    _, tagged = w.command(b"NOTIFY SET (PERSONAL (MailboxName SubscriptionChange))")
    assert tagged.startswith(b"N1 OK"), tagged
    other = connect_starttls(instance)
    assert other.create("Projects")[0] == "OK"
    w.wait_for(rb'^\* LIST \(\) "/" "Projects"')
    assert other.subscribe("Projects")[0] == "OK"
    w.wait_for(rb'^\* LIST \(\\Subscribed\) "/" "Projects"')
    assert other.unsubscribe("Projects")[0] == "OK"
    w.wait_for(rb'^\* LIST \(\) "/" "Projects"')
    assert other.rename("Projects", "Old")[0] == "OK"
    got = w.wait_for(rb'^\* LIST \(\\NonExistent\) "/" "Projects"')
    if not any(b'"/" "Old"' in l for l in got):
        w.wait_for(rb'^\* LIST \(\) "/" "Old"')
    assert other.delete("Old")[0] == "OK"
    w.wait_for(rb'^\* LIST \(\\NonExistent\) "/" "Old"')


def test_notify_subtree_and_mailboxes_filters(instance):
    instance.add_user(USER, PASSWORD)
    other = connect_starttls(instance)
    for name in ("Lists", "Lists/dev", "Other"):
        assert other.create(name)[0] == "OK"
    w = watcher(instance)
    _, tagged = w.command(b"NOTIFY SET (SUBTREE Lists (MessageNew MessageExpunge)) "
                          b"(MAILBOXES (Other) NONE)")
    assert tagged.startswith(b"N1 OK"), tagged
    assert other.append("Other", None, None, NEW_MSG)[0] == "OK"
    assert other.append("Lists/dev", None, None, NEW_MSG)[0] == "OK"
    got = w.wait_for(rb'^\* STATUS "Lists/dev" \(MESSAGES 1 ')
    assert not any(b'STATUS "Other"' in l for l in got)
    assert w.quiet() == []


def test_notify_syntax_and_badevent(instance):
    instance.add_user(USER, PASSWORD)
    w = watcher(instance)
    for bad in (b"NOTIFY", b"NOTIFY SET", b"NOTIFY SET (BOGUS (MessageNew MessageExpunge))",
                b"NOTIFY SET (PERSONAL (MessageNew))",
                b"NOTIFY SET (PERSONAL (FlagChange))",
                b"NOTIFY SET (PERSONAL (MessageNew (UID) MessageExpunge))",
                b"NOTIFY SET (SELECTED (MessageNew MessageExpunge)) (SELECTED-DELAYED NONE)",
                b"NOTIFY SET (SUBTREE (MessageNew MessageExpunge))"):
        _, tagged = w.command(bad)
        assert b" BAD " in tagged, (bad, tagged)
    _, tagged = w.command(b"NOTIFY SET (PERSONAL (AnnotationChange MessageNew MessageExpunge))")
    assert b" NO [BADEVENT (" in tagged and b"ServerMetadataChange)]" in tagged, tagged
    _, tagged = w.command(b"NOTIFY SET (SELECTED (MessageNew (UID FLAGS) MessageExpunge))")
    assert b" OK " in tagged, tagged


def test_notify_overflow(instance):
    """More than the server sends in one go (1000 notification lines): one
    `* OK [NOTIFICATIONOVERFLOW]`, then NOTIFY is off (RFC 5465 5.8)."""
    import os
    instance.add_user(USER, PASSWORD)
    w = watcher(instance)
    _, tagged = w.command(b"NOTIFY SET (PERSONAL (MailboxName))")
    assert tagged.startswith(b"N1 OK")
    # 1100 folders appear at once (another program writing the Maildir),
    # then one change tells the server to look
    md = instance.maildir(USER)
    for i in range(1100):
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, ".Bulk%04d" % i, sub))
    other = connect_starttls(instance)
    assert other.create("Trigger")[0] == "OK"
    got = w.wait_for(rb"^\* OK \[NOTIFICATIONOVERFLOW\]", timeout=20)
    assert len(got) > 1000
    assert other.create("After")[0] == "OK"
    assert not any(b"After" in l for l in w.quiet(1.0))
    _, tagged = w.command(b"NOOP")
    assert tagged.startswith(b"N2 OK")


def test_notify_metadata(instance):
    instance.add_user(USER, PASSWORD)
    w = watcher(instance)
    _, tagged = w.command(b"NOTIFY SET (INBOXES (MailboxMetadataChange ServerMetadataChange))")
    assert tagged.startswith(b"N1 OK"), tagged
    other = connect_starttls(instance)
    meta = lambda *a: other._simple_command("SETMETADATA", *a)
    import imaplib
    imaplib.Commands.setdefault("SETMETADATA", ("AUTH", "SELECTED"))
    assert meta("INBOX", '(/private/comment "one")')[0] == "OK"
    w.wait_for(rb'^\* METADATA "INBOX" /private/comment\r')
    assert meta('""', '(/private/vendor/x "1" /private/vendor/y "2")')[0] == "OK"
    w.wait_for(rb'^\* METADATA "" /private/vendor/x /private/vendor/y\r')
    assert meta('""', '(/private/vendor/x NIL /private/vendor/y "3")')[0] == "OK"
    w.wait_for(rb'^\* METADATA "" /private/vendor/y /private/vendor/x\r')
    # the same value again changes nothing
    assert meta("INBOX", '(/private/comment "one")')[0] == "OK"
    assert w.quiet(1.0) == []
