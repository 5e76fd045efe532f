"""The APPEND family end to end: LITERAL+ above 4096 bytes (RFC 7888),
MULTIAPPEND (RFC 3502), REPLACE (RFC 8508), CATENATE (RFC 4469)."""
import glob
import os
import re

from imap_raw import command
from test_imap import USER, connect_starttls, setup_mail

MSG = b"From: a@b.test\r\nSubject: %d\r\n\r\nbody %d\r\n"
MIME = (b"From: a@b.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=xx\r\n\r\n"
        b"--xx\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
        b"--xx\r\nContent-Type: text/plain\r\n\r\nsecond part\r\n--xx--\r\n")


def msg(i):
    return MSG % (i, i)


def status(tagged):
    return tagged.split()[1]


def files(instance, folder=""):
    md = os.path.join(instance.maildir(USER), folder)
    return glob.glob(os.path.join(md, "new", "*")) + glob.glob(os.path.join(md, "cur", "*"))


def fetch_all(m, mailbox):
    m.select(mailbox)
    typ, data = m.fetch("1:*", "(BODY.PEEK[])")
    return [d[1] for d in data if isinstance(d, tuple)]


def test_capabilities(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    caps = command(m, "CAPABILITY")[0][0].decode().split()
    for c in ("MULTIAPPEND", "REPLACE", "CATENATE", "LITERAL+"):
        assert c in caps
    assert "LITERAL-" not in caps  # LITERAL+ is its superset: one is advertised
    m.logout()


def test_big_nonsync_literal(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    big = b"Subject: big\r\n\r\n" + b"x" * 100 + b"\r\n" * 50000
    assert len(big) > 4096
    untagged, tagged = command(m, "APPEND INBOX {}", [big])
    assert status(tagged) == b"OK" and b"APPENDUID" in tagged
    assert fetch_all(m, "INBOX")[-1] == big
    m.logout()


def test_multiappend(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    assert status(command(m, "CREATE Box")[1]) == b"OK"
    untagged, tagged = command(
        m, 'APPEND Box (\\Seen) {} (\\Flagged $Work) "01-Jan-2020 10:00:00 +0000" {} {}',
        [msg(1), msg(2), msg(3)])
    assert status(tagged) == b"OK", tagged
    uv, uids = re.search(rb"APPENDUID (\d+) (\S+)\]", tagged).groups()
    # one UID per message, in message order, though the second one's
    # INTERNALDATE is older
    assert uids == b"1:3"
    uid_list = [1, 2, 3]
    m.select("Box")
    for i, uid in enumerate(uid_list):
        typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[])")
        assert data[0][1] == msg(i + 1)
    typ, data = m.uid("FETCH", str(uid_list[0]), "(FLAGS)")
    assert b"\\Seen" in data[0]
    typ, data = m.uid("FETCH", str(uid_list[1]), "(FLAGS INTERNALDATE)")
    assert b"$Work" in data[0] and b"\\Flagged" in data[0]
    assert b"01-Jan-2020 10:00:00 +0000" in data[0]
    # synchronising literals too
    untagged, tagged = command(m, "APPEND Box {} {}", [msg(4), msg(5)], sync=True)
    assert status(tagged) == b"OK" and b"APPENDUID %s 4:5]" % uv in tagged, tagged
    # a CATENATE, then a message above the 1 MiB held in memory: it streams
    big = b"Subject: big\r\n\r\n" + (b"z" * 78 + b"\r\n") * 20000
    assert len(big) > 1024 * 1024
    untagged, tagged = command(m, "APPEND Box CATENATE (TEXT {}) {}", [msg(6), big])
    assert status(tagged) == b"OK" and b"APPENDUID %s 6:7]" % uv in tagged, tagged
    m.select("Box")
    assert m.uid("FETCH", "7", "(BODY.PEEK[])")[1][0][1] == big
    m.logout()


def test_multiappend_all_or_nothing(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    assert status(command(m, "CREATE Box")[1]) == b"OK"
    # a bad flag on the second message: BAD, nothing stored
    assert status(command(m, "APPEND Box {} (\\Bogus) {}", [msg(1), msg(2)])[1]) == b"BAD"
    # an empty second message: NO, nothing stored
    assert status(command(m, "APPEND Box {} {}", [msg(1), b""])[1]) == b"NO"
    # a bad URL in the second message
    untagged, tagged = command(m, 'APPEND Box {} CATENATE (URL "/Box/;UID=99")', [msg(1)])
    assert b"NO [BADURL" in tagged
    assert files(instance, ".Box") == []
    assert m.select("Box")[1] == [b"0"]
    # the connection is still usable, the spool holds nothing
    assert status(command(m, "APPEND Box {}", [msg(9)])[1]) == b"OK"
    assert len(files(instance, ".Box")) == 1
    spool = os.path.join(os.path.dirname(instance.maildir(USER)), "..", ".spool")
    assert os.path.isdir(spool) and glob.glob(os.path.join(spool, "*")) == []
    m.logout()


def test_replace(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    assert status(command(m, "CREATE Drafts2")[1]) == b"OK"
    assert status(command(m, "APPEND Drafts2 (\\Draft) {} {}", [msg(1), msg(2)])[1]) == b"OK"
    m.select("Drafts2")
    untagged, tagged = command(m, "REPLACE 1 Drafts2 (\\Draft \\Seen) {}", [msg(10)])
    assert status(tagged) == b"OK", tagged
    assert any(re.match(rb"\* OK \[APPENDUID \d+ 3\]", l) for l in untagged), untagged
    assert b"* 1 EXPUNGE" in untagged
    assert untagged.index(b"* 1 EXPUNGE") > [i for i, l in enumerate(untagged)
                                              if b"APPENDUID" in l][0]
    # UID REPLACE into another mailbox
    untagged, tagged = command(m, "UID REPLACE 2 INBOX {}", [msg(11)])
    assert status(tagged) == b"OK", tagged
    assert b"* 1 EXPUNGE" in untagged
    typ, data = m.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
    bodies = [d[1] for d in data if isinstance(d, tuple)]
    assert bodies == [msg(10)]
    assert fetch_all(m, "INBOX")[-1] == msg(11)
    # a UID that does not exist is NO, the new message is not stored
    m.select("Drafts2")
    untagged, tagged = command(m, "UID REPLACE 77 Drafts2 {}", [msg(12)])
    assert status(tagged) == b"NO"
    assert status(command(m, "REPLACE 5 Drafts2 {}", [msg(12)])[1]) == b"BAD"
    assert len(files(instance, ".Drafts2")) == 1
    # read-only: NO
    m.select("Drafts2", readonly=True)
    assert status(command(m, "REPLACE 1 Drafts2 {}", [msg(12)])[1]) == b"NO"
    m.logout()


def test_catenate(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    assert status(command(m, "CREATE Src")[1]) == b"OK"
    untagged, tagged = command(m, "APPEND Src {}", [MIME])
    uv = re.search(rb"APPENDUID (\d+) 1\]", tagged).group(1).decode()
    url = "/Src;UIDVALIDITY=%s/;UID=1" % uv
    untagged, tagged = command(
        m, 'APPEND INBOX CATENATE (TEXT {} URL "%s/;SECTION=2" TEXT {} URL "%s")' % (url, url),
        [b"Subject: built\r\n\r\n", b"\r\n--\r\n"])
    assert status(tagged) == b"OK", tagged
    assert fetch_all(m, "INBOX")[-1] == (b"Subject: built\r\n\r\n"
                                         b"second part" + b"\r\n--\r\n" + MIME)
    # a section and a URL without UIDVALIDITY
    untagged, tagged = command(m, 'APPEND INBOX (\\Seen) CATENATE (URL "/Src/;UID=1/;SECTION=HEADER" TEXT {})',
                               [b"new body\r\n"])
    assert status(tagged) == b"OK", tagged
    assert fetch_all(m, "INBOX")[-1] == MIME.split(b"\r\n\r\n")[0] + b"\r\n\r\nnew body\r\n"
    count = len(files(instance))
    for bad in ("/Src;UIDVALIDITY=1/;UID=1", "/Src/;UID=2", "/Nope/;UID=1",
                "imap://alice@localhost/Src/;UID=1", "/Src/;UID=1/;SECTION=7",
                "/Src/;UID=1;URLAUTH=anonymous", ";UID=1"):
        untagged, tagged = command(m, 'APPEND INBOX CATENATE (URL "%s")' % bad)
        assert tagged.split(None, 1)[1].startswith(b'NO [BADURL "%s"]' % bad.encode()), tagged
    assert len(files(instance)) == count
    m.logout()


def test_catenate_sync_literals_and_replace(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    assert status(command(m, "CREATE Drafts2")[1]) == b"OK"
    untagged, tagged = command(m, "APPEND Drafts2 {}", [MIME])
    m.select("Drafts2")
    # the usual draft edit: the old header, a new body, in place of the old
    untagged, tagged = command(
        m, 'UID REPLACE 1 Drafts2 CATENATE (URL "/Drafts2/;UID=1/;SECTION=HEADER" TEXT {})',
        [b"edited\r\n"], sync=True)
    assert status(tagged) == b"OK", tagged
    assert b"* 1 EXPUNGE" in untagged
    typ, data = m.uid("FETCH", "2", "(BODY.PEEK[])")
    assert data[0][1] == MIME.split(b"\r\n\r\n")[0] + b"\r\n\r\nedited\r\n"
    m.logout()


def test_catenate_toobig(instance_dir):
    from conftest import Instance

    inst = Instance(instance_dir)
    with open(inst.config, "a") as f:
        f.write("imap {\n\tmax_literal_size = 1k\n}\n")
    inst.start()
    try:
        setup_mail(inst)
        m = connect_starttls(inst)
        part = b"Subject: s\r\n\r\n" + b"y" * 900 + b"\r\n"
        untagged, tagged = command(m, "APPEND INBOX {}", [part])
        assert status(tagged) == b"OK"
        uid = re.search(rb"APPENDUID \d+ (\d+)\]", tagged).group(1).decode()
        url = '"/INBOX/;UID=%s"' % uid
        untagged, tagged = command(m, "APPEND INBOX CATENATE (URL %s URL %s)" % (url, url))
        assert b"NO [TOOBIG]" in tagged
        m.logout()
    finally:
        inst.stop()


# Sections Dovecot and Tern both resolve: the catenated bytes must be the
# same. Deliberate difference: a part that does not exist (3, 2.1) is
# NO [BADURL] here (RFC 4469 5: the URL does not resolve), where Dovecot 2.3
# catenates nothing.
CATENATE_SECTIONS = ["", "/;SECTION=HEADER", "/;SECTION=TEXT", "/;SECTION=1",
                     "/;SECTION=2.MIME", "/;SECTION=HEADER.FIELDS%20(Subject)",
                     "/;SECTION=header.fields.not%20(subject%20from)"]


def catenate_results(m):
    untagged, tagged = command(m, "APPEND INBOX {}", [MIME])
    assert status(tagged) == b"OK"
    uid = re.search(rb"APPENDUID \d+ (\d+)\]", tagged).group(1).decode()
    out = []
    for sec in CATENATE_SECTIONS:
        untagged, tagged = command(
            m, 'APPEND INBOX CATENATE (URL "/INBOX/;UID=%s%s" TEXT {})' % (uid, sec), [b"X\r\n"])
        assert status(tagged) == b"OK", (sec, tagged)
        new = re.search(rb"APPENDUID \d+ (\d+)\]", tagged).group(1).decode()
        m.select("INBOX")
        out.append(m.uid("FETCH", new, "(BODY.PEEK[])")[1][0][1])
    return out


def test_catenate_same_as_dovecot(instance):
    from dovecot_server import dovecot_session

    with dovecot_session() as dm:
        expected = catenate_results(dm)
    setup_mail(instance)
    m = connect_starttls(instance)
    assert catenate_results(m) == expected
    mime_uid = 2  # after the message setup_mail delivers
    assert m.uid("FETCH", str(mime_uid), "(BODY.PEEK[])")[1][0][1] == MIME
    for sec in ("/;SECTION=3", "/;SECTION=2.1"):
        untagged, tagged = command(
            m, 'APPEND INBOX CATENATE (URL "/INBOX/;UID=%d%s")' % (mime_uid, sec))
        assert b"NO [BADURL" in tagged, (sec, tagged)
    m.logout()


def test_multiappend_rollback_after_commit(instance):
    """The second message is committed but cannot be finished (its new
    keyword does not fit the mailbox's 64): the first, already stored and
    numbered, is expunged again and the answer is NO."""
    setup_mail(instance)
    m = connect_starttls(instance)
    assert status(command(m, "CREATE Box")[1]) == b"OK"
    full = "(%s)" % " ".join("k%d" % i for i in range(64))
    assert status(command(m, "APPEND Box %s {}" % full, [msg(0)])[1]) == b"OK"
    untagged, tagged = command(m, "APPEND Box {} (one_too_many) {}", [msg(1), msg(2)])
    assert status(tagged) == b"NO", tagged
    assert m.select("Box")[1] == [b"1"]
    assert fetch_all(m, "Box") == [msg(0)]
    assert len(files(instance, ".Box")) == 1
    # the UIDs given and taken back are not given again
    untagged, tagged = command(m, "APPEND Box {}", [msg(3)])
    assert status(tagged) == b"OK" and re.search(rb"APPENDUID \d+ 4\]", tagged), tagged
    m.logout()
