"""SORT, THREAD, ESEARCH, SEARCHRES and ESORT (RFC 5256, 5957, 4731, 5182,
5267) over a mailbox of messages with known headers, with RFC 5256's
tricky cases: Re:/Fwd: leaders, [tags], (fwd) trailers, [Fwd: ...]
wrappers, encoded words, missing dates, duplicate Message-IDs, reference
loops, missing parents. The exact answers are asserted; then, if Dovecot
is installed, Dovecot serves a copy of the same Maildir and must give the
same SORT and THREAD answers (mapped through each message's X-N header)."""
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile

import pytest

from test_imap import USER, PASSWORD, connect_starttls


def msg(n, subject=None, frm=None, to=None, cc=None, date=None, mid=None, refs=None,
        irt=None, body=b""):
    h = [b"X-N: %d" % n]
    for name, v in (("Subject", subject), ("From", frm), ("To", to), ("Cc", cc),
                    ("Date", date), ("Message-ID", mid), ("References", refs),
                    ("In-Reply-To", irt)):
        if v is not None:
            h.append(name.encode() + b": " + v.encode())
    return b"\r\n".join(h) + b"\r\n\r\nbody " + b"x" * (n * 7 % 23) + body + b"\r\n"


# INTERNALDATE (file mtime) of message n: 1700000000 + 1000 * n, except
# where MTIME says otherwise.
MTIME = {3: 1700000000 + 1500, 12: 1600000000}
MESSAGES = [
    msg(1, "Meeting", "Zed <zed@x.test>", "bob@x.test", "carol@x.test",
        "Sun, 5 Jan 2020 10:00:00 +0000", "<a1@t>"),
    msg(2, "Re: Meeting", "alice@x.test", "zed@x.test", None,
        "Mon, 6 Jan 2020 10:00:00 +0000", "<a2@t>", "<a1@t>"),
    # no Date: INTERNALDATE (1700001500) is the sent date
    msg(3, "[list] Re: Fwd: meeting (fwd)", "=?utf-8?q?=C3=89mile?= <emile@x.test>",
        "=?utf-8?q?Zo=C3=A9?= <zoe@x.test>", "Bob <bob@x.test>", None, "<a3@t>",
        irt="<a2@t>"),
    msg(4, "=?utf-8?q?R=C3=A9union?=", "bob@x.test", "\"Al\" <al@x.test>", None,
        "Fri, 3 Jan 2020 12:00:00 +0100", "<a4@t>"),
    msg(5, "Lunch", "carol@x.test", None, None, "Thu, 2 Jan 2020 10:00:00 -0500", "<dup@t>"),
    # the same Message-ID again: a message of its own
    msg(6, "Re: Lunch", "dave@x.test", None, None, "Tue, 7 Jan 2020 10:00:00 +0000",
        "<dup@t>", "<dup@t>"),
    # a reference loop: 7 -> 8 -> 7
    msg(7, "loop a", "erin@x.test", None, None, "Wed, 8 Jan 2020 10:00:00 +0000", "<l1@t>",
        "<l2@t>"),
    msg(8, "loop b", "frank@x.test", None, None, "Thu, 9 Jan 2020 10:00:00 +0000", "<l2@t>",
        "<l1@t>"),
    # two replies to a message not in the mailbox
    msg(9, "Re: Holiday", "gina@x.test", None, None, "Fri, 10 Jan 2020 10:00:00 +0000",
        "<h1@t>", "<missing@t>"),
    msg(10, "RE: holiday", "hal@x.test", None, None, "Sat, 11 Jan 2020 10:00:00 +0000",
        "<h2@t>", "<missing@t>"),
    # no Message-ID, a [Fwd: ...] wrapper
    msg(11, "[Fwd: Holiday]", "ivy@x.test", None, None, "Sun, 12 Jan 2020 10:00:00 +0000"),
    # nothing but X-N: empty keys, INTERNALDATE far in the past
    msg(12),
]


