"""IMAP4rev2 (RFC 9051) and UTF8=ACCEPT (RFC 6855): the same scenario in
an IMAP4rev1 session and in one that sent ENABLE IMAP4rev2, each
Appendix E difference asserted on the wire; UTF-8 mailbox names seen as
modified UTF-7 by sessions that did not enable UTF-8; an SMTPUTF8 message
fetched unchanged."""
import glob
import imaplib
import os
import re
import smtplib

from imap_raw import command
from test_imap import MESSAGE, USER, PASSWORD, connect_starttls, deliver, setup_mail


def raw(m, line, literals=(), sync=False):
    return command(m, line, literals, sync=sync)


def make_maildir(path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)


def refresh_caps(m):
    """imaplib keeps the capabilities of before login; ENABLE needs the
    ones after it."""
    typ, data = m.capability()
    m.capabilities = tuple(data[0].decode().upper().split())
    return m


def scenario(instance, rev2):
    """Returns what differs: a dict of the answers of both modes."""
    setup_mail(instance, 2)
    # a superior name that is no mailbox: ".P.Q" without ".P"
    make_maildir(os.path.join(instance.maildir(USER), ".P.Q"))
    m = connect_starttls(instance)
    caps = raw(m, "CAPABILITY")[0][0]
    assert b" IMAP4rev1 IMAP4rev2 " in caps
    if rev2:
        u, t = raw(m, "ENABLE IMAP4rev2")
        assert u == [b"* ENABLED IMAP4rev2"] and b"OK" in t
        # enabling again enables nothing new
        assert raw(m, "ENABLE IMAP4rev2")[0] == [b"* ENABLED"]
    sel, t = raw(m, "SELECT INBOX")
    assert b"OK [READ-WRITE]" in t
    out = {"select": sel}
    out["fetch"] = raw(m, "FETCH 1 (FLAGS)")[0]
    assert raw(m, "STORE 2 +FLAGS.SILENT (\\Deleted)")[1].split()[1] == b"OK"
    out["search"] = raw(m, "SEARCH ALL")
    out["uidsearch"] = raw(m, "UID SEARCH DELETED")
    out["nomatch"] = raw(m, "SEARCH SUBJECT nothing-like-this")
    out["status"] = raw(m, "STATUS INBOX (MESSAGES DELETED)")[0]
    out["list"] = raw(m, 'LIST "" %')[0]
    assert b"OK" in raw(m, "CREATE Top/Kid")[1]
    out["delete"] = raw(m, "DELETE Top")[1]
    deliver(instance)
    out["noop"] = raw(m, "NOOP")[0]
    out["reselect"] = raw(m, "SELECT INBOX")[0]
    out["enable_selected"] = raw(m, "ENABLE IMAP4rev2")[1]
    m.logout()
    return out


def test_rev1_session(instance):
    o = scenario(instance, rev2=False)
    assert b"* 2 RECENT" in o["select"]
    assert any(l.startswith(b"* OK [UNSEEN 1]") for l in o["select"])
    assert not any(l.startswith(b"* LIST") for l in o["select"])
    assert b"\\Recent" in o["fetch"][0]
    assert o["search"][0] == [b"* SEARCH 1 2"]
    assert o["uidsearch"][0] == [b"* SEARCH 2"]
    assert o["nomatch"][0] == [b"* SEARCH"]
    assert o["status"] == [b'* STATUS "INBOX" (MESSAGES 2 DELETED 1)']
    assert b'* LIST (\\Noselect \\HasChildren) "/" "P"' in o["list"]
    assert b"* 3 RECENT" in o["noop"]
    assert b"NO [CANNOT]" in o["delete"]
    assert not any(b"[CLOSED]" in l for l in o["reselect"])
    assert b"* 0 RECENT" in o["reselect"]  # this session took them
    # rev1 sessions may enable it in the authenticated state only
    assert o["enable_selected"].split()[1] == b"BAD"


