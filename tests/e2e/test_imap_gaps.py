"""Protocol errors real clients hit (issue 10 "Known gaps"): literal8 in
APPEND, '[' in atoms, escaped backslash in a section's quoted string, a
30-pair pre-login ID."""
import imaplib
import socket
import ssl

from conftest import client_tls_context

USER = "alice@example.test"
PASSWORD = "correct horse battery"


def connect(instance):
    m = imaplib.IMAP4_SSL("127.0.0.1", instance.port("imaps"),
                          ssl_context=client_tls_context())
    m.login(USER, PASSWORD)
    return m


class Raw:
    """A plain TLS line client, for what imaplib cannot send."""

    def __init__(self, instance):
        sock = socket.create_connection(("127.0.0.1", instance.port("imaps")), timeout=10)
        self.s = client_tls_context().wrap_socket(sock, server_hostname="localhost")
        self.f = self.s.makefile("rb")
        assert self.f.readline().startswith(b"* OK")

    def command(self, tag, data):
        """Send data, return the lines up to the tagged reply."""
        self.s.sendall(data)
        lines = []
        for _ in range(1000):
            line = self.f.readline()
            assert line, "connection closed"
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines
        raise AssertionError("no tagged reply")

    def close(self):
        self.s.close()


def test_append_literal8_keeps_nul(instance):
    instance.add_user(USER, PASSWORD)
    msg = b"Subject: bin\r\n\r\nab\x00cd\x00\r\n"
    r = Raw(instance)
    assert r.command(b"a", b"a LOGIN alice@example.test \"correct horse battery\"\r\n")[-1] \
        .startswith(b"a OK")
    out = r.command(b"b", b"b APPEND INBOX (\\Seen) ~{%d+}\r\n" % len(msg) + msg + b"\r\n")
    assert out[-1].startswith(b"b OK"), out
    # synchronising literal8: the server asks for the bytes
    r.s.sendall(b"c APPEND INBOX ~{%d}\r\n" % len(msg))
    assert r.f.readline().startswith(b"+")
    out = r.command(b"c", msg + b"\r\n")
    assert out[-1].startswith(b"c OK"), out
    # a literal8 is not an astring
    out = r.command(b"d", b"d SELECT ~{5+}\r\nINBOX\r\n")
    assert out[-1].startswith(b"d BAD"), out
    r.close()
    m = connect(instance)
    m.select("INBOX")
    for seq in (b"1", b"2"):
        typ, data = m.fetch(seq, "(BODY.PEEK[])")
        assert typ == "OK" and data[0][1] == msg
    m.logout()


def test_atoms_with_open_bracket(instance):
    instance.add_user(USER, PASSWORD)
    m = connect(instance)
    assert m._simple_command("CREATE", "x[1]")[0] == "OK"
    assert m._simple_command("CREATE", "a[b")[0] == "OK"
    typ, data = m._simple_command("LIST", '""', "a[b%")
    assert typ == "OK"
    assert any(b'"/" "a[b"' in x or b'"/" a[b' in x for x in m.untagged_responses["LIST"])
    assert m._simple_command("SELECT", "a[b")[0] == "OK"
    typ, data = m._simple_command("STATUS", "x[1]", "(MESSAGES)")
    assert typ == "OK"
    m.logout()


def test_fetch_header_fields_escaped_backslash(instance):
    instance.add_user(USER, PASSWORD)
    m = connect(instance)
    m.append("INBOX", None, None, b"Subject: s\r\nX: y\r\n\r\nbody\r\n")
    m.select("INBOX")
    typ, data = m.fetch("1", '(BODY.PEEK[HEADER.FIELDS ("x\\\\" SUBJECT)])')
    assert typ == "OK"
    assert b"Subject: s" in data[0][1]
    m.logout()


def test_prelogin_id_of_30_pairs(instance):
    instance.add_user(USER, PASSWORD)
    r = Raw(instance)
    pairs = " ".join('"%s" "%s"' % (("f%02d" % i).ljust(30, "x"), "v" * 1024)
                     for i in range(30))
    line = ("i ID (%s)\r\n" % pairs).encode()
    assert len(line) > 31000
    out = r.command(b"i", line)
    assert out[-1].startswith(b"i OK"), out[-1]
    assert any(x.startswith(b"* ID") for x in out)
    # still bounded: a much longer line is refused, the session goes on
    out = r.command(b"j", b"j ID (\"a\" \"" + b"v" * 70000 + b"\")\r\n")
    assert out[-1].startswith(b"j BAD"), out[-1]
    assert r.command(b"k", b"k NOOP\r\n")[-1].startswith(b"k OK")
    r.close()


def name(lsub_line):
    return lsub_line.split(b'"/" ')[1].strip(b'"')


def test_lsub_shows_noselect_parents(instance):
    instance.add_user(USER, PASSWORD)
    m = connect(instance)
    assert m.create("a/b")[0] == "OK"
    assert m.create("c/d/e")[0] == "OK"
    assert m.subscribe("a/b")[0] == "OK"
    assert m.subscribe("c/d/e")[0] == "OK"
    typ, data = m.lsub('""', "%")
    assert typ == "OK"
    # the default folders are subscribed too: look at a and c only
    data = [x for x in data if name(x) in (b"a", b"c")]
    assert sorted(data) == [b'(\\Noselect) "/" "a"', b'(\\Noselect) "/" "c"']
    typ, data = m.lsub('""', "c/%")
    assert data == [b'(\\Noselect) "/" "c/d"']
    # '*' reaches the subscribed names themselves: no parents
    typ, data = m.lsub('""', "*")
    names = [name(x) for x in data]
    assert b"a/b" in names and b"c/d/e" in names
    assert not any(b"Noselect" in x for x in data)
    # a subscribed parent is shown as itself, not \Noselect
    assert m.subscribe("a")[0] == "OK"
    typ, data = m.lsub('""', "%")
    assert b'(\\Noselect) "/" "c"' in data
    assert not any(name(x) == b"a" and b"Noselect" in x for x in data)
    m.logout()


def test_search_addresses_with_comments_file_and_cache(instance):
    from test_imap_search_cache import search, clear_cache, cached_rows
    import os
    import shutil
    instance.add_user(USER, PASSWORD)
    m = connect(instance)
    msgs = [b"From: <user (comment)@ (comment) domain.org>\r\nTo: x@y.test\r\n\r\nb\r\n",
            b"From: x@y.test\r\nCc: user@domain.org (Real Name)\r\n\r\nb\r\n",
            b"From: \"Some One\" <some (c) @ one.test>\r\nBcc: user@other.org\r\n\r\nb\r\n"]
    for msg in msgs:
        assert m.append("INBOX", None, None, msg)[0] == "OK"
    m.select("INBOX")
    queries = {("FROM", "user@domain.org"): [1], ("CC", "user@domain.org"): [2],
               ("CC", "Real Name"): [2], ("FROM", "Some One <some@one.test>"): [3],
               ("OR", "FROM", "user@domain.org", "CC", "user@domain.org"): [1, 2],
               ("BCC", "user@domain.org"): [], ("HEADER", "From", "some@one"): [3]}
    for q, want in queries.items():
        clear_cache(instance)
        assert search(m, q) == want, q          # from the files
    assert cached_rows(instance) == 3
    cur = os.path.join(instance.maildir(USER), "cur")
    shutil.move(cur, cur + ".hidden")
    try:
        for q, want in queries.items():
            assert search(m, q) == want, q      # from the cache alone
    finally:
        shutil.move(cur + ".hidden", cur)
    m.logout()
