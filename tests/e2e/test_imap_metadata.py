"""METADATA (RFC 5464) end to end with raw IMAP: server and mailbox entries,
/private and /shared, DEPTH, MAXSIZE (LONGENTRIES), the limits' response
codes, persistence across a restart and RENAME, removal with NIL."""
import imaplib
import re

from test_imap import USER, PASSWORD, connect_starttls

imaplib.Commands.setdefault("GETMETADATA", ("AUTH", "SELECTED"))
imaplib.Commands.setdefault("SETMETADATA", ("AUTH", "SELECTED"))


def run(m, name, *args):
    """A raw command: (status, tagged text, untagged METADATA lines)."""
    m.untagged_responses.clear()
    try:
        typ, data = m._simple_command(name, *args)
    except imaplib.IMAP4.error as e:  # imaplib raises on BAD
        m.untagged_responses.clear()
        return "BAD", [str(e).encode()], []
    meta = m.untagged_responses.get("METADATA", [])
    m.untagged_responses.clear()
    return typ, data, meta


def flat(meta):
    """The METADATA responses as one bytes string (literals joined)."""
    out = b""
    for item in meta:
        if isinstance(item, tuple):
            out += item[0] + item[1]
        else:
            out += item
    return out


def test_server_entries_set_get_remove(instance):
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    typ, data, _ = run(m, "SETMETADATA", '""', '(/private/comment "my server note")')
    assert typ == "OK", data
    typ, data, meta = run(m, "GETMETADATA", '""', "/private/comment")
    assert typ == "OK"
    assert flat(meta) == b'"" (/private/comment "my server note")'
    # names are case-insensitive
    typ, _, meta = run(m, "GETMETADATA", '""', "/PRIVATE/Comment")
    assert b"my server note" in flat(meta)
    # a missing entry is NIL
    typ, _, meta = run(m, "GETMETADATA", '""', "(/private/comment /private/none)")
    assert b"/private/none NIL" in flat(meta)
    # /shared server entries are read-only
    typ, data, _ = run(m, "SETMETADATA", '""', '(/shared/comment "x")')
    assert typ == "NO" and b"[NOPERM]" in data[0]
    # NIL removes
    assert run(m, "SETMETADATA", '""', "(/private/comment NIL)")[0] == "OK"
    _, _, meta = run(m, "GETMETADATA", '""', "/private/comment")
    assert flat(meta) == b'"" (/private/comment NIL)'
    # invalid names are BAD
    assert run(m, "SETMETADATA", '""', '(/bogus/x "1")')[0] == "BAD"
    assert run(m, "GETMETADATA", '""', "/private/a*")[0] == "BAD"
    m.logout()


def test_mailbox_entries_depth_maxsize_and_restart(instance):
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    m.create("Work")
    big = "v" * 300
    typ, data, _ = run(m, "SETMETADATA", "Work",
                       '(/private/vendor/tern/a "1" /private/vendor/tern/b/c "2"'
                       ' /shared/comment "shared" /private/vendor/tern/big "%s")' % big)
    assert typ == "OK", data
    _, _, meta = run(m, "GETMETADATA", "(DEPTH 0)", "Work", "/private/vendor/tern")
    assert flat(meta) == b'"Work" (/private/vendor/tern NIL)'
    _, _, meta = run(m, "GETMETADATA", "(DEPTH 1)", "Work", "/private/vendor/tern")
    text = flat(meta)
    assert b"/private/vendor/tern/a \"1\"" in text and b"/b/c" not in text
    typ, data, meta = run(m, "GETMETADATA", "(DEPTH infinity MAXSIZE 100)", "Work",
                          "/private/vendor/tern")
    text = flat(meta)
    assert b"/private/vendor/tern/b/c \"2\"" in text and b"big" not in text
    assert typ == "OK" and b"[METADATA LONGENTRIES 300]" in data[0]
    # a literal value with a line break
    typ, data = m._simple_command("SETMETADATA", "Work",
                                  "(/private/note {12+}\r\nline1\r\nline2)")
    assert typ == "OK", data
    m.untagged_responses.clear()
    # kept across RENAME and a restart
    assert m.rename("Work", "Job")[0] == "OK"
    m.logout()
    instance.restart()
    m = connect_starttls(instance)
    _, _, meta = run(m, "GETMETADATA", "Job", "(/shared/comment /private/note)")
    text = flat(meta)
    assert b'/shared/comment "shared"' in text and b"line1\r\nline2" in text
    assert run(m, "GETMETADATA", "Nope", "/private/x")[1][0].startswith(b"[NONEXISTENT]")
    # DELETE takes the entries with it
    assert m.delete("Job")[0] == "OK"
    m.create("Job")
    _, _, meta = run(m, "GETMETADATA", "Job", "/shared/comment")
    assert flat(meta) == b'"Job" (/shared/comment NIL)'
    m.logout()


def test_limits(instance):
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    value = "x" * (64 * 1024 + 1)
    typ, data = m._simple_command("SETMETADATA", '""',
                                  "(/private/big {%d+}\r\n%s)" % (len(value), value))
    assert typ == "NO" and re.search(rb"\[METADATA MAXSIZE \d+\]", data[0]), data
    m.untagged_responses.clear()
    # 256 entries fit, the 257th is TOOMANY; one SETMETADATA is all or none
    pairs = " ".join('/private/e%d "%d"' % (i, i) for i in range(200))
    assert run(m, "SETMETADATA", '""', "(%s)" % pairs)[0] == "OK"
    pairs = " ".join('/private/f%d "%d"' % (i, i) for i in range(57))
    typ, data, _ = run(m, "SETMETADATA", '""', "(%s /private/g \"1\")" % pairs)
    assert typ == "NO" and b"[METADATA TOOMANY]" in data[0]
    _, _, meta = run(m, "GETMETADATA", '""', "/private/f0")
    assert flat(meta) == b'"" (/private/f0 NIL)'
    pairs = " ".join('/private/f%d "%d"' % (i, i) for i in range(56))
    assert run(m, "SETMETADATA", '""', "(%s)" % pairs)[0] == "OK"
    # replacing an entry does not count as a new one
    assert run(m, "SETMETADATA", '""', '(/private/e0 "new")')[0] == "OK"
    m.logout()
