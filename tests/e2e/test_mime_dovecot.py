"""Differential test of ENVELOPE and BODYSTRUCTURE against Dovecot.

Every message of the shared corpus (mime_corpus.py), with CRLF line ends as
Tern stores mail, is put into a throw-away Maildir served by Debian's
dovecot-imapd, started by this module as `dovecot -F` on a free loopback
port with its own config (base_dir, state_dir, log in a temporary
directory; it neither needs nor disturbs a system dovecot). FETCH 1:*
(ENVELOPE BODY BODYSTRUCTURE) is compared, exactly, with Tern's strings from the
mime-dump driver. Where Tern answers differently on purpose, TOKEN_RULES and
MALFORMED_DIFFS say why (with the RFC); the last corpus test checks that
each of them was needed by some message, and nothing else may differ.
Dovecot's mail processes run as the current user, or as the tern account
when run as root (dovecot refuses mail access as root).

Skipped when dovecot is not installed (the package is dovecot-imapd).
Run: /usr/bin/python3 -m pytest tests/e2e/test_mime_dovecot.py
"""

import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import mime_corpus
from mime_corpus import corpus

CORPUS = [m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for m in corpus()]
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def find_dump():
    """mime-dump from the same build as the tern binary under test."""
    path = os.environ.get("TERN_MIME_DUMP")
    if path:
        return path
    from conftest import TERN_BIN
    return os.path.join(os.path.dirname(TERN_BIN), "tests", "unit", "mime", "mime-dump")


DUMP = find_dump()

# Deliberate differences, each with the reason Tern's answer is the right
# one. Token rules are checked while comparing the two answers token by
# token (see compare()); MALFORMED_DIFFS rewrite Dovecot's answer for one
# broken message of mime_corpus.MALFORMED (by its position there).
TOKEN_RULES = {
    "string-form": "RFC 3501 section 4.3: a string may be sent quoted or as a literal; "
                   "Tern quotes (escaping \" and \\) whatever has no CR, LF or 8-bit byte, "
                   "Dovecot sends some of those as literals",
    "param-name-case": "RFC 2045 section 5.1: parameter names are case-insensitive; Tern "
                       "sends them in lower case so clients need not fold",
    "quoted-local-part": "RFC 5322 section 3.4.1: a local part that is not a dot-atom must "
                         "stay a quoted-string, or mailbox \"@\" host (RFC 3501 section 7.4.2) "
                         "is not a valid address; Dovecot drops the quotes",
    "last-line": "RFC 3501 section 7.4.2 counts text lines: a body's last line without its "
                 "own line end (its CRLF belongs to the next delimiter, RFC 2046 section "
                 "5.1.1, or the message ends) is a line; Dovecot counts only LFs",
}
PARAM_NAMES = {"charset", "boundary", "name", "filename", "format"}
INVALID_TYPE = ("RFC 2045 section 5.2: a syntactically invalid Content-Type is taken as the "
                "default text/plain; charset=us-ascii")
MALFORMED_DIFFS = {
    5: ("RFC 5322 section 2.2: a line without a colon is not a header field, so the header "
        "has ended and the line starts the body (Python's email agrees); Dovecot skips it",
        [('"7bit" 6 1', '"7bit" 42 4')]),
    14: ("RFC 5322 section 3.4 gives these broken addresses no meaning, so both answers are "
         "best effort: Tern keeps what it can read (the domain of an unclosed <...>, an "
         "unterminated quoted string as the mailbox, one address per comma-separated item); "
         "SYNTAX_ERROR is Dovecot's own marker, no RFC's",
         [('"SYNTAX_ERROR"', '"example.com"'),
          ('((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")) ((NIL NIL "MISSING_MAILBOX" '
           '"MISSING_DOMAIN")(NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))',
           '((NIL NIL "\\"unterminated <x@example.com>\\"" "MISSING_DOMAIN")) ((NIL NIL '
           '"MISSING_MAILBOX" "MISSING_DOMAIN")(NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")'
           '(NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))')]),
    16: (INVALID_TYPE, [('("text" "" ("charset" "us-ascii")', '("text" "plain" ("charset" "us-ascii")')]),
    17: (INVALID_TYPE, [('("" "" NIL NIL NIL "7bit" 6',
                         '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1')]),
    22: ("RFC 2045 section 5.1: a parameter value is a token (at least one character) or a "
         "quoted string; 'name=' has neither and is dropped", [(' "name" ""', '')]),
}

