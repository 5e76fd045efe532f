"""SEARCH header keys from the index's SEARCH header cache: over a corpus of
tricky headers (encoded words, folded lines, groups, missing, duplicated and
empty fields, 8-bit, NUL and bare CR, a value past the parser's cap, fields
past the header byte limit), every query gives the same answer with the
cache cold (read from the files), warm (filled by a SEARCH or by a FETCH
ENVELOPE), and with the files gone (so the warm answer comes from the
cache alone)."""
import os
import shutil
import sqlite3

from test_imap import USER, PASSWORD, connect_starttls
from test_imap_cache import EIGHT_BIT

APPENDED = [
    # encoded words stay encoded: SEARCH matches the stored bytes
    b"From: =?utf-8?q?Zo=C3=A9?= <zoe@remote.test>\r\nTo: alice@example.test\r\n"
    b"Subject: =?utf-8?b?Y2Fmw6k=?= and =?iso-8859-1?q?caf=E9?=\r\n\r\nbody one\r\n",
    # folded lines, comments and quoted display names
    b"From: \"Doe, John\" (work)\r\n <john.doe@remote.test>\r\nSubject: a folded\r\n"
    b"\tsubject line\r\nCc: carol@example.test (Carol\r\n  C.)\r\n\r\nbody two\r\n",
    # groups, an empty group, Bcc
    b"From: list@remote.test\r\nTo: friends: ann@a.test, \"Bob B\" <bob@b.test>;,"
    b" undisclosed-recipients:;\r\nBcc: secret@hidden.test\r\nSubject: groups\r\n\r\nthree\r\n",
    # duplicated fields and names in other cases
    b"SUBJECT: first subject\r\nsubject: second subject\r\nTo: one@x.test\r\n"
    b"to: two@x.test\r\nFROM: upper@x.test\r\n\r\nfour\r\n",
    # empty and missing fields
    b"Subject:\r\nFrom: empty-subject@x.test\r\n\r\nfive\r\n",
    b"X-Only: nothing searched\r\n\r\nsix\r\n",
    b"no header at all",
    EIGHT_BIT,
    # Message-ID, In-Reply-To, Reply-To, Sender, Date through HEADER
    b"From: a@x.test\r\nSender: sender@x.test\r\nReply-To: reply@x.test\r\n"
    b"Message-ID: <id-42@x.test>\r\nIn-Reply-To: <id-41@x.test>\r\n"
    b"Date: Mon, 2 Nov 2026 10:00:00 +0100\r\nSubject: ids\r\n\r\nnine\r\n",
]

# Written straight into new/: bytes APPEND would not carry, and big headers.
NUL_CR = b"Subject: nul\x00inside and bare\rcr\r\nFrom: nul@x.test\r\n\r\nten\r\n"
LONG = b"Subject: " + b"x" * 70000 + b" needle-at-end\r\nTo: long@x.test\r\n\r\neleven\r\n"
# 1 MB of header fields before the Subject: the parser drops what follows
# (struct mime_limits), in both paths alike
PAST_LIMIT = b"".join(b"X-Pad-%d: " % i + b"p" * 60000 + b"\r\n" for i in range(18)) + \
    b"Subject: beyond the limit\r\nFrom: pad@x.test\r\n\r\ntwelve\r\n"

QUERIES = [
    ("SUBJECT", "subject"), ("SUBJECT", "SECOND"), ("SUBJECT", ""), ("SUBJECT", "=?utf-8?b?"),
    ("SUBJECT", "caf=E9"), ("SUBJECT", "café"), ("SUBJECT", "a folded\tsubject"),
    ("SUBJECT", "folded subject"), ("SUBJECT", "gr\u00fc\u00dfe"), ("SUBJECT", "inside"),
    ("SUBJECT", "bare\rcr"), ("SUBJECT", "needle-at-end"), ("SUBJECT", "beyond"),
    ("SUBJECT", "nul"), ("FROM", "Doe, John"), ("FROM", "(work) <john"),
    ("FROM", "john.doe@remote.test"), ("FROM", "Zo=C3"), ("FROM", "Zoé"), ("FROM", "upper"),
    ("FROM", "J\u00f6rg"), ("FROM", ""), ("FROM", "pad@"), ("TO", "friends:"),
    ("TO", "\"Bob B\" <bob"), ("TO", "undisclosed-recipients:;"), ("TO", "two@"),
    ("TO", "one@x.test"), ("TO", "group: c@d"), ("TO", "long@"), ("TO", ""),
    ("CC", "(Carol C.)"), ("CC", "Carol"), ("CC", ""), ("BCC", "secret"), ("BCC", ""),
    ("HEADER", "subject", "FIRST"), ("HEADER", "Message-ID", "<id-42@"),
    ("HEADER", "in-reply-to", "id-41"), ("HEADER", "REPLY-TO", "reply@"),
    ("HEADER", "Sender", "sender@"), ("HEADER", "Date", "2 Nov 2026"),
    ("HEADER", "Date", ""), ("HEADER", "To", ""), ("HEADER", "X-Only", "nothing"),
    ("NOT", "SUBJECT", "subject"), ("OR", "FROM", "upper", "TO", "alice"),
    ("SUBJECT", "groups", "BODY", "three"), ("NOT", "HEADER", "Message-ID", ""),
]

