"""A bounce that cannot be written is not lost (issue 9): the recipient
stays pending (`unreported` in its state) and the report is retried later.
Here the original's data file (which the report quotes) is moved away
while the peer refuses the recipient with 550 5.1.1, so bounce_write()
fails; once it is back, a flush retries only the report (the peer sees no
new attempt) and the DSN arrives in the local sender's INBOX."""
import os
import time

from test_queue_delivery import (PASSWORD, _dirs, dsn_reports, pair, queue_ids,  # noqa: F401
                                 send_from, wait_queue_empty, wait_reports)


def wait_log(inst, text, count=1, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline and inst.log().count(text) < count:
        time.sleep(0.1)
    return inst.log().count(text)


def test_unwritable_bounce_is_retried_not_lost(pair):
    first, second = pair
    sender = "local@example.test"
    first.add_user(sender, PASSWORD)
    second.stop()
    send_from(first, sender, "nouser@example.test", "lost-bounce")
    assert wait_log(first, "result=deferred") >= 1
    ids = queue_ids(first)
    assert len(ids) == 1
    msg = os.path.join(first.dir, "queue", ids[0] + ".msg")
    aside = msg + ".aside"
    os.rename(msg, aside)
    second.start()
    # `tern queue flush` refuses an entry without its data: the role's request file
    open(os.path.join(first.dir, "queue", "flush", "all"), "w").close()
    assert wait_log(first, "event=queue.bounce_failed") >= 1
    time.sleep(0.5)
    # the entry and its recipient stay: the report is owed
    assert queue_ids(first) == ids
    with open(os.path.join(first.dir, "queue", ids[0] + ".state")) as f:
        assert "unreported " in f.read()
    assert dsn_reports(first, sender) == []
    peer_attempts = second.log().count("nobody@other.test")
    os.rename(aside, msg)
    first.tern("queue", "flush", ids[0])
    reports = wait_reports(first, sender, 1)
    assert len(reports) == 1, first.log()
    assert reports[0][1][0]["Status"] == "5.1.1"
    assert "event=queue.bounce_retry" in first.log()
    assert wait_queue_empty(first) == []
    # only the report was retried, not the delivery
    assert second.log().count("nobody@other.test") == peer_attempts
    time.sleep(0.5)
    assert len(dsn_reports(first, sender)) == 1
