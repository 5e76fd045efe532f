"""Big index writes are bounded (docs/store.md, "Bounded write
transactions"; docs/imap.md, "Long commands"): while one session expunges
or moves thousands of messages, or SELECTs a mailbox of thousands of new
files, another session of the same account keeps getting answers (with
one imap process: the loop serves it between the slices) and both always
see a consistent mailbox; nothing is lost."""
import imaplib
import os
import pwd
import re
import sqlite3
import threading
import time

import pytest

from conftest import Instance
from test_imap import USER, PASSWORD

MESSAGES = 5000


def started(instance_dir, processes):
    inst = Instance(instance_dir)
    # the test gate (ask_while_held): closed only while this file exists
    inst.gate = os.path.join(instance_dir, "slice-gate")
    with open(inst.config, "a") as f:
        f.write(f"\nprocesses = {processes}\n")
        # a test-only key (src/imap/imap-settings.h)
        f.write(f"imap {{\n\ttest_slice_gate = {inst.gate}\n}}\n")
    inst.start()
    return inst


@pytest.fixture(params=[1, 2], ids=["processes1", "processes2"])
def server(request, instance_dir):
    inst = started(instance_dir, request.param)
    inst.processes = request.param
    inst.add_user(USER, PASSWORD)
    yield inst
    inst.stop()
    inst.check_sanitizers()


def login(inst):
    m = imaplib.IMAP4("127.0.0.1", inst.port("imap"))
    from conftest import client_tls_context
    m.starttls(client_tls_context())
    m.login(USER, PASSWORD)
    return m


def write_new(inst, count):
    """count messages straight into INBOX's new/ (a delivery burst, a
    tree taken over), mtimes in order: message n is delivered n-th."""
    path = inst.maildir(USER)
    try:
        pw = pwd.getpwnam("tern") if os.geteuid() == 0 else None
    except KeyError:
        pw = None
    base = int(time.time()) - count - 10
    for n in range(count):
        data = ("From: s@remote.test\r\nSubject: message %d\r\n\r\nbody %d\r\n"
                % (n, n)).encode()
        full = os.path.join(path, "new", "%d.M%dP1Q%d.bulk,S=%d" % (base + n, n, n, len(data)))
        with open(full, "wb") as f:
            f.write(data)
        os.utime(full, (base + n, base + n))
        if pw:
            os.chown(full, pw.pw_uid, pw.pw_gid)


def uids(m, criteria="ALL"):
    typ, data = m.uid("SEARCH", criteria)
    assert typ == "OK", data
    return [int(x) for x in data[0].split()]


def subject_of(m, uid):
    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", data
    return re.search(rb"Subject: (.*?)\r\n", data[0][1]).group(1).decode()


class Background(threading.Thread):
    """One IMAP command on its own connection."""

    def __init__(self, m, *command):
        super().__init__(daemon=True)
        self.m, self.command = m, command
        self.result = None
        self.error = None

    def run(self):
        try:
            self.result = getattr(self.m, self.command[0])(*self.command[1:])
        except Exception as e:  # reported by the test's assert below
            self.error = e


