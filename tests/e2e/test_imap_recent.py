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
    a.select("INBOX")
    assert recent(a) == 3
    a.logout()
    c = connect_starttls(instance)
    c.select("INBOX")
    assert recent(c) == 0
    c.logout()
