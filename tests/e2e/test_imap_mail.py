"""IMAP second slice end to end: message structure in FETCH, APPEND,
COPY/MOVE with UIDPLUS, folder management, SEARCH keys, ENABLE and ID,
with imaplib against a real server."""
import email
import email.policy
import imaplib
import os
import re
import time

imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))
imaplib.Commands.setdefault("ENABLE", ("AUTH",))
imaplib.Commands.setdefault("MOVE", ("SELECTED",))

from test_imap import USER, PASSWORD, connect_starttls

MULTI = (b"From: Bob Smith <bob@remote.test>\r\nTo: alice@example.test, "
         b"carol@example.test\r\nCc: dave@example.test\r\n"
         b"Subject: parts\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
         b"Message-ID: <m1@remote.test>\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
         b"preamble\r\n--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
         b"first part body\r\n--outer\r\n"
         b"Content-Type: multipart/alternative; boundary=inner\r\n\r\n"
         b"--inner\r\nContent-Type: text/plain\r\n\r\nalt plain\r\n--inner\r\n"
         b"Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
         b"<p>alt html</p>\r\n--inner--\r\n--outer\r\n"
         b"Content-Type: message/rfc822\r\n\r\n"
         b"From: eve@remote.test\r\nSubject: inner msg\r\n\r\ninner body\r\n"
         b"--outer--\r\n")


def login(instance):
    instance.add_user(USER, PASSWORD)
    return connect_starttls(instance)


def put(m, message):
    """Add a message to INBOX (by APPEND: these tests need no SMTP role)."""
    typ, data = m.append("INBOX", None, None, message)
    assert typ == "OK", data


def fetch_one(m, item, num=b"1"):
    typ, data = m.fetch(num, item)
    assert typ == "OK", data
    return data


def test_fetch_structure_and_parts(instance):
    m = login(instance)
    put(m, MULTI)
    m.select("INBOX")
    data = fetch_one(m, "(ENVELOPE)")
    env = data[0].decode() if isinstance(data[0], bytes) else data[0][0].decode()
    assert '"parts"' in env and '"Bob Smith" NIL "bob" "remote.test"' in env
    assert '"<m1@remote.test>"' in env
    data = fetch_one(m, "(BODYSTRUCTURE)")
    bs = data[0].decode()
    assert '"mixed"' in bs and '"alternative"' in bs and '("boundary" "outer")' in bs
    assert '"message" "rfc822"' in bs.lower() or '"MESSAGE" "RFC822"' in bs
    data = fetch_one(m, "(BODY)")
    assert b"BODY (" in data[0] and b"boundary" not in data[0]
    data = fetch_one(m, "(BODY.PEEK[1])")
    assert data[0][1] == b"first part body"
    data = fetch_one(m, "(BODY.PEEK[2.2])")
    assert data[0][1] == b"<p>alt html</p>"
    data = fetch_one(m, "(BODY.PEEK[2.2.MIME])")
    assert data[0][1].startswith(b"Content-Type: text/html\r\n")
    assert data[0][1].endswith(b"\r\n\r\n")
    data = fetch_one(m, "(BODY.PEEK[3.HEADER])")
    assert data[0][1] == b"From: eve@remote.test\r\nSubject: inner msg\r\n\r\n"
    data = fetch_one(m, "(BODY.PEEK[3.TEXT])")
    assert data[0][1] == b"inner body"
    data = fetch_one(m, "(BODY.PEEK[1]<0.5>)")
    assert data[0][1] == b"first" and b"BODY[1]<0>" in data[0][0]
    data = fetch_one(m, "(BODY.PEEK[HEADER.FIELDS (SUBJECT cc)])")
    assert data[0][1] == b"Cc: dave@example.test\r\nSubject: parts\r\n\r\n"
    data = fetch_one(m, "(BODY.PEEK[9])")
    assert b"NIL" in data[0]
    # One message, several items: each parsed from the same file.
    data = fetch_one(m, "(FLAGS BODY.PEEK[1] ENVELOPE BODY.PEEK[TEXT])")
    assert data[0][1] == b"first part body"
    data = fetch_one(m, "FULL")
    head = data[0] if isinstance(data[0], bytes) else data[0][0]
    for word in (b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"ENVELOPE", b"BODY"):
        assert word in head
    data = fetch_one(m, "ALL")
    head = data[0] if isinstance(data[0], bytes) else data[0][0]
    assert b"ENVELOPE" in head and b"BODY (" not in head
    # PEEK left the message unseen; BODY[1] sets \Seen.
    assert b"\\Seen" not in fetch_one(m, "FLAGS")[0]
    data = fetch_one(m, "(BODY[1])")
    assert any(b"\\Seen" in (d[0] if isinstance(d, tuple) else d) for d in data)
    # A header longer than the first read (8 KiB) of a header-only parse.
    filler = b"".join(b"X-Filler-%04d: %s\r\n" % (i, b"f" * 60) for i in range(400))
    longhdr = b"From: x@y.test\r\n" + filler + b"Subject: late\r\n\r\nthe body\r\n"
    put(m, longhdr)
    m.noop()
    data = fetch_one(m, "(ENVELOPE BODY.PEEK[HEADER] BODY.PEEK[TEXT])", b"2")
    assert b'"late"' in data[0][0]
    assert data[0][1] == longhdr[:longhdr.index(b"\r\n\r\n") + 4]
    assert data[1][1] == b"the body\r\n"
    m.logout()