USED_RULES = set()


# ------------------------------------------------------------ dovecot

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONF = """protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
auth_mechanisms = plain
disable_plaintext_auth = no
mail_location = maildir:{d}/mail
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 1
mail_cache_min_mail_count = 1000000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def mail_account():
    """(uid, gid, internal user, its group, login user): the mail processes
    run as the current user; dovecot refuses mail access as root, so root
    uses the tern account (and dovecot's own accounts for its services)."""
    me = pwd.getpwuid(os.getuid())
    if os.getuid() != 0:
        group = grp.getgrgid(me.pw_gid).gr_name
        return me.pw_uid, me.pw_gid, me.pw_name, group, me.pw_name
    if not _has_user("tern"):
        pytest.skip("running as root needs the tern account (scripts/install-deps.sh)")
    acct = pwd.getpwnam("tern")
    if _has_user("dovecot") and _has_user("dovenull"):
        return acct.pw_uid, acct.pw_gid, "dovecot", "dovecot", "dovenull"
    group = grp.getgrgid(acct.pw_gid).gr_name
    return acct.pw_uid, acct.pw_gid, "tern", group, "tern"


def _has_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def write_maildir(d, messages, uid, gid):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, "mail", sub))
    for i, raw in enumerate(messages):
        with open(os.path.join(d, "mail", "cur", "%d.%06d.corpus:2," % (1000000 + i, i)),
                  "wb") as f:
            f.write(raw)
    for root, dirs, files in os.walk(os.path.join(d, "mail")):
        for n in [root] + [os.path.join(root, x) for x in files]:
            os.chown(n, uid, gid)


def wait_port(port, proc, deadline=20):
    end = time.time() + deadline
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("dovecot exited %d: %s" % (proc.returncode,
                                                         proc.stderr.read().decode(errors="replace")))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("dovecot did not listen on %d" % port)


def flatten(item):
    """imaplib's FETCH item, with its literals put back: the response text."""
    if isinstance(item, tuple):
        return item[0] + b"\r\n" + item[1]
    return item


def fetch_all(port):
    """{message bytes: (envelope, bodystructure, body)} as Dovecot answers."""
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login("corpus", "corpus-pass")
    m.select("INBOX", readonly=True)
    typ, data = m.fetch("1:*", "(ENVELOPE BODY BODYSTRUCTURE BODY.PEEK[])")
    assert typ == "OK"
    m.logout()
    text = b"".join(flatten(x) for x in data)
    out = {}
    for resp in split_responses(text):
        items = fetch_items(resp)
        out[items["BODY[]"]] = (items["ENVELOPE"].decode("latin-1"),
                                items["BODYSTRUCTURE"].decode("latin-1"),
                                items["BODY"].decode("latin-1"))
    return out


def split_responses(text):
    """'N (...)' responses, each without its trailing CRLF."""
    pos, out = 0, []
    while pos < len(text):
        end = skip_value(text, text.index(b"(", pos))
        out.append(text[pos:end])
        pos = end
        while pos < len(text) and text[pos:pos + 1] in b"\r\n":
            pos += 1
    return out


def skip_value(s, pos):
    """The end of the IMAP value (list, string, literal, atom) at pos."""
    c = s[pos:pos + 1]
    if c == b"(":
        pos += 1
        while s[pos:pos + 1] != b")":
            if s[pos:pos + 1] == b" ":
                pos += 1
                continue
            pos = skip_value(s, pos)
        return pos + 1
    if c == b'"':
        pos += 1
        while s[pos:pos + 1] != b'"':
            pos += 2 if s[pos:pos + 1] == b"\\" else 1
        return pos + 1
    if c == b"{":
        end = s.index(b"}", pos)
        return end + 3 + int(s[pos + 1:end])
    m = re.compile(rb"[^ ()]+").match(s, pos)
    return m.end()


