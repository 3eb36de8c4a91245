"""Hostile programs against the real sandbox. Each attack is written so that it *passes* its test when it succeeds
(it prints ESCAPED, or what it stole); containment means that test fails, while a benign second test of the same
response still passes, benign responses running beside it on the other slot pass, and the host shows no trace
(no file written, no process left, the secret not read, the host still able to fork).

Every attack runs under bubblewrap; the weaker fallback levels run the attacks they claim to contain."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import uuid
import warnings
from pathlib import Path

import pytest

from darl.records import CodeTests, IOTest, Problem
from darl.verifiers.code import CodeVerifier, Limits, SandboxUnavailable
from darl.verifiers.code import sandbox as sandbox_module

ROOT = Path(__file__).resolve().parents[1]
TOKEN = uuid.uuid4().hex[:12]
SECRET_NAME = "DARL_FAKE_SECRET"
SECRET_VALUE = f"s3cr3t-{TOKEN}"
HOST_FILES = [f"/tmp/darl_pwned_{TOKEN}", str(ROOT / f"darl_pwned_{TOKEN}"), f"/root/darl_pwned_{TOKEN}",
              f"/etc/darl_pwned_{TOKEN}", f"/usr/darl_pwned_{TOKEN}"]
MARKER = f"darl-leftover-{TOKEN}"
TIME_LIMIT_S = 2.0


def attack_problem(name: str, time_limit_s: float = TIME_LIMIT_S) -> Problem:
    """Test 0 runs the attack (passes only if it succeeded), test 1 is benign and must pass."""
    tests = CodeTests(io=(IOTest("attack\n", "ESCAPED\n"), IOTest("benign\n", "ok\n")), time_limit_s=time_limit_s)
    return Problem(id=f"attack/{name}", domain="code", prompt=name, tests=tests)


def attack_response(body: str) -> str:
    indented = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return ("```python\nimport os, sys, signal, socket, subprocess, time\n"
            "mode = sys.stdin.readline().strip()\n"
            f"if mode == 'attack':\n{indented}\n"
            "else:\n    print('ok')\n```")


ATTACKS = {
    "infinite_loop": "while True:\n    pass",
    "fork_bomb": "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "memory_bomb": "blocks = []\nwhile True:\n    blocks.append(bytearray(64 << 20))\nprint('ESCAPED')",
    "huge_output": "chunk = 'x' * 65536\nwhile True:\n    sys.stdout.write(chunk)",
    "write_outside": "try:\n    open(%r, 'w').write('pwned')  # the host's /tmp: private inside bubblewrap\n"
                     "except OSError:\n    pass\n"
                     "wrote = 0\nfor path in %r:\n    try:\n        with open(path, 'w') as f:\n"
                     "            f.write('pwned')\n        wrote += 1\n    except OSError:\n        pass\n"
                     "for target in ('/run/darl/harness.py', '/usr/bin/python3'):\n    try:\n"
                     "        open(target, 'a').close()\n        wrote += 1\n    except OSError:\n        pass\n"
                     "print('ESCAPED' if wrote else 'contained')" % (HOST_FILES[0], HOST_FILES[1:]),
    "read_host_files": "for path in ('/etc/shadow', '/root/.bashrc', '/root/.profile'):\n    try:\n"
                       "        open(path).read()\n        print('ESCAPED')\n        break\n    except OSError:\n"
                       "        pass",
    "read_secret": f"found = os.environ.get({SECRET_NAME!r}, '')\n"
                   "for pid in os.listdir('/proc'):\n    for part in ('environ', 'cmdline'):\n        try:\n"
                   "            found += open('/proc/%s/%s' % (pid, part), 'rb').read().decode('latin-1')\n"
                   "        except (OSError, ValueError):\n            pass\n"
                   f"print('ESCAPED' if {SECRET_VALUE!r} in found else 'contained')",
    "kill_parent": "os.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(5)\nprint('ESCAPED')",
    "kill_everything": "subprocess.run(['kill', '-9', '-1'])\nos.kill(-1, signal.SIGKILL)\ntime.sleep(5)\nprint('ESCAPED')",
    "leave_background_process": (
        f"subprocess.Popen(['/usr/bin/python3', '-c', 'import time; time.sleep(600)', {MARKER!r}],"
        " start_new_session=True)\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        f"        os.execv('/usr/bin/python3', ['/usr/bin/python3', '-c', 'import time; time.sleep(600)', {MARKER!r}])\n"
        "    os._exit(0)\nprint('started')"),  # allowed; what counts is that nothing survives
}
# Many processes each within its own address-space limit, together beyond the sandbox's memory cap (a cgroup).
SPREAD_MEMORY_ATTACK = (
    "import mmap\nchildren = []\nfor _ in range(10):\n    r, w = os.pipe()\n    pid = os.fork()\n    if pid == 0:\n"
    "        os.close(r)\n        block = mmap.mmap(-1, 150 << 20)\n"
    "        for i in range(0, len(block), 4096):\n            block[i] = 1\n"
    "        os.write(w, b'1')\n        time.sleep(60)\n        os._exit(0)\n    os.close(w)\n"
    "    children.append((pid, r))\n"
    "holding = 0\nfor pid, r in children:\n    grew = os.read(r, 1) == b'1'  # b'' when the child was killed\n"
    "    if grew and os.waitpid(pid, os.WNOHANG) == (0, 0):\n        holding += 1\n"
    "print('ESCAPED' if holding * 150 > 1200 else 'contained')")
NETWORK_ATTACK = ("try:\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
                  "    print('ESCAPED' if s.recv(64) == b'{token}' else 'contained')\nexcept OSError:\n    pass")

# What each level contains beyond bubblewrap's full list (without a private file system view the uid's
# permissions guard files; without namespaces there is no network isolation).
# The fallback levels share bubblewrap's rlimits and cgroup (loops, bombs, output floods behave the same there), so
# they run the attacks whose containment depends on what differs: uids, namespaces, process clean-up.
FALLBACK_ATTACKS = {"fork_bomb", "write_outside", "read_host_files", "read_secret", "kill_parent",
                    "kill_everything", "leave_background_process"}
CONTAINED_BY = {
    "bwrap": set(ATTACKS) | {"network"},
    "namespaces": FALLBACK_ATTACKS | {"network"},
    "rlimits": FALLBACK_ATTACKS,
}
EXPECTED_REASON = {"infinite_loop": "timeout", "fork_bomb": "timeout", "memory_bomb": "memory limit",
                   "huge_output": "output limit"}


@pytest.fixture(scope="module")
def host_server():
    """A TCP service on the host's loopback that hands out the token: a sandboxed program must not reach it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(TOKEN.encode())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def leftover_processes() -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if MARKER.encode() in Path(f"/proc/{name}/cmdline").read_bytes():
                    found.append(int(name))
            except OSError:
                continue
    return found


