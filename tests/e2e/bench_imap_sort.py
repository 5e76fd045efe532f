"""Hand measurement, not part of the suite (pytest collects test_*.py
only): SORT and THREAD over a 10,000-message INBOX, cold (every file's
header parsed, the header cache filled) and warm (the cache alone), and the
same answers from Dovecot on a copy of the Maildir. Run:
  TERN_BIN=$PWD/build/tern python3 -m pytest tests/e2e/bench_imap_sort.py -q -p no:cacheprovider
Figures go to $TMPDIR/tern-sort-bench.txt (docs/imap.md, "SORT and THREAD")."""
import os
import random
import tempfile
import time
from test_imap import USER, PASSWORD, connect_starttls
from test_imap_sort import command

N = 10000

def make(md):
    cur = os.path.join(md, "cur")
    rnd = random.Random(5)
    for i in range(N):
        t = 1700000000 + i
        subj = rnd.choice(["Re: ", "Fwd: ", "", "[list] "]) + "topic %d" % rnd.randrange(1500)
        refs = "<m%d@b>" % rnd.randrange(max(1, i)) if i and rnd.random() < 0.6 else None
        h = "From: User %d <u%d@x.test>\r\nTo: t%d@y.test\r\nSubject: %s\r\nDate: Mon, 6 Jan 2020 10:%02d:%02d +0000\r\nMessage-ID: <m%d@b>\r\n" % (
            i % 300, i % 300, i % 97, subj, (i // 60) % 60, i % 60, i)
        if refs:
            h += "References: %s\r\nIn-Reply-To: %s\r\n" % (refs, refs)
        body = "x" * rnd.randrange(200, 3000)
        p = os.path.join(cur, "%d.M%dP1.b:2,S" % (t, i))
        with open(p, "w") as f:
            f.write(h + "\r\n" + body + "\r\n")
        os.utime(p, (t, t))

SERVER = []  # the server's pid, for cpu_ms()


def cpu_ms():
    """User + system CPU time of the server and its descendants, in ms
    (less sensitive than the round trip to a shared, loaded machine)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                stats[int(d)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
            except OSError:
                pass
    tree, total, frontier = set(SERVER), 0, list(SERVER)
    while frontier:
        p = frontier.pop()
        total += stats.get(p, (0, 0))[1]
        for c, (ppid, _) in stats.items():
            if ppid == p and c not in tree:
                tree.add(c)
                frontier.append(c)
    return total * 1000.0 / tick


def timed(m, line):
    t, c = time.monotonic(), cpu_ms()
    u, st = command(m, line)
    assert st.startswith(b"OK"), st
    return (time.monotonic() - t) * 1000, cpu_ms() - c

def test_bench(instance):
    SERVER[:] = [instance.proc.pid]
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance); m.logout()
    make(instance.maildir(USER))
    m = connect_starttls(instance)
    m.select("INBOX")
    r = {}
    r["sort subject cold"] = timed(m, "UID SORT (SUBJECT) UTF-8 ALL")
    for k in range(3):
        r["sort subject warm %d" % k] = timed(m, "UID SORT (SUBJECT) UTF-8 ALL")
        r["sort date warm %d" % k] = timed(m, "UID SORT (DATE) UTF-8 ALL")
        r["sort arrival warm %d" % k] = timed(m, "UID SORT (ARRIVAL) UTF-8 ALL")
        r["sort from,subject warm %d" % k] = timed(m, "UID SORT (FROM SUBJECT) UTF-8 ALL")
        r["thread refs warm %d" % k] = timed(m, "UID THREAD REFERENCES UTF-8 ALL")
        r["thread os warm %d" % k] = timed(m, "UID THREAD ORDEREDSUBJECT UTF-8 ALL")
    m.logout()
    with open(os.path.join(tempfile.gettempdir(), "tern-sort-bench.txt"), "w") as f:
        for k, v in r.items():
            f.write("%s: %.0f ms, server CPU %.0f ms\n" % (k, v[0], v[1]))
        f.write("\n".join(l for l in instance.log().split("\n") if "imap.sort" in l or "imap.thread" in l))


def test_dovecot_same_10k(instance):
    import subprocess, shutil, imaplib
    import test_mime_dovecot as dv
    uid, gid, internal, group, login = dv.mail_account()
    instance.add_user(USER, PASSWORD)
    m = connect_starttls(instance); m.logout()
    make(instance.maildir(USER))
    cmds = ["UID SORT (SUBJECT) UTF-8 ALL", "UID SORT (DATE) UTF-8 ALL", "UID SORT (FROM SUBJECT) UTF-8 ALL",
            "UID SORT (REVERSE DISPLAYFROM) UTF-8 ALL", "UID SORT (SIZE) UTF-8 ALL",
            "UID THREAD REFERENCES UTF-8 ALL", "UID THREAD ORDEREDSUBJECT UTF-8 ALL"]
    def run(m):

        out, times = {}, {}
        for c in cmds:
            command(m, c)  # warm
            t = time.monotonic()
            u, st = command(m, c)
            times[c] = (time.monotonic() - t) * 1000
            out[c] = u[0]
        return out, times
    m = connect_starttls(instance); m.select("INBOX")
    tern, tt = run(m); m.logout()
    d = tempfile.mkdtemp(prefix="tern-sb-"); os.chmod(d, 0o755)
    for sub in ("run", "state"):
        os.makedirs(os.path.join(d, sub))
    instance.stop()
    shutil.copytree(instance.maildir(USER), os.path.join(d, "mail"),
                    ignore=shutil.ignore_patterns("tern-*"))
    port = dv.free_port()
    with open(os.path.join(d, "dovecot.conf"), "w") as f:
        f.write(dv.CONF.format(d=d, port=port, internal=internal, group=group, login=login))
    with open(os.path.join(d, "passwd"), "w") as f:
        f.write("st:{PLAIN}st-pass:%d:%d::%s/mail::\n" % (uid, gid, d))
    for root, dirs, files in os.walk(d):
        for n in [root] + [os.path.join(root, x) for x in files]:
            os.chown(n, uid, gid)
    proc = subprocess.Popen([dv.DOVECOT, "-F", "-c", os.path.join(d, "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        dv.wait_port(port, proc)
        dm = imaplib.IMAP4("127.0.0.1", port); dm.login("st", "st-pass"); dm.select("INBOX")
        dove, dt = run(dm); dm.logout()
    finally:
        proc.terminate(); proc.wait(20)
        shutil.rmtree(d, ignore_errors=True)
    with open(os.path.join(tempfile.gettempdir(), "tern-sort-bench.txt"), "a") as f:
        for c in cmds:
            f.write("%s: tern %.0f ms dovecot %.0f ms same=%s\n" % (c, tt[c], dt[c], tern[c] == dove[c]))
            if tern[c] != dove[c]:
                a, b = tern[c], dove[c]
                i = next(i for i in range(min(len(a), len(b))) if a[i] != b[i])
                f.write("  tern %r\n  dove %r\n" % (a[max(0,i-200):i+200], b[max(0,i-200):i+200]))
