#!/usr/bin/env python3
"""Runs the README's publisher commands word for word (the ```sh block under
"For publishers"), in a lab of its own, with `build/danekit` replaced by the
binary under test. Every command must succeed."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(binary):
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text.split("## For publishers", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    script = block.replace("build/danekit", os.path.abspath(binary))
    env = {**os.environ, "DANEKIT_LAB_DIR": "/tmp/danekit-lab-readme", "DANEKIT_LAB_NS": "danekit-readme",
           "DANEKIT_STATE": "/tmp/danekit-lab-readme-state.db"}
    if os.path.exists(env["DANEKIT_STATE"]):
        os.unlink(env["DANEKIT_STATE"])
    run = subprocess.run(["bash", "-euxo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    print(run.stdout[-6000:])
    print(run.stderr[-4000:])
    if run.returncode != 0:
        subprocess.run([os.path.join(ROOT, "tests", "lab", "lab"), "down"], env=env, capture_output=True)
    ok = run.returncode == 0 and "roll.example  VALID" in run.stdout
    print(f"readme publishers: {1 if ok else 0} passed, {0 if ok else 1} failed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv[1])