def mtime(n):
    return MTIME.get(n, 1700000000 + 1000 * n)


def write_maildir(md):
    cur = os.path.join(md, "cur")
    for i, raw in enumerate(MESSAGES):
        n = i + 1
        # named by INTERNALDATE: Tern (by mtime) and Dovecot (by name)
        # give the same mailbox order, 12 1 3 2 4 5 ... 11
        path = os.path.join(cur, "%d.M%dP1.sorttest:2,S" % (mtime(n), n))
        with open(path, "wb") as f:
            f.write(raw)
        os.utime(path, (mtime(n), mtime(n)))
        # owned as the server's own files are (COPY hard-links them)
        st = os.stat(cur)
        if os.getuid() == 0:
            os.chown(path, st.st_uid, st.st_gid)


def command(m, line):
    """Send one command; (untagged lines, tagged status line)."""
    tag = m._new_tag()
    m.send(tag + b" " + line.encode() + b"\r\n")
    untagged = []
    for _ in range(10000):
        resp = m._get_line()
        if resp.startswith(tag + b" "):
            return untagged, resp[len(tag) + 1:]
        untagged.append(resp)
    raise AssertionError("no tagged reply")


def answer(m, line, prefix):
    untagged, status = command(m, line)
    assert status.startswith(b"OK"), (line, status)
    lines = [u for u in untagged if u.startswith(prefix)]
    assert len(lines) == 1, (line, untagged)
    return lines[0][len(prefix):].decode().strip()


def numbers_map(m):
    """UID -> X-N of every message."""
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (X-N)])")
    assert typ == "OK"
    out = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            out[uid] = int(re.search(rb"X-N: (\d+)", item[1]).group(1))
    return out


def seqs_map(m):
    """Sequence number -> X-N of every message."""
    typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (X-N)])")
    assert typ == "OK"
    out = {}
    for item in data:
        if isinstance(item, tuple):
            out[int(item[0].split()[0])] = int(re.search(rb"X-N: (\d+)", item[1]).group(1))
    return out


def as_n(text, uidmap):
    return re.sub(r"\d+", lambda mo: str(uidmap[int(mo.group())]), text)


SORTS = {
    "(ARRIVAL)": "12 1 3 2 4 5 6 7 8 9 10 11",
    "(REVERSE ARRIVAL)": "11 10 9 8 7 6 5 4 2 3 1 12",
    # 3 and 12 have no Date: their INTERNALDATE; dates compare in UTC
    "(DATE)": "5 4 1 2 6 7 8 9 10 11 12 3",
    # "" < HOLIDAY < LOOP A < LOOP B < LUNCH < MEETING < RE\u0301UNION
    # ties in mailbox order: 1 3 2
    "(SUBJECT)": "12 9 10 11 7 8 5 6 1 3 2 4",
    "(SUBJECT REVERSE DATE)": "12 11 10 9 7 8 6 5 3 2 1 4",
    "(FROM)": "12 2 4 5 6 3 7 8 9 10 11 1",
    "(TO)": "12 5 6 7 8 9 10 11 4 1 2 3",
    "(CC)": "12 2 4 5 6 7 8 9 10 11 3 1",
    "(SIZE)": None,
    # display names, else addr-specs: ERIN@ < E\u0301MILE (0x52 < 0xcc)
    "(DISPLAYFROM)": "12 2 4 5 6 7 3 8 9 10 11 1",
    "(DISPLAYTO)": "12 5 6 7 8 9 10 11 4 1 2 3",
    "(REVERSE SIZE)": None,
}
THREADS = {
    "ORDEREDSUBJECT": "(5 6)(4)(1 (2)(3))(7)(8)(9 (10)(11))(12)",
    # 6 repeats 5's Message-ID and references it: 5's child; 7 and 8 loop:
    # 8 (seen last) keeps 7; 9 and 10 share a missing parent: a dummy,
    # which 11 joins by subject
    "REFERENCES": "(5 6)(4)(1 2 3)(8 7)((9)(10)(11))(12)",
}


