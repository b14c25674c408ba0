#!/usr/bin/env python3
"""Scenario 4, relaunch loop with the test bed's docker engine and registry, Jobs into the fake API
server: unchanged code (the image is found in the registry), a code-only change (docker reuses the
requirements layer, builds and pushes the code layer), a requirements change (a new comment line in
requirements.txt: the requirements layer is rebuilt without downloading anything). Time from the
command to the Job created (mrun's exit). Usage: relaunch.py MRUN FAKE_APISERVER"""
import subprocess

from common import Skip, repeat, row, scenario_main, testbed_env, timed
from fakeserver import FakeAPIServer
from k8s_sweep import setup_project

SCENARIO = "relaunch (1 Job)"


def run(bench):
    bed = testbed_env()
    rows = []
    with FakeAPIServer(bench["fake"], bench["work"]) as fake:
        project, env = setup_project(bench, fake, bed, name="relaunch")
        command = [bench["mrun"], "--context", "bench", "run", "exp.py", "--requirements", "requirements.txt"]
        counter = iter(range(10**6))

        def launch():
            return timed(command, env=env, cwd=project, timeout=600)

        def code_change():
            with open(project / "exp.py", "a") as handle:
                handle.write(f"# change {next(counter)}\n")
            return launch()

        def requirements_change():
            with open(project / "requirements.txt", "a") as handle:
                handle.write(f"# change {next(counter)}\n")
            return launch()

        for name, action, target in [("unchanged code (image in the registry)", launch, 0.15),
                                     ("code-only change (build + push the code layer)", code_change, 0.5),
                                     ("requirements change (rebuild the requirements layer)", requirements_change,
                                      None)]:
            try:
                rows.append(row(SCENARIO, name, "mrun", repeat(action, runs=min(5, 10)), target=target))
            except Skip as error:
                rows.append(row(SCENARIO, name, "mrun", skipped=str(error)))
    return rows


if __name__ == "__main__":
    scenario_main(run)
