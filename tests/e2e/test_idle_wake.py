"""IDLE wakes at once on a change (docs/processes.md, the channel): an SMTP
delivery or an APPEND by another session, possibly in another imap process,
reaches a client sitting in IDLE through the supervisor's fan-out instead of
the fallback poll. The bound is a correctness property of the wake-up: the
poll alone (IMAP_IDLE_POLL seconds) cannot meet it."""
import imaplib
import os
import re
import signal
import smtplib
import time

import pytest

from conftest import Instance
from test_imap import USER, PASSWORD, connect_starttls
from test_server import children

DELIVERIES = 20
P95_LIMIT = 0.300  # seconds


def p95(values):
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def start_idle(instance):
    m = connect_starttls(instance)
    m.select("INBOX")
    m.send(b"I1 IDLE\r\n")
    assert m.readline().startswith(b"+")
    m.sock.settimeout(10)
    return m


def wait_exists(m, count):
    """Read untagged lines until '* count EXISTS'; returns the arrival time."""
    while True:
        line = m.readline()
        assert line, "connection closed while in IDLE"
        got = re.match(rb"\* (\d+) EXISTS", line)
        if got and int(got.group(1)) >= count:
            return time.monotonic()


def stop_idle(m):
    m.send(b"DONE\r\n")
    while not m.readline().startswith(b"I1 "):
        pass
    m.logout()


def started_with_processes(instance_dir, n):
    """A server like the `instance` fixture's, with `processes = n` set
    before its first start (a restart would free its ports for a moment,
    and a parallel test could take them)."""
    inst = Instance(instance_dir)
    with open(inst.config, "a") as f:
        f.write(f"\nprocesses = {n}\n")
    inst.start()
    return inst


@pytest.fixture
def two_processes(instance_dir):
    inst = started_with_processes(instance_dir, 2)
    yield inst
    inst.stop()
    inst.check_sanitizers()


@pytest.fixture
def three_processes(instance_dir):
    inst = started_with_processes(instance_dir, 3)
    yield inst
    inst.stop()
    inst.check_sanitizers()


def test_idle_sees_smtp_delivery_at_once(two_processes):
    instance = two_processes
    instance.add_user(USER, PASSWORD)
    m = start_idle(instance)
    latencies = []
    smtp = smtplib.SMTP("127.0.0.1", instance.port("smtp"), timeout=10)
    for i in range(1, DELIVERIES + 1):
        body = (f"From: bob@remote.test\r\nTo: {USER}\r\nSubject: wake {i}\r\n\r\n"
                f"message {i}\r\n").encode()
        smtp.sendmail("bob@remote.test", [USER], body)
        committed = time.monotonic()  # the 250: durable in the Maildir
        latencies.append(max(0.0, wait_exists(m, i) - committed))
    smtp.quit()
    stop_idle(m)
    print(f"IDLE wake after SMTP delivery: p95 {p95(latencies) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms over {DELIVERIES}")
    assert p95(latencies) < P95_LIMIT, latencies


def test_idle_sees_append_from_other_session(two_processes):
    """Two imap processes: the APPEND and the IDLE may sit in different ones;
    both get the notification."""
    instance = two_processes
    instance.add_user(USER, PASSWORD)
    m = start_idle(instance)
    latencies = []
    for i in range(1, 11):
        other = connect_starttls(instance)
        typ, _ = other.append("INBOX", None, None, f"Subject: a{i}\r\n\r\nx\r\n".encode())
        done = time.monotonic()
        assert typ == "OK"
        latencies.append(max(0.0, wait_exists(m, i) - done))
        other.logout()
    stop_idle(m)
    assert p95(latencies) < P95_LIMIT, latencies


def role_pids(log, role):
    """{process index: pid} of the latest start of each process of role."""
    pids = {}
    for pid, k in re.findall(rf"event=role.started role={role} pid=(\d+) process=(\d+)", log):
        pids[int(k)] = int(pid)
    return pids


def test_processes_setting_runs_several_role_processes(three_processes):
    instance = three_processes
    since = os.path.getsize(instance.log_path)
    smtp, imap = role_pids(instance.log(), "smtp"), role_pids(instance.log(), "imap")
    queue = role_pids(instance.log(), "queue")
    assert sorted(smtp) == [0, 1, 2] and sorted(imap) == [0, 1, 2]
    assert sorted(queue) == [0]  # a role without listeners runs one process
    assert sorted(children(instance.proc.pid)) == sorted(
        list(smtp.values()) + list(imap.values()) + list(queue.values()))
    # One process crashing is restarted alone, with its index; the others
    # go on serving meanwhile.
    instance.add_user(USER, PASSWORD)
    os.kill(imap[1], signal.SIGABRT)
    instance.wait_for_log(f"event=role.crashed role=imap pid={imap[1]}")
    for _ in range(6):
        c = connect_starttls(instance)
        assert c.noop()[0] == "OK"
        c.logout()
    instance.wait_for_log("event=role.started role=imap", since=since)
    after = role_pids(instance.log(), "imap")
    assert after[1] != imap[1] and after[0] == imap[0] and after[2] == imap[2]


def test_reload_replaces_every_process(three_processes):
    """SIGHUP: each of the three processes of each role is replaced; the old
    ones drain (no sessions here, so at once), notifications still reach the
    new generation."""
    instance = three_processes
    log = instance.log()
    old = {role: role_pids(log, role) for role in ("smtp", "imap")}
    since = os.path.getsize(instance.log_path)
    instance.proc.send_signal(signal.SIGHUP)
    instance.wait_for_log("event=config.reloaded", since=since)
    for role in ("smtp", "imap"):
        for pid in old[role].values():
            instance.wait_for_log(f"event=role.drained role={role} pid={pid}", since=since)
    log = instance.log()
    for role in ("smtp", "imap"):
        new = role_pids(log, role)
        assert sorted(new) == [0, 1, 2]
        assert not set(new.values()) & set(old[role].values())
    instance.add_user(USER, PASSWORD)
    m = start_idle(instance)
    with smtplib.SMTP("127.0.0.1", instance.port("smtp"), timeout=10) as smtp:
        smtp.sendmail("bob@remote.test", [USER], b"Subject: after reload\r\n\r\nx\r\n")
        done = time.monotonic()
    # One sample, so a loose bound: far below the 30 s fallback poll.
    assert wait_exists(m, 1) - done < 2.0
    stop_idle(m)