def expected_dates():
    """The sent date of each message, for the DATE order: a fact check of
    SORTS["(DATE)"] independent of the server."""
    import email.utils
    out = {}
    for i, raw in enumerate(MESSAGES):
        mo = re.search(rb"\r\nDate: ([^\r]*)", raw)
        out[i + 1] = (email.utils.parsedate_to_datetime(mo.group(1).decode()).timestamp()
                      if mo else mtime(i + 1))
    return out


def open_mailbox(instance):
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    m.logout()
    write_maildir(instance.maildir(USER))
    m = connect_starttls(instance)
    typ, _ = m.select("INBOX")
    assert typ == "OK"
    return m


def tern_answers(m):
    uidmap = numbers_map(m)
    out = {}
    for crit in SORTS:
        out["SORT " + crit] = as_n(answer(m, "UID SORT %s UTF-8 ALL" % crit, b"* SORT"), uidmap)
    for alg in THREADS:
        out["THREAD " + alg] = as_n(answer(m, "UID THREAD %s UTF-8 ALL" % alg, b"* THREAD"),
                                    uidmap)
    return out


def test_sort_and_thread_orders(instance):
    m = open_mailbox(instance)
    caps = m.capability()[1][0].split()
    for c in (b"SORT", b"SORT=DISPLAY", b"THREAD=ORDEREDSUBJECT", b"THREAD=REFERENCES",
              b"ESEARCH", b"ESORT", b"SEARCHRES"):
        assert c in caps
    dates = expected_dates()
    assert sorted(dates, key=lambda n: (dates[n], n)) == \
        [int(x) for x in SORTS["(DATE)"].split()]
    got = tern_answers(m)
    sizes = {n: len(MESSAGES[n - 1]) for n in range(1, 13)}
    assert len(set(sizes.values())) < 12  # ties: by mailbox order
    order = [int(x) for x in SORTS["(ARRIVAL)"].split()]  # the mailbox order
    assert got["SORT (SIZE)"] == " ".join(
        str(n) for n in sorted(order, key=lambda n: sizes[n]))
    assert got["SORT (REVERSE SIZE)"] == " ".join(
        str(n) for n in sorted(order, key=lambda n: -sizes[n]))
    for crit, want in SORTS.items():
        if want is not None:
            assert got["SORT " + crit] == want, crit
    for alg, want in THREADS.items():
        assert got["THREAD " + alg] == want, alg
    # imaplib's own calls, by sequence number, with search keys
    assert seqs_map(m) == {i + 1: n for i, n in enumerate(order)}
    typ, data = m.sort("(SUBJECT)", "UTF-8", "FROM", "x.test", "NOT", "SUBJECT", "loop")
    assert typ == "OK" and as_n(data[0].decode(), seqs_map(m)) == "9 10 11 5 6 1 3 2 4"
    typ, data = m.thread("REFERENCES", "UTF-8", "NOT", "FROM", "dave")
    assert typ == "OK"
    assert as_n(data[0].decode(), seqs_map(m)) == "(5)(4)(1 2 3)(8 7)((9)(10)(11))(12)"

    # errors
    assert command(m, "SORT (BOGUS) UTF-8 ALL")[1].startswith(b"BAD")
    assert command(m, "SORT (REVERSE) UTF-8 ALL")[1].startswith(b"BAD")
    assert command(m, "SORT (DATE) KOI8-R ALL")[1].startswith(b"NO [BADCHARSET")
    assert command(m, "THREAD FOO UTF-8 ALL")[1].startswith(b"BAD")
    assert answer(m, "SORT (DATE) UTF-8 SUBJECT nothing-matches", b"* SORT") == ""
    untagged, status = command(m, "THREAD REFERENCES UTF-8 SUBJECT nothing-matches")
    assert status.startswith(b"OK") and untagged == [b"* THREAD"]
    m.logout()