def test_rev2_session(instance):
    o = scenario(instance, rev2=True)
    # RFC 9051 Appendix E: no RECENT response, no UNSEEN code, a LIST
    assert not any(b"RECENT" in l for l in o["select"])
    assert not any(b"[UNSEEN" in l for l in o["select"])
    assert b'* LIST () "/" "INBOX"' in o["select"]
    assert b"* 2 EXISTS" in o["select"]
    # no \Recent flag
    assert o["fetch"][0] == b"* 1 FETCH (FLAGS ())"
    # SEARCH answered as ESEARCH, ALL when RETURN is not given
    (u, t) = o["search"]
    tag = t.split()[0].decode()
    assert u == [b'* ESEARCH (TAG "%s") ALL 1:2' % tag.encode()]
    (u, t) = o["uidsearch"]
    assert u == [b'* ESEARCH (TAG "%s") UID ALL 2' % t.split()[0]]
    (u, t) = o["nomatch"]
    assert u == [b'* ESEARCH (TAG "%s")' % t.split()[0]]
    assert o["status"] == [b'* STATUS "INBOX" (MESSAGES 2 DELETED 1)']
    # the superior name that is no mailbox is \NonExistent
    assert b'* LIST (\\NonExistent \\HasChildren) "/" "P"' in o["list"]
    assert not any(b"RECENT" in l for l in o["noop"])
    assert b"* 3 EXISTS" in o["noop"]
    assert b"NO [HASCHILDREN]" in o["delete"]
    # SELECT while selected: OK [CLOSED] first (RFC 9051 6.3.2)
    assert o["reselect"][0].startswith(b"* OK [CLOSED]")
    assert not any(b"RECENT" in l for l in o["reselect"])
    assert o["enable_selected"].split()[1] == b"BAD"


def test_rev2_keywords_and_commands(instance):
    """Keywords RFC 9051 2.3.2 names, UNSELECT, MOVE, NAMESPACE in rev2."""
    setup_mail(instance, 2)
    m = connect_starttls(instance)
    raw(m, "ENABLE IMAP4rev2")
    raw(m, "CREATE Junk")
    raw(m, "SELECT INBOX")
    u, t = raw(m, "STORE 1 +FLAGS ($Forwarded $Junk $MDNSent)")
    assert b"OK" in t
    flags = [l for l in u if l.startswith(b"* 1 FETCH")][0]
    for kw in (b"$Forwarded", b"$Junk", b"$MDNSent"):
        assert kw in flags
    assert b"\\Recent" not in flags
    u, t = raw(m, "MOVE 1 Junk")
    assert b"OK" in t and b"* 1 EXPUNGE" in u
    assert raw(m, "NAMESPACE")[0] == [b'* NAMESPACE (("" "/")) NIL NIL']
    assert b"OK" in raw(m, "UNSELECT")[1]
    u, t = raw(m, "SELECT Junk")
    assert b"* 1 EXISTS" in u and b'* LIST () "/" "Junk"' in u
    # LSUB is gone from RFC 9051 but still answered
    assert b"OK" in raw(m, 'LSUB "" *')[1]
    m.logout()


def test_imaplib_enables_rev2(instance):
    """Python's imaplib has ENABLE: an IMAP4rev2 session through it."""
    setup_mail(instance, 1)
    m = refresh_caps(connect_starttls(instance))
    typ, data = m.enable("IMAP4rev2")
    assert typ == "OK" and m.untagged_responses["ENABLED"] == [b"IMAP4rev2"]
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    assert "RECENT" not in m.untagged_responses
    typ, _ = m.search(None, "ALL")
    assert typ == "OK"
    assert m.untagged_responses["ESEARCH"][-1].endswith(b"ALL 1")
    m.logout()


UTF8_NAME = "Entwürfe"
MUTF7_NAME = "Entw&APw-rfe"
CYR_NAME = "Черновики"
CYR_MUTF7 = "&BCcENQRABD0EPgQyBDgEOgQ4-"