SIMPLE = (b"From: alice@example.test\r\nTo: bob@remote.test\r\n"
          b"Subject: saved draft\r\nDate: Tue, 3 Mar 2020 10:00:00 +0000\r\n\r\n"
          b"draft body\r\n")


def code(resp_text, name):
    m_ = re.search(rb"\[" + name.encode() + rb" ([^\]]*)\]", resp_text)
    assert m_, resp_text
    return m_.group(1).decode().split()


def test_special_use_folders_and_subscriptions(instance):
    m = login(instance)
    typ, data = m.list()
    lines = b"\n".join(data)
    for name, attr in ((b"Sent", b"\\Sent"), (b"Drafts", b"\\Drafts"),
                       (b"Trash", b"\\Trash"), (b"Junk", b"\\Junk"),
                       (b"Archive", b"\\Archive")):
        assert re.search(rb"\([^)]*" + re.escape(attr) + rb"[^)]*\) \"/\" \"?" + name,
                         lines), lines
    assert b"\\HasNoChildren) \"/\" \"INBOX\"" in lines
    assert "SPECIAL-USE" in m.capabilities or b"SPECIAL-USE" in m.capability()[1][0]
    typ, data = m.lsub()
    assert len(data) == 6
    assert m.create("Work")[0] == "OK"
    assert m.subscribe("Work")[0] == "OK"
    assert any(b"Work" in d for d in m.lsub()[1])
    assert m.unsubscribe("Work")[0] == "OK"
    assert not any(b"Work" in d for d in m.lsub()[1])
    assert m.subscribe("Nope")[0] == "NO"
    m.subscribe("Work")
    m.logout()
    # Subscriptions persist across sessions; folders are not re-created.
    m = connect_starttls(instance)
    assert any(b"Work" in d for d in m.lsub()[1])
    assert m.delete("Junk")[0] == "OK"
    m.logout()
    m = connect_starttls(instance)
    assert not any(b"Junk" in d for d in m.list()[1])
    # No subscription file (an account whose Maildir existed before its
    # first login): INBOX alone is subscribed, and the first change starts
    # from INBOX (docs/imap.md).
    os.unlink(os.path.join(instance.maildir(USER), "tern-subscriptions"))
    assert len(m.list()[1]) == 6
    assert len(m.lsub()[1]) == 1 and b"INBOX" in m.lsub()[1][0]
    assert m.subscribe("Trash")[0] == "OK"
    assert len(m.lsub()[1]) == 2
    m.logout()


