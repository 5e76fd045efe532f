"""CONDSTORE and QRESYNC (RFC 7162) end to end: a phone and a desktop on
one mailbox; the desktop changes flags and expunges, the phone resyncs
with one SELECT (QRESYNC ...) and sees exactly those changes; an
UNCHANGEDSINCE conflict gives MODIFIED; modseqs survive a restart."""
import re

from test_imap import connect_starttls, setup_mail


def cmd(m, name, args):
    """Run a raw command; returns (status, untagged responses by name)."""
    m.untagged_responses.clear()
    typ, data = m._simple_command(name, args)
    resp = dict(m.untagged_responses)
    m.untagged_responses.clear()
    if name in ("SELECT", "EXAMINE") and typ == "OK":
        m.state = "SELECTED"  # imaplib's own select() would have
    return typ, data, resp


def highestmodseq(resp):
    for r in resp.get("OK", []):
        g = re.search(rb"\[HIGHESTMODSEQ (\d+)\]", r)
        if g:
            return int(g.group(1))
    raise AssertionError("no HIGHESTMODSEQ in %r" % resp)


def uidvalidity(resp):
    for r in resp.get("OK", []):
        g = re.search(rb"\[UIDVALIDITY (\d+)\]", r)
        if g:
            return int(g.group(1))
    raise AssertionError("no UIDVALIDITY")


def test_capability_enable(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    caps = m.capability()[1][0].split()
    assert b"CONDSTORE" in caps and b"QRESYNC" in caps
    typ, data, resp = cmd(m, "ENABLE", "QRESYNC")
    assert typ == "OK"
    assert set(resp["ENABLED"][0].split()) == {b"CONDSTORE", b"QRESYNC"}
    typ, data, resp = cmd(m, "ENABLE", "CONDSTORE")
    assert resp["ENABLED"] in ([b""], [None]), resp  # nothing newly enabled
    m.logout()


def test_qresync_phone_and_desktop(instance):
    setup_mail(instance, 5)
    phone = connect_starttls(instance)
    assert cmd(phone, "ENABLE", "QRESYNC")[0] == "OK"
    typ, _, resp = cmd(phone, "SELECT", "INBOX (CONDSTORE)")
    assert typ == "OK"
    uv, hms = uidvalidity(resp), highestmodseq(resp)
    typ, data = phone.uid("FETCH", "1:*", "(MODSEQ)")
    assert typ == "OK" and len([d for d in data if d]) == 5
    assert all(int(re.search(rb"MODSEQ \((\d+)\)", d).group(1)) <= hms for d in data if d)
    phone.logout()  # the phone goes away, remembering uv and hms

    desk = connect_starttls(instance)
    desk.select("INBOX")
    assert desk.uid("STORE", "2", "+FLAGS", "(\\Flagged)")[0] == "OK"
    assert desk.uid("STORE", "4", "+FLAGS", "(\\Deleted)")[0] == "OK"
    assert desk.expunge()[0] == "OK"
    typ, _, resp = cmd(desk, "STATUS", "INBOX (HIGHESTMODSEQ)")
    desk_hms = int(re.search(rb"HIGHESTMODSEQ (\d+)", resp["STATUS"][0]).group(1))
    assert desk_hms > hms

    phone = connect_starttls(instance)
    assert cmd(phone, "ENABLE", "QRESYNC")[0] == "OK"
    typ, _, resp = cmd(phone, "SELECT", "INBOX (QRESYNC (%d %d 1:5))" % (uv, hms))
    assert typ == "OK"
    assert highestmodseq(resp) == desk_hms
    assert resp["VANISHED"] == [b"(EARLIER) 4"]
    fetches = resp.get("FETCH", [])
    assert len(fetches) == 1, fetches
    assert b"UID 2" in fetches[0] and b"\\Flagged" in fetches[0]
    assert int(re.search(rb"MODSEQ \((\d+)\)", fetches[0]).group(1)) > hms
    # CHANGEDSINCE with VANISHED says the same
    typ, data, resp = cmd(phone, "UID", "FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % hms)
    assert typ == "OK"
    assert resp["VANISHED"] == [b"(EARLIER) 4"]
    assert len(resp["FETCH"]) == 1 and b"UID 2" in resp["FETCH"][0]
    # SEARCH MODSEQ answers with the highest modseq of the matches
    typ, data, resp = cmd(phone, "UID", "SEARCH MODSEQ %d" % (hms + 1))
    assert typ == "OK"
    assert re.match(rb"2 \(MODSEQ \d+\)$", resp["SEARCH"][0]), resp["SEARCH"]

    # the desktop expunges while the phone idles in NOOP: VANISHED, not EXPUNGE
    desk.uid("STORE", "5", "+FLAGS", "(\\Deleted)")
    desk.expunge()
    typ, data, resp = cmd(phone, "NOOP", "")
    assert typ == "OK"
    assert resp.get("VANISHED") == [b"5"] and "EXPUNGE" not in resp
    # UID EXPUNGE under QRESYNC answers VANISHED too
    phone.uid("STORE", "3", "+FLAGS", "(\\Deleted)")
    typ, data, resp = cmd(phone, "UID", "EXPUNGE 3")
    assert typ == "OK" and resp.get("VANISHED") == [b"3"]
    phone.logout()
    desk.logout()


def test_unchangedsince_conflict(instance):
    setup_mail(instance, 2)
    a = connect_starttls(instance)
    b = connect_starttls(instance)
    typ, _, resp = cmd(a, "SELECT", "INBOX (CONDSTORE)")
    typ, data = a.uid("FETCH", "1", "(MODSEQ)")
    ms = int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))
    b.select("INBOX")
    b.uid("STORE", "1", "+FLAGS", "(\\Seen)")
    typ, data, resp = cmd(a, "UID", "STORE 1:2 (UNCHANGEDSINCE %d) +FLAGS (\\Answered)" % ms)
    assert typ == "OK"
    assert b"[MODIFIED 1]" in data[0], data
    typ, data = a.uid("FETCH", "1:2", "(FLAGS)")
    flags = {re.search(rb"UID (\d+)", d).group(1): d for d in data if d}
    assert b"\\Answered" not in flags[b"1"] and b"\\Answered" in flags[b"2"]
    # UNCHANGEDSINCE 0 always fails (RFC 7162 3.1.3)
    typ, data, resp = cmd(a, "STORE", "2 (UNCHANGEDSINCE 0) +FLAGS (\\Draft)")
    assert typ == "OK" and b"[MODIFIED 2]" in data[0]
    a.logout()
    b.logout()


