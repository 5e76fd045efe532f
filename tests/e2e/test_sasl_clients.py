"""SASL with real clients: mbsync through Cyrus SASL's SCRAM plugin
(libsasl2-modules) with AuthMechs SCRAM-SHA-256 over IMAP, swaks and curl
with AUTH PLAIN and LOGIN over SMTP submission, and Python's imaplib with
AUTHENTICATE SCRAM-SHA-256 and -PLUS (the client of scram_client.py checks
the server's signature) and PLAIN."""
import base64
import glob
import imaplib
import os
import shutil
import subprocess

import pytest

from conftest import DOMAIN, Instance, client_tls_context
from scram_client import ScramClient, tls_server_end_point

USER = f"sasl@{DOMAIN}"
PASSWORD = "correct horse battery"


@pytest.fixture
def inst(instance_dir):
    i = Instance(instance_dir)
    i.add_user(USER, PASSWORD)
    i.start()
    yield i
    if i.proc is not None:
        i.stop()
    i.check_sanitizers()


def cyrus_has_scram():
    return bool(glob.glob("/usr/lib/*/sasl2/libscram.so*"))


@pytest.mark.skipif(shutil.which("mbsync") is None or not cyrus_has_scram(),
                    reason="mbsync (isync) or libsasl2-modules is not installed")
def test_mbsync_scram_sha_256(inst, tmp_path):
    m = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"), ssl_context=client_tls_context())
    m.login(USER, PASSWORD)
    m.append("INBOX", None, None, b"From: bob@remote.test\r\nSubject: scram\r\n\r\nhi\r\n")
    m.logout()
    local = tmp_path / "mail"
    local.mkdir()
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD)
    config = tmp_path / "mbsyncrc"
    config.write_text(f"""IMAPAccount tern
Host 127.0.0.1
Port {inst.port("imap")}
User {USER}
PassCmd "cat {pw}"
SSLType STARTTLS
CertificateFile {os.path.join(inst.dir, "tls", "cert.pem")}
SystemCertificates no
AuthMechs SCRAM-SHA-256

IMAPStore remote
Account tern

MaildirStore local
Path {local}/
Inbox {local}/INBOX

Channel sync
Far :remote:
Near :local:
Patterns INBOX
Create Near
SyncState *
""")
    r = subprocess.run(["mbsync", "-c", str(config), "-a"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    got = glob.glob(str(local / "INBOX" / "*" / "*"))
    assert len(got) == 1
    inst.wait_for_log(f"event=auth.ok service=imap ip=127.0.0.1 user={USER} mech=SCRAM-SHA-256")
    # a wrong password through the same plugin is refused
    pw.write_text("not the password")
    r = subprocess.run(["mbsync", "-c", str(config), "-a"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    inst.wait_for_log("mech=SCRAM-SHA-256 reason=\"wrong proof\"")


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_swaks_auth(inst, mech):
    for port_args in (["--port", str(inst.port("submission")), "--tls"],
                      ["--port", str(inst.port("submissions")), "--tlsc"]):
        r = subprocess.run(["swaks", "--server", "127.0.0.1", *port_args,
                            "--auth", mech, "--auth-user", USER, "--auth-password", PASSWORD,
                            "--from", USER, "--to", USER, "--quit-after", "AUTH"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "235 2.7.0" in r.stdout
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(inst.port("submission")),
                        "--tls", "--auth", mech, "--auth-user", USER,
                        "--auth-password", "wrong password", "--from", USER, "--to", USER,
                        "--quit-after", "AUTH"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "535 5.7.8" in r.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_curl_auth(inst, tmp_path, mech):
    msg = tmp_path / "msg"
    msg.write_text(f"From: {USER}\r\nTo: {USER}\r\nSubject: curl\r\n\r\nhello\r\n")
    r = subprocess.run(["curl", "-sS", "-v", "--insecure",
                        f"smtps://127.0.0.1:{inst.port('submissions')}",
                        "--login-options", f"AUTH={mech}", "--user", f"{USER}:{PASSWORD}",
                        "--mail-from", USER, "--mail-rcpt", USER, "--upload-file", str(msg)],
                       capture_output=True, text=True, timeout=60)
    assert "< 235 2.7.0" in r.stderr, r.stderr
    inst.wait_for_log(f"event=auth.ok service=submissions ip=127.0.0.1 user={USER} mech={mech}")


class ImapScram:
    """imaplib's authobject for SCRAM: challenge bytes in, response out."""

    def __init__(self, client):
        self.client = client
        self.step = 0
        self.verified = False

    def __call__(self, challenge):
        self.step += 1
        if self.step == 1:
            return self.client.first()
        if self.step == 2:
            return self.client.final(challenge)
        self.verified = self.client.verify(challenge)
        return b""


def test_imap_authenticate_scram(inst):
    m = imaplib.IMAP4("127.0.0.1", inst.port("imap"))
    m.starttls(ssl_context=client_tls_context())
    caps = m.capability()[1][0].decode().split()
    assert "AUTH=SCRAM-SHA-256" in caps and "AUTH=SCRAM-SHA-256-PLUS" in caps
    auth = ImapScram(ScramClient(USER, PASSWORD))
    typ, _ = m.authenticate("SCRAM-SHA-256", auth)
    assert typ == "OK" and auth.verified
    assert m.select("INBOX")[0] == "OK"
    m.logout()


def test_imap_authenticate_scram_plus(inst):
    m = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"), ssl_context=client_tls_context())
    # the greeting of implicit TLS goes out after the handshake, so its
    # CAPABILITY already offers -PLUS
    assert "AUTH=SCRAM-SHA-256-PLUS" in m.welcome.decode()
    auth = ImapScram(ScramClient(USER, PASSWORD, "tls-server-end-point",
                                 tls_server_end_point(m.sock)))
    typ, _ = m.authenticate("SCRAM-SHA-256-PLUS", auth)
    assert typ == "OK" and auth.verified
    m.logout()
    m = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"), ssl_context=client_tls_context())
    auth = ImapScram(ScramClient(USER, "wrong password", "tls-server-end-point",
                                 tls_server_end_point(m.sock)))
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        m.authenticate("SCRAM-SHA-256-PLUS", auth)
    m.logout()


def test_imap_authenticate_plain_sasl_ir(inst):
    """SASL-IR (RFC 4959): the initial response on the command line."""
    m = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"), ssl_context=client_tls_context())
    ir = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    typ, data = m._simple_command("AUTHENTICATE", "PLAIN", ir)
    assert typ == "OK", data
    m.logout()
    # without TLS nothing is advertised and PLAIN is refused
    m = imaplib.IMAP4("127.0.0.1", inst.port("imap"))
    caps = m.capability()[1][0].decode().split()
    assert "LOGINDISABLED" in caps
    assert not [c for c in caps if c.startswith("AUTH=")]
    typ, data = m._simple_command("AUTHENTICATE", "PLAIN", ir)
    assert typ == "NO" and b"PRIVACYREQUIRED" in data[0]
    m.logout()