def test_append(instance):
    m = login(instance)
    typ, data = m.append("Drafts", r"(\Draft \Seen)",
                         imaplib.Time2Internaldate(time.mktime((2020, 3, 3, 10, 0, 0, 0, 0, -1))),
                         SIMPLE)
    assert typ == "OK", data
    uidvalidity, uid = code(data[0], "APPENDUID")
    m.select("Drafts")
    typ, data = m.uid("FETCH", uid, "(FLAGS INTERNALDATE BODY.PEEK[])")
    head = data[0][0]
    assert b"\\Draft" in head and b"\\Seen" in head
    assert b"03-Mar-2020 10:00:00" in head
    assert data[0][1] == SIMPLE
    assert m.status("Drafts", "(UIDVALIDITY)")[1][0].endswith(
        b"(UIDVALIDITY %s)" % uidvalidity.encode())
    # A missing mailbox: TRYCREATE, nothing stored.
    typ, data = m.append("Nowhere", None, None, SIMPLE)
    assert typ == "NO" and b"TRYCREATE" in data[0]
    # Plain APPEND to INBOX without flags or date; the selected Drafts sees
    # a second append at the next NOOP.
    assert m.append("INBOX", None, None, SIMPLE)[0] == "OK"
    assert m.append("Drafts", None, None, SIMPLE)[0] == "OK"
    typ, data = m.noop()
    assert m.select("INBOX")[1] == [b"1"]
    assert m.fetch("1", "(BODY.PEEK[TEXT])")[1][0][1] == b"draft body\r\n"
    m.logout()
    spool = os.path.join(instance.dir, "mail", ".spool")
    if os.path.isdir(spool):
        assert os.listdir(spool) == []


def test_append_literal_plus_and_limits(instance):
    m = login(instance)
    tag = m._new_tag()
    m.send(tag + b" APPEND INBOX {%d+}\r\n" % len(SIMPLE) + SIMPLE + b"\r\n")
    while True:
        line = m.readline()
        if line.startswith(tag):
            break
    assert line.startswith(tag + b" OK [APPENDUID ")
    # The mailbox name as a literal too: only the message streams.
    tag = m._new_tag()
    m.send(tag + b" APPEND {6+}\r\nDrafts (\\Seen) {%d+}\r\n" % len(SIMPLE) + SIMPLE +
           b"\r\n")
    while True:
        line = m.readline()
        if line.startswith(tag):
            break
    assert line.startswith(tag + b" OK [APPENDUID "), line
    # A message cut short by a bad command line is not stored.
    tag = m._new_tag()
    m.send(tag + b" APPEND INBOX {3+}\r\nabc junk\r\n")
    while True:
        line = m.readline()
        if line.startswith(tag):
            break
    assert line.startswith(tag + b" BAD"), line
    assert m.status("INBOX", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 1)")
    assert m.status("Drafts", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 1)")
    assert os.listdir(os.path.join(instance.dir, "mail", ".spool")) == []
    # Too big for the limit: refused before any byte is sent.
    tag = m._new_tag()
    m.send(tag + b" APPEND INBOX {999999999999}\r\n")
    line = m.readline()
    assert line.startswith(tag + b" BAD") or line.startswith(tag + b" NO"), line
    assert b"TOOBIG" in line
    assert m.noop()[0] == "OK"
    m.logout()


