"""OBJECTID (RFC 8474), SAVEDATE (RFC 8514), STATUS=SIZE (RFC 8438) and
PREVIEW (RFC 8970) end to end with raw IMAP: MAILBOXID survives RENAME and
a restart, EMAILID survives COPY and MOVE, a reply shares its THREADID,
SAVEDATE is the save time, SIZE the sum of RFC822.SIZE, PREVIEW decodes."""
import re
import time

from test_imap import USER, PASSWORD, connect_starttls

ROOT = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: root\r\n"
        b"Message-ID: <root-1@example.org>\r\n\r\nThe first message.\r\n")
REPLY = (b"From: b@example.org\r\nTo: a@example.org\r\nSubject: Re: root\r\n"
         b"Message-ID: <reply-1@example.org>\r\nIn-Reply-To: <root-1@example.org>\r\n"
         b"References: <root-1@example.org>\r\n\r\nThe answer.\r\n")
OTHER = (b"From: c@example.org\r\nSubject: other\r\n"
         b"Message-ID: <other-1@example.org>\r\n\r\nUnrelated.\r\n")
QP = (b"From: a@example.org\r\nSubject: qp\r\nMIME-Version: 1.0\r\n"
      b"Content-Type: text/plain; charset=ISO-8859-1\r\n"
      b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      b"Caf=E9   cr=E8me\r\n\r\n  br=FBl=E9e =\r\nsuite.\r\n")


def run(m, name, *args):
    """A raw command: (status, tagged text, untagged responses by name)."""
    m.untagged_responses.clear()
    typ, data = m._simple_command(name, *args)
    resp = dict(m.untagged_responses)
    m.untagged_responses.clear()
    if name in ("SELECT", "EXAMINE") and typ == "OK":
        m.state = "SELECTED"
    return typ, data, resp


def login(instance):
    return connect_starttls(instance)


def mailboxid_of_select(m, name):
    typ, _, resp = run(m, "SELECT", name)
    assert typ == "OK"
    for r in resp.get("OK", []):
        g = re.search(rb"\[MAILBOXID \(([A-Za-z0-9_-]+)\)\]", r)
        if g:
            return g.group(1)
    raise AssertionError("no MAILBOXID in %r" % resp)


def status(m, name, items):
    typ, data = m.status(name, items)
    assert typ == "OK", data
    return data[0]


def fetch_item(m, seq, item, uid=False):
    """The value of one FETCH item of one message (bytes)."""
    if uid:
        typ, data = m.uid("FETCH", seq, "(%s)" % item)
    else:
        typ, data = m.fetch(seq, "(%s)" % item)
    assert typ == "OK", data
    for d in data:
        if isinstance(d, tuple):
            return d[1]
        g = re.search(item.encode() + rb" (\([^)]*\)|\"[^\"]*\"|NIL|\d+)", d)
        if g:
            return g.group(1)
    raise AssertionError("no %s in %r" % (item, data))


def test_capabilities(instance):
    instance.add_user(USER, PASSWORD)
    m = login(instance)
    caps = m.capability()[1][0].split()
    for c in (b"OBJECTID", b"SAVEDATE", b"STATUS=SIZE", b"PREVIEW", b"METADATA",
              b"METADATA-SERVER"):
        assert c in caps
    m.logout()


def test_mailboxid_survives_rename_and_restart(instance):
    instance.add_user(USER, PASSWORD)
    m = login(instance)
    typ, data = m.create("Projects")
    assert typ == "OK"
    g = re.search(rb"\[MAILBOXID \(([A-Za-z0-9_-]+)\)\]", data[0])
    assert g, data
    created = g.group(1)
    assert b"MAILBOXID (%s)" % created in status(m, "Projects", "(MAILBOXID)")
    inbox = mailboxid_of_select(m, "INBOX")
    assert inbox != created
    assert m.rename("Projects", "Archive2026")[0] == "OK"
    assert b"MAILBOXID (%s)" % created in status(m, "Archive2026", "(MAILBOXID)")
    m.logout()
    instance.restart()
    m = login(instance)
    assert mailboxid_of_select(m, "Archive2026") == created
    assert mailboxid_of_select(m, "INBOX") == inbox
    # a new mailbox of the old name is another mailbox
    typ, data = m.create("Projects")
    assert created not in data[0]
    m.logout()


def test_emailid_threadid_copy_move(instance):
    instance.add_user(USER, PASSWORD)
    m = login(instance)
    for msg in (ROOT, REPLY, OTHER):
        assert m.append("INBOX", None, None, msg)[0] == "OK"
    m.create("Keep")
    m.create("Moved")
    m.select("INBOX")
    e1, e2, e3 = (fetch_item(m, str(i), "EMAILID") for i in (1, 2, 3))
    assert len({e1, e2, e3}) == 3
    t1, t2, t3 = (fetch_item(m, str(i), "THREADID") for i in (1, 2, 3))
    assert t1 == t2 and t1 != t3 and t1 != b"NIL"
    # cached: the same answer again
    assert fetch_item(m, "1", "EMAILID") == e1
    assert m.copy("1", "Keep")[0] == "OK"
    typ, _, _ = run(m, "MOVE", "2", "Moved")
    assert typ == "OK"
    m.select("Keep")
    assert fetch_item(m, "1", "EMAILID") == e1
    assert fetch_item(m, "1", "THREADID") == t1
    m.select("Moved")
    assert fetch_item(m, "1", "EMAILID") == e2
    assert fetch_item(m, "1", "THREADID") == t1
    # SEARCH EMAILID / THREADID (RFC 8474 6)
    m.select("INBOX")
    eid = e3.strip(b"()").decode()
    assert m.search(None, "EMAILID", eid)[1] == [b"2"]
    assert m.search(None, "THREADID", t1.strip(b"()").decode())[1] == [b"1"]
    assert m.search(None, "EMAILID", "Mnothere")[1] == [b""]
    m.logout()