def run_attacks(level: str, host_port: int, monkeypatch) -> None:
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)  # set before the sandboxes start
    limits = Limits(memory_bytes=256 << 20, processes=32, sandbox_memory_bytes=1 << 30)
    with CodeVerifier(workers=2, isolation=level, strict=(level == "bwrap"), time_limit_s=TIME_LIMIT_S,
                      limits=limits) as verifier:
        assert verifier.isolation == level
        names = sorted(CONTAINED_BY[level])
        if level == "bwrap" and all(verifier._sandbox.cgroup_for(slot) is not None for slot in verifier._pool.slots):
            names.append("memory_spread_over_processes")  # only a cgroup caps the sum
        problems, responses = [], []
        benign = Problem(id="benign", domain="code", prompt="add",
                         tests=CodeTests(io=(IOTest("2 3\n", "5\n"),) * 3, time_limit_s=10.0))
        for name in names:
            body = (NETWORK_ATTACK.format(port=host_port, token=TOKEN) if name == "network"
                    else SPREAD_MEMORY_ATTACK if name == "memory_spread_over_processes" else ATTACKS[name])
            # the memory spread gets time to allocate everything, so that without a cgroup it would succeed
            seconds = 10.0 if name == "memory_spread_over_processes" else TIME_LIMIT_S
            problems += [attack_problem(name, seconds), benign]  # benign jobs run beside, on the other slot
            responses += [attack_response(body), "```python\na, b = map(int, input().split())\nprint(a + b)\n```"]
        started = time.monotonic()
        verdicts = verifier.verify_batch(problems, responses)
        elapsed = time.monotonic() - started
        slot_uids = [slot.uid for slot in verifier._pool.slots if slot.uid is not None]
        assert leftover_processes() == [], "a background process survived its verdict"

        for name, attack, companion in zip(names, verdicts[0::2], verdicts[1::2]):
            outcome = (attack.tests_passed, attack.tests_total)
            assert outcome == (1, 2), f"{level}/{name}: attack not contained or benign test lost: {attack}"
            if name in EXPECTED_REASON:
                assert attack.error == EXPECTED_REASON[name], f"{level}/{name}: {attack}"
            assert companion.passed, f"{level}: benign job beside {name} failed: {companion}"
        assert elapsed < 60, f"attacks took {elapsed:.1f} s"
    for uid in slot_uids:  # after close nothing runs under the slots' uids
        assert sandbox_module._processes_of(uid) == []
    # Only bubblewrap gives the program a /tmp of its own; the fallbacks share the host's world-writable /tmp.
    for path in HOST_FILES if level == "bwrap" else HOST_FILES[1:]:
        assert not os.path.exists(path), f"the sandbox wrote {path} on the host"
    if os.path.exists(HOST_FILES[0]):
        os.unlink(HOST_FILES[0])
    assert subprocess.run(["true"]).returncode == 0  # the host can still start processes