def test_modseq_survives_restart(instance):
    setup_mail(instance, 2)
    m = connect_starttls(instance)
    m.select("INBOX")
    m.store("1", "+FLAGS", "(\\Flagged)")
    m.store("2", "+FLAGS", "(\\Deleted)")
    m.expunge()
    typ, _, resp = cmd(m, "STATUS", "INBOX (HIGHESTMODSEQ UIDVALIDITY)")
    before = resp["STATUS"][0]
    typ, data = m.fetch("1", "(MODSEQ)")
    ms = data[0]
    m.logout()
    instance.restart()
    m = connect_starttls(instance)
    cmd(m, "ENABLE", "QRESYNC")
    typ, _, resp = cmd(m, "STATUS", "INBOX (HIGHESTMODSEQ UIDVALIDITY)")
    assert resp["STATUS"][0] == before
    uv = int(re.search(rb"UIDVALIDITY (\d+)", before).group(1))
    typ, _, resp = cmd(m, "SELECT", "INBOX (QRESYNC (%d 1))" % uv)
    assert resp["VANISHED"] == [b"(EARLIER) 2"]
    assert m.fetch("1", "(MODSEQ)")[1][0] == ms
    m.logout()


def test_bad_arguments(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    # QRESYNC without ENABLE is refused
    try:
        cmd(m, "SELECT", "INBOX (QRESYNC (1 1))")
        raise AssertionError("accepted")
    except m.error:
        pass
    m.select("INBOX")
    for bad in ["1 (FLAGS) (CHANGEDSINCE 0)", "1 (FLAGS) (VANISHED)", "1 (FLAGS) (CHANGEDSINCE x)"]:
        try:
            cmd(m, "FETCH", bad)
            raise AssertionError("accepted " + bad)
        except m.error:
            pass
    m.logout()
