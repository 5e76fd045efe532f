"""Shared by bench/smtp/run and bench/imap/run: one throw-away tern
instance under /tmp, driven the way an admin would (tern init, tern user
add, tern serve), plus /proc readings of the server's processes.

Everything talks to 127.0.0.1 only; DNS answers come from an empty zone
file, so no lookup leaves the machine.
"""
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time

SRCDIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TERN_BIN = os.environ.get("TERN_BIN", os.path.join(SRCDIR, "build", "tern"))
DOMAIN = "example.test"
PORTS = {"smtp": 25, "submission": 587, "submissions": 465, "imap": 143, "imaps": 993}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def raise_fd_limit():
    """Many sessions need many descriptors, in the clients and in the
    server (which inherits this limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def tern(*args, config=None, stdin=None):
    cmd = [TERN_BIN] + (["-c", config] if config else []) + list(args)
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} exited {proc.returncode}: {proc.stderr}")
    return proc


class Instance:
    """A tern instance in a fresh 0755 directory under /tmp (as root the
    roles run as the `tern` account, which must reach it)."""

    def __init__(self, offset, keep=False):
        self.base = tempfile.mkdtemp(prefix="tern-bench-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.keep = keep
        self.dir = os.path.join(self.base, "tern")
        self.offset = offset
        self.config = os.path.join(self.dir, "tern.conf")
        self.log_path = os.path.join(self.base, "server.log")
        self.proc = None
        tern("init", self.dir, "--port-offset", str(offset), "--domain", DOMAIN,
             "--hostname", "mail." + DOMAIN)
        zone = os.path.join(self.dir, "bench.zone")
        open(zone, "w").close()
        with open(self.config) as f:
            text = f.read()
        # Benchmarks log in without STARTTLS on loopback (docs/config.md).
        text = text.replace("plaintext_on_loopback = no", "plaintext_on_loopback = yes")
        text += "\ndns {\n\tzone_file = %s\n}\n" % zone
        with open(self.config, "w") as f:
            f.write(text)

    def port(self, service):
        return self.offset + PORTS[service]

    def add_user(self, address, password, fast_hash=False):
        """tern user add; with fast_hash the Argon2id hash (64 MiB, ~0.1 s
        per login) is replaced by a SHA256-CRYPT one, as an imported
        Dovecot passdb would have, so that 1000 logins do not measure
        Argon2."""
        tern("user", "add", address, config=self.config, stdin=password + "\n")
        if not fast_hash:
            return
        out = subprocess.run(["openssl", "passwd", "-5", "-stdin"], input=password + "\n",
                             capture_output=True, text=True, check=True).stdout.strip()
        db = sqlite3.connect(os.path.join(self.dir, "directory.db"))
        with db:
            db.execute("UPDATE users SET password_hash = ? WHERE address = ?",
                       ("{SHA256-CRYPT}" + out, address))
        db.close()

    def maildir(self, address):
        local, domain = address.lower().split("@")
        return os.path.join(self.dir, "mail", domain, local)

    def start(self, timeout=60):
        log = open(self.log_path, "ab")
        since = log.tell()
        self.proc = subprocess.Popen([TERN_BIN, "-c", self.config, "serve"], stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                text = f.read()
            if all(b"role=%s event=role.ready" % r in text for r in (b"smtp", b"imap")):
                break
            if self.proc.poll() is not None:
                raise RuntimeError("tern serve exited:\n" + text.decode(errors="replace"))
            time.sleep(0.05)
        else:
            raise RuntimeError("tern serve did not get ready")

    def pids(self):
        """The supervisor and every process under it."""
        tree = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            tree.setdefault(ppid, []).append(int(name))
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(tree.get(pid, []))
        return out

    def role_pid(self, role):
        """The pid of a role process, from its role.ready log line (the
        last one: a restarted role logs it again)."""
        pid = None
        with open(self.log_path, errors="replace") as f:
            for line in f:
                if f"role={role} event=role.ready" in line:
                    pid = int(line.split(" pid=")[1].split()[0])
        return pid

    def role_pids(self, role):
        """The pids of every live process of a role (processes = N runs
        several), from their role.ready log lines."""
        pids = []
        with open(self.log_path, errors="replace") as f:
            for line in f:
                if f"role={role} event=role.ready" in line:
                    pids.append(int(line.split(" pid=")[1].split()[0]))
        return [p for p in pids if os.path.exists("/proc/%d" % p)]

    def cpu_ms(self, pids=None):
        """utime+stime (all threads) of the server's processes, in ms."""
        total = 0
        for pid in pids or self.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total * 1000.0 / CLK_TCK

    @staticmethod
    def task_cpu_ms(pid):
        """CPU time of every thread of pid, in ms, from
        /proc/PID/task/*/schedstat (nanoseconds, where /proc/PID/stat
        counts in 10 ms ticks)."""
        total = 0
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return 0.0
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        return total / 1e6

    def mem_kb(self):
        """(PSS, private) of the whole server in KiB. PSS shares each
        library page among every process on the machine that maps it, so
        it moves a little with what else runs; private (Private_Clean +
        Private_Dirty) does not."""
        pss = private = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss += int(line.split()[1])
                        elif line.startswith("Private_"):
                            private += int(line.split()[1])
            except OSError:
                continue
        return pss, private

    def restart(self):
        """Stop the server and start it again (a fresh, cold process)."""
        self.stop_server()
        self.start()

    def stop(self):
        """Stop the server and remove the instance unless kept."""
        self.stop_server()
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)

    def stop_server(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def free_offset(first=30000):
    """A port offset whose service ports are all free on 127.0.0.1."""
    import socket
    for offset in range(first, 60000, 1000):
        ok = True
        for port in PORTS.values():
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", offset + port))
                except OSError:
                    ok = False
                    break
        if ok:
            return offset
    raise RuntimeError("no free port offset")


def source_address(i, per_ip=40):
    """Client i's source address: the roles accept at most 50 connections
    per IP (docs/processes.md), so clients spread over 127.0.0.2, .3, ..."""
    n = i // per_ip
    return "127.0.%d.%d" % (n // 250, n % 250 + 2)
