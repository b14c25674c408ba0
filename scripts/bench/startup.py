#!/usr/bin/env python3
"""Start-up benchmark: mrun's commands side by side with what a user would run instead.

Runs every command several times after a warm-up, in one run, and prints median/min/max and the
ratio of each peer to mrun's `--help`. Peers that are not installed are reported as skipped with
the reason. Results also go to bench/results.json. Usage: scripts/bench/startup.py MRUN_BINARY
"""
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(os.environ.get("MRUN_BENCH_RUNS", "20"))


def measure(argv, cwd, env):
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "runs": RUNS}


def main():
    mrun = os.path.abspath(sys.argv[1])
    work = pathlib.Path(tempfile.mkdtemp(prefix="mrun-bench-"))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home"),
           "MRUN_HOME": str(work / "mrun-home"), "KUBECONFIG": str(work / "kubeconfig")}
    (work / "project").mkdir()
    (work / "project" / "exp.py").write_text("print('hi')\n")
    (work / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n"
        "- name: bench\n  context: {cluster: c, user: u}\ncurrent-context: bench\n")
    cases = [
        ("mrun --help", [mrun, "--help"]),
        ("mrun context", [mrun, "context"]),
        ("mrun run --dry-run", [mrun, "run", "exp.py", "--dry-run", "--", "--epochs", "3"]),
        ("kubectl config get-contexts", ["kubectl", "config", "get-contexts"]),
        ("python3 -c 'import yaml, jinja2' (a Python launcher's imports)", ["python3", "-c", "import yaml, jinja2"]),
        ("python3 -c 'import kubernetes, jinja2, yaml'", ["python3", "-c", "import kubernetes, jinja2, yaml"]),
    ]
    results = {"machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                           "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
               "scenarios": {}}
    for name, argv in cases:
        if shutil.which(argv[0]) is None:
            results["scenarios"][name] = {"skipped": f"{argv[0]} is not installed"}
            continue
        try:
            results["scenarios"][name] = measure(argv, work / "project", env)
        except subprocess.CalledProcessError as error:
            results["scenarios"][name] = {"skipped": f"exited with {error.returncode} (module or tool missing)"}
    base = results["scenarios"]["mrun --help"].get("median")
    print(f"start-up, {RUNS} runs each after a warm-up; {results['machine']}")
    print(f"{'scenario':64} {'median':>9} {'min':>9} {'max':>9} {'x mrun --help':>14}")
    for name, figures in results["scenarios"].items():
        if "skipped" in figures:
            print(f"{name:64} skipped: {figures['skipped']}")
            continue
        ratio = figures["median"] / base if base else float("nan")
        print(f"{name:64} {figures['median']*1000:8.1f}ms {figures['min']*1000:8.1f}ms "
              f"{figures['max']*1000:8.1f}ms {ratio:13.1f}x")
    out = pathlib.Path("bench")
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
