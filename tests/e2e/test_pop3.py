"""POP3 end to end (RFC 1939, 2449, 2595, 5034; docs/pop3.md): Python's
poplib over STLS and POP3_SSL through the whole command set, UIDLs across a
restart, DELE+QUIT seen by IMAP as an expunge, a dropped connection
keeping everything, [IN-USE], and fetchmail and getmail6 downloading and
deleting."""
import base64
import imaplib
import os
import pathlib
import poplib
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from conftest import client_tls_context

USER = "alice@example.test"
PASSWORD = "correct horse battery"

MSG1 = b"From: bob@remote.test\r\nSubject: one\r\n\r\nfirst body\r\n.\r\n..two\r\n.x\r\nend\r\n"
# a Maildir file of another program: bare LFs and no line end at the end
MSG2 = b"From: carol@remote.test\nSubject: two\n\nline 1\nline 2\n.\nlast"


def put_file(instance, name, data, mtime):
    new = os.path.join(instance.maildir(USER), "new")
    os.makedirs(new, exist_ok=True)
    path = os.path.join(new, name)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (mtime, mtime))
    if os.geteuid() == 0:
        shutil.chown(path, "tern", "tern")


@pytest.fixture
def inst(instance):
    instance.add_user(USER, PASSWORD)
    # the Maildir exists once the user logged in once over IMAP
    m = imaplib.IMAP4("127.0.0.1", instance.port("imap"))
    m.starttls(client_tls_context())
    m.login(USER, PASSWORD)
    m.logout()
    put_file(instance, "1000.M1P1.test", MSG1, 1000)
    put_file(instance, "1001.M1P1.test", MSG2, 1001)
    return instance


def pop_stls(inst):
    p = poplib.POP3("127.0.0.1", inst.port("pop3"), timeout=10)
    p.stls(client_tls_context())
    return p


def pop_ssl(inst):
    return poplib.POP3_SSL("127.0.0.1", inst.port("pop3s"), context=client_tls_context(),
                           timeout=10)


def login(p):
    p.user(USER)
    p.pass_(PASSWORD)
    return p


def imap(inst):
    m = imaplib.IMAP4("127.0.0.1", inst.port("imap"))
    m.starttls(client_tls_context())
    m.login(USER, PASSWORD)
    return m


def imap_uids(inst):
    m = imap(inst)
    m.select("INBOX")
    typ, data = m.uid("SEARCH", None, "ALL")
    validity = int(m.response("UIDVALIDITY")[1][0])
    m.logout()
    return [int(x) for x in data[0].split()], validity


def test_capa_before_and_after_tls(inst):
    p = poplib.POP3("127.0.0.1", inst.port("pop3"), timeout=10)
    assert p.getwelcome().startswith(b"+OK")
    assert b"<" not in p.getwelcome()  # no APOP timestamp
    caps = p.capa()
    for cap in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS"):
        assert cap in caps, caps
    assert caps["EXPIRE"] == ["NEVER"] and caps["IMPLEMENTATION"] == ["Tern"]
    assert "USER" not in caps  # plain passwords need TLS (loopback not allowed)
    assert "PLAIN" not in caps.get("SASL", [])
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\] Plaintext"):
        p.user(USER)
    p.stls(client_tls_context())
    caps = p.capa()
    assert "USER" in caps and "PLAIN" in caps["SASL"] and "STLS" not in caps
    login(p)
    caps = p.capa()
    assert "USER" not in caps and "SASL" not in caps and "TOP" in caps
    p.quit()


