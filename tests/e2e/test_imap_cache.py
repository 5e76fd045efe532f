"""IMAP FETCH cache and BINARY end to end: ENVELOPE/BODY/BODYSTRUCTURE from
the index cache are byte-identical to the ones rendered from the message
(cold, warm, after an index rebuild), a warm FETCH reads no message file,
and FETCH BINARY / BINARY.SIZE (RFC 3516) decode base64 and
quoted-printable parts."""
import base64
import glob
import imaplib
import os
import re
import shutil

import pytest

from test_imap import USER, PASSWORD, connect_starttls
from test_imap_mail import MULTI

B64_DATA = bytes(range(256)) * 3
B64_PART = base64.encodebytes(B64_DATA).replace(b"\n", b"\r\n")
QP_PART = b"caf=C3=A9 au lait=\r\nsoft break=3D ok\r\nnext line\r\n"
# the CRLF before the boundary belongs to it (RFC 2046 5.1.1)
QP_DATA = b"caf\xc3\xa9 au laitsoft break= ok\r\nnext line"

BINARY_MSG = (b"From: =?utf-8?q?Zo=C3=A9?= <zoe@remote.test>\r\nTo: alice@example.test\r\n"
              b"Subject: binary parts\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
              b"--b1\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n" + B64_PART +
              b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
              b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + QP_PART +
              b"--b1\r\nContent-Type: text/plain\r\n"
              b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\nend\r\n"
              b"--b1\r\nContent-Type: text/plain\r\n\r\nplain 7bit\r\n--b1--\r\n")

EIGHT_BIT = (b"From: J\xc3\xb6rg <jorg@remote.test>\r\nSubject: gr\xc3\xbc\xc3\x9fe\r\n"
             b"To: \"a, b\" <x@y.test>, group: c@d.test;\r\n\r\nhello\r\n")

STRUCT = "(ENVELOPE BODY BODYSTRUCTURE)"


def login_with(instance, messages):
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    for msg in messages:
        typ, data = m.append("INBOX", None, None, msg)
        assert typ == "OK", data
    m.select("INBOX")
    return m


def fetch_all(m, items, num="1:*"):
    typ, data = m.fetch(num, items)
    assert typ == "OK", data
    return data


def test_cache_byte_identical(instance):
    msgs = [MULTI, BINARY_MSG, EIGHT_BIT, b"no header at all", b"Subject: x\r\n\r\n"]
    m = login_with(instance, msgs)
    cold = fetch_all(m, STRUCT)
    assert len([d for d in cold if d != b")"]) >= len(msgs)
    warm = fetch_all(m, STRUCT)
    assert warm == cold
    assert fetch_all(m, "(FLAGS ENVELOPE)") == fetch_all(m, "(FLAGS ENVELOPE)")
    m.logout()

    # a fresh index (rebuilt from the Maildir) renders the same bytes
    instance.stop()
    md = instance.maildir(USER)
    for p in glob.glob(os.path.join(md, "tern-index.db*")):
        os.unlink(p)
    instance.start()
    m = connect_starttls(instance)
    m.select("INBOX")
    # ENVELOPE alone fills the cache from a header-only parse; BODY and
    # BODYSTRUCTURE then come from the whole tree: still the same bytes
    fetch_all(m, "(ENVELOPE)")
    assert fetch_all(m, STRUCT) == cold
    assert fetch_all(m, STRUCT) == cold
    m.logout()

    # and again with a fresh index filled the other way round
    instance.stop()
    for p in glob.glob(os.path.join(md, "tern-index.db*")):
        os.unlink(p)
    instance.start()
    m = connect_starttls(instance)
    m.select("INBOX")
    assert fetch_all(m, STRUCT) == cold
    m.logout()


def test_warm_fetch_reads_no_file(instance):
    m = login_with(instance, [MULTI, EIGHT_BIT])
    env = fetch_all(m, "(FLAGS ENVELOPE BODYSTRUCTURE)")
    # Take the files away behind the session's back (FETCH never syncs,
    # RFC 3501 7.4.1): the cached items still come, without a file.
    cur = os.path.join(instance.maildir(USER), "cur")
    hidden = cur + ".hidden"
    shutil.move(cur, hidden)
    try:
        assert fetch_all(m, "(FLAGS ENVELOPE BODYSTRUCTURE)") == env
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        assert typ == "NO" and b"EXPUNGEISSUED" in data[0]
    finally:
        shutil.move(hidden, cur)
    m.logout()


