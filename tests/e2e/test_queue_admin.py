"""The admin's view of the queue (issue 9, docs/queue.md "tern queue"):
hold/release, delete, bounce, flush, hold rules, --json and filters, and
the delay warning, with two Tern instances as in test_queue_delivery.py
(the second on 127.0.0.2 is the MX of other.test). Where it applies each
action runs twice: through the running queue role (a request in
queue/flush/, answered in queue/answers/) and with the first stopped (the
CLI acts on the spool files itself, the role picks the result up at its
next start)."""
import fcntl
import json
import os
import time

import pytest

from test_queue_delivery import (REMOTE, delivered, dsn_reports, make_pair, queue_ids,
                                 send_from, stop_pair, wait_delivered, wait_queue_empty,
                                 wait_reports)

SENDER = "local@example.test"
PASSWORD = "correct horse battery staple"
MODES = ["role", "files"]


@pytest.fixture(autouse=True)
def _dirs(instance_dir):
    os.makedirs(os.path.join(instance_dir, "a"))
    os.makedirs(os.path.join(instance_dir, "b"))


@pytest.fixture
def pair(instance_dir):
    first, second = make_pair(instance_dir)
    first.add_user(SENDER, PASSWORD)
    yield first, second
    stop_pair(first, second)


def role_gone(inst, timeout=10):
    """Wait until no queue role holds queue/role.lock (after a stop)."""
    path = os.path.join(inst.dir, "queue", "role.lock")
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(f, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                pass
        time.sleep(0.05)
    raise AssertionError("the queue role still holds role.lock")


def stop_first(first):
    first.stop()
    role_gone(first)


def start_first(first):
    since = os.path.getsize(first.log_path)
    first.start()
    first.wait_for_log("role=queue event=role.ready", since=since)
    return since


def deferred_message(first, second, subject, rcpt_options=()):
    """A message to bob@other.test from the local sender, deferred once
    while the second is down; returns its queue id."""
    second.stop()
    since = os.path.getsize(first.log_path)
    send_from(first, SENDER, "fwd@example.test", subject, rcpt_options)
    first.wait_for_log("result=deferred", since=since)
    ids = queue_ids(first)
    assert len(ids) == 1
    return ids[0]


def act(first, mode, *args):
    """Run `tern queue ARGS` with the queue role running or not."""
    if mode == "files":
        stop_first(first)
    out = first.tern("queue", *args)
    if mode == "files":
        start_first(first)
    return out


def list_json(first, *filters):
    return json.loads(first.tern("queue", "list", "--json", *filters).stdout)


@pytest.mark.parametrize("mode", MODES)
def test_held_is_not_delivered_then_release_delivers(pair, mode):
    first, second = pair
    qid = deferred_message(first, second, "held")
    out = act(first, mode, "hold", qid)
    assert f"held {qid}" in out.stdout
    second.start()
    first.tern("queue", "flush", qid)  # a flush does not override a hold
    time.sleep(1.5)
    assert delivered(second, REMOTE, "held") == 0
    assert queue_ids(first) == [qid]
    entries = list_json(first, "--held")
    assert [e["id"] for e in entries] == [qid] and entries[0]["held"] is True
    assert "held since" in first.tern("queue", "show", qid).stdout
    out = act(first, mode, "release", qid)
    assert f"released {qid}" in out.stdout
    # released: due at once, not at the 60 s retry
    assert wait_delivered(second, REMOTE, "held", timeout=10) == 1
    assert wait_queue_empty(first) == []
    time.sleep(0.3)
    assert delivered(second, REMOTE, "held") == 1


@pytest.mark.parametrize("mode", MODES)
def test_delete_removes_without_a_report(pair, mode):
    first, second = pair
    qid = deferred_message(first, second, "deleted")
    out = act(first, mode, "delete", qid)
    assert f"deleted {qid}" in out.stdout
    assert queue_ids(first) == []
    assert not os.path.exists(os.path.join(first.dir, "queue", qid + ".state"))
    second.start()
    first.tern("queue", "flush")
    time.sleep(1.0)
    assert delivered(second, REMOTE, "deleted") == 0
    assert dsn_reports(first, SENDER) == []
    show = first.tern("queue", "show", qid, check=False)
    assert show.returncode == 1 and "no such queue entry" in show.stderr


@pytest.mark.parametrize("mode", MODES)
def test_bounce_reports_to_the_local_sender(pair, mode):
    first, second = pair
    qid = deferred_message(first, second, "bounced")
    out = act(first, mode, "bounce", qid)
    assert f"bounced {qid}" in out.stdout
    reports = wait_reports(first, SENDER, 1)
    assert len(reports) == 1, first.log()
    per_message, per_rcpt = reports[0]
    assert per_message["Reporting-MTA"].startswith("dns;")
    assert per_rcpt[0]["Final-Recipient"].lower() == "rfc822; " + REMOTE
    assert per_rcpt[0]["Action"] == "failed"
    assert per_rcpt[0]["Status"] == "5.0.0"
    assert "given up by the administrator" in per_rcpt[0]["Diagnostic-Code"]
    assert wait_queue_empty(first) == []
    second.start()
    time.sleep(0.5)
    assert delivered(second, REMOTE, "bounced") == 0


@pytest.mark.parametrize("mode", MODES)
def test_hold_rule_by_recipient_domain(pair, mode):
    first, second = pair
    out = act(first, mode, "hold-rule", "add", "to-domain", "other.test")
    assert "added hold rule 1: to-domain other.test" in out.stdout
    listed = first.tern("queue", "hold-rule", "list").stdout
    assert listed == "1 to-domain other.test\n"
    rules = json.loads(first.tern("queue", "hold-rule", "list", "--json").stdout)
    assert rules == [{"number": 1, "kind": "to-domain", "value": "other.test"}]
    send_from(first, SENDER, "fwd@example.test", "ruled")
    first.wait_for_log("event=queue.held ")
    time.sleep(1.0)
    assert delivered(second, REMOTE, "ruled") == 0
    [entry] = list_json(first)
    assert entry["held"] is True
    # removing the rule does not release what it held; release does
    first.tern("queue", "hold-rule", "remove", "1")
    assert first.tern("queue", "hold-rule", "list").stdout == "No hold rules\n"
    first.tern("queue", "release", entry["id"])
    assert wait_delivered(second, REMOTE, "ruled") == 1
    assert wait_queue_empty(first) == []
    # and new mail is no longer held
    send_from(first, SENDER, "fwd@example.test", "unruled")
    assert wait_delivered(second, REMOTE, "unruled") == 1


def test_hold_rule_by_sender_and_bad_rules(pair):
    first, second = pair
    first.tern("queue", "hold-rule", "add", "from", SENDER)
    send_from(first, SENDER, "fwd@example.test", "from-rule")
    first.wait_for_log("event=queue.held ")
    assert list_json(first, "--held")[0]["sender"] == SENDER
    bad = first.tern("queue", "hold-rule", "remove", "7", check=False)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    bad = first.tern("queue", "hold-rule", "add", "subject", "x", check=False)
    assert bad.returncode == 2


@pytest.mark.parametrize("mode", MODES)
def test_flush_retries_a_deferred_entry_at_once(pair, mode):
    first, second = pair
    qid = deferred_message(first, second, "flushed")
    second.start()
    time.sleep(0.5)
    assert delivered(second, REMOTE, "flushed") == 0  # retry_first is 60 s
    t0 = time.time()
    out = act(first, mode, "flush", qid)
    assert f"flushed {qid}" in out.stdout
    assert wait_delivered(second, REMOTE, "flushed", timeout=10) == 1
    assert time.time() - t0 < 20
    assert wait_queue_empty(first) == []


def test_flush_by_domain(pair):
    first, second = pair
    deferred_message(first, second, "by-domain")
    second.start()
    out = first.tern("queue", "flush", "--domain", "other.test")
    assert "flushed " in out.stdout
    assert wait_delivered(second, REMOTE, "by-domain", timeout=10) == 1


def test_list_json_and_filters(pair):
    first, second = pair
    qid = deferred_message(first, second, "listed")
    entries = list_json(first)
    assert len(entries) == 1
    e = entries[0]
    for field in ("id", "arrival", "arrival_utc", "size", "sender", "held", "recipients"):
        assert field in e, e
    assert e["id"] == qid and e["sender"] == SENDER and e["held"] is False
    [r] = e["recipients"]
    assert r["address"] == REMOTE and r["status"] == "pending"
    assert r["attempts"] == 1 and r["code"] == 451 and r["next"] > time.time()
    shown = json.loads(first.tern("queue", "show", qid, "--json").stdout)
    assert shown["id"] == qid and shown["client"] == "127.0.0.1"
    assert shown["recipients"][0]["alias"] == "fwd@example.test"
    assert [x["id"] for x in list_json(first, "--from", SENDER)] == [qid]
    assert list_json(first, "--from", "other@example.test") == []
    assert [x["id"] for x in list_json(first, "--to", REMOTE)] == [qid]
    assert [x["id"] for x in list_json(first, "--domain", "OTHER.test")] == [qid]
    assert list_json(first, "--domain", "third.test") == []
    assert list_json(first, "--held") == []
    assert list_json(first, "--older-than", "1h") == []
    assert [x["id"] for x in list_json(first, "--older-than", "0s")] == [qid]
    text = first.tern("queue", "list", "--domain", "third.test").stdout
    assert text == "No message matches\n"
    assert qid in first.tern("queue", "list", "--to", REMOTE).stdout
    bad = first.tern("queue", "list", "--older-than", "soon", check=False)
    assert bad.returncode == 2


@pytest.mark.parametrize("mode", MODES)
def test_unknown_ids_are_one_line_errors(pair, mode):
    first, second = pair
    if mode == "files":
        stop_first(first)
    for verb in ("hold", "release", "delete", "bounce", "flush"):
        out = first.tern("queue", verb, "0" * 24, check=False)
        assert out.returncode == 1, (verb, out)
        assert out.stderr == f"tern: queue: {'0' * 24}: no such queue entry\n"
    out = first.tern("queue", "hold", "not/an-id", check=False)
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    if mode == "files":
        start_first(first)


def test_hold_all_and_release_all(pair):
    first, second = pair
    deferred_message(first, second, "all1")
    out = first.tern("queue", "hold", "--all")
    assert out.stdout.startswith("held ")
    assert len(list_json(first, "--held")) == 1
    second.start()
    first.tern("queue", "release", "--held")
    assert wait_delivered(second, REMOTE, "all1", timeout=10) == 1


@pytest.fixture
def warn_pair(instance_dir):
    first, second = make_pair(instance_dir, queue_extra=lambda a, b: "\tdelay_warning = 2s\n")
    first.add_user(SENDER, PASSWORD)
    yield first, second
    stop_pair(first, second)


def test_delay_warning_sent_once(warn_pair):
    first, second = warn_pair
    second.stop()
    send_from(first, SENDER, "fwd@example.test", "slow")
    send_from(first, SENDER, "fwd@example.test", "quiet", ["NOTIFY=NEVER"])
    send_from(first, SENDER, "fwd@example.test", "failonly", ["NOTIFY=FAILURE"])
    reports = wait_reports(first, SENDER, 1, timeout=15)
    assert len(reports) == 1, first.log()
    per_message, per_rcpt = reports[0]
    assert per_rcpt[0]["Action"] == "delayed"
    assert per_rcpt[0]["Status"].startswith("4.")
    assert "Will-Retry-Until" in per_rcpt[0]
    # the warned record keeps it to one, through a flush and a restart
    first.tern("queue", "flush")
    time.sleep(3)
    stop_first(first)
    start_first(first)
    time.sleep(2)
    assert len(dsn_reports(first, SENDER)) == 1
    log = first.log()
    assert log.count("event=queue.delay_warning ") == 3
    assert log.count("report=none") == 2  # NOTIFY=NEVER and NOTIFY=FAILURE
    for e in list_json(first):
        assert e["warned"] > 0