def test_whole_command_set_stls(inst):
    p = login(pop_stls(inst))
    assert p.stat() == (2, len(MSG1) + len(MSG2) + MSG2.count(b"\n") + 2)
    resp, lines, _ = p.list()
    assert lines == [b"1 %d" % len(MSG1), b"2 %d" % (len(MSG2) + MSG2.count(b"\n") + 2)]
    assert p.list(2).split()[2] == b"%d" % (len(MSG2) + MSG2.count(b"\n") + 2)
    uids, validity = imap_uids(inst)
    resp, lines, _ = p.uidl()
    assert lines == [b"%d %08X%08X" % (i + 1, uid, validity) for i, uid in enumerate(uids)]
    assert p.uidl(1) == b"+OK 1 %08X%08X" % (uids[0], validity)
    resp, lines, octets = p.retr(1)
    # poplib removes the stuffed dots and the line ends
    assert lines == [b"From: bob@remote.test", b"Subject: one", b"", b"first body", b".",
                     b"..two", b".x", b"end"]
    resp, lines, octets = p.retr(2)
    assert lines == [b"From: carol@remote.test", b"Subject: two", b"", b"line 1", b"line 2",
                     b".", b"last"]
    resp, lines, _ = p.top(1, 1)
    assert lines == [b"From: bob@remote.test", b"Subject: one", b"", b"first body"]
    resp, lines, _ = p.top(2, 0)
    assert lines == [b"From: carol@remote.test", b"Subject: two", b""]
    assert p.noop().startswith(b"+OK")
    p.dele(1)
    with pytest.raises(poplib.error_proto):
        p.retr(1)
    assert p.stat()[0] == 1
    assert [l.split()[0] for l in p.list()[1]] == [b"2"]
    p.rset()
    assert p.stat()[0] == 2
    with pytest.raises(poplib.error_proto, match="no message"):
        p.retr(3)
    p.quit()
    assert imap_uids(inst)[0] == uids  # nothing deleted after RSET


def raw_retr(p, cmd):
    """The bytes after the +OK line of a RETR/TOP, through the final dot."""
    p._putcmd(cmd)
    assert p._getline()[0].startswith(b"+OK")
    raw = b""
    while not raw.endswith(b"\r\n.\r\n"):
        line = p.file.readline()
        assert line, raw
        raw += line
    return raw


def test_raw_wire_dot_stuffing_and_sizes(inst):
    """The bytes on the wire: CRLF everywhere, stuffed dots, and LIST's size
    is exactly what RETR sends before the final dot line, unstuffed."""
    p = login(pop_ssl(inst))
    for n in (1, 2):
        size = int(p.list(n).split()[2])
        body = raw_retr(p, "RETR %d" % n)[:-3]
        assert b"\n" not in body.replace(b"\r\n", b"")
        lines = body.split(b"\r\n")[:-1]
        unstuffed = b"".join((l[1:] if l.startswith(b".") else l) + b"\r\n" for l in lines)
        assert len(unstuffed) == size
    p.quit()


def test_dot_lines_on_the_wire(inst):
    p = login(pop_stls(inst))
    raw = raw_retr(p, "RETR 1")
    assert raw.endswith(b"first body\r\n..\r\n...two\r\n..x\r\nend\r\n.\r\n")
    # a last line without a line end gets one before the dot line
    assert raw_retr(p, "RETR 2").endswith(b"\r\n..\r\nlast\r\n.\r\n")
    assert raw_retr(p, "TOP 2 1") == b"From: carol@remote.test\r\nSubject: two\r\n\r\n" \
        b"line 1\r\n.\r\n"
    p.quit()


def test_auth_plain_sasl_ir_and_failures(inst):
    p = pop_ssl(inst)
    token = base64.b64encode(b"\0" + USER.encode() + b"\0" + PASSWORD.encode()).decode()
    assert p._shortcmd("AUTH PLAIN " + token).startswith(b"+OK")
    assert p.stat()[0] == 2
    p.quit()
    p = pop_ssl(inst)
    resp = p._shortcmd("AUTH")  # the mechanisms, one a line
    assert resp.startswith(b"+OK")
    mechs = []
    while True:
        line = p._getline()[0]
        if line == b".":
            break
        mechs.append(line)
    assert b"PLAIN" in mechs
    bad = base64.b64encode(b"\0" + USER.encode() + b"\0wrong").decode()
    t0 = time.time()
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        p._shortcmd("AUTH PLAIN " + bad)
    assert time.time() - t0 >= 0.4  # the failure delay (auth-penalty.h)
    # without an initial response: an empty challenge, then the response
    p._putcmd("AUTH PLAIN")
    assert p._getline()[0] == b"+ "
    p._putcmd(token)
    assert p._getresp().startswith(b"+OK")
    p.quit()
    assert "event=auth.failed service=pop3" in inst.log()


