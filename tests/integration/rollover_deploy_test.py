#!/usr/bin/env python3
"""`danekit rollover deploy` against the lab's dynamic zone roll.example (Knot,
TSIG, TTL 2 s): a renewed certificate for a new key C is staged by
docs/examples/certbot-deploy-hook as certbot would run it, deploy refuses it
while C's TLSA record is missing and then too new, `rollover plan --nsupdate`
publishes the record, and a later deploy run (as danekit-deploy.timer would
start it) installs the files at their targets (modes kept, backups made), runs
the reload command (a script that records its call: the lab's receivers are
shared and never reloaded here) and removes the staged copy; a second run has
nothing staged. Malformed or unsafe staging data gives exit 65 and one line; a
held lock gives 75. C's record is withdrawn at the end, so the zone is as
before."""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import schemas
from labenv import ROOT, finish, in_lab, lab_env

failures, passed = [], 0
HOOK = os.path.join(ROOT, "docs", "examples", "certbot-deploy-hook")


def expect(cond, what):
    global passed
    if cond:
        passed += 1
        print(f"ok   {what}")
    else:
        failures.append(what)


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def write(path, data, mode=0o644):
    with open(path, "w") as f:
        f.write(data)
    os.chmod(path, mode)


def main(binary):
    env = lab_env()
    with open(env["DANEKIT_LAB_MANIFEST"]) as f:
        roll = json.load(f)["rollover"]
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout.split()[-1]
    tmp = tempfile.mkdtemp(prefix="danekit-deploy-")
    state = os.path.join(tmp, "state.db")
    staged = os.path.join(tmp, "staged")
    mta = os.path.join(tmp, "mta")
    os.mkdir(mta)
    key_target, chain_target = os.path.join(mta, "privkey.pem"), os.path.join(mta, "fullchain.pem")
    write(key_target, read(roll["key_a"]), 0o600)  # what is in service: key A
    write(chain_target, read(roll["chain_a"]), 0o640)
    reload_log = os.path.join(tmp, "reload.log")
    reload_cmd = os.path.join(tmp, "reload")
    write(reload_cmd, '#!/bin/sh\necho "$DANEKIT_HOST $DANEKIT_KEY $DANEKIT_CHAIN" >> %s\necho reloaded\n' % reload_log,
          0o755)
    res = ["--trust-anchor", env["DANEKIT_LAB_TA"], "--root-hints", env["DANEKIT_LAB_HINTS"], "--margin", "1",
           "--state", state]
    host = roll["host"]
    record = None

    def dk(*args, timeout=60):
        return in_lab(env, [binary, "rollover", *args], timeout=timeout)

    def deploy(*extra):
        return dk("deploy", "--staged", staged, *res, *extra)

    try:
        # Key C and a certificate for it, laid out as certbot's live/ and archive/.
        nk = dk("next-key", "--out", os.path.join(tmp, "c.key"))
        expect(nk.returncode == 0 and nk.stdout.startswith("3 1 1 "), f"next-key makes key C ({nk.stderr.strip()})")
        record = nk.stdout.split()[3]
        archive, live = os.path.join(tmp, "archive", "mx"), os.path.join(tmp, "live", "mx")
        os.makedirs(archive)
        os.makedirs(live)
        shutil.copy(os.path.join(tmp, "c.key"), os.path.join(archive, "privkey1.pem"))
        subprocess.run(["openssl", "req", "-x509", "-new", "-key", os.path.join(tmp, "c.key"), "-subj", "/CN=" + host,
                        "-addext", "subjectAltName=DNS:" + host, "-days", "30", "-out",
                        os.path.join(archive, "fullchain1.pem")], check=True, capture_output=True, timeout=30)
        for name in ("privkey", "fullchain"):
            os.symlink(f"../../archive/mx/{name}1.pem", os.path.join(live, name + ".pem"))
        new_key, new_chain = read(os.path.join(live, "privkey.pem")), read(os.path.join(live, "fullchain.pem"))

        hook_env = {**os.environ, "RENEWED_LINEAGE": live, "DANEKIT_MX_HOST": host, "DANEKIT_STAGED": staged,
                    "DANEKIT_KEY_TARGET": key_target, "DANEKIT_CHAIN_TARGET": chain_target,
                    "DANEKIT_RELOAD_CMD": reload_cmd, "DANEKIT_ARGS": " ".join(res), "DANEKIT": binary,
                    "DANEKIT_DEPLOY_CONF": os.path.join(tmp, "no-such-conf"), "DANEKIT_STATE": state}
        hook = in_lab(env, [HOOK], timeout=120, env=hook_env)
        entry = os.path.join(staged, "mx")
        expect(hook.returncode == 0 and "NOT deploying" in hook.stderr and "danekit-deploy.timer" in hook.stderr,
               f"the certbot hook stages C and leaves it to the timer ({hook.returncode}: {hook.stderr.strip()})")
        expect(sorted(os.listdir(entry)) == ["deploy.conf", "fullchain.pem", "privkey.pem"]
               and os.stat(os.path.join(entry, "privkey.pem")).st_mode & 0o777 == 0o600,
               f"the staged entry holds chain, key (0600) and metadata ({os.listdir(staged)})")
        expect(read(key_target) == read(roll["key_a"]) and not os.path.exists(reload_log),
               "nothing is installed or reloaded while refused")

        d = deploy("--json")
        j = json.loads(d.stdout or "{}")
        expect(not schemas.validate(j), f"deploy JSON validates ({schemas.validate(j)})")
        e = (j.get("entries") or [{}])[0]
        reason = ((e.get("precheck") or {}).get("hosts") or [{}])[0].get("reason", "")
        expect(d.returncode == 1 and j.get("schema") == "danekit.rollover-deploy/1" and j.get("danekit") == version
               and j.get("result") == "refused" and e.get("outcome") == "refused"
               and "no published TLSA record" in reason and not e.get("staged_removed"),
               f"deploy refuses C before its record is published (exit {d.returncode}: {reason})")
        p = dk("precheck", "--host", host, *res, "--cert", os.path.join(live, "fullchain.pem"), "--json")
        pj = json.loads(p.stdout or "{}")
        expect(not schemas.validate(pj), f"precheck JSON validates ({schemas.validate(pj)})")
        expect(p.returncode == 1 and pj.get("schema") == "danekit.rollover-precheck/1"
               and pj.get("danekit") == version and pj.get("safe") is False and pj.get("exit_status") == 1
               and [h["host"] for h in pj.get("hosts", [])] == [host],
               f"precheck --json says the same ({p.returncode}: {p.stdout.strip()[:200]})")

        plan = dk("plan", "--host", host, *res, "--next-cert", os.path.join(live, "fullchain.pem"),
                  "--nsupdate", f"{roll['server']}@{roll.get('port', 53)}", "--tsig", roll["tsig"])
        expect(plan.returncode == 0 and "1 added" in plan.stdout, f"plan publishes C's record ({plan.stderr.strip()})")
        published = time.time()
        d = deploy()
        expect(d.returncode == 1 and d.stdout.startswith("refused: mx for " + host) and "kept staged" in d.stdout,
               f"deploy refuses C right after publishing ({d.returncode}: {d.stdout.strip()})")

        # As the timer would: run again until the precheck passes.
        deployed = None
        while time.time() - published < 45:
            d = deploy()
            if d.returncode != 1:
                deployed = round(time.time() - published, 1)
                break
            time.sleep(1)
        expect(d.returncode == 0 and d.stdout.startswith("deployed: mx for " + host),
               f"a later deploy installs C (after {deployed} s; {d.returncode}: {d.stdout.strip()} {d.stderr.strip()})")
        expect(read(key_target) == new_key and read(chain_target) == new_chain, "the targets hold C's key and chain")
        expect(os.stat(key_target).st_mode & 0o777 == 0o600 and os.stat(chain_target).st_mode & 0o777 == 0o640,
               "modes kept: key 0600, chain 0640 as before")
        expect(read(key_target + ".danekit-backup") == read(roll["key_a"])
               and read(chain_target + ".danekit-backup") == read(roll["chain_a"]), "the replaced files are backed up")
        calls = read(reload_log).splitlines() if os.path.exists(reload_log) else []
        expect(calls == [f"{host} {key_target} {chain_target}"], f"the reload command ran once ({calls})")
        expect(not os.path.exists(entry) and os.listdir(staged) == [], f"the staged copy is gone ({os.listdir(staged)})")
        expect(sorted(os.listdir(mta)) == ["fullchain.pem", "fullchain.pem.danekit-backup", "privkey.pem",
                                            "privkey.pem.danekit-backup"], f"no temporary files left ({os.listdir(mta)})")

        d = deploy()
        expect(d.returncode == 0 and d.stdout.strip() == f"nothing staged in {staged}",
               f"a second run has nothing staged ({d.returncode}: {d.stdout.strip()})")
        d = deploy("--format", "json")
        j = json.loads(d.stdout or "{}")
        expect(not schemas.validate(j), f"deploy JSON (nothing staged) validates ({schemas.validate(j)})")
        expect(d.returncode == 0 and j.get("result") == "nothing-staged" and j.get("entries") == [],
               "... and says so in JSON")

        # certbot running the hook again for the same certificate: installed at once, files unchanged.
        hook = in_lab(env, [HOOK], timeout=120, env=hook_env)
        expect(hook.returncode == 0 and "is in service" in hook.stdout and read(key_target + ".danekit-backup")
               == read(roll["key_a"]), f"the hook deploys a safe certificate at once, backups intact "
                                       f"({hook.returncode}: {hook.stdout.strip()} {hook.stderr.strip()})")

        # Malformed or unsafe staging data: exit 65 and one line, nothing run.
        conf_ok = f"format = danekit-staged/1\nhost = {host}\nkey_target = {key_target}\nchain_target = {chain_target}\n"
        cases = [("unknown key", conf_ok + "frobnicate = yes\n", 0o644, "unknown key frobnicate"),
                 ("relative target", conf_ok.replace(f"key_target = {key_target}", "key_target = etc/key.pem"), 0o644,
                  "key_target: not an absolute path"),
                 ("group-writable metadata", conf_ok, 0o664, "writable by group or others"),
                 ("no format line", conf_ok.split("\n", 1)[1], 0o644, "the first setting must be format")]
        for what, conf, mode, words in cases:
            bad = os.path.join(staged, "bad")
            os.makedirs(bad, mode=0o700)
            write(os.path.join(bad, "privkey.pem"), new_key, 0o600)
            write(os.path.join(bad, "fullchain.pem"), new_chain, 0o644)
            write(os.path.join(bad, "deploy.conf"), conf, mode)
            d = deploy()
            lines = d.stderr.splitlines()
            expect(d.returncode == 65 and len(lines) == 1 and words in lines[0] and d.stdout == ""
                   and os.path.isdir(bad), f"{what}: exit 65, one line ({d.returncode}: {d.stderr.strip()})")
            shutil.rmtree(bad)
        os.chmod(staged, 0o777)
        d = deploy()
        expect(d.returncode == 65 and len(d.stderr.splitlines()) == 1 and "unsafe staging directory" in d.stderr,
               f"a world-writable staging directory: exit 65 ({d.returncode}: {d.stderr.strip()})")
        os.chmod(staged, 0o700)

        # Another run holds the lock (flock on the directory, as flock(1) takes it).
        fd = os.open(staged, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        d = deploy("--lock-wait", "0")
        os.close(fd)
        expect(d.returncode == 75 and "lock" in d.stderr, f"a held lock: exit 75 ({d.returncode}: {d.stderr.strip()})")
    finally:
        if record:  # withdraw C's record: the zone as the other rollover tests expect it
            script = (f"server {roll['server']} {roll.get('port', 53)}\nzone {roll['zone']}.\n"
                      f"update delete _25._tcp.{host}. TLSA 3 1 1 {record}\nsend\n")
            r = in_lab(env, ["knsupdate", "-k", roll["tsig_knot"]], input=script, timeout=30)
            expect(r.returncode == 0, f"C's record withdrawn ({r.stderr.strip()})")
        shutil.rmtree(tmp, ignore_errors=True)
    finish("rollover deploy lab", failures, passed)


if __name__ == "__main__":
    main(sys.argv[1])