def wait_held(server, job, since, timeout=60):
    """Until the server logs that a command is held at the test gate; fails
    at once if job's command completes without having been held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(server.log_path, "rb") as f:
            f.seek(since)
            if b"event=imap.slice_held" in f.read():
                return
        assert job.is_alive(), "the command completed in one go, never held between slices"
        time.sleep(0.02)
    raise AssertionError("no command held at the test gate; log:\n" + server.log())


def ask_while_held(server, b, job, check=None):
    """Runs job (A's long command) and, in the middle of it, a NOOP (then
    check(), if given) on b. No clock is involved: the test gate
    (src/imap/imap-slice.h) holds A's command between two of its slices
    while the gate file exists; the server logs event=imap.slice_held, b
    is answered, A still has no answer, then the gate opens and A's
    command completes. With one imap process this proves the loop serves
    another session between the slices; a build without slices never
    holds a command, and the wait for the log line fails."""
    since = os.path.getsize(server.log_path)
    with open(server.gate, "w"):
        pass
    try:
        job.start()
        wait_held(server, job, since)
        assert b.noop()[0] == "OK"
        if check is not None:
            check()
        assert job.is_alive() and job.result is None, "A answered while held"
    finally:
        os.unlink(server.gate)
    job.join(timeout=120)
    assert not job.is_alive()
    assert job.error is None, job.error


def index_rows(inst, mailbox):
    db = sqlite3.connect(os.path.join(inst.maildir(USER), "tern-index.db"))
    try:
        return db.execute("SELECT count(*) FROM messages WHERE mailbox_id ="
                          " (SELECT id FROM mailboxes WHERE name = ?)", (mailbox,)).fetchone()[0]
    finally:
        db.close()


def test_select_of_thousands_of_new_files(server):
    """SELECT of 5000 new files: UIDs in delivery order across the
    chunks, every one \\Recent for the view that gave it, and another
    session is answered meanwhile."""
    a, b = login(server), login(server)
    assert b.select("Drafts")[0] == "OK"
    write_new(server, MESSAGES)
    job = Background(a, "select", "INBOX")
    ask_while_held(server, b, job)
    typ, data = job.result
    assert typ == "OK" and int(data[0]) == MESSAGES, data
    assert a.untagged_responses.get("RECENT") == [str(MESSAGES).encode()]
    assert uids(a) == list(range(1, MESSAGES + 1))
    for uid in (1, 999, 1000, 1001, 2500, MESSAGES):
        assert subject_of(a, uid) == "message %d" % (uid - 1)
    typ, data = b.select("INBOX")
    assert typ == "OK" and int(data[0]) == MESSAGES
    assert b.untagged_responses.get("RECENT") == [b"0"]
    assert index_rows(server, "INBOX") == MESSAGES
    a.logout()
    b.logout()


def test_expunge_of_thousands_while_other_session_reads(server):
    """A expunges 4000 of 5000; B NOOPs and searches meanwhile: B never
    sees a kept message missing or a flag half applied, and at the end
    both see exactly the 1000 kept, in the index and in the Maildir."""
    a, b = login(server), login(server)
    write_new(server, MESSAGES)
    assert a.select("INBOX")[0] == "OK"
    assert b.select("INBOX")[0] == "OK"
    kept = set(range(4001, MESSAGES + 1))
    typ, data = a.uid("STORE", "1:4000", "+FLAGS.SILENT", r"(\Deleted)")
    assert typ == "OK", data
    b.noop()
    assert set(uids(b, "UNDELETED")) == kept

    def check():
        now = set(uids(b))
        assert kept <= now <= set(range(1, MESSAGES + 1))
        assert set(uids(b, "UNDELETED")) == kept

    job = Background(a, "expunge")
    ask_while_held(server, b, job, check)
    typ, data = job.result
    assert typ == "OK", data
    assert len(data) == 4000  # one EXPUNGE response per message
    b.noop()
    assert set(uids(a)) == set(uids(b)) == kept
    cur = os.listdir(os.path.join(server.maildir(USER), "cur"))
    assert len(cur) == 1000
    assert index_rows(server, "INBOX") == 1000
    a.logout()
    b.logout()


def test_rename_inbox_with_thousands(server):
    """RENAME INBOX of 3000 messages: every message (with its flags) in
    the new mailbox, INBOX empty, while another session keeps being
    answered."""
    count = 3000
    a, b = login(server), login(server)
    write_new(server, count)
    assert a.select("INBOX")[0] == "OK"
    assert a.uid("STORE", "1:10", "+FLAGS.SILENT", r"(\Flagged)")[0] == "OK"
    a.close()
    assert b.select("Drafts")[0] == "OK"
    job = Background(a, "rename", "INBOX", "Moved")
    ask_while_held(server, b, job)
    typ, data = job.result
    assert typ == "OK", data
    typ, data = b.status("Moved", "(MESSAGES)")
    assert typ == "OK" and b"MESSAGES %d" % count in data[0], data
    typ, data = b.status("INBOX", "(MESSAGES)")
    assert typ == "OK" and b"MESSAGES 0" in data[0], data
    assert b.select("Moved")[0] == "OK"
    assert len(uids(b)) == count
    assert len(uids(b, "FLAGGED")) == 10
    # delivery order kept: the first UIDs are the first messages
    first = uids(b)[:3]
    assert [subject_of(b, u) for u in first] == ["message 0", "message 1", "message 2"]
    assert os.listdir(os.path.join(server.maildir(USER), "cur")) == []
    assert os.listdir(os.path.join(server.maildir(USER), "new")) == []
    assert index_rows(server, "INBOX") == 0
    assert index_rows(server, "Moved") == count
    a.logout()
    b.logout()
