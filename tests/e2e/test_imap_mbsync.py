"""A real IMAP client against Tern: mbsync (Debian package isync) syncs the
account over STARTTLS both ways: messages down, a local message and a flag
change up, a new folder created on the server. Skipped without mbsync."""
import glob
import os
import shutil
import subprocess

import pytest

from test_imap import USER, PASSWORD, connect_starttls

MBSYNC = shutil.which("mbsync")


def mbsync(config):
    return subprocess.run([MBSYNC, "-c", config, "-a"], capture_output=True, text=True,
                          timeout=60)


def write_config(instance, tmp, local):
    pwfile = os.path.join(tmp, "pw")
    with open(pwfile, "w") as f:
        f.write(PASSWORD)
    config = os.path.join(tmp, "mbsyncrc")
    with open(config, "w") as f:
        f.write(f"""IMAPAccount tern
Host 127.0.0.1
Port {instance.port("imap")}
User {USER}
PassCmd "cat {pwfile}"
SSLType STARTTLS
CertificateFile {os.path.join(instance.dir, "tls", "cert.pem")}
SystemCertificates no

IMAPStore remote
Account tern

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")
    return config


@pytest.mark.skipif(MBSYNC is None, reason="mbsync (isync) is not installed")
def test_mbsync_round_trip(instance, tmp_path):
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance)
    for i in range(3):
        assert m.append("INBOX", None, None, b"From: bob@remote.test\r\n"
                        b"Subject: sync %d\r\n\r\nbody %d\r\n" % (i, i))[0] == "OK"
    m.logout()
    local = str(tmp_path / "mail")
    os.makedirs(local)
    config = write_config(instance, str(tmp_path), local)
    r = mbsync(config)
    assert r.returncode == 0, r.stdout + r.stderr
    got = glob.glob(os.path.join(local, "INBOX", "cur", "*")) + \
        glob.glob(os.path.join(local, "INBOX", "new", "*"))
    assert len(got) == 3
    for name in ("Sent", "Drafts", "Trash", "Junk", "Archive"):
        assert os.path.isdir(os.path.join(local, name)), os.listdir(local)
    # Up: a local draft (APPEND), a new folder (CREATE), a local flag (STORE).
    draft = os.path.join(local, "Drafts", "cur", "1.local:2,DS")
    with open(draft, "wb") as f:
        f.write(b"From: alice@example.test\r\nSubject: my draft\r\n\r\nhello\r\n")
    os.makedirs(os.path.join(local, "Projects", "cur"))
    os.makedirs(os.path.join(local, "Projects", "new"))
    os.makedirs(os.path.join(local, "Projects", "tmp"))
    first = sorted(got)[0]
    os.rename(first, first.split(":2,")[0] + ":2,F" if ":2," in first else first + ":2,F")
    r = mbsync(config)
    assert r.returncode == 0, r.stdout + r.stderr
    m = connect_starttls(instance)
    assert any(b"Projects" in d for d in m.list()[1])
    m.select("Drafts")
    typ, data = m.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"\\Draft" in data[0][0] and data[0][1] == b"Subject: my draft\r\n\r\n"
    m.select("INBOX")
    assert m.search(None, "FLAGGED")[1][0] != b""
    m.logout()
    assert instance.log().count("event=imap.append ") >= 4