def _bubblewrap_problem() -> str | None:
    from darl.verifiers.code.pool import Slot

    return sandbox_module._probe("bwrap", Limits(), sandbox_module.SYSTEM_PYTHON, Slot(0, None))


BWRAP_PROBLEM = _bubblewrap_problem()
needs_bwrap = pytest.mark.skipif(BWRAP_PROBLEM is not None, reason=f"bubblewrap unusable here: {BWRAP_PROBLEM}")


@needs_bwrap
def test_attacks_are_contained_by_bubblewrap(host_server, monkeypatch):
    run_attacks("bwrap", host_server, monkeypatch)


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback levels switch uid, which needs root")
@pytest.mark.parametrize("level", ["namespaces", "rlimits"])
def test_attacks_are_contained_by_the_fallback_levels(level, host_server, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sandbox_module.SandboxWarning)
        run_attacks(level, host_server, monkeypatch)


@needs_bwrap
def test_the_sandbox_sees_no_host_files_and_runs_unprivileged():
    visible = {"dev", "etc", "proc", "run", "tmp", "usr"}
    visible |= {p for p in ("bin", "sbin", "lib", "lib32", "lib64", "libx32") if os.path.lexists(f"/{p}")}
    probe = ("import os, json\nprint(json.dumps(sorted(os.listdir('/'))))\nprint(sorted(os.listdir('/etc')))\n"
             "print(os.getuid() != 0, open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n"
             "print(len([p for p in os.listdir('/proc') if p.isdigit()]))\n")
    as_root = os.geteuid() == 0
    expected = (f"{json.dumps(sorted(visible))}\n['ld.so.cache', 'localtime']\n"
                + ("True 0000000000000000\n" if as_root else "") + "4\n")  # bwrap's init, the runner, its zygote, the test
    tests = CodeTests(io=(IOTest("", expected),))
    with CodeVerifier(workers=1, strict=True) as verifier:
        outcome = verifier.test_outcomes(Problem(id="probe", domain="code", prompt="p", tests=tests),
                                         f"```python\n{probe}```")
    if not as_root:
        pytest.skip("the uid and capability checks need root")
    assert outcome[0].passed, outcome


def test_missing_bubblewrap_falls_back_loudly_or_is_refused_when_strict(monkeypatch):
    real_which = sandbox_module.shutil.which
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None if name == "bwrap" else real_which(name))
    monkeypatch.setattr(sandbox_module, "_warned", set())
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        CodeVerifier(workers=1, strict=True)
    with pytest.warns(sandbox_module.SandboxWarning, match="WEAKER"):
        verifier = CodeVerifier(workers=1)
    with verifier:
        assert verifier.isolation in ("namespaces", "rlimits")
        tests = CodeTests(io=(IOTest("", "1\n"),))
        assert verifier.verify(Problem(id="x", domain="code", prompt="p", tests=tests), "```python\nprint(1)\n```").passed
    with pytest.raises(SandboxUnavailable, match="strict"):
        CodeVerifier(workers=1, isolation="rlimits", strict=True)
