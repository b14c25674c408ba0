"""Shared helpers of the bench scenarios (stdlib only): timing, peak RSS, the peers' venv, rows.

A scenario module defines `run(bench) -> list[row]`; a row is a dict with `scenario`, `name`,
`kind` (`mrun`, `peer` or `ceiling`), `unit` (`s` or `MB`), `target` (or None) and either the
figures (`median`, `min`, `max`, `runs`) or `skipped` with the reason.
"""
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import time

RUNS = int(os.environ.get("MRUN_BENCH_RUNS", "10"))
ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV = ROOT / ".build" / "bench-venv"
TESTBED = pathlib.Path(os.environ.get("MRUN_TESTBED", "/var/tmp/mrun-testbed"))


class Skip(Exception):
    """A peer or a scenario that cannot run here; the message is the reason."""


def figures(samples, unit="s"):
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "runs": len(samples), "unit": unit}


def row(scenario, name, kind, samples=None, unit="s", target=None, skipped=None, note=None):
    result = {"scenario": scenario, "name": name, "kind": kind, "unit": unit, "target": target}
    if skipped is not None:
        result["skipped"] = skipped
    else:
        result.update(figures(samples, unit))
    if note:
        result["note"] = note
    return result


def timed(argv, timeout=120, **kwargs):
    """Runs argv to completion; returns its wall-clock seconds. Skip when it fails or hangs."""
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    kwargs.setdefault("stderr", subprocess.PIPE)
    start = time.perf_counter()
    process = subprocess.Popen(argv, **kwargs)
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise Skip(f"{argv[0]} took longer than {timeout} s")
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        text = (stderr or b"").decode(errors="replace").strip().splitlines()
        raise Skip(f"{os.path.basename(argv[0])} exited with {process.returncode}: {text[-1] if text else ''}"[:300])
    return elapsed


def peak_rss_mb(argv, timeout=120, **kwargs):
    """Peak RSS of one run of argv (wait4's ru_maxrss), in MB."""
    return peak_memory_mb(argv, timeout, **kwargs)[0]


def peak_memory_mb(argv, timeout=120, **kwargs):
    """(peak RSS from wait4's ru_maxrss, peak anonymous memory sampled from smaps_rollup every
    2 ms) of one run of argv, in MB. RSS also counts the clean pages of the executable the kernel
    mapped in; anonymous memory is what the process allocated (heap, stacks)."""
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    kwargs.setdefault("stderr", subprocess.DEVNULL)
    process = subprocess.Popen(argv, **kwargs)
    deadline = time.monotonic() + timeout
    anonymous = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise Skip(f"{argv[0]} took longer than {timeout} s")
        try:
            with open(f"/proc/{process.pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Anonymous:"):
                        anonymous = max(anonymous, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.002)
    if process.returncode != 0:
        raise Skip(f"{os.path.basename(argv[0])} exited with {process.returncode}")
    return usage.ru_maxrss / 1024, anonymous / 1024


def repeat(action, runs=RUNS, warmup=1):
    """Calls action() warmup times unmeasured, then `runs` times; action returns seconds."""
    for _ in range(warmup):
        action()
    return [action() for _ in range(runs)]


def venv_python(*packages):
    """The bench venv's python with `packages` installed from PyPI (pip, once); Skip if impossible."""
    python = VENV / "bin" / "python3"
    if not python.exists():
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True)
        if result.returncode != 0:
            raise Skip(f"cannot create the venv {VENV.relative_to(ROOT)}: {result.stderr.strip()[-200:]}")
    # "package:module" when the import name differs (pyyaml:yaml).
    missing = [p.split(":")[0] for p in packages if subprocess.run(
        [str(python), "-c", f"import {p.split(':')[-1]}"], capture_output=True).returncode != 0]
    if missing:
        result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *missing],
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise Skip(f"pip install {' '.join(missing)} failed: {result.stderr.strip()[-200:]}")
    return str(python)


def debian_tool(command, package):
    """The path of `command`, installing the Debian `package` when missing (root only); Skip if not."""
    found = shutil.which(command)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", package],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which(command)
        if found:
            return found
    raise Skip(f"{command} is not installed (Debian package {package})")


def testbed_env():
    """The test bed's env.sh as a dict; Skip when the test bed is not up."""
    path = TESTBED / "env.sh"
    if not path.exists():
        raise Skip(f"the test bed is not up ({path} missing: make testbed)")
    result = subprocess.run(["bash", "-c", f". '{path}' && env -0"], capture_output=True, check=True)
    return dict(item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)


def mrun_env(work, extra=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home"),
           "MRUN_HOME": str(work / "mrun-home"), "LANG": "C.UTF-8"}
    (work / "home").mkdir(parents=True, exist_ok=True)
    env.update(extra or {})
    return env


def scenario_main(run):
    """A scenario file's entry point: `SCENARIO.py MRUN [FAKE_APISERVER]` prints its rows as JSON."""
    import json
    import tempfile
    bench = {"mrun": os.path.abspath(sys.argv[1]),
             "fake": os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None,
             "work": pathlib.Path(tempfile.mkdtemp(prefix="mrun-bench-"))}
    try:
        rows = run(bench)
    finally:
        shutil.rmtree(bench["work"], ignore_errors=True)
    print(json.dumps(rows))
