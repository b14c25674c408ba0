#!/usr/bin/env python3
"""Scenario 5, peak RSS (wait4's ru_maxrss of the child): a 1000-point `--dry-run` sweep, and the
200-Job sweep into the fake API server (image already in the registry), beside kubectl create -f of
200 Jobs. Usage: memory.py MRUN FAKE_APISERVER"""
import subprocess

from common import Skip, debian_tool, peak_rss_mb, repeat, row, scenario_main, testbed_env
from fakeserver import FakeAPIServer
from k8s_sweep import grid, manifests, rendered_job, setup_project

SCENARIO = "peak RSS"
TARGET = 40.0


def measure(argv, **kwargs):
    samples = []
    for _ in range(3):
        samples.append(peak_rss_mb(argv, **kwargs))
    return samples


def run(bench):
    rows = []
    bed = testbed_env()
    with FakeAPIServer(bench["fake"], bench["work"]) as fake:
        project, env = setup_project(bench, fake, bed, name="memory")
        base = [bench["mrun"], "--context", "bench", "run", "exp.py", "--requirements", "requirements.txt"]
        try:
            rows.append(row(SCENARIO, "mrun run --dry-run, 1000-point sweep", "mrun",
                            measure(base + ["--dry-run", *grid(1000)], env=env, cwd=project), unit="MB",
                            target=TARGET))
        except Skip as error:
            rows.append(row(SCENARIO, "mrun run --dry-run, 1000 points", "mrun", skipped=str(error)))
        first = subprocess.run(base + grid(1), env=env, cwd=project, capture_output=True, timeout=600)
        try:
            if first.returncode != 0:
                raise Skip("mrun could not launch on the fake server")
            rows.append(row(SCENARIO, "mrun run --grid, 200 Jobs", "mrun",
                            measure(base + grid(200), env=env, cwd=project), unit="MB", target=TARGET))
            rows[-1]["group"] = "200 Jobs"
            kubectl = debian_tool("kubectl", "kubernetes-client")
            job = rendered_job(bench, project, env)
            counter = iter(range(100, 10**6))

            def kubectl_rss():
                round_ = next(counter)
                path = bench["work"] / f"rss-jobs-{round_}.yaml"
                path.write_text(manifests(job, round_))
                return peak_rss_mb([kubectl, "create", "--validate=false", "-f", str(path)], env={**env, "KUBECONFIG": fake.kubeconfig})
            rows.append(row(SCENARIO, "kubectl create --validate=false -f, 200 Jobs", "peer", [kubectl_rss() for _ in range(3)],
                            unit="MB"))
            rows[-1]["group"] = "200 Jobs"
        except Skip as error:
            rows.append(row(SCENARIO, "200-Job sweep", "mrun", skipped=str(error)))
    return rows


if __name__ == "__main__":
    scenario_main(run)
