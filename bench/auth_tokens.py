"""Cost of the OAuth gate per request (src/server/auth.c), through the test
driver: `python3 bench/auth_tokens.py build/tests/authcheck`. Prints the
driver's own loop cost (a token refused before any crypto) and the cost
per request of one token sent again and again (the verified-token cache).
The first verification of a token is measured by running with --repeat 1
against a loop (see docs/SECURITY.md for figures)."""
import json, time, subprocess, sys
from jwcrypto import jwk, jwt
k = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1")
r = jwk.JWK.generate(kty="RSA", size=2048, kid="r1")
open("/tmp/bench-jwks.json","w").write(json.dumps({"keys":[json.loads(k.export_public()), json.loads(r.export_public())]}))
now=int(time.time())
def tok(key, alg):
    t = jwt.JWT(header={"alg":alg,"kid":key["kid"],"typ":"at+jwt"}, claims={"iss":"i","aud":"a","client_id":"lab","scope":"stir-signing","exp":now+3600,"iat":now})
    t.make_signed_token(key); return t.serialize()
s = ["--auth","oauth","--oauth-jwks","/tmp/bench-jwks.json","--oauth-issuer","i","--oauth-audience","a"]
exe = sys.argv[1]
def run(args, n):
    t0=time.time(); subprocess.run([exe]+args+["--repeat",str(n),"--"]+s, stdout=subprocess.DEVNULL, check=True); return time.time()-t0
base = run(["--authorization","Bearer x"], 1)
none = (run(["--authorization","Bearer x.y.z"], 20001)-base)/20000*1e6
print("driver loop with a refused garbage token: %.1f us" % none)
for name, t in (("ES256", tok(k,"ES256")), ("RS256", tok(r,"RS256"))):
    dt = (run(["--authorization","Bearer "+t], 20001)-base)/20000*1e6
    print(name, "same token every request: %.1f us per check" % dt)
