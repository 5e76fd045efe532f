"""The guard (docs/guard.md): failed logins from one network, on IMAP and
SMTP AUTH, ban it after max_failures; a banned address is closed at accept
with no banner; the allow list, the account's owner elsewhere, the ban's
end, `tern ban`, and bans kept across a restart. Clients bind to other
loopback addresses (127.0.0.5, ...) to be different networks."""
import re
import smtplib
import socket
import ssl
import time

import pytest

from conftest import Instance, client_tls_context

USER = "alice@example.test"
PASSWORD = "correct horse battery staple"


def guarded(instance_dir, ban_time="3s"):
    inst = Instance(instance_dir)
    inst.add_user(USER, PASSWORD)
    with open(inst.config, "a") as f:
        f.write("\nguard {\n\tmax_failures = 3\n\tban_time = %s\n"
                "\tallow = 127.0.0.1/32\n}\n" % ban_time)
    inst.start()
    return inst


@pytest.fixture
def inst(instance_dir):
    i = guarded(instance_dir)
    yield i
    i.stop()
    i.check_sanitizers()


def imaps_login(inst, source, password, port=None):
    """One IMAPS connection from source (to port, default the instance's
    imaps): LOGIN; returns the tagged reply line, or None when the server
    closed the connection at once (no greeting: banned)."""
    raw = socket.create_connection(("127.0.0.1", port or inst.port("imaps")), timeout=30,
                                   source_address=(source, 0))
    try:
        s = client_tls_context().wrap_socket(raw, server_hostname="mail.example.test")
    except (ssl.SSLError, ConnectionResetError, OSError):
        raw.close()
        return None
    with s:
        f = s.makefile("rb")
        greeting = f.readline()
        if not greeting:
            return None
        s.sendall(b'a LOGIN "%s" "%s"\r\n' % (USER.encode(), password.encode()))
        while True:
            line = f.readline()
            if not line or line.startswith(b"a "):
                return line


def greeted(inst, source, service="imap"):
    """True if a plain connection from source gets a banner."""
    with socket.create_connection(("127.0.0.1", inst.port(service)), timeout=10,
                                  source_address=(source, 0)) as s:
        try:
            return s.recv(100) != b""
        except ConnectionResetError:
            return False


def smtp_fail(inst, source):
    c = smtplib.SMTP_SSL("127.0.0.1", inst.port("submissions"), timeout=30,
                         context=client_tls_context(), source_address=(source, 0))
    c.ehlo("client.example")
    c.user, c.password = USER, "wrong"
    with pytest.raises(smtplib.SMTPAuthenticationError):
        c.auth("PLAIN", c.auth_plain)
    c.quit()


def wait_until(predicate, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_ban_after_failures_on_both_protocols(inst):
    smtp_fail(inst, "127.0.0.5")
    assert imaps_login(inst, "127.0.0.5", "wrong").startswith(b"a NO")
    assert greeted(inst, "127.0.0.5")
    smtp_fail(inst, "127.0.0.5")  # the third: banned from now on, for 3 s
    inst.wait_for_log("event=guard.ban ip=127.0.0.5")
    assert not greeted(inst, "127.0.0.5", "imap")
    assert not greeted(inst, "127.0.0.5", "submission")
    assert imaps_login(inst, "127.0.0.5", PASSWORD) is None
    # the account's owner elsewhere is not locked out
    assert imaps_login(inst, "127.0.0.6", PASSWORD).startswith(b"a OK")
    # the ban ends after ban_time
    assert wait_until(lambda: greeted(inst, "127.0.0.5"))
    assert imaps_login(inst, "127.0.0.5", PASSWORD).startswith(b"a OK")
    assert inst.log().count("event=guard.ban ") == 1


def test_allowed_address_never_banned(inst):
    for _ in range(4):
        assert imaps_login(inst, "127.0.0.1", "wrong").startswith(b"a NO")
    assert imaps_login(inst, "127.0.0.1", PASSWORD).startswith(b"a OK")
    assert "event=guard.ban" not in inst.log()


def test_thousand_attempts_cut_off(instance_dir):
    """1,000 wrong logins from one address, IMAP and SMTP in turn: only
    max_failures reach a login prompt."""
    inst = guarded(instance_dir, ban_time="1h")
    try:
        thousand_attempts(inst)
    finally:
        inst.stop()
        inst.check_sanitizers()


def thousand_attempts(inst):
    answered = refused = 0
    deadline = time.monotonic() + 120
    for i in range(1000):
        assert time.monotonic() < deadline
        if i % 2 == 0:
            reply = imaps_login(inst, "127.0.0.9", "wrong")
            if reply is None:
                refused += 1
            else:
                answered += 1
        elif greeted(inst, "127.0.0.9", "submission"):
            answered += 1
            smtp_fail(inst, "127.0.0.9")
        else:
            refused += 1
    assert answered == 3, (answered, refused)
    assert refused == 997
    log = inst.log()
    assert log.count("event=guard.ban ip=127.0.0.9") == 1
    # the refusals are logged at most once a second per process, with the
    # number suppressed since, not 997 times
    lines = re.findall(r"event=conn.refused reason=banned ip=127.0.0.9 suppressed=(\d+)", log)
    assert 0 < len(lines) <= refused // 2
    assert len(lines) + sum(int(n) for n in lines) <= refused


def test_tern_ban_and_restart(instance_dir):
    inst = guarded(instance_dir, ban_time="1h")
    try:
        for _ in range(3):
            assert imaps_login(inst, "127.0.0.5", "wrong").startswith(b"a NO")
        inst.wait_for_log("event=guard.ban ip=127.0.0.5")
        # written by the queue role within its sync interval
        assert wait_until(lambda: "127.0.0.5 " in inst.tern("ban", "list").stdout)
        line = [l for l in inst.tern("ban", "list").stdout.splitlines()
                if l.startswith("127.0.0.5 ")][0]
        assert "offences=1 reason=failures" in line
        # an admin's ban reaches the running server; so does lifting it
        inst.tern("ban", "add", "127.0.0.7", "--for", "2h")
        assert wait_until(lambda: not greeted(inst, "127.0.0.7"))
        inst.tern("ban", "del", "127.0.0.7")
        assert wait_until(lambda: greeted(inst, "127.0.0.7"))
        r = inst.tern("ban", "del", "127.0.0.7", check=False)
        assert r.returncode == 1 and "not banned" in r.stderr
        r = inst.tern("ban", "add", "nonsense", check=False)
        assert r.returncode == 1 and "not an address" in r.stderr
        r = inst.tern("ban", "add", "127.0.0.8", "--for", "soon", check=False)
        assert r.returncode == 2
        # after a restart the ban still holds
        inst.restart()
        assert wait_until(lambda: not greeted(inst, "127.0.0.5"))
        assert greeted(inst, "127.0.0.6")
        inst.tern("ban", "del", "127.0.0.5")
        assert wait_until(lambda: greeted(inst, "127.0.0.5"))
    finally:
        inst.stop()
        inst.check_sanitizers()