def test_savedate_and_status_size(instance):
    instance.add_user(USER, PASSWORD)
    m = login(instance)
    before = time.time()
    typ, _ = m.append("INBOX", None, '"01-Jan-2001 10:00:00 +0000"', OTHER)
    assert typ == "OK"
    assert m.append("INBOX", None, None, QP)[0] == "OK"
    m.select("INBOX")
    saved = fetch_item(m, "1", "SAVEDATE").strip(b'"').decode()
    internal = fetch_item(m, "1", "INTERNALDATE").strip(b'"').decode()
    ts = time.mktime(time.strptime(saved[:20], "%d-%b-%Y %H:%M:%S"))
    ti = time.mktime(time.strptime(internal[:20], "%d-%b-%Y %H:%M:%S"))
    assert internal.startswith("01-Jan-2001")
    assert ts > ti
    assert ts >= before - 86400 * 2  # local-time parse without the zone
    assert m.search(None, "SAVEDBEFORE", "1-Jan-2002")[1] == [b""]
    assert m.search(None, "SAVEDSINCE", "1-Jan-2002")[1] == [b"1 2"]
    assert m.search(None, "BEFORE", "1-Jan-2002")[1] == [b"1"]
    assert m.search(None, "SAVEDATESUPPORTED")[1] == [b"1 2"]
    sizes = [int(fetch_item(m, str(i), "RFC822.SIZE")) for i in (1, 2)]
    assert sizes == [len(OTHER), len(QP)]
    st = status(m, "INBOX", "(SIZE MESSAGES)")
    assert b"SIZE %d" % sum(sizes) in st and b"MESSAGES 2" in st
    m.logout()


def test_preview_quoted_printable_latin1(instance):
    instance.add_user(USER, PASSWORD)
    m = login(instance)
    assert m.append("INBOX", None, None, QP)[0] == "OK"
    html = (b"From: a@example.org\r\nSubject: html\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/html; charset=utf-8\r\n\r\n"
            b"<html><body><p>Hello&nbsp;<b>there</b></p><p>" + b"x" * 400 +
            b"</p></body></html>\r\n")
    assert m.append("INBOX", None, None, html)[0] == "OK"
    m.select("INBOX")
    want = "Café crème brûlée suite.".encode()
    got = fetch_item(m, "1", "PREVIEW")
    assert got.strip(b'"') == want, got
    # a second FETCH (now from the index) and PREVIEW (LAZY) agree
    assert fetch_item(m, "1", "PREVIEW").strip(b'"') == want
    typ, data = m.fetch("1", "(PREVIEW (LAZY))")
    assert typ == "OK" and want in b"".join(
        d[1] if isinstance(d, tuple) else d for d in data)
    p2 = fetch_item(m, "2", "PREVIEW").strip(b'"')
    assert p2.startswith(b"Hello there x")
    assert len(p2.decode()) == 256
    m.logout()


def test_rename_inbox_and_rebuilt_index(instance):
    """RENAME INBOX (RFC 8474 4.1): INBOX keeps its MAILBOXID, the new
    mailbox gets another, the moved messages keep their EMAILID; EMAILID and
    THREADID come from the content, so a rebuilt index gives the same."""
    import os
    instance.add_user(USER, PASSWORD)
    m = login(instance)
    assert m.append("INBOX", None, None, ROOT)[0] == "OK"
    assert m.append("INBOX", None, None, REPLY)[0] == "OK"
    inbox = mailboxid_of_select(m, "INBOX")
    e1 = fetch_item(m, "1", "EMAILID")
    t2 = fetch_item(m, "2", "THREADID")
    m.close()
    assert m.rename("INBOX", "Old")[0] == "OK"
    assert mailboxid_of_select(m, "INBOX") == inbox
    old = mailboxid_of_select(m, "Old")
    assert old != inbox
    assert fetch_item(m, "1", "EMAILID") == e1
    m.logout()
    instance.stop()
    for suffix in ("", "-wal", "-shm"):
        path = os.path.join(instance.maildir(USER), "tern-index.db" + suffix)
        if os.path.exists(path):
            os.unlink(path)
    instance.start()
    m = login(instance)
    assert mailboxid_of_select(m, "Old") != old  # a new index, new ids
    assert fetch_item(m, "1", "EMAILID") == e1
    assert fetch_item(m, "2", "THREADID") == t2
    m.logout()
