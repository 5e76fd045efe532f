"""The process model: start, stop, reload, crash recovery, privilege drop,
and what the log says."""
import imaplib
import os
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import client_tls_context

USER = "alice@example.test"
PASSWORD = "correct horse battery staple"


def children(pid):
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as f:
        return [int(p) for p in f.read().split()]


def proc_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    return None


def smtp_greets(instance):
    with socket.create_connection(("127.0.0.1", instance.port("smtp")), timeout=10) as s:
        return s.makefile("rb").readline()


def test_sigterm_stops_within_seconds(instance):
    start = time.time()
    rc = instance.stop(signal.SIGTERM, timeout=8)
    assert rc == 0
    assert time.time() - start < 8
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", instance.port("smtp")), timeout=2).close()


def test_sigterm_with_open_sessions(instance):
    s = socket.create_connection(("127.0.0.1", instance.port("smtp")), timeout=10)
    f = s.makefile("rb")
    f.readline()
    rc = instance.stop(signal.SIGTERM, timeout=8)
    assert rc == 0
    rest = f.read()
    assert rest == b"" or rest.startswith(b"421")
    s.close()


def test_roles_are_separate_processes(instance):
    kids = children(instance.proc.pid)
    assert len(kids) >= 2


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs root")
def test_roles_drop_root(instance):
    for kid in children(instance.proc.pid):
        uid = proc_uid(kid)
        assert uid is not None and all(u != 0 for u in uid), uid


def test_crashed_role_is_restarted_and_logged(instance):
    assert smtp_greets(instance).startswith(b"220")
    before = set(children(instance.proc.pid))
    for kid in before:
        os.kill(kid, signal.SIGABRT)  # (SIGSEGV would be caught by ASan in that build)
    instance.wait_for_log("event=role.crashed")
    deadline = time.time() + 15
    while time.time() < deadline:
        now = set(children(instance.proc.pid))
        if len(now) >= len(before) and not (now & before):
            break
        time.sleep(0.1)
    instance.wait_port(instance.port("smtp"), timeout=15)
    assert smtp_greets(instance).startswith(b"220")
    instance.add_user(USER, PASSWORD)
    conn = imaplib.IMAP4_SSL("127.0.0.1", instance.port("imaps"),
                             ssl_context=client_tls_context(), timeout=10)
    conn.login(USER, PASSWORD)
    conn.logout()


def test_sighup_reload_keeps_sessions(instance):
    instance.add_user(USER, PASSWORD)
    conn = imaplib.IMAP4_SSL("127.0.0.1", instance.port("imaps"),
                             ssl_context=client_tls_context(), timeout=10)
    conn.login(USER, PASSWORD)
    conn.select("INBOX")
    smtp = smtplib.SMTP("127.0.0.1", instance.port("smtp"), timeout=10)
    smtp.ehlo("before.test")
    with open(instance.config) as f:
        text = f.read()
    with open(instance.config, "w") as f:
        f.write(re.sub(r"hostname = .*", "hostname = reloaded.example.test", text, count=1))
    instance.proc.send_signal(signal.SIGHUP)
    instance.wait_for_log("event=config.reloaded")
    # Established sessions go on.
    assert conn.noop()[0] == "OK"
    assert smtp.noop()[0] == 250
    smtp.sendmail("bob@remote.test", [USER], b"Subject: during reload\r\n\r\nhi\r\n")
    smtp.quit()
    conn.logout()
    # New sessions get the new config.
    assert b"reloaded.example.test" in smtp_greets(instance)


def test_bad_config_on_reload_keeps_old_one(instance):
    with open(instance.config, "a") as f:
        f.write("\nthis is not valid\n")
    instance.proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert instance.proc.poll() is None
    assert smtp_greets(instance).startswith(b"220")
    assert "tern.conf:" in instance.log()


def test_log_lines_are_events_and_hold_no_password(instance):
    instance.add_user(USER, PASSWORD)
    conn = imaplib.IMAP4("127.0.0.1", instance.port("imap"), timeout=10)
    conn.starttls(ssl_context=client_tls_context())
    with pytest.raises(imaplib.IMAP4.error):
        conn.login(USER, "wrong password here")
    conn.login(USER, PASSWORD)
    conn.logout()
    time.sleep(0.3)
    log = instance.log()
    assert PASSWORD not in log and "wrong password here" not in log
    for line in log.splitlines():
        if line.strip():
            assert line.startswith("sid="), line
            assert " level=" in line and " role=" in line, line


def _tls_handshake(port, version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = version
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as tls:
            return tls.version()


def _s_client_tls11(port):
    """openssl s_client limited to TLS 1.1, with the security level lowered
    so that the client itself is willing (it does negotiate 1.1 with a
    server that allows it)."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_1",
                        "-cipher", "DEFAULT:@SECLEVEL=0"], input="", capture_output=True,
                       text=True, timeout=20)
    return r.returncode, r.stdout + r.stderr


def test_tls_12_or_newer_only(instance):
    port = instance.port("imaps")
    assert _tls_handshake(port, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert _tls_handshake(port, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    rc, out = _s_client_tls11(port)
    assert rc != 0 and "Cipher is (NONE)" in out, out