def test_sort_reads_the_header_cache(instance):
    """A second SORT reads no file: the fields come from the index."""
    m = open_mailbox(instance)
    first = tern_answers(m)
    db = sqlite3.connect(os.path.join(instance.maildir(USER), "tern-index.db"), timeout=10)
    n = db.execute("SELECT count(*) FROM messages WHERE search_headers IS NOT NULL").fetchone()[0]
    db.close()
    assert n == len(MESSAGES)
    cur = os.path.join(instance.maildir(USER), "cur")
    shutil.move(cur, cur + ".hidden")
    try:
        again = {}
        for crit in SORTS:
            again["SORT " + crit] = answer(m, "UID SORT %s UTF-8 ALL" % crit, b"* SORT")
        for alg in THREADS:
            again["THREAD " + alg] = answer(m, "UID THREAD %s UTF-8 ALL" % alg, b"* THREAD")
    finally:
        shutil.move(cur + ".hidden", cur)
    uidmap = numbers_map(m)
    assert {k: as_n(v, uidmap) for k, v in again.items()} == first
    m.logout()


def test_esearch_searchres_esort(instance):
    m = open_mailbox(instance)
    tag_re = rb'\* ESEARCH \(TAG "[^"]+"\)'
    untagged, status = command(m, "SEARCH RETURN (MIN MAX COUNT ALL) FROM x.test")
    assert status.startswith(b"OK")
    assert re.fullmatch(tag_re + rb" MIN 2 MAX 12 ALL 2:12 COUNT 11", untagged[0]), untagged
    untagged, _ = command(m, "UID SEARCH RETURN (COUNT) SUBJECT nothing")
    assert re.fullmatch(tag_re + rb" UID COUNT 0", untagged[0]), untagged
    untagged, _ = command(m, "SEARCH RETURN () SUBJECT holiday")
    assert re.fullmatch(tag_re + rb" ALL 10:12", untagged[0]), untagged
    untagged, _ = command(m, "SEARCH RETURN (MIN) SUBJECT lunch")
    assert re.fullmatch(tag_re + rb" MIN 6", untagged[0]), untagged
    # with a MODSEQ key (RFC 7162 3.1.5) the highest modseq comes too
    untagged, _ = command(m, "SEARCH RETURN (MIN COUNT) MODSEQ 1")
    assert re.fullmatch(tag_re + rb" MIN 1 COUNT 12 MODSEQ [1-9]\d*", untagged[0]), untagged
    untagged, _ = command(m, "SORT (SUBJECT) UTF-8 MODSEQ 1 SUBJECT lunch")
    assert re.fullmatch(rb"\* SORT 6 7 \(MODSEQ [1-9]\d*\)", untagged[0]), untagged
    # SEARCHRES: SAVE answers nothing, "$" is the saved set
    untagged, status = command(m, "SEARCH RETURN (SAVE) SUBJECT meeting")
    assert status.startswith(b"OK") and untagged == [], untagged
    # (sequence numbers: messages 12 1 3 2 4 5 ... 11 are 1 2 3 4 ...)
    assert answer(m, "SEARCH $", b"* SEARCH") == "2 3 4"
    assert answer(m, "SEARCH NOT $ SUBJECT re", b"* SEARCH") == "7 10 11"
    untagged, _ = command(m, "FETCH $ (FLAGS)")
    assert [u.split()[1] for u in untagged] == [b"2", b"3", b"4"]
    untagged, _ = command(m, "UID FETCH $ (FLAGS)")
    assert len(untagged) == 3
    # STORE and COPY take it too; an expunged message drops out of it
    assert command(m, "STORE $ +FLAGS.SILENT (\\Flagged)")[1].startswith(b"OK")
    assert answer(m, "SEARCH FLAGGED", b"* SEARCH") == "2 3 4"
    assert command(m, "CREATE Saved")[1].startswith(b"OK")
    assert command(m, "UID COPY $ Saved")[1].startswith(b"OK [COPYUID")
    assert command(m, "STORE 3 +FLAGS.SILENT (\\Deleted)")[1].startswith(b"OK")
    untagged, _ = command(m, "EXPUNGE")
    assert untagged[0] == b"* 3 EXPUNGE"
    assert answer(m, "SEARCH $", b"* SEARCH") == "2 3"
    assert answer(m, "UID SEARCH UID $", b"* SEARCH") == " ".join(
        str(u) for u in sorted(numbers_map(m)) if numbers_map(m)[u] in (1, 2))
    # SAVE with MIN MAX keeps just those
    # (message 3 is gone: messages 4 ... 11 are now 4 ... 11)
    command(m, "SEARCH RETURN (SAVE MIN MAX) SUBJECT holiday")
    assert answer(m, "SEARCH UID $", b"* SEARCH") == "9 11"
    # a failed SAVE empties it
    assert command(m, "SEARCH RETURN (SAVE) BOGUS")[1].startswith(b"BAD")
    assert answer(m, "SEARCH $", b"* SEARCH") == ""
    assert command(m, "SEARCH RETURN (BOGUS) ALL")[1].startswith(b"BAD")
    # a SELECT forgets it
    command(m, "SEARCH RETURN (SAVE) ALL")
    m.select("INBOX")
    assert answer(m, "SEARCH $", b"* SEARCH") == ""
    # ESORT: MIN and MAX are the first and last in the sort order
    untagged, status = command(m, "SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 FROM x.test")
    assert status.startswith(b"OK")
    assert re.fullmatch(tag_re + rb" MIN 9 MAX 4 ALL 9:11,7:8,5:6,2:4 COUNT 10",
                        untagged[0]), untagged
    untagged, _ = command(m, "UID SORT RETURN (COUNT) (DATE) UTF-8 ALL")
    assert re.fullmatch(tag_re + rb" UID COUNT 11", untagged[0]), untagged
    m.logout()