def test_copy_move_uidplus(instance):
    m = login(instance)
    for i in range(4):
        put(m, MULTI.replace(b"Subject: parts", b"Subject: msg %d" % i))
    m.select("INBOX")
    m.store("2", "+FLAGS", r"(\Flagged)")
    typ, data = m.copy("1:2", "Archive")
    assert typ == "OK", data
    uidvalidity, src, dst = code(data[0], "COPYUID")
    assert src == "1:2"
    typ, data = m.copy("1", "Missing")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    m.select("Archive")
    typ, data = m.fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    subjects = [d[1] for d in data if isinstance(d, tuple)]
    assert subjects == [b"Subject: msg 0\r\n\r\n", b"Subject: msg 1\r\n\r\n"]
    assert b"\\Flagged" in data[2][0]
    # MOVE: COPYUID before the EXPUNGEs, the source loses the messages.
    m.select("INBOX")
    typ, data = m.uid("MOVE", "3:4", "Trash")
    assert typ == "OK", data
    copyuid = m.untagged_responses.get("OK", [])
    assert any(b"COPYUID" in c for c in copyuid), m.untagged_responses
    assert m.untagged_responses.get("EXPUNGE") in ([b"3", b"3"], [b"4", b"3"])
    assert m.select("INBOX")[1] == [b"2"]
    assert m.select("Trash")[1] == [b"2"]
    # UID EXPUNGE removes only the \Deleted messages of its set.
    m.select("INBOX")
    m.store("1:2", "+FLAGS", r"(\Deleted)")
    typ, data = m.uid("EXPUNGE", "2")
    assert typ == "OK"
    assert m.untagged_responses.get("EXPUNGE") == [b"2"]
    m.expunge()
    assert m.select("INBOX")[1] == [b"0"]
    m.logout()


def test_create_rename_delete(instance):
    m = login(instance)
    assert m.create("Projects/2024")[0] == "OK"
    assert m.create("Projects/2025")[0] == "OK"
    assert m.append("Projects/2024", None, None, SIMPLE)[0] == "OK"
    uidv = m.status("Projects/2024", "(UIDVALIDITY MESSAGES)")[1][0]
    typ, data = m.delete("Projects")
    assert typ == "NO"  # it has children (and no messages of its own)
    assert m.rename("Projects", "Old")[0] == "OK"
    names = b"\n".join(m.list()[1])
    assert b"Old/2024" in names and b"Old/2025" in names and b"Projects" not in names
    assert m.status("Old/2024", "(UIDVALIDITY MESSAGES)")[1][0].split(b" ", 1)[1] == \
        uidv.split(b" ", 1)[1]
    assert m.rename("Old/2025", "Old/2024")[0] == "NO"
    # Renaming INBOX moves its messages to a new mailbox (RFC 3501 6.3.5).
    put(m, SIMPLE)
    put(m, SIMPLE)
    assert m.rename("INBOX", "Old/2024")[0] == "NO"
    assert m.rename("INBOX", "Foo")[0] == "OK"
    assert m.status("Foo", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 2)")
    assert m.status("INBOX", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 0)")
    m.select("Old/2024")
    assert m.delete("Old/2024")[0] == "OK"
    assert m.delete("Old/2025")[0] == "OK"
    assert m.delete("Old")[0] == "OK"
    assert m.delete("INBOX")[0] == "NO"
    assert m.delete("Old")[0] == "NO"
    names = b"\n".join(m.list()[1])
    assert b"Old" not in names
    # A new mailbox of a deleted name starts empty.
    assert m.create("Old")[0] == "OK"
    assert m.status("Old", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 0)")
    m.logout()


def test_enable_id(instance):
    m = login(instance)
    typ, data = m._simple_command("ENABLE", "CONDSTORE")
    assert typ == "OK" and m.untagged_responses.get("ENABLED") == [b"CONDSTORE"]
    typ, data = m._simple_command("ID", '("name" "pytest" "version" "1")')
    assert typ == "OK"
    assert m.untagged_responses["ID"][0].startswith(b'("name" "Tern"')
    caps = m.capability()[1][0].split()
    for c in (b"UIDPLUS", b"MOVE", b"ENABLE", b"ID", b"SPECIAL-USE", b"LITERAL+", b"CONDSTORE",
              b"QRESYNC", b"COMPRESS=DEFLATE", b"MULTIAPPEND", b"IMAP4rev2"):
        assert c in caps
    # nothing is advertised that is not built (ACL is not)
    assert b"ACL" not in caps and not any(c.startswith(b"RIGHTS=") for c in caps)
    m.logout()
    assert "event=imap.id name=pytest" in instance.log()


