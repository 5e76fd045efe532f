"""The kill -9 torture test of the outbound queue (issue 9, "Durability";
docs/queue.md, "Duplicates"). Two Tern instances: the first (127.0.0.1)
relays for its trusted network (smtp.trusted_networks = 127.0.0.1/32) and
its zone file makes the second (127.0.0.2) the MX of other.test. Several
clients send to bob@other.test through the first, each message with its
own Message-ID, while the test kills the first's supervisor (then starts
the server again) or its queue role (the supervisor restarts it) with
SIGKILL at random instants. At the end, after a flush and a bounded wait:

- every message the first answered 250 is in bob's Maildir at the second
  once, or twice only when a kill fell between the second's 250 and the
  first's record of it: the first copy arrived before a kill and the first
  had not removed the entry (which it does only after the `done` line is
  durable) before that kill; none is lost;
- nothing arrives that was never sent, nothing arrives three times;
- queue/ holds no entry, and what crashes left behind (an envelope not
  committed, a data file alone, a state file alone) belongs to no entry and
  is gone once `spool_cleanup` sees it old enough (the files are aged, the
  server restarted).

The random instants come from a seed: TORTURE_SEED=N reproduces a run (the
seed is printed). bench/queue/torture runs the same with larger counts."""
import calendar
import os
import random
import re
import signal
import smtplib
import threading
import time

from conftest import Instance

RCPT = "bob@other.test"
PASSWORD = "correct horse battery staple"
SENDER = "sender@elsewhere.test"


def ts_seconds(line):
    """The ts= of a log line as seconds since the epoch."""
    m = re.search(r" ts=(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z", line)
    y, mo, d, h, mi, s, ms = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) + ms / 1000.0


def make_pair(base, max_per_destination=4, max_connections=20):
    os.makedirs(os.path.join(base, "a"), exist_ok=True)
    os.makedirs(os.path.join(base, "b"), exist_ok=True)
    second = Instance(os.path.join(base, "b"), ip="127.0.0.2", hostname="mx.other.test")
    second.tern("domain", "add", "other.test")
    second.add_user(RCPT, PASSWORD)
    second.start()
    first = Instance(os.path.join(base, "a"))
    first.write_zone("other.test MX 10 mx.other.test\nmx.other.test A 127.0.0.2\n")
    with open(first.config) as f:
        text = f.read()
    assert "\ttrusted_networks =\n" in text
    text = text.replace("\ttrusted_networks =\n", "\ttrusted_networks = 127.0.0.1/32\n")
    # retry_first long: what the killed roles left must go by the restart's
    # own pass or the final flush, not by a retry timer that hides a loss
    text += ("\nqueue {\n\tport = %d\n\tretry_first = 600s\n\tcommand_timeout = 10s\n"
             "\tgreeting_timeout = 10s\n\tconnect_timeout = 5s\n\tdata_timeout = 10s\n"
             "\tmax_per_destination = %d\n\tmax_connections = %d\n}\n"
             % (second.port("smtp"), max_per_destination, max_connections))
    with open(first.config, "w") as f:
        f.write(text)
    first.start()
    first.wait_for_log("role=queue event=role.ready")
    return first, second