def test_bad_commands_disconnect(inst):
    p = pop_stls(inst)
    for _ in range(4):
        with pytest.raises(poplib.error_proto, match="Unknown command"):
            p._shortcmd("BOGUS")
    with pytest.raises(poplib.error_proto, match="Too many"):
        p._shortcmd("BOGUS")
    with pytest.raises((poplib.error_proto, EOFError, OSError)):
        p._shortcmd("NOOP")


def test_long_line_refused(inst):
    p = pop_stls(inst)
    with pytest.raises(poplib.error_proto, match="too long"):
        p._shortcmd("NOOP " + "x" * 9000)
    assert "TOP" in p.capa()  # back in step after the long line
    p.quit()


def test_pipelining(inst):
    p = login(pop_ssl(inst))
    p.sock.sendall(b"STAT\r\nRETR 1\r\nUIDL 1\r\nTOP 2 0\r\nNOOP\r\nLIST 2\r\n")
    assert p._getresp().startswith(b"+OK")
    assert p._getlongresp()[1][-1] == b"end"
    assert p._getresp().startswith(b"+OK 1 ")
    assert p._getlongresp()[1] == [b"From: carol@remote.test", b"Subject: two", b""]
    assert p._getresp() == b"+OK"
    assert p._getresp().startswith(b"+OK 2 ")
    p.quit()


def test_uidls_stable_across_restart(inst):
    p = login(pop_stls(inst))
    before = p.uidl()[1]
    p.quit()
    inst.restart()
    p = login(pop_stls(inst))
    assert p.uidl()[1] == before
    p.quit()


def test_dele_quit_is_an_expunge_for_imap(inst):
    m = imap(inst)
    m.select("INBOX")
    uids, _ = imap_uids(inst)
    p = login(pop_ssl(inst))
    p.dele(1)
    # not yet: DELE takes effect at QUIT
    m.noop()
    typ, data = m.uid("SEARCH", None, "ALL")
    assert [int(x) for x in data[0].split()] == uids
    p.quit()
    m.noop()
    assert m.untagged_responses.get("EXPUNGE") == [b"1"]
    typ, data = m.uid("SEARCH", None, "ALL")
    assert [int(x) for x in data[0].split()] == uids[1:]
    m.logout()
    p = login(pop_stls(inst))
    assert p.stat()[0] == 1
    p.quit()


def test_imap_idle_sees_pop3_expunge(inst):
    m = imap(inst)
    m.select("INBOX")
    tag = m._new_tag().decode()
    m.send(f"{tag} IDLE\r\n".encode())
    assert m.readline().startswith(b"+")
    p = login(pop_ssl(inst))
    p.dele(2)
    p.quit()
    m.sock.settimeout(10)
    try:
        line = m.readline()  # woken by the notification, not the 30 s poll
    except imaplib.IMAP4.abort as e:
        raise AssertionError(f"{e}; log:\n{inst.log()[-6000:]}")
    assert line == b"* 2 EXPUNGE\r\n", line
    m.send(b"DONE\r\n")
    m.logout()


def test_dropped_connection_keeps_mail(inst):
    p = login(pop_stls(inst))
    p.dele(1)
    p.dele(2)
    p.sock.shutdown(socket.SHUT_RDWR)
    p.sock.close()
    p.file.close()
    # the session ends without UPDATE: the TLS connection just went away
    inst.wait_for_log('event=pop3.disconnect reason="TLS error')
    p = login(pop_stls(inst))  # the lock went with the dropped session
    assert p.stat()[0] == 2
    p.quit()
    assert len(os.listdir(os.path.join(inst.maildir(USER), "cur"))) == 2


def test_second_session_in_use(inst):
    p = login(pop_stls(inst))
    q = pop_ssl(inst)
    q.user(USER)
    with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
        q.pass_(PASSWORD)
    p.quit()
    login(q)  # free again
    assert q.stat()[0] == 2
    q.quit()