def binary(m, item, num="1"):
    typ, data = m.fetch(num, item)
    assert typ == "OK", data
    return data


def test_binary(instance):
    m = login_with(instance, [BINARY_MSG])
    assert "BINARY" in m.capabilities or b"BINARY" in m.capability()[1][0]
    data = binary(m, "(BINARY.PEEK[1])")
    assert b"BINARY[1] ~{%d}" % len(B64_DATA) in data[0][0]
    assert data[0][1] == B64_DATA
    data = binary(m, "(BINARY.PEEK[2])")
    assert data[0][1] == QP_DATA
    data = binary(m, "(BINARY.PEEK[4])")
    assert data[0][1] == b"plain 7bit"
    data = binary(m, "(BINARY.SIZE[1] BINARY.SIZE[2])")
    assert b"BINARY.SIZE[1] %d" % len(B64_DATA) in data[0]
    assert b"BINARY.SIZE[2] %d" % len(QP_DATA) in data[0]
    data = binary(m, "(BINARY.PEEK[1]<250.10>)")
    assert b"BINARY[1]<250>" in data[0][0] and data[0][1] == B64_DATA[250:260]
    data = binary(m, "(BINARY.PEEK[])")
    assert data[0][1] == BINARY_MSG
    data = binary(m, "(BINARY.PEEK[9])")
    assert b"BINARY[9] NIL" in data[0]
    # PEEK and SIZE leave \Seen alone; BINARY sets it (RFC 3516 4.2)
    assert b"\\Seen" not in binary(m, "(FLAGS)")[0]
    data = binary(m, "(BINARY[2])")
    assert data[0][1] == QP_DATA and b"\\Seen" in data[0][0]
    # unknown encoding: NO [UNKNOWN-CTE] (RFC 3516 4.1)
    typ, data = m.fetch("1", "(BINARY.PEEK[3])")
    assert typ == "NO" and b"UNKNOWN-CTE" in data[0]
    # no HEADER/TEXT/MIME sections, no partial BINARY.SIZE (RFC 3516 4)
    for bad in ("(BINARY.PEEK[HEADER])", "(BINARY[1.MIME])", "(BINARY.SIZE[1]<0.5>)"):
        with pytest.raises(imaplib.IMAP4.error):
            m.fetch("1", bad)
    m.logout()


def test_binary_raw_literal8(instance):
    """The raw response carries ~{n} and the NUL bytes as they are."""
    m = login_with(instance, [BINARY_MSG])
    tag = m._new_tag()
    m.send(tag + b" FETCH 1 (BINARY.PEEK[1]<0.4>)\r\n")
    line = m.readline()
    assert re.match(rb"\* 1 FETCH \(BINARY\[1\]<0> ~\{4\}\r\n$", line), line
    assert m.read(4) == B64_DATA[:4] == b"\x00\x01\x02\x03"
    assert m.readline() == b")\r\n"
    assert m.readline().startswith(tag + b" OK")
    m.logout()


def test_cache_windows(instance):
    """More messages than one cache window (256): every window is read and
    stored, sparse sets included."""
    m = login_with(instance, [])
    cur = os.path.join(instance.maildir(USER), "cur")
    st = os.stat(cur)
    for i in range(600):
        p = os.path.join(cur, "%d.M%dP1.host:2,S" % (1700000000 + i, i))
        with open(p, "wb") as f:
            f.write(b"From: s%d@remote.test\r\nSubject: n%d\r\n\r\nbody\r\n" % (i, i))
        os.chown(p, st.st_uid, st.st_gid)
    m.noop()
    typ, data = m.select("INBOX")
    assert data[0] == b"600"
    sparse = fetch_all(m, "(UID ENVELOPE)", "3,255:258,511,599:600")
    cold = fetch_all(m, "(UID ENVELOPE BODYSTRUCTURE)")
    assert len(cold) == 600 and b'"n599"' in cold[599]
    assert fetch_all(m, "(UID ENVELOPE BODYSTRUCTURE)") == cold
    assert fetch_all(m, "(UID ENVELOPE)", "3,255:258,511,599:600") == sparse
    m.logout()
