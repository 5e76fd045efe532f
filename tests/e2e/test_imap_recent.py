"""\\Recent (RFC 3501 2.3.2): a message is recent in exactly one session,
the first to SELECT after it arrived; EXAMINE does not take it."""
import re

from test_imap import connect_starttls, deliver, setup_mail


def recent(m):
    return int(m.untagged_responses.get("RECENT", [b"0"])[-1])


def test_two_sessions_see_recent_once(instance):
    setup_mail(instance, 2)
    a = connect_starttls(instance)
    b = connect_starttls(instance)
    # EXAMINE sees it but does not take it
    b.select("INBOX", readonly=True)
    assert recent(b) == 2
    b.close()
    a.select("INBOX")
    assert recent(a) == 2
    typ, data = a.fetch("1", "(FLAGS)")
    assert b"\\Recent" in data[0]
    assert a.search(None, "RECENT")[1][0] == b"1 2"
    assert a.search(None, "NEW")[1][0] == b"1 2"
    b.select("INBOX")
    assert recent(b) == 0
    assert b.search(None, "OLD")[1][0] == b"1 2"
    # a new message goes to the first session whose sync sees it
    deliver(instance)
    a.noop()
    b.noop()
    ra = a.search(None, "RECENT")[1][0].split()
    rb = b.search(None, "RECENT")[1][0].split()
    assert (b"3" in ra) != (b"3" in rb)
    a.logout()
    b.logout()


def test_status_recent(instance):
    setup_mail(instance, 3)
    a = connect_starttls(instance)
    typ, data = a.status("INBOX", "(RECENT MESSAGES)")
    assert typ == "OK"
    assert re.search(rb"MESSAGES 3", data[0])
    # STATUS sees the recent messages without taking them
    assert re.search(rb"RECENT 3", data[0])
    a.select("INBOX")
    assert recent(a) == 3
    typ, data = a.status("INBOX", "(RECENT)")
    assert re.search(rb"RECENT 0", data[0])
    a.logout()
    c = connect_starttls(instance)
    c.select("INBOX")
    assert recent(c) == 0
    c.logout()


def test_recent_once_across_two_processes(instance_dir):
    """processes = 2: sessions land in either imap process (the kernel
    spreads the connections: with 6, all in one process in ~3% of runs;
    the store unit test test_recent_once covers two index connections
    deterministically); every message is recent in exactly one of them."""
    from test_idle_wake import started_with_processes
    instance = started_with_processes(instance_dir, 2)
    try:
        setup_mail(instance, 3)
        sessions = [connect_starttls(instance) for _ in range(6)]
        for s in sessions:
            s.select("INBOX")
        for i in range(4):
            deliver(instance)
        for s in sessions:
            s.noop()
        owners = {}
        for s in sessions:
            for seq in s.search(None, "RECENT")[1][0].split():
                owners.setdefault(int(seq), []).append(s)
        assert sorted(owners) == list(range(1, 8))
        assert all(len(v) == 1 for v in owners.values()), owners
        for s in sessions:
            s.logout()
    finally:
        instance.stop()
