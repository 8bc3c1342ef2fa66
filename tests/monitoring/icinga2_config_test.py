#!/usr/bin/env python3
"""The shipped Icinga2 example (docs/examples/icinga2-danekit.conf) passes Icinga2's
own validation (`icinga2 daemon -C`) and makes one service per watched domain.

The example relies on the stock `generic-service` template of a Debian install
(/etc/icinga2/conf.d/templates.conf); the harness defines it the same way. A
copy of the example with a syntax error must fail validation, so this test
cannot pass by not looking."""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "docs", "examples", "icinga2-danekit.conf")

HARNESS = """include <itl>
include <plugins>
const PluginDir = "/usr/lib/nagios/plugins"
const NodeName = "danekit-test"
const ZoneName = "danekit-test"
template Service "generic-service" { max_check_attempts = 5; check_interval = 1m; retry_interval = 30s }
object Host "mail.example.org" {
  check_command = "dummy"
  address = "192.0.2.25"
  vars.dane_domains = [ "example.org", "example.net" ]
}
object Host "other.example.org" { check_command = "dummy"; address = "192.0.2.26" }
include "%s"
"""


def validate(example, work):
    conf = os.path.join(work, "icinga2.conf")
    with open(conf, "w") as f:
        f.write(HARNESS % example)
    os.chmod(conf, 0o644)
    # icinga2 drops root for its own user (nagios on Debian), which must read the files
    return subprocess.run(["icinga2", "daemon", "-C", "-c", conf], capture_output=True, text=True, timeout=120)


def main():
    failures, passed = [], 0
    with tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o755)
        r = validate(EXAMPLE, work)
        out = r.stdout + r.stderr
        if r.returncode != 0:
            failures.append("icinga2 daemon -C rejects the example:\n" + out[-2000:])
        else:
            passed += 1
            m = re.search(r"Instantiated (\d+) Services?\b", out)
            if not m or m.group(1) != "2":
                failures.append("expected 2 services (one per vars.dane_domains entry), icinga2 says: %s"
                                % (m.group(0) if m else "no service line"))
            else:
                passed += 1
            if not re.search(r"Instantiated \d+ CheckCommands", out):
                failures.append("no CheckCommand instantiated")
            else:
                passed += 1
        broken = os.path.join(work, "broken.conf")
        with open(EXAMPLE) as f:
            text = f.read()
        with open(broken, "w") as f:
            f.write(text.replace("object CheckCommand \"danekit\" {", "object CheckCommand \"danekit\" {{", 1))
        os.chmod(broken, 0o644)
        r = validate(broken, work)
        if r.returncode == 0:
            failures.append("a broken copy of the example passed validation: the test cannot tell")
        else:
            passed += 1
    for f in failures:
        print("FAIL " + f)
    print("icinga2 example: %d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
