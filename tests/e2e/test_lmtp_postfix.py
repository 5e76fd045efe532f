"""Postfix as a real front MTA in front of Tern (DESIGN.md section 1, the
seeds' layout): a private Postfix instance on loopback, with its own
config_directory and queue_directory in a temp dir, takes a message by SMTP
and hands it to Tern by LMTP (virtual_transport = lmtp:...). The system's
Postfix (/etc/postfix, port 25) is never touched."""
import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
PASSWORD = "correct horse battery"
ALICE = "alice@example.test"
BOB = "bob@example.test"

pytestmark = pytest.mark.skipif(
    not os.path.exists(POSTFIX) or os.geteuid() != 0,
    reason="needs Debian's postfix (scripts/install-deps.sh --test) and root")

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:{smtp_port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = front.remote.test
mydomain = remote.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
relayhost =
# nothing leaves for the network: no DNS, no remote delivery (bounces to
# remote senders fail at once)
smtp_dns_support_level = disabled
lmtp_host_lookup = native
smtp_host_lookup = native
default_transport = error:no remote delivery in this test
relay_transport = error:no remote delivery in this test
# mail for Tern's domain goes to Tern by LMTP
virtual_mailbox_domains = example.test
virtual_mailbox_maps =
smtpd_reject_unlisted_recipient = no
virtual_transport = {transport}
smtputf8_enable = no
biff = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_postfix(confdir, *args):
    return subprocess.run([POSTFIX, "-c", confdir] + list(args), capture_output=True,
                          text=True, timeout=60)


class PostfixFront:
    """A private Postfix instance: config, queue and log in one temp dir."""

    def __init__(self, transport):
        self.dir = tempfile.mkdtemp(prefix="tern-postfix-")
        os.chmod(self.dir, 0o755)  # the postfix user reaches its queue
        self.port = free_port()
        for sub in ("queue", "data"):
            os.mkdir(os.path.join(self.dir, sub))
        pw = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.dir, "data"), pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(dir=self.dir, transport=transport))
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(smtp_port=self.port))
        self.started = False

    def start(self):
        # check creates the queue's subdirectories with their owners
        proc = run_postfix(self.dir, "check")
        assert proc.returncode == 0, proc.stderr
        proc = run_postfix(self.dir, "start")
        assert proc.returncode == 0, proc.stderr + self.log()
        self.started = True
        deadline = time.time() + WAIT
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError("postfix smtpd never listened; log:\n" + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.started:
            proc = run_postfix(self.dir, "stop")
            if proc.returncode != 0:
                run_postfix(self.dir, "abort")
            self.wait_master_gone()
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def wait_master_gone(self, timeout=10):
        pidfile = os.path.join(self.dir, "queue", "pid", "master.pid")
        try:
            with open(pidfile) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, 9)


# Generous bounds: a loaded machine slows Postfix's chain of processes
# (smtpd, cleanup, qmgr, lmtp, postlogd), but every wait below ends as soon
# as what it waits for has happened.
WAIT = 60


def wait_for_messages(inst, address, count, front, timeout=WAIT):
    new = os.path.join(inst.maildir(address), "new")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.isdir(new) and len(os.listdir(new)) >= count:
            names = sorted(os.listdir(new))
            out = []
            for n in names:
                with open(os.path.join(new, n), "rb") as f:
                    out.append(f.read())
            return out
        time.sleep(0.1)
    raise AssertionError(f"no message for {address} in Tern's Maildir; postfix log:\n"
                         f"{front.log()}\ntern log:\n{inst.log()}")


def wait_for_sent(front, address, timeout=WAIT):
    """Postfix's log line for address's delivery, once it says status=sent.
    The log is written by postlogd, after the lmtp client has Tern's reply,
    so it may come after the message is already in Tern's Maildir."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for line in front.log().splitlines():
            if f"to=<{address}>" in line and "status=sent" in line:
                return line
        time.sleep(0.1)
    raise AssertionError(f"postfix never logged status=sent for {address}; log:\n"
                         f"{front.log()}")


@pytest.fixture
def server(instance):
    instance.add_user(ALICE, PASSWORD)
    instance.add_user(BOB, PASSWORD)
    return instance


@pytest.mark.timeout(240)
@pytest.mark.parametrize("over", ["inet", "unix"])
def test_postfix_delivers_into_tern_by_lmtp(server, over):
    """Postfix accepts a message for two of Tern's users by SMTP and
    delivers it by LMTP (TCP or Tern's Unix socket): it lands in both
    Maildirs, with Postfix's Received and Tern's LMTP trace on top."""
    if over == "inet":
        transport = f"lmtp:inet:127.0.0.1:{server.port('lmtp')}"
    else:
        transport = "lmtp:unix:" + os.path.join(server.dir, "run", "lmtp.sock")
    front = PostfixFront(transport)
    try:
        front.start()
        body = (b"From: sender@remote.test\r\nTo: alice@example.test\r\n"
                b"Subject: through postfix\r\nMessage-ID: <pf-1@remote.test>\r\n\r\n"
                b"Relayed by a real Postfix.\r\n")
        with smtplib.SMTP("127.0.0.1", front.port, timeout=WAIT) as c:
            refused = c.sendmail("sender@remote.test", [ALICE, BOB], body)
        assert refused == {}
        for user in (ALICE, BOB):
            got = wait_for_messages(server, user, 1, front)
            assert len(got) == 1
            text = got[0]
            assert b"Subject: through postfix" in text
            assert b"Relayed by a real Postfix.\r\n" in text
            assert b"by front.remote.test (Postfix)" in text
            assert b"with LMTP" in text
        for user in (ALICE, BOB):
            assert "relay=" in wait_for_sent(front, user)
    finally:
        front.stop()
    assert not os.path.exists(front.dir)
