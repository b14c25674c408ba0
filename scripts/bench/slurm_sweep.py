#!/usr/bin/env python3
"""Scenario 3, a Slurm sweep of 200 points on the test bed's single-node cluster over ssh: mrun (one
job array) beside 200 `ssh HOST sbatch` calls and submitit's `map_array` (local sbatch, as on a login
node). Every round's jobs are cancelled right after it. Usage: slurm_sweep.py MRUN"""
import os
import subprocess

from common import RUNS, Skip, mrun_env, repeat, row, scenario_main, testbed_env, timed, venv_python

SCENARIO = "slurm sweep 200 points"
POINTS = 200
TARGET = 0.5
HERE = os.path.dirname(os.path.abspath(__file__))
SLOW_RUNS = max(1, min(RUNS, 3))


def run(bench):
    bed = testbed_env()
    work = bench["work"]
    ssh = ["ssh", "-F", bed["MRUN_TEST_SSH_CONFIG"], bed["MRUN_TEST_SSH_HOST"]]
    user = bed["MRUN_TEST_SSH_USER"]

    def cancel(prefix):
        subprocess.run(ssh + [f"squeue -h -u {user} -o '%F %j' | awk '$2 ~ /^{prefix}/ {{print $1}}' | sort -u"
                              " | xargs -r scancel"], capture_output=True, timeout=60)

    project = work / "project"
    project.mkdir()
    (project / "exp.py").write_text("import sys\nprint(sys.argv)\n")
    env = mrun_env(work)
    subprocess.run([bench["mrun"], "context", "add", "--name", "bench", "--type", "slurm", "--host",
                    bed["MRUN_TEST_SSH_HOST"], "--ssh_config", bed["MRUN_TEST_SSH_CONFIG"], "--partition", "debug",
                    "--workdir", "mrun-bench", "--project", "bench", "--no-neptune"],
                   env=env, cwd=project, check=True, capture_output=True)
    rows = []
    points = "i=" + ",".join(str(i) for i in range(POINTS))

    def mrun_round():
        try:
            return timed([bench["mrun"], "--context", "bench", "run", "--name", "benchm", "exp.py", "--grid", points],
                         env=env, cwd=project, timeout=120)
        finally:
            cancel("benchm")
    rows.append(row(SCENARIO, "mrun run --grid (1 array over ssh)", "mrun", repeat(mrun_round), target=TARGET))

    def ssh_round():
        start = os.times().elapsed
        for index in range(POINTS):
            subprocess.run(ssh + [f"sbatch --parsable -J benchs -p debug -o /dev/null --chdir=/tmp"
                                  f" --wrap 'python3 -c \"print({index})\"'"],
                           check=True, capture_output=True, timeout=60)
        elapsed = os.times().elapsed - start
        cancel("benchs")
        return elapsed
    try:
        # One round only, no warm-up: 200 ssh connections take minutes on a loaded 2-core machine.
        rows.append(row(SCENARIO, "200 × ssh HOST sbatch --wrap", "peer", repeat(ssh_round, runs=1, warmup=0),
                        note="one round, no warm-up"))
    except (Skip, subprocess.SubprocessError) as error:
        rows.append(row(SCENARIO, "200 × ssh HOST sbatch", "peer", skipped=str(error)[:300]))

    try:
        python = venv_python("submitit")
        folder = work / "submitit"
        slurm_env = {**os.environ, "SLURM_CONF": bed["SLURM_CONF"]}

        def submitit_round():
            try:
                return timed([python, f"{HERE}/slurm_submitit.py", str(folder), str(POINTS)], env=slurm_env,
                             timeout=300)
            finally:
                subprocess.run(["bash", "-c", "squeue -h -o '%F %j' | awk '$2 ~ /^benchsub/ {print $1}' | sort -u"
                                " | xargs -r scancel"], env=slurm_env, capture_output=True, timeout=60)
        rows.append(row(SCENARIO, "submitit map_array (local sbatch, login-node style)", "peer",
                        repeat(submitit_round, runs=SLOW_RUNS)))
    except Skip as error:
        rows.append(row(SCENARIO, "submitit map_array", "peer", skipped=str(error)))
    return rows


if __name__ == "__main__":
    scenario_main(run)
