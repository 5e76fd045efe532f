"""An idle user's index connection is closed after 2 s without use and
opened again at the next command (docs/store.md, "Idle users give their
index connection back"): the views of its sessions stay valid, and a change
made meanwhile by another session is seen."""
import os
import time

from test_imap import USER, PASSWORD, connect_starttls

MESSAGE = b"From: bob@remote.test\r\nSubject: idle\r\n\r\nhello\r\n"


def index_fds(instance_dir):
    """How many descriptors of any process point at a tern-index.db (or its
    WAL) under instance_dir."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(instance_dir) and "tern-index.db" in target:
                count += 1
    return count


def wait_closed(instance_dir, limit=6.0):
    deadline = time.monotonic() + limit
    while index_fds(instance_dir) > 0:
        assert time.monotonic() < deadline, "index still open after %.0f s" % limit
        time.sleep(0.2)


def flags_of(m):
    assert m.noop()[0] == "OK"  # the sync before it reports changes
    typ, data = m.fetch("1", "(FLAGS)")
    assert typ == "OK"
    return data[0].decode()


def test_views_survive_the_close(instance, instance_dir):
    instance.add_user(USER, PASSWORD)
    a = connect_starttls(instance)
    a.append("INBOX", None, None, MESSAGE)
    assert a.select("INBOX")[1] == [b"1"]
    assert index_fds(instance_dir) > 0
    wait_closed(instance_dir)
    # another session changes a flag: it opens the index again
    b = connect_starttls(instance)
    b.select("INBOX")
    assert b.store("1", "+FLAGS", "(\\Flagged)")[0] == "OK"
    b.logout()
    wait_closed(instance_dir)
    # the first view, kept across two closes, sees it and changes more
    assert "\\Flagged" in flags_of(a)
    assert a.store("1", "+FLAGS", "(\\Seen)")[0] == "OK"
    wait_closed(instance_dir)
    flags = flags_of(a)
    assert "\\Flagged" in flags and "\\Seen" in flags
    a.logout()
