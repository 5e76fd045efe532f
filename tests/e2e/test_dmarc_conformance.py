"""DMARC conformance data (../shared/conformance/dmarc, see its README.txt)
against src/mailauth through the dmarc-dump driver
(tests/unit/mailauth/test-dmarc-dump.c), one test per case:

- authheaders/cases.yml: whole-message DMARC cases. The From header values
  are read with Python's email package (raw, no decoding) and given to the
  driver; DKIM results come from the case's "prev" header or, for the
  verify_dkim cases, from dkimpy (python3-dkim) as the oracle with the
  case's key; SPF is off in every case. The result, header.from and
  policy.dmarc of the produced dmarc= entry are compared with the expected
  header (comments are implementation-specific).
- opendmarc/opendmarc-vectors.json: record parsing, From domains,
  Organizational Domains and alignment. Where Tern follows RFC 7489 and
  OpenDMARC is lenient or stricter, the case says so in DEVIATIONS.
- psl/test_psl.txt runs in the unit test tests/unit/mailauth/test-psl.c.

Not run, and why: docs/dmarc.md.
"""
import email
import email.policy
import json
import os
import re
import subprocess

import pytest

from conftest import SRCDIR, TERN_BIN

yaml = pytest.importorskip("yaml")

DATA = os.path.join(os.path.dirname(SRCDIR), "shared", "conformance", "dmarc")
PSL = "/usr/share/publicsuffix/public_suffix_list.dat"


def find_dump():
    """dmarc-dump from the same build as the tern binary under test."""
    path = os.environ.get("TERN_DMARC_DUMP")
    if path:
        return path
    return os.path.join(os.path.dirname(TERN_BIN), "tests", "unit", "mailauth", "dmarc-dump")


DUMP = find_dump()

pytestmark = [
    pytest.mark.skipif(not os.path.exists(DUMP), reason="dmarc-dump not built"),
    pytest.mark.skipif(not os.path.isdir(DATA), reason="conformance data not found"),
    pytest.mark.skipif(not os.path.exists(PSL), reason="package publicsuffix not installed"),
]