def test_search_text_and_dates(instance):
    m = login(instance)
    put(m, MULTI)
    put(m, SIMPLE.replace(b"To: bob@remote.test", b"To: alice@example.test"))
    big = (b"From: carol@remote.test\r\nSubject: Big one\r\n"
           b"Date: 1 Jan 2001 00:00:00 +0000\r\n\r\n" +
           b"x" * 70000 + b"NEEDLE-ACROSS-CHUNKS" + b"y" * 70000 + b"\r\n")
    put(m, big)
    m.select("INBOX")

    def search(*keys):
        typ, data = m.search(None, *keys)
        assert typ == "OK", data
        return data[0].split()

    assert search("SUBJECT", '"saved draft"') == [b"2"]
    assert search("SUBJECT", "PARTS") == [b"1"]
    assert search("FROM", "bob") == [b"1"]
    assert search("FROM", '"Bob Smith"') == [b"1"]
    assert search("TO", "carol@example.test") == [b"1"]
    assert search("CC", "dave") == [b"1"]
    assert search("HEADER", "Message-ID", "m1@remote") == [b"1"]
    assert search("HEADER", "X-None", '""') == []
    assert search("BODY", '"alt html"') == [b"1"]
    assert search("BODY", "Subject") == [b"1"]  # the inner message's header
    assert search("BODY", "needle-across-chunks") == [b"3"]
    assert search("TEXT", "carol@remote") == [b"3"]
    assert search("TEXT", '"draft body"') == [b"2"]
    assert search("NOT", "BODY", "draft") == [b"1", b"3"]
    assert search("OR", "SUBJECT", "big", "SUBJECT", "parts") == [b"1", b"3"]
    assert search("SENTBEFORE", "1-Jan-2002") == [b"1", b"3"]
    assert search("SENTSINCE", "1-Jan-2001", "SENTBEFORE", "2-Jan-2001") == [b"3"]
    assert search("SENTON", "7-Feb-1994") == [b"1"]
    assert search("SENTSINCE", "1-Mar-2020") == [b"2"]
    today = time.strftime("%d-%b-%Y")
    assert search("ON", today) == [b"1", b"2", b"3"]
    assert search("SINCE", today) == [b"1", b"2", b"3"]
    assert search("BEFORE", today) == []
    assert search("BEFORE", "1-Jan-3000", "SUBJECT", "big") == [b"3"]
    assert search("KEYWORD", "$Junk") == []
    assert search("UNKEYWORD", "$Junk") == [b"1", b"2", b"3"]
    assert m.search("UTF-8", "SUBJECT", "parts")[1][0] == b"1"
    assert m.uid("SEARCH", "BODY", "alt")[1][0] == b"1"
    try:
        m.search(None, "SINCE", "31-Foo-2020")
        assert False, "a bad date was accepted"
    except imaplib.IMAP4.error as e:
        assert "BAD" in str(e)
    m.logout()


def test_search_without_keys_is_bad(instance):
    """SEARCH needs a key (RFC 3501 9): bare SEARCH, UID SEARCH and a lone
    CHARSET are BAD, and the session goes on (found by fuzz-imap-session)."""
    m = login(instance)
    put(m, MULTI)
    m.select("INBOX")
    for line in (b"SEARCH", b"UID SEARCH", b"SEARCH CHARSET UTF-8"):
        tag = m._new_tag()
        m.send(tag + b" " + line + b"\r\n")
        reply = m._get_line()
        assert reply.startswith(tag + b" BAD"), reply
    typ, data = m.search(None, "ALL")
    assert typ == "OK" and data[0] == b"1"
