"""Connection reuse against the peer's per-session limit (issue 9, the
torture test's finding 1): Tern's own smtp answers 421 to the 101st MAIL of
a session. The queue caps the messages of one reused connection
(queue.max_messages_per_connection, 50 by default), and a 421 or a lost
connection on a reused session before MAIL was accepted means a new
connection at once, not a deferral until retry_first (60 s here)."""
import smtplib
import time

import pytest

from test_queue_delivery import (REMOTE, _dirs, delivered, make_pair, queue_ids,  # noqa: F401
                                 stop_pair, wait_queue_empty)

COUNT = 120


def send_many(inst, prefix, count):
    sent = 0
    while sent < count:
        with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            for _ in range(min(50, count - sent)):
                body = (f"From: <sender@elsewhere.test>\r\nSubject: {prefix}{sent}\r\n"
                        f"Message-ID: <{prefix}{sent}@client.test>\r\n\r\nhello\r\n")
                s.sendmail("sender@elsewhere.test", ["fwd@example.test"], body.encode())
                sent += 1


def count_delivered(inst, prefix, count):
    return sum(1 for i in range(count) if delivered(inst, REMOTE, f"{prefix}{i}") > 0)


def run(first, second, prefix):
    second.stop()
    send_many(first, prefix, COUNT)
    deadline = time.time() + 60
    while time.time() < deadline and first.log().count("result=deferred") < COUNT:
        time.sleep(0.2)
    assert first.log().count("result=deferred") >= COUNT
    deferred_before = first.log().count("result=deferred")
    second.start()
    first.tern("queue", "flush")
    # all of them well before retry_first (60 s): none waited for a retry
    assert wait_queue_empty(first, timeout=40) == []
    # the second may still be putting the last ones into the Maildir
    deadline = time.time() + 20
    while time.time() < deadline and count_delivered(second, prefix, COUNT) < COUNT:
        time.sleep(0.2)
    assert count_delivered(second, prefix, COUNT) == COUNT
    assert "result=bounced" not in first.log()
    assert first.log().count("result=deferred") == deferred_before
    return [line.split()[0] for line in second.log().splitlines()
            if "event=smtp.message " in line]


@pytest.mark.parametrize("cap", [None, 1000])
def test_reuse_past_the_peers_session_limit(instance_dir, cap):
    extra = (lambda a, b: f"\tmax_messages_per_connection = {cap}\n") if cap else None
    first, second = make_pair(instance_dir, queue_extra=extra)
    try:
        sids = run(first, second, f"reuse{cap}-")
        per_session = {}
        for sid in sids:
            per_session[sid] = per_session.get(sid, 0) + 1
        if cap is None:
            # the default cap: a new connection every 50 messages
            assert max(per_session.values()) <= 50, per_session
            assert "event=queue.reuse_lost" not in first.log()
        else:
            # past the peer's 100: its 421, then a new connection at once
            assert max(per_session.values()) == 100, per_session
            assert "event=queue.reuse_lost" in first.log()
    finally:
        stop_pair(first, second)