def dovecot_answers(d, uid, gid, internal, group, login):
    """Dovecot, serving the Maildir of MESSAGES from d/mail: tern_answers()."""
    import imaplib
    import test_mime_dovecot as dv

    for sub in ("run", "state", "mail/cur", "mail/new", "mail/tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    write_maildir(os.path.join(d, "mail"))
    port = dv.free_port()
    with open(os.path.join(d, "dovecot.conf"), "w") as f:
        f.write(dv.CONF.format(d=d, port=port, internal=internal, group=group, login=login))
    with open(os.path.join(d, "passwd"), "w") as f:
        f.write("st:{PLAIN}st-pass:%d:%d::%s/mail::\n" % (uid, gid, d))
    for root, dirs, files in os.walk(d):
        for n in [root] + [os.path.join(root, x) for x in files]:
            os.chown(n, uid, gid)
    proc = subprocess.Popen([dv.DOVECOT, "-F", "-c", os.path.join(d, "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        dv.wait_port(port, proc)
        dm = imaplib.IMAP4("127.0.0.1", port)
        dm.login("st", "st-pass")
        dm.select("INBOX")
        out = tern_answers(dm)
        dm.logout()
        return out
    except (OSError, imaplib.IMAP4.error) as e:
        raise RuntimeError("dovecot failed (%s); its log:\n%s" % (e, dv.dovecot_log(d)))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_compare_with_dovecot(instance):
    import test_mime_dovecot as dv

    if not os.path.exists(dv.DOVECOT):
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    uid, gid, internal, group, login = dv.mail_account()
    m = open_mailbox(instance)
    tern = tern_answers(m)
    m.logout()
    d = tempfile.mkdtemp(prefix="tern-sortdv-")
    os.chmod(d, 0o755)
    try:
        dove = dovecot_answers(d, uid, gid, internal, group, login)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    assert tern == dove


PREFIXES = ["", "Re: ", "RE: re: ", "Fwd: ", "Fw: ", "[tern] ", "[tern] Re: ", "Re[2]: ",
            "re :", "[a][b] fwd: ", "  "]
TRAILERS = ["", " (fwd)", " (FWD) ", "  "]
BASES = ["hello world", "Hello  World", "caf\u00e9", "=?utf-8?q?caf=C3=A9?=", "\u00c9t\u00e9",
         "=?iso-8859-1?q?=C9t=E9?=", "[tag]", "", "lunch", "Lunch\tplans", "\u0431\u043e\u0440\u0449"]
NAMES = ["", "\"Zed\" ", "=?utf-8?q?=C3=89mile?= ", "Al ", "(c) "]


def random_messages(count, seed):
    """count messages drawn from the tricky cases, each with X-N."""
    import random
    rnd = random.Random(seed)
    out = []
    for n in range(1, count + 1):
        base = rnd.choice(BASES)
        subject = rnd.choice(PREFIXES) + base + rnd.choice(TRAILERS)
        if rnd.random() < 0.1:
            subject = "[Fwd: " + subject + "]"
        if rnd.random() < 0.05:
            subject = None
        user = rnd.choice(["ann", "bob", "Cy", "dee", "\u00e9lan"])
        frm = rnd.choice(NAMES) + "<%s@x.test>" % user if rnd.random() < 0.9 else None
        to = rnd.choice(NAMES) + "<%s@y.test>" % rnd.choice(["zo", "al", "Bo"]) \
            if rnd.random() < 0.8 else None
        cc = "%s@z.test" % rnd.choice(["c1", "c2"]) if rnd.random() < 0.3 else None
        date = None
        if rnd.random() < 0.9:
            date = "Mon, %d Jan 2024 %02d:%02d:00 %s" % (
                1 + n % 28, rnd.randrange(24), rnd.randrange(60),
                rnd.choice(["+0000", "-0500", "+0130", "GMT"]))
        mid = "<m%d@t>" % (n if rnd.random() < 0.9 else rnd.randrange(1, n + 1))
        if rnd.random() < 0.05:
            mid = None
        refs = irt = None
        r = rnd.random()
        if r < 0.5 and n > 1:
            chain = ["<m%d@t>" % rnd.randrange(1, count + 1) for _ in range(rnd.randrange(1, 4))]
            refs = " ".join(chain)
        elif r < 0.65:
            irt = "<m%d@t>" % rnd.randrange(1, count + 1)
        elif r < 0.7:
            refs = "<gone%d@t>" % rnd.randrange(5)
        out.append(msg(n, subject, frm, to, cc, date, mid, refs, irt,
                       body=b"y" * rnd.randrange(40)))
    return out


def test_random_corpus_same_as_dovecot(instance, monkeypatch):
    """400 messages drawn from the tricky cases: every SORT key and both
    THREAD algorithms answer as Dovecot does."""
    import test_mime_dovecot as dv

    if not os.path.exists(dv.DOVECOT):
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    uid, gid, internal, group, login = dv.mail_account()
    messages = random_messages(400, int(os.environ.get("TERN_SORT_SEED", "7")))
    monkeypatch.setattr(__import__(__name__), "MESSAGES", messages)
    monkeypatch.setattr(__import__(__name__), "MTIME", {})
    crits = list(SORTS) + ["(SUBJECT FROM)", "(REVERSE DATE SUBJECT)", "(CC REVERSE TO)"]
    monkeypatch.setattr(__import__(__name__), "SORTS", dict.fromkeys(crits))
    m = open_mailbox(instance)
    tern = tern_answers(m)
    m.logout()
    # the corpus exercises what it should: distinct orders, nested threads,
    # dummies at the root
    assert len(set(tern.values())) == len(tern)
    assert all(len(v.split()) == 400 for k, v in tern.items() if k.startswith("SORT"))
    assert " (" in tern["THREAD REFERENCES"] and ")((" in tern["THREAD REFERENCES"]
    d = tempfile.mkdtemp(prefix="tern-sortdv-")
    os.chmod(d, 0o755)
    try:
        dove = dovecot_answers(d, uid, gid, internal, group, login)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    assert tern == dove
