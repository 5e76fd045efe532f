"""The OpenSPF RFC 7208 test suite (../shared/conformance/spf) against
`tern verify --spf-only`: one test per case, each scenario's zonedata turned
into a zone file (docs/dns.md), so no network is used.

Driver rules, as in the suite's README: 'TIMEOUT' makes queries time out
(for types with no record at that name), SPF-type records stand for TXT
records unless the name has TXT entries of its own ("TXT: NONE" meaning
none), a TXT value that is a list is the strings of one record, and a name
not in the zone is NXDOMAIN.
"""
import os
import subprocess

import pytest

from conftest import SRCDIR, TERN_BIN

yaml = pytest.importorskip("yaml")

SUITE = os.path.join(os.path.dirname(SRCDIR), "shared", "conformance", "spf",
                     "rfc7208-tests.yml")
# TIMEOUT entries wait this long: short, the suite has several.
DNS_TIMEOUT_MSECS = "300"


def _load_scenarios():
    if not os.path.exists(SUITE):
        return []
    with open(SUITE, "rb") as f:
        return list(yaml.safe_load_all(f))


SCENARIOS = _load_scenarios()


def _txt_bytes(value):
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _quote(data):
    """One presentation-format character-string (RFC 1035 5.1)."""
    out = []
    for b in data:
        if 0x20 <= b < 0x7f and b not in (0x22, 0x5c):
            out.append(chr(b))
        else:
            out.append("\\%03d" % b)
    return '"' + "".join(out) + '"'


def _txt_rdata(value):
    strings = value if isinstance(value, list) else [value]
    parts = []
    for s in strings:
        data = _txt_bytes(str(s))
        # RFC 1035 3.3: a character-string holds at most 255 octets.
        chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        parts.extend(_quote(c) for c in chunks)
    return " ".join(parts) if parts else '""'


def _owner(name):
    """An owner name with blanks, quotes and 8-bit bytes as \\DDD."""
    return "".join(chr(b) if 0x20 < b < 0x7f and b not in (0x22, 0x3b, 0x5c)
                   else "\\%03d" % b for b in _txt_bytes(name))


def _zone_lines(name, records):
    lines = []
    name = _owner(name)
    has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
    for rec in records:
        if rec == "TIMEOUT":
            lines.append(f"{name} TIMEOUT")
            continue
        ((rtype, value),) = rec.items()
        if rtype == "SPF":
            if has_txt:
                continue
            rtype = "TXT"
        if rtype == "TXT":
            if value == "NONE":
                continue
            lines.append(f"{name} 3600 IN TXT {_txt_rdata(value)}")
        elif rtype == "MX":
            pref, host = value
            lines.append(f"{name} 3600 IN MX {pref} {host or '.'}")
        else:
            lines.append(f"{name} 3600 IN {rtype} {value}")
    return lines


def _zone_text(zonedata):
    lines = ["; generated from the OpenSPF suite"]
    for name, records in (zonedata or {}).items():
        lines.extend(_zone_lines(name, records))
    return "\n".join(lines) + "\n"


CASES = [
    pytest.param(i, case_id, id=case_id)
    for i, scenario in enumerate(SCENARIOS)
    for case_id in scenario["tests"]
]


@pytest.fixture(scope="module")
def zone_files(tmp_path_factory):
    base = tmp_path_factory.mktemp("spf-zones")
    paths = {}
    for i, scenario in enumerate(SCENARIOS):
        path = base / f"scenario-{i}.zone"
        path.write_text(_zone_text(scenario.get("zonedata")), encoding="ascii")
        paths[i] = str(path)
    return paths


def _run(zone, case):
    cmd = [TERN_BIN, "verify", "--spf-only", "--zone", zone,
           "--ip", str(case["host"]), "--helo", str(case.get("helo", "")),
           "--mail-from", str(case.get("mailfrom", "")),
           "--dns-timeout", DNS_TIMEOUT_MSECS, "--hostname", "receiver.example.test"]
    proc = subprocess.run(cmd, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    out = proc.stdout.decode("utf-8", "replace").splitlines()
    result = out[0].split()[0]
    explanation = None
    for line in out[1:]:
        if line.startswith("explanation: "):
            explanation = line[len("explanation: "):]
    return result, explanation, out


@pytest.mark.skipif(not SCENARIOS, reason="conformance suite not found")
@pytest.mark.parametrize("scenario,case_id", CASES)
def test_spf_case(zone_files, scenario, case_id):
    case = SCENARIOS[scenario]["tests"][case_id]
    result, explanation, out = _run(zone_files[scenario], case)
    wanted = case["result"]
    wanted = wanted if isinstance(wanted, list) else [wanted]
    assert result in wanted, f"{case_id}: got {out}, want one of {wanted}"
    if "explanation" in case:
        if case["explanation"] == "DEFAULT":
            # The suite's marker for "no exp= explanation applies".
            assert explanation is None, f"{case_id}: unexpected explanation {out}"
        else:
            assert explanation == case["explanation"], f"{case_id}: got {out}"


def test_suite_present():
    """The suite must be found in CI, or the cases above would all skip."""
    if os.environ.get("CI"):
        assert SCENARIOS, f"{SUITE} is missing"
