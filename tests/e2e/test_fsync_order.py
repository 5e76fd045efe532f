"""Durability order of SMTP delivery, seen from outside the server.

kill -9 keeps the page cache, so a test that kills the server cannot see a
missing fsync. Here the server runs under an LD_PRELOAD shim
(tests/shim/fsync-trace.c) that logs every fsync (with the inode synced),
every name made by link or rename, and every "250" written to a socket, with
one sequence number across the server's processes. For every message
accepted with 250, and for every file it left in a Maildir, the trace must
show, before that 250:
  - an fsync of the delivered file's inode, and
  - an fsync of the directory holding it (new/ or cur/) after the name was
    made there (Maildir delivery puts a message into new/ by link or rename).
The assertions use only paths, inodes and order, not how delivery is coded.
"""
import os
import smtplib

import pytest

from conftest import TERN_BIN, Instance

SHIM = os.environ.get("TERN_FSYNC_SHIM",
                      os.path.join(os.path.dirname(TERN_BIN), "tests", "shim", "fsync-trace.so"))
USERS = ["alice@example.test", "bob@example.test", "carol@example.test"]


class Trace:
    """The shim's log: read the events appended since a mark."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def mark(self):
        self.offset = os.path.getsize(self.path)

    def events(self):
        """Events since the mark as (seq, kind, rest), ordered by seq."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read().decode("utf-8", "replace")
        events = []
        for line in data.splitlines():
            seq, _pid, kind, rest = line.split(" ", 3)
            events.append((int(seq), kind, rest))
        return sorted(events)


@pytest.fixture
def traced(instance_dir):
    assert os.path.exists(SHIM), f"the shim is not built: {SHIM}"
    trace = os.path.join(instance_dir, "fsync.trace")
    with open(trace, "w"):
        pass
    os.chmod(trace, 0o666)  # the roles may run as the tern account
    inst = Instance(instance_dir)
    for user in USERS:
        inst.add_user(user, "correct horse battery staple")
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(filter(None, [env.get("LD_PRELOAD"), SHIM]))
    env["TERN_FSYNC_TRACE"] = trace
    # In the ASan build the sanitizer runtime is then not first in the list.
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                 "verify_asan_link_order=0"]))
    inst.env = env
    inst.start()
    yield inst, Trace(trace)
    inst.stop()
    inst.check_sanitizers()


def maildir_files(inst):
    """Every file in a new/ or cur/ directory under the instance's mail."""
    found = set()
    for root, _dirs, files in os.walk(os.path.join(inst.dir, "mail")):
        if os.path.basename(root) in ("new", "cur"):
            found.update(os.path.realpath(os.path.join(root, f)) for f in files)
    return found


def inode(path):
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


def check_order(events, reply_text, delivered):
    """Assert the fsync order for one accepted message."""
    replies = [seq for seq, kind, rest in events if kind == "reply" and reply_text in rest]
    assert len(replies) == 1, f"the 250 {reply_text!r} is not in the trace: {events}"
    reply = replies[0]
    syncs = [(seq, rest.split(" ", 1)[0]) for seq, kind, rest in events if kind == "sync"]
    names = [(seq, rest) for seq, kind, rest in events if kind == "name"]
    for path in delivered:
        key, dkey = inode(path), inode(os.path.dirname(path))
        assert any(seq < reply and k == key for seq, k in syncs), \
            f"{path}: no fsync of the file before the 250; trace: {events}"
        made = [seq for seq, p in names if os.path.realpath(p) == path]
        assert made, f"{path}: not linked or renamed into its directory; trace: {events}"
        assert any(made[0] < seq < reply and k == dkey for seq, k in syncs), \
            f"{path}: no fsync of {os.path.dirname(path)} between the link and the 250; " \
            f"trace: {events}"


def send(inst, trace, s, rcpts, body):
    """Send one message on an open session and check its fsync order."""
    before = maildir_files(inst)
    trace.mark()
    s.mail("sender@remote.test")
    for r in rcpts:
        assert s.rcpt(r)[0] == 250
    code, text = s.data(body)
    assert code == 250
    delivered = maildir_files(inst) - before
    assert len(delivered) == len(rcpts)
    check_order(trace.events(), text.decode(), delivered)
    return delivered


def message(subject, size=0):
    lines = [b"Subject: " + subject.encode(), b""]
    while sum(len(x) + 2 for x in lines) < size:
        lines.append(b"%07d 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq"
                     % len(lines))
    lines.append(b"end")
    return b"\r\n".join(lines) + b"\r\n"


def test_fsyncs_come_before_250(traced):
    inst, trace = traced
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        # several messages on one session, to one and to several recipients
        for i in range(3):
            send(inst, trace, s, [USERS[i % 3]], message(f"one {i}"))
        send(inst, trace, s, USERS, message("three recipients"))
        # over 64 KiB: the content no longer fits the delivery's buffer
        big = send(inst, trace, s, USERS[:2], message("big", 200 * 1024))
    assert all(os.path.getsize(p) > 200 * 1024 for p in big)
    # a second session, to a Maildir that already holds mail
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        send(inst, trace, s, USERS[:1], message("again"))
        send(inst, trace, s, [USERS[2], USERS[0]], message("pair", 70 * 1024))
