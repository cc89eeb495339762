#!/usr/bin/python3
"""Write the seed corpora of tests/fuzz/corpus/<target>/ (committed).

Seeds are small valid and near-valid inputs taken from independent
sources: the TV-12 vectors of /work/shared/spec/test-vectors.md (signed
with the RFC 8946 key, whose certificate is in tests/fuzz/pki), the RFC
9795 and RFC 9118 examples, TV-10 DER, and etc/stird.conf.example. Run it
again after changing a seed list; crash reproducers found by the fuzzers
and inputs that once broke an oracle are added by hand as
corpus/<target>/crash-<what> or regress-<what> and never rewritten here.
"""
import base64
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))

X5U = "https://cert.example.org/passport.cer"
INFO = ";info=<%s>;alg=ES256;ppt=\"shaken\"" % X5U
V1 = ("eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9"
      ".eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MDEzMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIxNTU1NTAxMjEifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIn0"
      ".BuOEj7jvXtnbzdCr8wbRgkqvUU7mhB96bmzgU5u7kTDmEIpts_ziGWeGPGroPgI5tb7RWl8HdWk_91EupeMMfA")
V8 = ("eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9"
      ".eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MTIxMyJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIxNTU1NTEyMTIifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIn0"
      ".7GoSZjU8eugtFvFi7d0N3Pfrcf-B__WFdV2u1QtpUJtGC3yPMFKkHd5D0AyHbjZC5YuWlNV5bhxrSigNkIIpDQ")
V2 = ("eyJhbGciOiJFUzI1NiIsInBwdCI6ImRpdiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS5jb20vY2VydC5jZXIifQ"
      ".eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjE0Il19LCJkaXYiOnsidG4iOiIxMjE1NTU1MTIxMyJ9LCJpYXQiOjE0NDMyMDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1MTIxMiJ9fQ"
      ".J8mcfVb5BFrLzDcIDYaTPXGT3fWsHUPiLiKQtYksNrslhlFubs07Wv86NujwJvfcFdI1fLrkhlkgVsmBIb9xpQ")
V3 = ("eyJhbGciOiJFUzI1NiIsInBwdCI6InJwaCIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS5vcmcvY2VydC5jZXIifQ"
      ".eyJkZXN0Ijp7InRuIjpbIjEyMTI1NTUwMTEzIl19LCJpYXQiOjE0NDMyMDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1MDExMiJ9LCJycGgiOnsiYXV0aCI6WyJldHMuMCIsIndwcy4wIl19fQ"
      ".AjVA5mG7XYiFoKN9tGt9LCcojAo1V3Huv4M2onX0P6XnxHoBEzZpNRU51STljFZf-y2v90nbjAD6ru-leoSUMg")
V5 = ("eyJhbGciOiJFUzI1NiIsInBwdCI6InJjZCIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9"
      ".eyJjcm4iOiJSZW5kZXp2b3VzIGZvciBMaXR0bGUgTmVsbGllIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MTAwMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIwMjU1NTEwMDAifSwicmNkIjp7ImpjbCI6Imh0dHBzOi8vZXhhbXBsZS5jb20vcWJyYW5jaC5qc29uIiwibmFtIjoiUSBCcmFuY2ggU3B5IEdhZGdldHMifSwicmNkaSI6eyIvamNsIjoic2hhMjU2LXFDbjRwRUg2Qkp1N3pYbmRMRnVBUDZEd2xUdjVmUm1KMUFGa3FmdHduQ3MifX0"
      ".BeyuVPe6sVYA17YBDrEqOOouwAGgKOVQFQ018Pfi8995WQm_ih1nl17iirgkQwRNjkrzGRXqYLUQMflt4kCAWg")
V6 = ("eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9"
      ".eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjAyNTU1MTAwMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIwMjU1NTEwMDAifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIiwicmNkIjp7Im5hbSI6IkphbWVzIEJvbmQifX0"
      ".kQyUC63I0KfqFY2j1mdRc7PpHgt0PXK9j5hGGVLodF4B58_7C_0s7h_N2tcJb9Xs7R3m97IlGWs5Xq8x3SxRQg")