class Load:
    """`clients` threads, each one SMTP session after another to the first
    (reconnecting after a kill), one message per transaction, as fast as
    the server takes them, until `budget` messages got a 250 (the killer
    raises it round by round, up to `count`) or `seconds` passed."""

    def __init__(self, first, count, clients, seconds):
        self.port = first.port("smtp")
        self.count = count
        self.budget = count
        self.clients = clients
        self.deadline = time.time() + seconds
        self.lock = threading.Lock()
        self.next = 0
        self.accepted = {}      # Message-ID -> the first's smtp id ("queued as")
        self.unacked = set()    # DATA sent, but no 250 seen (a kill)
        self.threads = []

    def _take(self):
        while time.time() < self.deadline:
            with self.lock:
                if len(self.accepted) >= self.count:
                    return None
                if len(self.accepted) < self.budget:
                    self.next += 1
                    return "<torture-%d-%d@client.test>" % (self.next, os.getpid())
            time.sleep(0.01)
        return None

    def _client(self, n):
        s = None
        while True:
            mid = self._take()
            if mid is None:
                break
            body = ("From: <%s>\r\nTo: <%s>\r\nSubject: torture\r\nMessage-ID: %s\r\n\r\n"
                    % (SENDER, RCPT, mid) + ("line of the torture test body\r\n" * 30))
            reply = None
            sent = False
            try:
                if s is None:
                    s = smtplib.SMTP("127.0.0.1", self.port, timeout=15)
                    s.ehlo("client%d.test" % n)
                code, _ = s.mail(SENDER)
                if code == 250:
                    code, _ = s.rcpt(RCPT)
                if code == 250:
                    sent = True
                    code, reply = s.data(body.encode())
                else:
                    s.rset()
                if code != 250:
                    reply = None
            except (OSError, smtplib.SMTPException):
                reply = None
                try:
                    if s is not None:
                        s.close()
                except OSError:
                    pass
                s = None
                time.sleep(0.05)
            with self.lock:
                if reply is not None:
                    m = re.search(rb"queued as (\S+)", reply)
                    self.accepted[mid] = m.group(1).decode() if m else "?"
                elif sent:
                    self.unacked.add(mid)
        if s is not None:
            try:
                s.quit()
            except (OSError, smtplib.SMTPException):
                pass

    def start(self):
        for n in range(self.clients):
            t = threading.Thread(target=self._client, args=(n,), daemon=True)
            t.start()
            self.threads.append(t)

    def running(self):
        return any(t.is_alive() for t in self.threads)

    def join(self, timeout):
        end = time.time() + timeout
        for t in self.threads:
            t.join(max(0.0, end - time.time()))
        assert not self.running(), "the clients did not finish"


def queue_role_pid(first, since):
    """The pid of the newest queue role that logged role.ready."""
    with open(first.log_path, "rb") as f:
        f.seek(since)
        text = f.read().decode("utf-8", "replace")
    pids = re.findall(r"role=queue event=role\.ready pid=(\d+)", text)
    return int(pids[-1]) if pids else None