def fetch_items(resp):
    """{name: raw value} of one 'N (NAME value ...)' response."""
    pos = resp.index(b"(") + 1
    items = {}
    while resp[pos:pos + 1] != b")":
        name_end = resp.index(b" ", pos)
        name = resp[pos:name_end].decode()
        end = skip_value(resp, name_end + 1)
        value = resp[name_end + 1:end]
        if name == "BODY[]":
            value = value[value.index(b"}") + 3:] if value.startswith(b"{") else b""
        items[name] = value
        pos = end + (1 if resp[end:end + 1] == b" " else 0)
    return items


def dovecot_log(d):
    try:
        with open(os.path.join(d, "dovecot.log"), errors="replace") as f:
            return f.read()[-3000:]
    except OSError:
        return "(no log)"


@pytest.fixture(scope="module")
def dovecot_answers():
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    d = tempfile.mkdtemp(prefix="tern-dovecot-")
    os.chmod(d, 0o755)
    uid, gid, internal, group, login = mail_account()
    port = free_port()
    for sub in ("run", "state"):
        os.makedirs(os.path.join(d, sub))
    with open(os.path.join(d, "dovecot.conf"), "w") as f:
        f.write(CONF.format(d=d, port=port, internal=internal, group=group, login=login))
    with open(os.path.join(d, "passwd"), "w") as f:
        f.write("corpus:{PLAIN}corpus-pass:%d:%d::%s/mail::\n" % (uid, gid, d))
    write_maildir(d, CORPUS, uid, gid)
    proc = subprocess.Popen([DOVECOT, "-F", "-c", os.path.join(d, "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_port(port, proc)
        try:
            answers = fetch_all(port)
        except (OSError, imaplib.IMAP4.error) as e:
            raise RuntimeError("dovecot failed (%s); its log:\n%s" % (e, dovecot_log(d)))
        yield answers
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


# ------------------------------------------------------------ tern

def unhex(v):
    return None if v == "-" else bytes.fromhex(v[1:]).decode("latin-1")


def tern_answers(tmp_path, raw):
    path = tmp_path / "msg.eml"
    path.write_bytes(raw)
    out = subprocess.run([DUMP, str(path)], check=True, capture_output=True).stdout.decode()
    env = bs = body = None
    parts = []
    for line in out.splitlines():
        f = line.split(" ")
        if f[0] == "part":
            parts.append((int(f[7]), int(f[8])))
        elif f[0] == "envelope" and f[1] == "-":
            env = unhex(f[2])
        elif f[0] == "bodystructure":
            bs = unhex(f[1])
        elif f[0] == "body":
            body = unhex(f[1])
    return env, bs, body, parts


def tokens(s):
    """The IMAP value s as a flat list: "(", ")", None (NIL), ("s", text) for
    a string (quoted or literal, with whether it was a literal), or the atom."""
    out, pos = [], 0
    while pos < len(s):
        c = s[pos]
        if c == " ":
            pos += 1
        elif c in "()":
            out.append(c)
            pos += 1
        elif c == '"':
            pos += 1
            text = ""
            while s[pos] != '"':
                if s[pos] == "\\":
                    pos += 1
                text += s[pos]
                pos += 1
            pos += 1
            out.append(("s", text, False))
        elif c == "{":
            end = s.index("}", pos)
            n = int(s[pos + 1:end])
            out.append(("s", s[end + 3:end + 3 + n], True))
            pos = end + 3 + n
        else:
            m = re.compile(r"[^ ()]+").match(s, pos)
            out.append(None if m.group() == "NIL" else m.group())
            pos = m.end()
    return out


def unterminated_bodies(raw, parts):
    """How many parts have a non-empty body that does not end in LF."""
    return sum(1 for start, size in parts if size > 0 and raw[start + size - 1:start + size] != b"\n")


def compare(tern, dovecot, raw, parts, used):
    """Token by token; a difference must be one of TOKEN_RULES."""
    t, d = tokens(tern), tokens(dovecot)
    assert len(t) == len(d), (tern, dovecot)
    extra_lines = 0
    for a, b in zip(t, d):
        if isinstance(b, tuple) and b[2] and isinstance(a, tuple) and not a[2]:
            used.add("string-form")
        if isinstance(a, tuple) and isinstance(b, tuple):
            a, b = a[1], b[1]
        if a == b:
            continue
        if a in PARAM_NAMES and b != a and b.lower() == a:
            used.add("param-name-case")
        elif isinstance(a, str) and isinstance(b, str) and a == '"%s"' % b:
            used.add("quoted-local-part")
        elif isinstance(a, str) and a.isdigit() and b.isdigit() and int(a) == int(b) + 1:
            extra_lines += 1
            used.add("last-line")
        else:
            raise AssertionError("differs at %r / %r:\ntern:    %s\ndovecot: %s"
                                 % (a, b, tern, dovecot))
    # one line more per such body, and per message/rfc822 around it
    assert extra_lines == 0 or unterminated_bodies(raw, parts) > 0


def apply_malformed(text, index):
    k = index - mime_corpus.GENERATED
    if k not in MALFORMED_DIFFS:
        return text
    for old, new in MALFORMED_DIFFS[k][1]:
        if old in text:
            USED_RULES.add("malformed-%d" % k)
            text = text.replace(old, new)
    return text


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_corpus(tmp_path, dovecot_answers, index):
    raw = CORPUS[index]
    d_env, d_bs, d_body = dovecot_answers[raw]
    t_env, t_bs, t_body, parts = tern_answers(tmp_path, raw)
    used = set()
    compare(t_env, apply_malformed(d_env, index), raw, parts, used)
    compare(t_bs, apply_malformed(d_bs, index), raw, parts, used)
    compare(t_body, apply_malformed(d_body, index), raw, parts, used)
    USED_RULES.update(used)


def test_every_known_difference_is_needed(dovecot_answers):
    """Runs after the corpus (file order): every listed difference showed up."""
    want = set(TOKEN_RULES) | set("malformed-%d" % k for k in MALFORMED_DIFFS)
    if not USED_RULES:
        pytest.skip("the corpus tests did not run")
    assert sorted(USED_RULES) == sorted(want)


# ------------------------------------------------- tern message show

def tern_bin():
    from conftest import TERN_BIN
    return TERN_BIN


@pytest.mark.parametrize("index", [0, 7, 37, mime_corpus.GENERATED + 1, mime_corpus.GENERATED + 11])
def test_message_show_prints_the_compared_strings(tmp_path, index):
    """`tern message show` prints the ENVELOPE and BODYSTRUCTURE compared
    above, a section per part and the text, from a file and from stdin."""
    raw = CORPUS[index]
    env, bs, _body, parts = tern_answers(tmp_path, raw)
    path = tmp_path / "msg.eml"
    from_file = subprocess.run([tern_bin(), "message", "show", str(path)], capture_output=True,
                               check=True).stdout
    from_stdin = subprocess.run([tern_bin(), "message", "show"], input=raw, capture_output=True,
                                check=True).stdout
    assert from_file == from_stdin
    head = ("ENVELOPE %s\nBODYSTRUCTURE %s\nSECTIONS (%d octets;" % (env, bs, len(raw)))
    assert from_file.startswith(head.encode("latin-1"))
    sections = from_file.split(b"\nSECTIONS ", 1)[1].split(b"\nTEXT\n", 1)[0].splitlines()[1:]
    for start, size in parts:
        assert any(b" body %d+%d " % (start, size) in s for s in sections), (start, size)


def test_message_show_errors(tmp_path):
    for args in (["message", "show", str(tmp_path / "missing.eml")],
                 ["message", "show", str(tmp_path)]):
        proc = subprocess.run([tern_bin()] + args, capture_output=True, text=True)
        assert proc.returncode == 1
        assert proc.stderr.startswith("tern: message: ") and proc.stderr.count("\n") == 1
    assert subprocess.run([tern_bin(), "message"], capture_output=True).returncode == 2
    assert subprocess.run([tern_bin(), "message", "--help"], capture_output=True).returncode == 0
