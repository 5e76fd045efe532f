"""Raw IMAP commands over an imaplib connection: send a line (with
literals), read the untagged lines up to the tagged answer."""


def command(m, line, literals=(), sync=False, max_lines=10000):
    """Send "tag line" where each {} in line is replaced by a literal of
    literals (LITERAL+ unless sync). Returns (untagged lines, tagged line),
    bytes without CRLF; a literal in a response is kept inline."""
    tag = m._new_tag()
    parts = line.split("{}")
    assert len(parts) == len(literals) + 1
    out = tag + b" " + parts[0].encode()
    for lit, rest in zip(literals, parts[1:]):
        if sync:
            m.send(out + b"{%d}\r\n" % len(lit))
            cont = m.readline()
            if not cont.startswith(b"+"):
                return [], cont.rstrip(b"\r\n")
            out = lit + rest.encode()
        else:
            out += b"{%d+}\r\n" % len(lit) + lit + rest.encode()
    m.send(out + b"\r\n")
    untagged = []
    for _ in range(max_lines):
        l = m.readline()
        assert l, "connection closed"
        if l.startswith(tag + b" "):
            return untagged, l.rstrip(b"\r\n")
        untagged.append(l.rstrip(b"\r\n"))
    raise AssertionError("no tagged answer")