def test_utf8_mailbox_names(instance):
    instance.add_user(USER, PASSWORD)
    a = connect_starttls(instance)  # UTF8=ACCEPT
    b = connect_starttls(instance)  # IMAP4rev1, modified UTF-7
    c = connect_starttls(instance)  # IMAP4rev2: UTF-8 too
    assert "UTF8=ACCEPT" in a.capabilities or \
        b"UTF8=ACCEPT" in raw(a, "CAPABILITY")[0][0]
    assert raw(a, "ENABLE UTF8=ACCEPT")[0] == [b"* ENABLED UTF8=ACCEPT"]
    raw(c, "ENABLE IMAP4rev2")
    u, t = raw(a, f'CREATE "{UTF8_NAME}/Sub"')
    assert b"OK" in t
    # stored in modified UTF-7, as a Dovecot tree has it
    md = instance.maildir(USER)
    assert os.path.isdir(os.path.join(md, "." + MUTF7_NAME))
    assert os.path.isdir(os.path.join(md, "." + MUTF7_NAME + ".Sub"))
    la = raw(a, 'LIST "" *')[0]
    assert f'* LIST (\\HasChildren) "/" "{UTF8_NAME}"'.encode() in la
    assert f'* LIST (\\HasNoChildren) "/" "{UTF8_NAME}/Sub"'.encode() in la
    lb = raw(b, 'LIST "" *')[0]
    assert f'* LIST (\\HasChildren) "/" "{MUTF7_NAME}"'.encode() in lb
    assert not any(UTF8_NAME.encode() in l for l in lb)
    assert f'"/" "{UTF8_NAME}"'.encode() in b"\n".join(raw(c, 'LIST "" *')[0])
    # patterns are matched against the UTF-8 form: '%' next to 'ü'
    assert raw(a, 'LIST "" "Entwü%"')[0] == \
        [f'* LIST (\\HasChildren) "/" "{UTF8_NAME}"'.encode()]
    assert raw(b, 'LIST "" Entw&APw-%')[0] == \
        [f'* LIST (\\HasChildren) "/" "{MUTF7_NAME}"'.encode()]
    # each session names it its own way
    assert b"OK" in raw(a, f'SELECT "{UTF8_NAME}"')[1]
    assert b"OK" in raw(b, f"SELECT {MUTF7_NAME}")[1]
    u, t = raw(c, f'SELECT "{UTF8_NAME}"')
    assert f'* LIST () "/" "{UTF8_NAME}"'.encode() in u
    assert raw(b, f"STATUS {MUTF7_NAME} (MESSAGES)")[0] == \
        [f'* STATUS "{MUTF7_NAME}" (MESSAGES 0)'.encode()]
    assert raw(a, f'STATUS "{UTF8_NAME}" (MESSAGES)')[0] == \
        [f'* STATUS "{UTF8_NAME}" (MESSAGES 0)'.encode()]
    # "&" in a UTF-8 session's name is a plain character
    assert b"OK" in raw(a, 'CREATE "R&D"')[1]
    assert os.path.isdir(os.path.join(md, ".R&-D"))
    assert b'"/" "R&-D"' in b"\n".join(raw(b, 'LIST "" R*')[0])
    # malformed UTF-8 is refused in a UTF-8 session
    a.send(b'x1 CREATE "bad\xff"\r\n')
    assert a.readline().startswith(b"x1 BAD")
    # RENAME, then the other session sees the new modified UTF-7 name
    raw(a, "UNSELECT")
    assert b"OK" in raw(a, f'RENAME "{UTF8_NAME}" "{CYR_NAME}"')[1]
    lb = b"\n".join(raw(b, 'LIST "" *')[0])
    assert f'"/" "{CYR_MUTF7}/Sub"'.encode() in lb
    assert b"OK" in raw(a, f'SUBSCRIBE "{CYR_NAME}"')[1]
    assert f'"/" "{CYR_NAME}"'.encode() in b"\n".join(raw(a, 'LSUB "" *')[0])
    assert f'"/" "{CYR_MUTF7}"'.encode() in b"\n".join(raw(b, 'LSUB "" *')[0])
    for m in (a, b, c):
        m.logout()


