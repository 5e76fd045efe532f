"""The failure counter of SASL and the submission limits are the server's,
not one process's (lib/shm-table.h, docs/processes.md "Shared counters"):
with `processes = 2` every smtp and imap process counts into one table."""
import imaplib
import re
import smtplib
import subprocess
import threading

from conftest import client_tls_context
from test_submission import ALICE, BOB, PASSWORD, connect_587, make_instance, message


def processes_2(inst_dir, **keys):
    inst = make_instance(inst_dir, **keys)
    inst.stop()
    with open(inst.config, "a") as f:
        f.write("\nprocesses = 2\n")
    inst.start()
    return inst


def server_pid(inst, client):
    """The pid of the role process holding client's connection (ss -p needs
    root, as CI runs)."""
    local_port = client.sock.getsockname()[1]
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", "( sport = :%d and dport = :%d )"
         % (inst.port("submission"), local_port)],
        capture_output=True, text=True, check=True).stdout
    pids = re.findall(r"pid=(\d+)", out)
    assert len(pids) == 1, out
    return int(pids[0])


def one_per_process(inst, tries=16):
    """Logged-in submission clients, one in each smtp process: connections
    are opened (and held) until both processes have one."""
    held, by_pid = [], {}
    for _ in range(tries):
        c = connect_587(inst)
        held.append(c)
        by_pid.setdefault(server_pid(inst, c), c)
        if len(by_pid) == 2:
            break
    assert len(by_pid) == 2, "all %d connections went to one process" % len(held)
    for c in held:
        if c not in by_pid.values():
            c.quit()
    return list(by_pid.values())


def test_messages_per_user_across_processes(instance_dir):
    inst = processes_2(instance_dir, max_messages_per_user=3)
    try:
        a, b = one_per_process(inst)
        a.sendmail(ALICE, [BOB], message())
        a.sendmail(ALICE, [BOB], message())
        b.sendmail(ALICE, [BOB], message())
        # the fourth in the hour, in the process that counted only one
        code, text = b.mail(ALICE)
        assert code == 451 and b"4.7.1" in text
        code, _ = a.mail(ALICE)
        assert code == 451
        a.quit()
        b.quit()
        assert inst.log().count("limit=messages_per_user") == 2
    finally:
        inst.stop()
        inst.check_sanitizers()


def fail_smtp(inst):
    c = smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=30)
    c.starttls(context=client_tls_context())
    c.ehlo("client.example")
    c.user, c.password = ALICE, "wrong"
    try:  # one mechanism: login() would try PLAIN and then LOGIN
        c.auth("PLAIN", c.auth_plain)
    except smtplib.SMTPAuthenticationError:
        pass
    c.quit()


def fail_imap(inst):
    c = imaplib.IMAP4("127.0.0.1", inst.port("imap"), timeout=30)
    c.starttls(ssl_context=client_tls_context())
    try:
        c.login(ALICE, "wrong")
    except imaplib.IMAP4.error:
        pass
    c.logout()


def test_failures_counted_across_roles_and_processes(instance_dir):
    """Six failed logins from one IP on SMTP and IMAP, in four processes, at
    once: the last count logged is 6 (per-process tables would stop at 3 or
    less). A count is read when the failure is logged, after its delay, so
    the values in between depend on timing."""
    inst = processes_2(instance_dir)
    try:
        jobs = [threading.Thread(target=f, args=(inst,))
                for f in (fail_smtp, fail_imap, fail_smtp, fail_imap, fail_smtp, fail_imap)]
        for j in jobs:
            j.start()
        for j in jobs:
            j.join(60)
        counts = sorted(int(n) for n in re.findall(r"event=(?:auth\.failed|imap\.login_failed) .*failures=(\d+)",
                                                   inst.log()))
        assert len(counts) == 6 and counts[-1] == 6, counts
        # a login that works still works, and does not reset the count
        c = connect_587(inst)
        c.quit()
        fail_smtp(inst)
        assert re.search(r"event=auth\.failed .*failures=7", inst.log())
    finally:
        inst.stop()
        inst.check_sanitizers()
