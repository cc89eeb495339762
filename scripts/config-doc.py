#!/usr/bin/env python3
"""Splice the settings tables of docs/CONFIG.md from the settings table of
src/server/config.c, as `stird --help-settings=md` prints them: each block
from `<!-- settings: NAME ... -->` to `<!-- end of settings: NAME -->`
replaces the block of the same NAME in the file.

    scripts/config-doc.py build/stird            # rewrite docs/CONFIG.md
    scripts/config-doc.py build/stird --check    # exit 1 when it would change

The prose around the tables stays hand-written."""
import os
import re
import subprocess
import sys

BLOCK = re.compile(r"^<!-- settings: (.+?) \(.*?-->\n.*?^<!-- end of settings: \1 -->\n",
                   re.M | re.S)


def blocks(text):
    return {m.group(1): m.group(0) for m in BLOCK.finditer(text)}


def splice(doc, generated):
    gen = blocks(generated)
    have = blocks(doc)
    missing = sorted(set(gen) - set(have))
    extra = sorted(set(have) - set(gen))
    if missing or extra:
        raise SystemExit("docs/CONFIG.md: sections missing %s, unknown %s" % (missing, extra))
    return BLOCK.sub(lambda m: gen[m.group(1)], doc)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    stird, check = sys.argv[1], "--check" in sys.argv[2:]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "CONFIG.md")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    generated = subprocess.run([stird, "--help-settings=md"], check=True, env=env,
                               stdout=subprocess.PIPE, text=True).stdout
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    new = splice(doc, generated)
    if check:
        if new != doc:
            print("docs/CONFIG.md differs from `stird --help-settings=md`: run "
                  "scripts/config-doc.py %s" % stird, file=sys.stderr)
            sys.exit(1)
        return
    if new != doc:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)


if __name__ == "__main__":
    main()
