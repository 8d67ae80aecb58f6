"""Hostile submissions against the grader, each with its honest twin: the self-test's and the tests'.

A student who wants a better grade than their code earns: forged reports,
reading the hidden tests or the instructor's files, a process that outlives
the grade, the network, code that never returns. Each attack must score no
more than its honest twin (the same maths without the attack); the grader's
tests (instructor/tests/test_grade.py) grade them in the sandbox.
"""

from __future__ import annotations

from instructor.grading.rubric import NAIVE, SOFTMAX, VECTORIZED, body
from instructor.grading.suite import Case, at_import

ZEROS = [body(NAIVE, "pass\n"), body(VECTORIZED, "pass\n")]  # the kit's own setup lines: loss 0.0, dW = 0


def _guarded(code: str) -> str:
    body = "".join("    " + line + "\n" for line in code.strip("\n").splitlines())
    return "try:\n" + body + "except Exception:\n    pass\n"


FORGE_REPORTS = """
import os, sys, json
fake = b'{"e": "report", "id": "x", "when": "call", "outcome": "passed", "text": ""}\\n' * 50
for fd in range(3, 64):
    try:
        os.write(fd, fake)
    except OSError:
        pass
for name, module in list(sys.modules.items()):
    if name.startswith("instructor") and hasattr(module, "send"):
        plain = module.send
        def send(fd, body, encoder, plain=plain):
            text = json.dumps(body).replace('"failed"', '"passed"').replace('"ok": false', '"ok": true')
            return plain(fd, json.loads(text), encoder)
        module.send = send
"""
# Look everywhere a grader's files could show: parents' working directories,
# roots and environments through /proc, and the hidden tests by import. A
# solution found is used; hidden tests found are raised as an error message,
# so they would show in results.json.
SNOOP = """
import glob, os
places = [os.getcwd(), os.path.dirname(os.getcwd())] + EXTRA_PLACES
for pid in os.listdir('/proc'):
    if pid.isdigit():
        for link in ('cwd', 'root'):
            try:
                places.append(os.readlink(f'/proc/{pid}/{link}'))
            except OSError:
                pass
        try:
            env = open(f'/proc/{pid}/environ', 'rb').read().decode(errors='replace').split('\\0')
            places += [v.split('=', 1)[1] for v in env if '=' in v and '/' in v]
        except OSError:
            pass
SOLUTION, LEAK = None, None
for place in places:
    for part in place.split(':'):
        for pattern in ('classifiers/softmax.py', '*/classifiers/softmax.py', 'tests/hidden/*.py',
                        '*/tests/hidden/*.py', '*/*/tests/hidden/*.py', 'instructor/grading/reference.py',
                        '*/instructor/grading/reference.py', 'instructor/hidden_tests/*.py'):
            for path in glob.glob(os.path.join(part, pattern)):
                if os.path.realpath(path).startswith(os.getcwd() + os.sep):
                    continue  # the student's own kit
                text = open(path).read()
                if 'def reference_' + 'loss' in text:
                    LEAK = text
                elif 'BEGIN ' + 'SOLUTION' in text and 'raise NotImplementedError()' not in text:
                    SOLUTION = {}
                    exec(compile(text, path, 'exec'), SOLUTION)
try:
    from instructor.grading.reference import reference_loss as STOLEN
except ImportError:
    STOLEN = None
"""
USE_SNOOPED = """\
if SOLUTION is not None:
    loss, dW = SOLUTION['{function}'](W, X, y, reg)
elif STOLEN is not None:
    loss, dW = STOLEN(W, X, y, reg)
elif LEAK is not None:
    raise ValueError(LEAK)
"""
DAEMON = """
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep({seconds})', '{marker}'])
    os._exit(0)
"""
NETWORK = """
import socket
with socket.create_connection(('127.0.0.1', {port}), timeout=2) as connection:
    connection.sendall(b'LEAKED FROM THE SANDBOX')
"""
NEVER_RETURNS = [body(NAIVE, "while True:\n    pass\n"), body(VECTORIZED, "while True:\n    pass\n")]


def attacks(marker: str, port: int, extra_places: list[str]) -> dict[str, Case]:
    """Attacks and their honest twins. `marker` tags leftover processes; `port` is a loopback listener."""
    snoop = (
        "import",
        SOFTMAX,
        "SOLUTION = LEAK = STOLEN = None\n" + _guarded(f"EXTRA_PLACES = {extra_places!r}\n" + SNOOP),
    )
    return {
        "twin: zeros": Case("twin", ZEROS),
        "attack: forges the report channel": Case(
            "attack", [*ZEROS, at_import(SOFTMAX, FORGE_REPORTS)], twin="twin: zeros"
        ),
        "attack: reads the hidden tests and the instructor's files": Case(
            "attack",
            [
                snoop,
                body(NAIVE, USE_SNOOPED.format(function="softmax_loss_naive")),
                body(VECTORIZED, USE_SNOOPED.format(function="softmax_loss_vectorized")),
            ],
            twin="twin: zeros",
        ),
        "attack: leaves a daemon running": Case(
            "attack", [at_import(SOFTMAX, DAEMON.format(seconds=120, marker=marker))], twin="reference"
        ),
        "attack: talks to the network": Case(
            "attack", [at_import(SOFTMAX, NETWORK.format(port=port))], twin="reference"
        ),
        "attack: never returns": Case("attack", NEVER_RETURNS),  # judged by its time and what it leaves running
    }