def dump(*args):
    out = subprocess.run([DUMP] + list(args), capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout.decode()


# ------------------------------------------------------------- authheaders

def _load_cases():
    path = os.path.join(DATA, "authheaders", "cases.yml")
    if not os.path.exists(path):
        return {"dns": {}, "cases": []}
    with open(path, "rb") as f:
        return yaml.safe_load(f)


AUTHHEADERS = _load_cases()

# Cases that need more than RFC 7489 (section "Conformance" in docs/dmarc.md).
NOT_RUN = {
    "dmarc_psd_tree_walk": "DMARCbis tree walk (psd=y), not RFC 7489; see docs/dmarc.md",
}


def _txt_value(value):
    if isinstance(value, str) and value.startswith("file:"):
        with open(os.path.join(DATA, "authheaders", value[5:])) as f:
            return f.read().strip()
    return value


def _zone_line(name, value):
    """One zone line; "" is a name with no TXT (an A record makes it exist),
    None is NXDOMAIN (left out). A _dmarc name with "" is left out too: for
    DMARC no record and no name are the same, and a record there would make
    its parent an empty non-terminal that exists (RFC 8020), which the
    np= case needs not to."""
    name = name.rstrip(".")
    if value is None or (value == "" and name.startswith("_dmarc.")):
        return None
    value = _txt_value(value)
    if value == "":
        return "%s A 192.0.2.1" % name
    chunks = [value[i:i + 200] for i in range(0, len(value), 200)]
    quoted = " ".join('"%s"' % c.replace("\\", "\\\\").replace('"', '\\"') for c in chunks)
    return "%s TXT %s" % (name, quoted)


def _write_zone(tmp_path):
    lines = [_zone_line(n, v) for n, v in AUTHHEADERS["dns"].items()]
    path = tmp_path / "zone"
    path.write_text("\n".join(line for line in lines if line) + "\n")
    return str(path)


def _dkim_results(raw):
    """(result, d) of each DKIM-Signature, verified by dkimpy (the oracle)."""
    dkim = pytest.importorskip("dkim")
    key = _txt_value(AUTHHEADERS["dns"]["test._domainkey.example.com."]).encode()

    def dnsfunc(name, timeout=5):
        return key if name.rstrip(b".") == b"test._domainkey.example.com" else b""

    ok = dkim.verify(raw, dnsfunc=dnsfunc)
    sig = email.message_from_bytes(raw, policy=email.policy.compat32)["DKIM-Signature"]
    d = re.search(r"\bd=([^;\s]+)", sig).group(1)
    return [("pass" if ok else "fail", d)]


def _dmarc_props(header):
    """result, and the header.from / policy.dmarc values of the dmarc entry."""
    entry = re.search(r"dmarc=(\w+)(.*?)(?:;|$)", header)
    assert entry, header
    props = dict(re.findall(r"\b([a-z]+\.[a-z]+)=([^\s;]+)", re.sub(r"\([^)]*\)", "", entry.group(2))))
    return entry.group(1), props


@pytest.mark.parametrize("case", AUTHHEADERS["cases"], ids=lambda c: c["name"])
def test_authheaders(case, tmp_path):
    if case["name"] in NOT_RUN:
        pytest.skip(NOT_RUN[case["name"]])
    with open(os.path.join(DATA, "authheaders", case["message"]), "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    args = ["check", "--psl", PSL, "--zone", _write_zone(tmp_path),
            "--id", AUTHHEADERS["authserv_id"]]
    for value in msg.get_all("From", []):
        args += ["--from", str(value)]
    if case.get("verify_dkim"):
        for result, d in _dkim_results(raw):
            args += ["--dkim", "%s:%s" % (result, d)]
    if case.get("prev"):
        args += ["--prev", case["prev"].split(":", 1)[1]]
    got = dump(*args).splitlines()[0]
    result, props = _dmarc_props(got)
    want_result, want_props = _dmarc_props(case["expect_ar"])
    assert result == case["expect"] == want_result, got
    for name, value in want_props.items():
        assert props.get(name) == value, "%s: %s" % (name, got)


# --------------------------------------------------------------- opendmarc

def _load_vectors():
    path = os.path.join(DATA, "opendmarc", "opendmarc-vectors.json")
    if not os.path.exists(path):
        return {k: {"cases": []} for k in ("policy_parse", "from_domain", "org_domain",
                                            "alignment")}
    with open(path) as f:
        return json.load(f)


VECTORS = _load_vectors()

# Records where RFC 7489 6.3/6.6.3 gives another answer than OpenDMARC:
# record -> what Tern reports.
DEVIATIONS = {
    # p=n is no policy value; OpenDMARC matches prefixes.
    "v=DMARC1; p=n;": "none",
    # 6.3: a bad value of an optional tag falls back to its default.
    "v=DMARC1; p=none; adkim=bob;": "ok",
    "v=DMARC1; p=none; aspf=bob;": "ok",
    "v=DMARC1; p=none; rf=bob;": "ok",
    "v=DMARC1; p=none; ri=bob;": "ok",
    "v=DMARC1; p=none; pct=500;": "ok",
    "v=DMARC1; p=none; rf=000000000000000000000000000000000": "ok",
    # 6.6.3: an invalid p= or sp= means "no DMARC" (result none).
    "v=DMARC1; p=bob;": "none",
    "v=DMARC1; p=none; sp=bob;": "none",
    "v=DMARC1; pct=100;": "none",
}
OPENDMARC_STATUS = {
    "DMARC_PARSE_OKAY": "ok",
    "DMARC_PARSE_ERROR_EMPTY": "permerror",
    "DMARC_PARSE_ERROR_BAD_VERSION": "permerror",
    "DMARC_PARSE_ERROR_NO_REQUIRED_P": "none",
    "DMARC_PARSE_ERROR_BAD_VALUE": "none",
}


@pytest.mark.parametrize("case", VECTORS["policy_parse"]["cases"], ids=lambda c: c["record"])
def test_opendmarc_record(case):
    want = DEVIATIONS.get(case["record"], OPENDMARC_STATUS[case["expect"]])
    got = dump("record", case["record"]).split()[0].rstrip(":")
    assert got == want


@pytest.mark.parametrize("case", VECTORS["from_domain"]["cases"], ids=lambda c: c["from"])
def test_opendmarc_from(case):
    got = dump("from", case["from"]).split()
    # The first domain is the one OpenDMARC reports; Tern evaluates all.
    # Malformed values ("Mail From:<...>", a header name inside the value)
    # still give the address: the From parser skips junk (mime-address.h).
    assert got and got[0] == case["domain"], got


@pytest.mark.parametrize("case", VECTORS["org_domain"]["cases"], ids=lambda c: c["domain"])
def test_opendmarc_org(case):
    # OpenDMARC used a 2012 copy of the list; these three still hold with
    # Debian's current one.
    got = dump("org", PSL, case["domain"]).strip()
    assert got == case["org_domain"]


@pytest.mark.parametrize("case", VECTORS["alignment"]["cases"],
                         ids=lambda c: "%s-%s-%s" % (c["domain1"], c["domain2"], c["mode"]))
def test_opendmarc_alignment(case):
    got = dump("align", PSL, case["domain1"], case["domain2"], case["mode"]).strip()
    assert got == ("aligned" if case["aligned"] else "not aligned")