def test_utf8_append_literal8(instance):
    instance.add_user(USER, PASSWORD)
    msg = ("From: Jörg <jörg@example.test>\r\nSubject: Grüße\r\n\r\n"
           "Hallo\r\n").encode()
    b = connect_starttls(instance)
    # without UTF8=ACCEPT the UTF8 data item is no APPEND syntax
    b.send(b"b1 APPEND INBOX UTF8 (~{%d+}\r\n" % len(msg) + msg + b")\r\n")
    t = b.readline()
    assert t.startswith(b"b1 BAD")
    a = connect_starttls(instance)
    raw(a, "ENABLE UTF8=ACCEPT")
    a.send(b"a1 APPEND INBOX (\\Seen) UTF8 (~{%d}\r\n" % len(msg))
    assert a.readline().startswith(b"+")
    a.send(msg + b")\r\n")
    t = a.readline()
    assert t.startswith(b"a1 OK [APPENDUID"), t
    u, t = raw(a, "SELECT INBOX")
    u, t = raw(a, "FETCH 1 (BODY.PEEK[] FLAGS)")
    assert msg in u[0] + b"\r\n" + b"\r\n".join(u[1:])
    assert b"\\Seen" in b"".join(u)
    # CATENATE's URL names a UTF-8 mailbox %-encoded UTF-8 (RFC 5092)
    assert b"OK" in raw(a, f'CREATE "{UTF8_NAME}"')[1]
    assert b"OK" in raw(a, f'COPY 1 "{UTF8_NAME}"')[1]
    u, t = raw(b, 'APPEND INBOX CATENATE (URL "/Entw%C3%BCrfe/;UID=1" TEXT {})',
               [b"tail\r\n"])
    assert t.split()[1] == b"OK", t
    u, t = raw(a, "NOOP")
    u, t = raw(a, "FETCH 2 (BODY.PEEK[])")
    assert msg + b"tail\r\n" in b"\r\n".join(u)
    a.logout()
    b.logout()


def test_smtputf8_message_fetched_unchanged(instance):
    instance.add_user(USER, PASSWORD)
    instance.tern("alias", "add", "δοκιμή@example.test", USER)
    msg = ("From: Jörg <jörg@example.test>\r\nTo: δοκιμή@example.test\r\n"
           "Subject: Grüße aus Köln\r\n\r\nHallo δοκιμή\r\n").encode()
    with smtplib.SMTP("127.0.0.1", instance.port("smtp"), timeout=10) as s:
        s.ehlo("c.example")
        assert s.has_extn("smtputf8")
        s.sendmail("jörg@example.test", ["δοκιμή@example.test"], msg,
                   mail_options=["SMTPUTF8"])
    m = refresh_caps(connect_starttls(instance))
    typ, data = m.enable("UTF8=ACCEPT")
    assert typ == "OK"
    typ, data = m.select("INBOX")
    assert data == [b"1"]
    typ, data = m.fetch("1", "(BODY.PEEK[])")
    body = data[0][1]
    files = glob.glob(os.path.join(instance.maildir(USER), "new", "*")) + \
        glob.glob(os.path.join(instance.maildir(USER), "cur", "*"))
    with open(files[0], "rb") as f:
        stored = f.read()
    assert body == stored.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert body.endswith(msg)  # UTF-8 header fields as they were sent
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert data[0][1] == "Subject: Grüße aus Köln\r\n\r\n".encode()
    m.logout()


def test_rev2_append_literal8(instance):
    """RFC 9051's APPEND takes a literal8 (~{n}) for the message."""
    instance.add_user(USER, PASSWORD)
    msg = b"Subject: bin\r\n\r\nraw\x01bytes\r\n"
    m = connect_starttls(instance)
    raw(m, "ENABLE IMAP4rev2")
    m.send(b"a1 APPEND INBOX ~{%d+}\r\n" % len(msg) + msg + b"\r\n")
    t = m.readline()
    assert t.startswith(b"a1 OK [APPENDUID"), t
    raw(m, "SELECT INBOX")
    u, t = raw(m, "FETCH 1 (BODY.PEEK[])")
    assert msg in b"\r\n".join(u) + b"\r\n"
    m.logout()
