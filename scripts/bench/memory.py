#!/usr/bin/env python3
"""Scenario 5, memory: a 1000-point `--dry-run` sweep, and the 200-Job sweep into the fake API server
(image already in the registry), beside kubectl create -f of 200 Jobs. Each row is the peak RSS
(wait4's ru_maxrss) and, beside it, the peak anonymous memory (heap and stacks, sampled from
/proc/PID/smaps_rollup): RSS also counts the clean pages of the executable that the kernel mapped in.
Usage: memory.py MRUN FAKE_APISERVER"""
import subprocess

from common import Skip, debian_tool, peak_memory_mb, row, scenario_main, testbed_env
from fakeserver import FakeAPIServer
from k8s_sweep import grid, manifests, rendered_job, setup_project

SCENARIO = "peak memory"
TARGET = 40.0


def add(rows, name, kind, argvs, target=None, group=None, **kwargs):
    """Three runs of argvs() (a fresh argv each time): an RSS row and an anonymous-memory row."""
    pairs = [peak_memory_mb(argvs(), **kwargs) for _ in range(3)]
    added = [row(SCENARIO, name + ": RSS", kind, [rss for rss, _ in pairs], unit="MB", target=target),
             row(SCENARIO, name + ": anonymous", kind, [anonymous for _, anonymous in pairs], unit="MB")]
    # Ratios compare like with like: RSS with RSS, anonymous with anonymous.
    added[0]["group"] = group or ""
    added[1]["group"] = (group or "") + " anonymous"
    rows += added


def run(bench):
    rows = []
    bed = testbed_env()
    with FakeAPIServer(bench["fake"], bench["work"]) as fake:
        project, env = setup_project(bench, fake, bed, name="memory")
        base = [bench["mrun"], "--context", "bench", "run", "exp.py", "--requirements", "requirements.txt"]
        try:
            add(rows, "mrun run --dry-run, 1000-point sweep", "mrun", lambda: base + ["--dry-run", *grid(1000)],
                target=TARGET, env=env, cwd=project)
        except Skip as error:
            rows.append(row(SCENARIO, "mrun run --dry-run, 1000 points", "mrun", skipped=str(error)))
        first = subprocess.run(base + grid(1), env=env, cwd=project, capture_output=True, timeout=600)
        try:
            if first.returncode != 0:
                raise Skip("mrun could not launch on the fake server")
            add(rows, "mrun run --grid, 200 Jobs", "mrun", lambda: base + grid(200), target=TARGET,
                group="200 Jobs", env=env, cwd=project)
            kubectl = debian_tool("kubectl", "kubernetes-client")
            job = rendered_job(bench, project, env)
            path = bench["work"] / "rss-jobs.yaml"
            counter = iter(range(100, 10**6))

            def kubectl_argv():
                # Fresh names for every run: the fake keeps the Jobs of the earlier ones.
                path.write_text(manifests(job, next(counter)))
                return [kubectl, "create", "--validate=false", "-f", str(path)]
            add(rows, "kubectl create --validate=false -f, 200 Jobs", "peer", kubectl_argv, group="200 Jobs",
                env={**env, "KUBECONFIG": fake.kubeconfig})
        except Skip as error:
            rows.append(row(SCENARIO, "200-Job sweep", "mrun", skipped=str(error)))
    return rows


if __name__ == "__main__":
    scenario_main(run)
