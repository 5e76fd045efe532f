"""A Dovecot (the oracle of some IMAP tests) on its own Maildir, with "/"
as hierarchy separator like Tern: `with dovecot_session() as m:` gives a
logged-in imaplib connection, or skips the test without Dovecot."""
import contextlib
import imaplib
import os
import shutil
import subprocess
import tempfile

import pytest


@contextlib.contextmanager
def dovecot_session():
    import test_mime_dovecot as dv

    if not os.path.exists(dv.DOVECOT):
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    uid, gid, internal, group, login = dv.mail_account()
    # short: Dovecot's unix sockets live under it (108-byte path limit)
    d = tempfile.mkdtemp(prefix="tern-dv-")
    os.chmod(d, 0o755)
    port = dv.free_port()
    for sub in ("run", "state", "mail"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    os.chown(os.path.join(d, "mail"), uid, gid)
    with open(os.path.join(d, "dovecot.conf"), "w") as f:
        f.write(dv.CONF.format(d=d, port=port, internal=internal, group=group, login=login))
        f.write("namespace inbox {\n  inbox = yes\n  separator = /\n}\n")
    with open(os.path.join(d, "passwd"), "w") as f:
        f.write("dv:{PLAIN}dv-pass:%d:%d::%s/mail::\n" % (uid, gid, d))
    proc = subprocess.Popen([dv.DOVECOT, "-F", "-c", os.path.join(d, "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        dv.wait_port(port, proc)
        m = imaplib.IMAP4("127.0.0.1", port)
        m.login("dv", "dv-pass")
        yield m
        m.logout()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(d, ignore_errors=True)