V7C = "..32yzF7_5_JtGd7EmllQ-pa0xelidsUD-4yObf0E5wBcsMn2blwZCA62nZ0i-jLj8RYDbOEulp7DnRmjL5O_afw"
TV2 = ("eyJhbGciOiJFUzI1NiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9"
       ".eyJkZXN0Ijp7InVyaSI6WyJzaXA6YWxpY2VAZXhhbXBsZS5jb20iXX0sImlhdCI6IjE0NDMyMDgzNDUiLCJvcmlnIjp7InRuIjoiMTIxNTU1NTEyMTIifX0"
       ".rq3pjT1hoRwakEGjHCnWSwUnshd0-zJ6F1VOgFWSjHBr8Qjpjlk-cpFYpFYsojNCpTzO3QfPOlckGaS6hEck7w")

def ident(tok, ppt, x5u=X5U):
    return tok + ";info=<%s>;alg=ES256" % x5u + (';ppt="%s"' % ppt if ppt else "")

ID_V1 = ident(V1, "shaken")
ID_V8 = ident(V8, "shaken")
ID_V2 = ident(V2, "div", "https://www.example.com/cert.cer")
ID_V3 = ident(V3, "rph", "https://www.example.org/cert.cer")
ID_V5 = ident(V5, "rcd")
ID_V6 = ident(V6, "shaken")
ID_V7C = ident(V7C, None)

QBRANCH = json.loads('["vcard",[["version",{},"text","4.0"],["fn",{},"text","Q Branch"],["org",{},"text","MI6;Q Branch Spy Gadgets"],["photo",{},"uri","https://example.com/photos/quartermaster-256x256.png"],["logo",{},"uri","https://example.com/logos/mi6-256x256.jpg"],["logo",{},"uri","https://example.com/logos/mi6-64x64.jpg"]]]')
SMALL_JCARD = ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Q Branch"]]]