# what the file path matches today (raw, unfolded, undecoded values)
EXPECTED = {
    ("SUBJECT", "caf=E9"): [1], ("SUBJECT", "café"): [], ("FROM", "Zoé"): [],
    ("SUBJECT", "folded subject"): [], ("SUBJECT", "a folded\tsubject"): [2],
    ("SUBJECT", "SECOND"): [4], ("SUBJECT", ""): [1, 2, 3, 4, 5, 8, 9, 10, 11],
    ("TO", "undisclosed-recipients:;"): [3], ("FROM", "(work) <john"): [2],
    ("SUBJECT", "needle-at-end"): [], ("SUBJECT", "beyond"): [], ("SUBJECT", "nul"): [10],
    ("SUBJECT", "inside"): [10],
}


def search(m, query):
    args = []
    for a in query:
        b = a.encode()
        if a == "" or any(c in b for c in b' "()\\\r\t') or any(c >= 0x80 for c in b):
            # a literal: imaplib quotes nothing by itself
            args.append(b"{%d}\r\n" % len(b) + b)
        else:
            args.append(b)
    # imaplib has no literal-per-argument API: send the command by hand
    tag = m._new_tag()
    line = tag + b" UID SEARCH CHARSET UTF-8"
    for a in args:
        if a.startswith(b"{"):
            lit = a.split(b"\r\n", 1)
            m.send(line + b" " + lit[0] + b"\r\n")
            assert m._get_line().startswith(b"+")
            line = lit[1]
        else:
            line += b" " + a
    m.send(line + b"\r\n")
    result = None
    while True:
        resp = m._get_line()
        if resp.startswith(b"* SEARCH"):
            result = sorted(int(x) for x in resp[8:].split())
        elif resp.startswith(tag):
            assert resp.split()[1] == b"OK", resp
            return result


def clear_cache(instance):
    db = sqlite3.connect(os.path.join(instance.maildir(USER), "tern-index.db"), timeout=10)
    db.execute("UPDATE messages SET search_headers = NULL")
    db.commit()
    db.close()


def cached_rows(instance):
    db = sqlite3.connect(os.path.join(instance.maildir(USER), "tern-index.db"), timeout=10)
    n = db.execute("SELECT count(*) FROM messages WHERE search_headers IS NOT NULL").fetchone()[0]
    db.close()
    return n


def test_search_cache_cold_warm_identical(instance):
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    for msg in APPENDED:
        typ, data = m.append("INBOX", None, None, msg)
        assert typ == "OK", data
    new = os.path.join(instance.maildir(USER), "new")
    for i, msg in enumerate([NUL_CR, LONG, PAST_LIMIT]):
        path = os.path.join(new, "1790000000.M%dP1.test" % i)
        with open(path, "wb") as f:
            f.write(msg)
        os.utime(path, (1790000000 + i, 1790000000 + i))
    m.select("INBOX")
    total = len(APPENDED) + 3

    cold = {}
    for q in QUERIES:
        clear_cache(instance)
        cold[q] = search(m, q)
    for q, want in EXPECTED.items():
        assert cold[q] == want, q
    # the cold SEARCH filled the cache of every message with a header
    assert cached_rows(instance) == total

    warm = {q: search(m, q) for q in QUERIES}
    assert warm == cold

    # filled by FETCH ENVELOPE instead of SEARCH
    clear_cache(instance)
    typ, _ = m.fetch("1:*", "(ENVELOPE)")
    assert typ == "OK"
    assert cached_rows(instance) == total

    # files gone behind the session's back: header keys on covered fields
    # still answer the same, from the cache alone
    cur = os.path.join(instance.maildir(USER), "cur")
    hidden = cur + ".hidden"
    shutil.move(cur, hidden)
    try:
        for q in QUERIES:
            if "BODY" not in q and "X-Only" not in q:
                assert search(m, q) == cold[q], q
    finally:
        shutil.move(hidden, cur)
    m.logout()