def test_idle_timeout_setting(instance):
    with open(instance.config, "a") as f:
        f.write("\npop3 {\n\tidle_timeout = 2s\n}\n")
    instance.restart()
    instance.add_user(USER, PASSWORD)
    p = login(pop_ssl(instance))
    time.sleep(3.5)
    with pytest.raises((poplib.error_proto, EOFError, OSError)):
        p.noop()


FETCHMAILRC = """set no syslog
poll 127.0.0.1 service {port} protocol pop3 uidl
  user "{user}" password "{password}" is "{local}" here
  ssl
  mda "/bin/sh -c 'cat > $(mktemp {out}/msg.XXXXXX)'"
  nokeep
"""


@pytest.mark.timeout(60)
def test_fetchmail_downloads_and_deletes(inst, tmp_path):
    fm = shutil.which("fetchmail")
    if fm is None:
        pytest.skip("fetchmail is not installed (scripts/install-deps.sh)")
    out = tmp_path / "out"
    out.mkdir()
    rc = tmp_path / "fetchmailrc"
    rc.write_text(FETCHMAILRC.format(port=inst.port("pop3s"), user=USER, password=PASSWORD,
                                     local=os.environ.get("USER", "root"), out=out))
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(tmp_path), FETCHMAILHOME=str(tmp_path))
    proc = subprocess.run([fm, "-f", str(rc), "-v", "--nodetach", "--nosslcertck"], capture_output=True,
                          text=True, timeout=50, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = sorted(f.read_bytes() for f in out.iterdir())
    assert len(got) == 2, proc.stdout
    assert any(b"first body" in g for g in got) and any(b"line 2" in g for g in got)
    assert imap_uids(inst)[0] == []


@pytest.mark.timeout(60)
def test_getmail_downloads_and_deletes(inst, tmp_path):
    gm = shutil.which("getmail")
    if gm is None:
        pytest.skip("getmail6 is not installed (scripts/install-deps.sh)")
    # getmail delivers as root to no one: as root, it becomes `tern`,
    # which must reach the Maildir (not under pytest's 0700 tmp_path)
    base = tempfile.mkdtemp(prefix="tern-getmail-")
    os.chmod(base, 0o755)
    maildir = pathlib.Path(base) / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(maildir / sub, "tern", "tern")
    deliver_as = "user = tern\n" if os.geteuid() == 0 else ""
    (tmp_path / "getmailrc").write_text(f"""[retriever]
type = SimplePOP3SSLRetriever
server = 127.0.0.1
port = {inst.port("pop3s")}
username = {USER}
password = {PASSWORD}

[destination]
type = Maildir
path = {maildir}/
{deliver_as}
[options]
delete = true
read_all = true
""")
    proc = subprocess.run([gm, "--getmaildir", str(tmp_path), "--rcfile", "getmailrc"],
                          capture_output=True, text=True, timeout=50)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = [f.read_bytes() for f in (maildir / "new").iterdir()]
    shutil.rmtree(base, ignore_errors=True)
    assert len(got) == 2, proc.stdout + proc.stderr
    assert any(b"first body" in g for g in got)
    assert imap_uids(inst)[0] == []


def test_auth_scram_sha_256(inst):
    from scram_client import ScramClient

    inst.restart()  # SCRAM is offered once the directory has keys at start
    p = pop_stls(inst)
    caps = p.capa()
    assert "SCRAM-SHA-256" in caps["SASL"] and "SCRAM-SHA-256-PLUS" in caps["SASL"]
    scram = ScramClient(USER, PASSWORD)
    p._putcmd("AUTH SCRAM-SHA-256 " + base64.b64encode(scram.first()).decode())
    line = p._getline()[0]
    assert line.startswith(b"+ "), line
    p._putcmd(base64.b64encode(scram.final(base64.b64decode(line[2:]))).decode())
    line = p._getline()[0]
    assert line.startswith(b"+ ") and scram.verify(base64.b64decode(line[2:])), line
    p._putcmd("")
    assert p._getresp().startswith(b"+OK")
    assert p.stat()[0] == 2
    p.quit()


def test_plaintext_on_loopback_setting(instance):
    with open(instance.config) as f:
        text = f.read()
    with open(instance.config, "w") as f:
        f.write(text.replace("plaintext_on_loopback = no", "plaintext_on_loopback = yes"))
    instance.restart()
    instance.add_user(USER, PASSWORD)
    p = poplib.POP3("127.0.0.1", instance.port("pop3"), timeout=10)
    caps = p.capa()
    assert "USER" in caps and "PLAIN" in caps["SASL"]
    login(p)  # no TLS
    assert p.stat() == (0, 0)
    p.quit()


def test_big_message_streams_intact(inst):
    body = b"".join(b"%07d ..line with a dot\r\n.%s\n" % (i, b"x" * (i % 50))
                    for i in range(60000))
    msg = b"From: big@remote.test\r\nSubject: big\r\n\r\n" + body
    put_file(inst, "1002.M1P1.test", msg, 1002)
    p = login(pop_ssl(inst))
    size = int(p.list(3).split()[2])
    resp, lines, octets = p.retr(3)
    want = msg.replace(b"\r\n", b"\n").split(b"\n")[:-1]
    assert lines == want
    assert size == len(msg) + msg.count(b"\n") - msg.count(b"\r\n")
    p.quit()


def test_message_expunged_by_imap_meanwhile(inst):
    p = login(pop_stls(inst))
    m = imap(inst)
    m.select("INBOX")
    m.store("1", "+FLAGS", "\\Deleted")
    m.expunge()
    m.logout()
    with pytest.raises(poplib.error_proto, match="expunged"):
        p.retr(1)
    p.dele(1)
    p.quit()  # the gone message is skipped, the other kept
    assert len(imap_uids(inst)[0]) == 1


def test_failed_logins_count_with_imap(inst):
    p = pop_ssl(inst)
    p.user(USER)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        p.pass_("wrong")
    p.quit()
    m = imaplib.IMAP4("127.0.0.1", inst.port("imap"))
    m.starttls(client_tls_context())
    with pytest.raises(imaplib.IMAP4.error):
        m.login(USER, "wrong too")
    # one table for every protocol: the IMAP failure is the IP's second
    inst.wait_for_log("event=imap.login_failed")
    assert "failures=2" in [l for l in inst.log().splitlines()
                            if "event=imap.login_failed" in l][-1]


def imap_flags(inst):
    m = imap(inst)
    m.select("INBOX", readonly=True)
    typ, data = m.fetch("1:*", "(FLAGS)")
    m.logout()
    return [b"\\Seen" in d for d in data]


def test_retr_marks_seen_at_quit(inst):
    p = login(pop_stls(inst))
    p.retr(1)
    p.top(2, 0)  # TOP does not
    p.sock.shutdown(socket.SHUT_RDWR)  # dropped: no UPDATE, no flags
    p.sock.close()
    p.file.close()
    inst.wait_for_log('event=pop3.disconnect reason="TLS error')
    assert imap_flags(inst) == [False, False]
    p = login(pop_stls(inst))
    p.retr(1)
    p.top(2, 0)
    p.quit()
    assert imap_flags(inst) == [True, False]


def test_login_again_right_after_quit(instance):
    """The lock goes before QUIT's +OK: a client polling again at once (as
    fetchmail's daemon mode can) never meets its own old session. Without
    TLS (plaintext on loopback), so that nothing slows the next login."""
    with open(instance.config) as f:
        text = f.read()
    with open(instance.config, "w") as f:
        f.write(text.replace("plaintext_on_loopback = no", "plaintext_on_loopback = yes"))
    instance.restart()
    instance.add_user(USER, PASSWORD)
    for _ in range(50):
        with socket.create_connection(("127.0.0.1", instance.port("pop3")), timeout=10) as s:
            s.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\nSTAT\r\nQUIT\r\n".encode())
            f = s.makefile("rb")
            replies = [f.readline() for _ in range(5)]
        assert all(r.startswith(b"+OK") for r in replies), replies
