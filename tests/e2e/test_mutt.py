"""Mutt as a real client of SCRAM-SHA-256 (issue 8). Debian's mutt is
built with GNU SASL (libgsasl), not Cyrus SASL: a second SCRAM client
independent of the one mbsync uses (test_sasl_clients.py).

Mutt never waits on a terminal here: sending is batch mode (the body on
stdin, `-s` and a recipient on the command line; an Fcc into an IMAP
folder logs in over IMAP too), and reading a mailbox runs mutt's curses
interface under `script` (a pseudo-terminal) with the keys pushed by
`-e push`. Every run is bounded by a timeout that kills its process
group."""
import os
import shutil
import signal
import subprocess

import pytest

from conftest import DOMAIN, Instance

MUTT = shutil.which("mutt")
SCRIPT = shutil.which("script")
USER = f"mutt@{DOMAIN}"
PASSWORD = "correct horse battery"
TIMEOUT = 60

pytestmark = pytest.mark.skipif(MUTT is None or SCRIPT is None,
                                reason="mutt or script is not installed "
                                "(scripts/install-deps.sh --test)")


@pytest.fixture
def inst(instance_dir):
    i = Instance(instance_dir)
    i.add_user(USER, PASSWORD)
    i.start()
    yield i
    if i.proc is not None:
        i.stop()
    i.check_sanitizers()


def write_muttrc(home, inst, password):
    """A muttrc for USER: SMTP submission on 587 after STARTTLS and IMAP,
    both only with SCRAM-SHA-256; the instance's self-signed certificate is
    the only trust anchor (its name is mail.example.test, so the host name
    check is off, the certificate check is not)."""
    cert = os.path.join(inst.dir, "tls", "cert.pem")
    user = USER.replace("@", "%40")
    os.makedirs(os.path.join(home, "Mail"), exist_ok=True)  # else mutt asks
    path = os.path.join(home, "muttrc")
    with open(path, "w") as f:
        f.write(f"""set from = "{USER}"
set realname = "Mutt Tester"
set editor = "/bin/false"
set smtp_url = "smtp://{user}@127.0.0.1:{inst.port("submission")}/"
set smtp_pass = "{password}"
set smtp_authenticators = "scram-sha-256"
set imap_user = "{USER}"
set imap_pass = "{password}"
set imap_authenticators = "scram-sha-256"
set ssl_starttls = yes
set ssl_force_tls = yes
set ssl_verify_host = no
set ssl_ca_certificates_file = "{cert}"
set certificate_file = "{home}/accepted-certificates"
set folder = "{home}/Mail"
set spoolfile = ""
set record = ""
set copy = no
set wait_key = no
set mail_check = 0
set header_cache = ""
set message_cachedir = ""
""")
    return path


def run_bounded(cmd, home, stdin):
    """Run cmd with HOME=home and TERM=dumb, stdin from the bytes given;
    kills its whole process group if it is not done within TIMEOUT."""
    env = {"HOME": home, "TERM": "dumb", "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "LC_ALL": "C.UTF-8"}
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, cwd=home,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(stdin, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f"{cmd} still running after {TIMEOUT}s: {out!r}")
    return proc.returncode, out.decode("utf-8", "replace")


def mutt_send(home, rc, subject, body, *settings):
    """Batch mode: mutt sends body to USER and exits."""
    extra = [a for s in settings for a in ("-e", s)]
    return run_bounded([MUTT, "-n", "-F", rc, *extra, "-s", subject, USER], home,
                       body.encode())


def mutt_pipe_first(home, rc, folder, out):
    """mutt's interface on folder (under a pseudo-terminal): pipes the
    first message to the file out, then exits."""
    push = f'push "<pipe-message>cat > {out}<enter><exit>"'
    inner = " ".join([MUTT, "-n", "-F", rc, "-f", folder, "-e", f"'{push}'"])
    return run_bounded([SCRIPT, "-qec", inner, "/dev/null"], home, b"")


def log_size(inst):
    return os.path.getsize(inst.log_path)


def files_in(inst, *sub):
    path = os.path.join(inst.maildir(USER), *sub)
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def test_mutt_sends_and_reads_with_scram_sha_256(inst, tmp_path):
    """mutt submits a message on 587 (STARTTLS, AUTH SCRAM-SHA-256), files
    its copy into Sent over IMAPS (AUTHENTICATE SCRAM-SHA-256), then reads
    the message back from INBOX over IMAP with STARTTLS."""
    home = str(tmp_path)
    rc = write_muttrc(home, inst, PASSWORD)
    since = log_size(inst)
    sent = f"imaps://127.0.0.1:{inst.port('imaps')}/Sent"
    code, out = mutt_send(home, rc, "mutt over scram", "Sent by mutt with SCRAM.\n",
                          "set copy = yes", f'set record = "{sent}"')
    assert code == 0, out
    inst.wait_for_log(f"event=auth.ok service=submission ip=127.0.0.1 user={USER}"
                      " mech=SCRAM-SHA-256", since=since)
    inst.wait_for_log(f"event=auth.ok service=imap ip=127.0.0.1 user={USER}"
                      " mech=SCRAM-SHA-256", since=since)
    inst.wait_for_log("event=imap.append", since=since)
    new = files_in(inst, "new")
    assert len(new) == 1, new
    with open(os.path.join(inst.maildir(USER), "new", new[0]), "rb") as f:
        delivered = f.read()
    assert b"Subject: mutt over scram" in delivered
    assert b"Sent by mutt with SCRAM." in delivered
    assert len(files_in(inst, ".Sent", "cur")) + len(files_in(inst, ".Sent", "new")) == 1

    since = log_size(inst)
    piped = os.path.join(home, "piped")
    code, out = mutt_pipe_first(home, rc, f"imap://127.0.0.1:{inst.port('imap')}/INBOX",
                                piped)
    assert code == 0, out
    inst.wait_for_log(f"event=auth.ok service=imap ip=127.0.0.1 user={USER}"
                      " mech=SCRAM-SHA-256", since=since)
    with open(piped, "rb") as f:
        read = f.read()
    assert b"Subject: mutt over scram" in read
    assert b"Sent by mutt with SCRAM." in read


def test_mutt_wrong_password_is_refused(inst, tmp_path):
    """With a wrong password the SCRAM proof fails on SMTP (nothing is
    sent, mutt exits non-zero) and on IMAP (the Fcc is not filed)."""
    home = str(tmp_path)
    rc = write_muttrc(home, inst, "not the password")
    code, out = mutt_send(home, rc, "must not arrive", "no\n")
    assert code != 0, out
    inst.wait_for_log(f"event=auth.failed service=submission ip=127.0.0.1 user={USER}"
                      ' mech=SCRAM-SHA-256 reason="wrong proof"')
    assert files_in(inst, "new") == []
    # the right SMTP password, a wrong IMAP one: sent, but not filed
    good = write_muttrc(home, inst, PASSWORD)
    sent = f"imaps://127.0.0.1:{inst.port('imaps')}/Sent"
    code, out = mutt_send(home, good, "sent, not filed", "yes\n", "set copy = yes",
                          f'set record = "{sent}"', 'set imap_pass = "not the password"')
    assert "Fcc to" in out and "failed" in out, out
    inst.wait_for_log(f"event=auth.failed service=imap ip=127.0.0.1 user={USER}"
                      ' mech=SCRAM-SHA-256 reason="wrong proof"')
    assert len(files_in(inst, "new")) == 1
    assert files_in(inst, ".Sent", "cur") + files_in(inst, ".Sent", "new") == []