def j(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def identity():
    for n, v in [("v1", ID_V1), ("v2-div", ID_V2), ("v3-rph", ID_V3), ("v7-compact", ID_V7C),
                 ("tv2-noppt", TV2 + ";info=<%s>" % X5U),
                 ("ws-quoted", V1 + ' ; INFO = "<%s>" ;alg= ES256 ;ppt=shaken;foo=bar' % X5U),
                 ("no-info", V1 + ";alg=ES256"),
                 ("dup-ppt", ID_V1 + ";ppt=div"),
                 ("bad-char", "ab$c.d.e;info=<https://a.example/x>"),
                 ("unclosed", V1 + ";info=<https://a.example/x")]:
        write("fuzz_identity", n, v)


def passport():
    for n, v in [("v1", V1), ("v2-div", V2), ("v3-rph", V3), ("v5-rcd", V5), ("tv2", TV2),
                 ("two-parts", V1.rsplit(".", 1)[0]),
                 ("short-sig", V1[:-4]),
                 ("padded", V1 + "=="),
                 ("header-array", base64.urlsafe_b64encode(b'[1]').decode().rstrip("=") + "." + V1.split(".", 1)[1])]:
        write("fuzz_passport", n, v)


def verify():
    base = {"from": {"tn": "12155551212"}, "to": {"tn": "12155551213"}, "time": 1443208345}
    seeds = {
        "v1": {"identityHeader": ID_V1, "from": {"tn": "12155550121"}, "to": {"tn": "12155550131"},
               "time": 1443208345, "requestId": "r1"},
        "v8-v2-chain": dict(base, identityHeader=ID_V8, identityHeaders=[ID_V2],
                            dest={"tn": "12155551214"}),
        "v2-alone": dict(base, identityHeaders=[ID_V2], dest={"tn": "12155551214"}),
        "v7-compact": {"identityHeader": ID_V7C, "from": {"uri": "sip:+12155551212@example.com;user=phone"},
                       "to": {"uri": "tel:+1-215-555-1213"}, "time": 1443208345},
        "v3-rph": {"identityHeaders": [ID_V3], "from": {"tn": "12155550112"}, "to": {"tn": "12125550113"},
                   "time": 1443208345, "protectedHeaders": ["Resource-Priority: ets.0, wps.0"]},
        "v5-rcd-jcl": {"identityHeaders": [ID_V1, ID_V5], "from": {"tn": "12025551000"},
                       "to": {"tn": "12155551001"}, "time": 1443208345},
        "v6-shaken-rcd": {"identityHeader": ID_V6, "from": {"tn": "12025551000"},
                          "to": {"tn": "12025551001"}, "time": 1443208345},
        "other-x5u": dict(base, identityHeader=V8 + ";info=<https://x.example.net/c.pem>;ppt=shaken"),
        "no-time": {"identityHeader": ID_V1, "to": {"tn": "1"}},
        "anonymous": dict(base, identityHeader=ID_V8, **{"from": {"uri": "sip:anonymous@anonymous.invalid"}}),
    }
    for n, o in seeds.items():
        write("fuzz_verify", n, j(o))


def sign():
    iat = 1443208350
    seeds = {
        "shaken": {"orig": {"tn": "12155551212"}, "dest": {"tn": ["12155551213"]}, "iat": iat,
                   "attest": "A", "origid": "123e4567-e89b-12d3-a456-426655440000", "requestId": "s1"},
        "shaken-uri": {"orig": {"uri": "sip:+1-215-555-1212@example.com;user=phone"},
                       "dest": {"uri": ["sip:bob@example.com"]}, "iat": iat, "attest": "B"},
        "div": {"ppt": "div", "orig": {"tn": "12155551212"}, "dest": {"tn": ["12155551214"]},
                "div": {"tn": "12155551213", "hi": "1.2.1"}, "iat": iat},
        "rph": {"ppt": "rph", "orig": {"tn": "12155551213"}, "dest": {"tn": ["12155551212"]},
                "rph": ["esnet.0"], "sph": "psap-callback", "iat": iat},
        "rcd-jcd": {"ppt": "rcd", "orig": {"tn": "12025551000"}, "dest": {"tn": ["12025551001"]},
                    "iat": iat, "rcd": {"nam": "Q Branch", "jcd": SMALL_JCARD,
                                        "icn": "data:image/png;base64,iVBORw0KGgo="},
                    "crn": "Rendezvous for Little Nellie"},
        "rcd-jcl": {"ppt": "rcd", "orig": {"tn": "12025551000"}, "dest": {"tn": ["12025551001"]},
                    "iat": iat, "rcd": {"nam": "Q", "jcl": "https://rcd.example.com/q.json"}},
        "third-party": {"ppt": "rcd", "orig": {"tn": "12025551000"}, "dest": {"tn": ["12025551001"]},
                        "iat": iat, "iss": "Zorin Industries", "rcd": {"nam": "James St. John Smythe"}},
        "stale-iat": {"orig": {"tn": "12155551212"}, "dest": {"tn": ["12155551213"]}, "iat": 1,
                      "attest": "A"},
        "unknown-ppt": {"ppt": "nope", "orig": {"tn": "1"}, "dest": {"tn": ["2"]}, "iat": iat},
    }
    for n, o in seeds.items():
        write("fuzz_sign", n, j(o))


def cert():
    pki = os.path.join(HERE, "pki")
    chain = open(os.path.join(pki, "chain.pem"), "rb").read()
    root = open(os.path.join(pki, "root.pem"), "rb").read()
    write("fuzz_cert", "chain", chain)
    write("fuzz_cert", "root", root)
    write("fuzz_cert", "chain-truncated", chain[: len(chain) // 2])
    write("fuzz_cert", "rfc9118", open(os.path.join(SRC, "tests", "data", "rfc9118.pem"), "rb").read())
    leaf_der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=chain,
                              capture_output=True, check=True).stdout
    write("fuzz_cert", "leaf.der", leaf_der)


def der():
    h = bytes.fromhex
    # first byte: 0 TNAuthList, 1 JWTClaimConstraints, 2 EnhancedJWTClaimConstraints
    write("fuzz_der", "tnauth-spc", b"\x00" + h("3008A0061604373039 4A".replace(" ", "")))
    write("fuzz_der", "tnauth-spc-1234", b"\x00" + h("3008A006160431323334"))
    # TNAuthList with a range (start 12155551200, count 100) and one TN.
    rng = h("A1") + bytes([0x12]) + h("3010") + bytes([0x16, 0x0B]) + b"12155551200" + h("020164")
    one = h("A2") + bytes([0x0D]) + bytes([0x16, 0x0B]) + b"12155551212"
    body = rng + one
    write("fuzz_der", "tnauth-range-one", b"\x00" + bytes([0x30, len(body)]) + body)
    write("fuzz_der", "tnauth-indefinite", b"\x00" + h("3080A0061604373039 4A0000".replace(" ", "")))
    write("fuzz_der", "tnauth-longform", b"\x00" + h("308108A0061604373039 4A".replace(" ", "")))
    ejcc = h("3040A00E300C160A636F6E666964656E6365A120301E301C160A636F6E666964656E6365300E0C04686967680C066D656469756DA20C300A16087072696F72697479")
    write("fuzz_der", "ejcc-rfc9118", b"\x02" + ejcc)
    # RFC 8226 8 JWTClaimConstraints: mustInclude [confidence], permittedValues confidence {high, medium}
    write("fuzz_der", "jcc-rfc8226", b"\x01" + ejcc[:2 + 0x10 + 0x22].replace(b"\x30\x40", b"\x30\x32", 1))
    write("fuzz_der", "jcc-trailing", b"\x01" + ejcc + b"\x00")


def rcd():
    base = {"orig": {"tn": "12025551000"}, "dest": {"tn": ["12025551001"]}, "iat": 1443208345}
    seeds = {
        "jcd-rcdi": dict(base, rcd={"nam": "Q Branch", "jcd": QBRANCH},
                         rcdi={"/jcd": "sha256-7kdCBZqH0nqMSPsmABvsKlHPhZEStgjojhdSJGRr3rk"}),
        "jcd-bad-digest": dict(base, rcd={"nam": "Q Branch", "jcd": QBRANCH},
                               rcdi={"/jcd": "sha256-AAAACBZqH0nqMSPsmABvsKlHPhZEStgjojhdSJGRr3rk"}),
        "nam-digest": dict(base, rcd={"nam": "Q Branch Spy Gadgets"},
                           rcdi={"/nam": "sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY"}),
        "jcl": dict(base, rcd={"nam": "Q Branch Spy Gadgets", "jcl": "https://example.com/qbranch.json"},
                    rcdi={"/jcl": "sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs"},
                    crn="Rendezvous for Little Nellie"),
        "icn-data": dict(base, rcd={"nam": "Her Majesty's Secret Service", "apn": "12025559990",
                                    "icn": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAUAAAAFCAYAAACNbyblAAAAHElEQVQI12P4//8/w38GIAXDIBKE0DHxgljNBAAO9TXL0Y4OHwAAAABJRU5ErkJggg=="}),
        "third-party": dict(base, iss="Zorin Industries", rcd={"nam": "James St. John Smythe"}),
        "nam-only": dict(base, rcd={"nam": "James Bond"}),
        "jcd-and-jcl": dict(base, rcd={"nam": "x", "jcd": SMALL_JCARD, "jcl": "https://example.com/x"}),
    }
    for n, o in seeds.items():
        write("fuzz_rcd", n, j(o))


def url():
    for n, v in [("tv12", X5U), ("port8443", "https://cert.example.org:8443/sp.pem"),
                 ("http80", "http://cert.example.org:80/sp.pem"),
                 ("ipv6", "https://[2001:db8::1]:443/c.pem"),
                 ("zone", "https://[fe80::1%25eth0]/c.pem"),
                 ("userinfo-query", "https://user:pw@cert.example.org/c.pem?x=1#f"),
                 ("upper", "HTTPS://CERT.EXAMPLE.ORG/C.PEM"),
                 ("no-authority", "https:///x.pem")]:
        write("fuzz_url", n, v)


def config():
    write("fuzz_config", "example", open(os.path.join(SRC, "etc", "stird.conf.example"), "rb").read())
    write("fuzz_config", "minimal", "trust = /nonexistent/root.pem\nlisten = 127.0.0.1:0\n")
    write("fuzz_config", "embedded", "embedded = true\nstate_dir = /nonexistent\nx5u_listen = [::1]:8443\n")
    write("fuzz_config", "quoted", 'trust = "/x # not a comment"  \n# comment\nfreshness = 60 # inline\n')
    write("fuzz_config", "ppt-type", "trust = /t\nppt_type = mytype: orig dest iat foo:string:required bar:int\n")
    write("fuzz_config", "bad", "listen 127.0.0.1\nunknown = 1\n")


for f in (identity, passport, verify, sign, cert, der, rcd, url, config):
    f()
