#!/usr/bin/env python3
"""Scenario 1, start-up: `mrun --help`, `mrun context`, `mrun run --dry-run` beside
`kubectl config get-contexts` and the imports of a Python launcher (`kubernetes`, `jinja2`, `yaml`
from the bench venv). Usage: startup.py MRUN (prints its rows as JSON; see bench.py)."""
import subprocess

from common import Skip, debian_tool, mrun_env, repeat, row, scenario_main, timed, venv_python

SCENARIO = "start-up"
TARGET = 0.015


def run(bench):
    work = bench["work"]
    (work / "project").mkdir()
    (work / "project" / "exp.py").write_text("print('hi')\n")
    (work / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n"
        "- name: bench\n  context: {cluster: c, user: u}\ncurrent-context: bench\n")
    env = mrun_env(work, {"KUBECONFIG": str(work / "kubeconfig")})
    mrun = bench["mrun"]
    cases = [
        ("mrun --help", "mrun", lambda: [mrun, "--help"]),
        ("mrun context", "mrun", lambda: [mrun, "context"]),
        ("mrun run --dry-run", "mrun", lambda: [mrun, "run", "exp.py", "--dry-run", "--", "--epochs", "3"]),
        ("kubectl config get-contexts", "peer",
         lambda: [debian_tool("kubectl", "kubernetes-client"), "config", "get-contexts"]),
        ("python3 -c 'import kubernetes, jinja2, yaml'", "peer",
         lambda: [venv_python("kubernetes", "jinja2", "pyyaml:yaml"), "-c", "import kubernetes, jinja2, yaml"]),
    ]
    rows = []
    for name, kind, argv in cases:
        try:
            command = argv()
            samples = repeat(lambda: timed(command, cwd=work / "project", env=env))
            rows.append(row(SCENARIO, name, kind, samples, target=TARGET if kind == "mrun" else None))
        except (Skip, subprocess.SubprocessError, OSError) as error:
            rows.append(row(SCENARIO, name, kind, skipped=str(error)))
    return rows


if __name__ == "__main__":
    scenario_main(run)