def wait_queue_role(first, since, old_pid, timeout=60):
    """Wait for a queue role other than old_pid to be ready."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pid = queue_role_pid(first, since)
        if pid is not None and pid != old_pid:
            return pid
        time.sleep(0.05)
    raise AssertionError("no new queue role became ready; log:\n" + first.log()[-4000:])


class Killer:
    """`kills` SIGKILLs, alternating at random between the supervisor (then
    the server is started again) and the queue role (the supervisor
    restarts it). The load goes in rounds, one per kill: the kill comes when
    a random share of the round's messages got their 250 (the queue role is
    then busy with them), plus a random delay of up to 50 ms."""

    def __init__(self, first, rng, kills):
        self.first = first
        self.rng = rng
        self.done = []  # (what, time before, time after, log offset before)
        kinds = ["supervisor", "queue"] * (kills // 2 + 1)
        kinds = kinds[:kills]
        rng.shuffle(kinds)
        self.kinds = kinds

    def run(self, load, timeout=60):
        first = self.first
        since = 0
        pid = queue_role_pid(first, 0)
        rounds = len(self.kinds) + 1
        start = 0
        for k, what in enumerate(self.kinds):
            end = load.count * (k + 1) // rounds
            at = start + int(self.rng.uniform(0.2, 1.0) * (end - start))
            delay = self.rng.uniform(0, 0.05)
            with load.lock:
                load.budget = end
            deadline = time.time() + timeout
            while len(load.accepted) < at and time.time() < deadline:
                time.sleep(0.002)
            time.sleep(delay)
            offset = os.path.getsize(first.log_path)
            before = time.time()
            if what == "supervisor":
                first.kill9()
                # the roles get SIGTERM from the kernel (PR_SET_PDEATHSIG,
                # src/master/role.c), not SIGKILL: the queue role may live
                # on for a moment; the kill ends when it is gone
                gone = time.time() + 10
                while os.path.exists("/proc/%d" % pid) and time.time() < gone:
                    time.sleep(0.005)
                after = time.time()
                since = os.path.getsize(first.log_path)
                first.start()
                pid = wait_queue_role(first, since, None)
            else:
                os.kill(pid, signal.SIGKILL)
                after = time.time()
                pid = wait_queue_role(first, since, pid)
            self.done.append((what, before, after, offset))
            start = end
        with load.lock:
            load.budget = load.count


def arrivals(second):
    """Message-ID -> [(arrival time at the second, the first's smtp id)]."""
    times = {}
    for line in second.log().splitlines():
        m = re.search(r"event=smtp\.message id=(\S+)", line)
        if m:
            times[m.group(1)] = ts_seconds(line)
    out = {}
    d = second.maildir(RCPT)
    for sub in ("new", "cur"):
        path = os.path.join(d, sub)
        for name in os.listdir(path) if os.path.isdir(path) else []:
            with open(os.path.join(path, name), "rb") as f:
                data = f.read()
            mid = re.search(rb"\r\nMessage-ID: (\S+)\r\n", data).group(1).decode()
            ids = re.findall(rb"\(Tern\) with ESMTPS? id (\S+)", data)
            # the second's Received comes first, then the first's
            out.setdefault(mid, []).append((times.get(ids[0].decode(), 0.0),
                                            ids[1].decode() if len(ids) > 1 else "?"))
    for copies in out.values():
        copies.sort()
    return out


def queue_files(first):
    d = os.path.join(first.dir, "queue")
    # not the queue role's request, answer, rules and MTA-STS cache directories, nor its lock
    return sorted(n for n in os.listdir(d)
                  if not os.path.isdir(os.path.join(d, n)) and n != "role.lock")


def wait_delivered(second, expected, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = arrivals(second)
        if all(mid in got for mid in expected):
            return got
        time.sleep(0.2)
    return arrivals(second)


PEER_COMMIT_SLACK = 2.0


def in_window(copies, queue_id, kills, log_text_at):
    """Whether a second copy is explained by a kill between the peer's 250
    and our record: some kill came after the first copy arrived, before the
    second did, and the first had not removed the entry (the removal
    follows the durable `done`) before that kill."""
    first_at, second_at = copies[0][0], copies[1][0]
    for what, before, after, offset in kills:
        # The peer stamps a copy when it has stored it, which on a loaded
        # machine can be well after our end of data: a kill up to
        # PEER_COMMIT_SLACK before that stamp still fell between the dot
        # we sent and the 250 we would have recorded (a copy arriving after
        # a kill was sent before it, or the peer would have dropped it).
        if not (first_at <= after + PEER_COMMIT_SLACK and before <= second_at + 0.01):
            continue
        if "event=queue.removed id=%s" % queue_id not in log_text_at(offset):
            return True
    return False


def run_torture(base, count=150, clients=4, kills=5, seed=None, seconds=80,
                wait=40, out=print):
    """One run; returns the counts and a list of problems (empty: passed)."""
    if seed is None:
        seed = int(os.environ.get("TORTURE_SEED", random.SystemRandom().randrange(1 << 31)))
    out("torture: seed %d (TORTURE_SEED=%d reproduces the kill instants)" % (seed, seed))
    rng = random.Random(seed)
    first, second = make_pair(base)
    problems = []
    try:
        t0 = time.time()
        load = Load(first, count, clients, seconds)
        killer = Killer(first, rng, kills)
        load.budget = count // (kills + 1)
        load.start()
        killer.run(load)
        load.join(seconds + 30)
        t_load = time.time() - t0
        # a last flush: entries a killed role had deferred (a lost session)
        # wait for retry_first otherwise
        first.tern("queue", "flush")
        got = wait_delivered(second, load.accepted, wait)
        deadline = time.time() + wait
        while time.time() < deadline and any(n.endswith(".env") for n in queue_files(first)):
            time.sleep(0.2)
        time.sleep(0.5)  # anything still in flight arrives (and is counted)
        got = arrivals(second)
        log = first.log()

        def log_at(offset):
            return log[:offset]

        smtp_to_queue = dict(re.findall(r"event=smtp\.message id=(\S+) .*? queue_id=(\S+)", log))
        once = twice = lost = 0
        for mid, sid in load.accepted.items():
            copies = got.get(mid, [])
            if len(copies) == 0:
                lost += 1
                qid = smtp_to_queue.get(sid, "?")
                state = os.path.join(first.dir, "queue", qid + ".state")
                if os.path.exists(os.path.join(first.dir, "queue", qid + ".env")):
                    last = open(state).read().splitlines()[-1:] if os.path.exists(state) else []
                    problems.append("not delivered, still queued: %s (queued as %s, queue id "
                                    "%s, last state: %s)" % (mid, sid, qid, last))
                else:
                    problems.append("lost: %s (queued as %s, queue id %s, no entry left)"
                                    % (mid, sid, qid))
            elif len(copies) == 1:
                once += 1
            elif len(copies) == 2:
                twice += 1
                qid = smtp_to_queue.get(sid, "?")
                if not in_window(copies, qid, killer.done, log_at):
                    problems.append("twice outside the window: %s (queue id %s, arrived "
                                    "at %.3f and %.3f; kills at %s)"
                                    % (mid, qid, copies[0][0], copies[1][0],
                                       ["%s %.3f" % (k[0], k[1]) for k in killer.done]))
            else:
                problems.append("%d copies: %s" % (len(copies), mid))
        unacked_delivered = sum(1 for mid in load.unacked if mid in got)
        for mid, copies in got.items():
            if mid not in load.accepted and mid not in load.unacked:
                problems.append("never sent, yet delivered: %s" % mid)
            elif mid in load.unacked and len(copies) > 2:
                problems.append("%d copies of an unacknowledged message: %s"
                                % (len(copies), mid))
        out("torture: %d kills (%s) in %.1f s; accepted %d, delivered once %d, twice %d, "
            "lost %d; no 250 (a kill) %d, of which delivered anyway %d"
            % (len(killer.done), ", ".join(k[0] for k in killer.done), t_load,
               len(load.accepted), once, twice, lost, len(load.unacked),
               unacked_delivered))
        if len(load.accepted) < count:
            problems.append("only %d of %d messages accepted in %d s"
                            % (len(load.accepted), count, seconds))
        problems += check_debris(first, smtp_to_queue, load, out)
        return {"seed": seed, "accepted": len(load.accepted), "once": once,
                "twice": twice, "lost": lost, "kills": len(killer.done)}, problems
    finally:
        for inst in (first, second):
            if inst.proc is not None:
                inst.stop()
        for inst in (first, second):
            inst.check_sanitizers()


def check_debris(first, smtp_to_queue, load, out):
    """No entry left in queue/; the crash debris there is of no accepted
    message, and spool_cleanup takes all of it once it is old enough."""
    problems = []
    left = queue_files(first)
    accepted_qids = {smtp_to_queue.get(sid) for sid in load.accepted.values()}
    ids = {name.split(".")[0] for name in left}
    for qid in sorted(ids):
        kinds = sorted(n.split(".")[1] for n in left if n.split(".")[0] == qid)
        if "env" in kinds and "msg" in kinds:
            problems.append("entry still queued: %s (%s)" % (qid, kinds))
        elif qid in accepted_qids and kinds != ["state"]:
            problems.append("debris of an accepted message: %s (%s)" % (qid, kinds))
    out("torture: crash debris in queue/ before the cleanup: %s" % (left or "none"))
    if not left:
        return problems
    # spool_cleanup (at the queue role's start) takes debris older than an
    # hour: age every file by two, then start the server again
    first.stop()
    old = time.time() - 7200
    for name in left:
        os.utime(os.path.join(first.dir, "queue", name), (old, old))
    since = os.path.getsize(first.log_path)
    first.start()
    first.wait_for_log("role=queue event=role.ready", since=since)
    deadline = time.time() + 10
    while time.time() < deadline and queue_files(first):
        time.sleep(0.1)
    if queue_files(first):
        problems.append("debris the cleanup left: %s" % queue_files(first))
    return problems


def test_kill9_torture(instance_dir):
    counts, problems = run_torture(instance_dir)
    assert counts["kills"] >= 4
    assert problems == [], "\n".join(problems)
