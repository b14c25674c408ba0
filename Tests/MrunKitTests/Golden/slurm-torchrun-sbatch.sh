#!/bin/bash
# Rendered by mrun for experiment train-k3x9q (project lr-sweep).
#SBATCH --job-name=train-k3x9q
#SBATCH --output=mrun/lr-sweep/train-k3x9q/slurm-%j.out
#SBATCH --partition=plgrid-gpu
#SBATCH --account=grant
#SBATCH --time=2:00:00
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --gres=gpu:1
#SBATCH --exclusive
set -euo pipefail
module load python/3.11
# sbatch runs in the remote home, so the relative paths here start from it.
# Credentials come from a private file next to the code, never from the script itself.
if [ -f mrun/lr-sweep/train-k3x9q/.mrun-env ]; then
  set -a
  . mrun/lr-sweep/train-k3x9q/.mrun-env
  set +a
fi
cd mrun/lr-sweep/train-k3x9q
export MRUN_EXPERIMENT=train-k3x9q
export MRUN_PROJECT=lr-sweep
export MRUN_OUTPUT_DIR=mrun/lr-sweep/outputs/train-k3x9q
export PYTHONUNBUFFERED=1
export NEPTUNE_HOST=neptune.example
export NEPTUNE_PORT=443
export NEPTUNE_USER=ada
export NEPTUNE_PROJECT=team/lr-sweep
# The launch's own directory for its results, which 'mrun fetch' copies back; a relative one is
# under the remote home.
case $MRUN_OUTPUT_DIR in /*) ;; *) MRUN_OUTPUT_DIR=$HOME/$MRUN_OUTPUT_DIR ;; esac
export MRUN_OUTPUT_DIR
mkdir -p -- "$MRUN_OUTPUT_DIR"
source ~/venv/bin/activate
# A gang of 8 (launcher torchrun): srun starts 1 task(s) on each of the
# 2 node(s), each through mrun's starter, which sets its rank from Slurm's; rank 0 runs
# on the first node of the allocation. The starter is written per job: array tasks share the directory.
mrun_starter=.mrun-gang-${SLURM_JOB_ID}.py
cat > "$mrun_starter" <<'MRUN_GANG_STARTER'
# mrun's per-node starter: starts this node's processes of a gang with torchrun's variables,
# prefixes each line of their output with "[rank R] ", forwards signals to all of them, and exits
# with the first non-zero status (the others are stopped). Standard library only: it runs with
# the interpreter that runs the experiment. Rendered by mrun from gang.py.stencil.
#
# The node's place comes from the backend: NODE_RANK (or MRUN_NODE_RANK_FROM, the name of the
# variable that holds it, e.g. JOB_COMPLETION_INDEX), NNODES, MASTER_ADDR, MASTER_PORT. Under
# srun (MRUN_GANG_TASK=slurm) Slurm starts every rank itself and this runs one of them.
# The arguments it gets go to the experiment, after those of the command.
import os
import signal
import subprocess
import sys
import threading
import time

COMMAND = ["python3", "train.py"] + sys.argv[1:]
PROCS_PER_NODE = 4
LAUNCHER = "torchrun"
GRACE_SECONDS = 10


def node_environment():
    env = dict(os.environ)
    if env.get("MRUN_GANG_TASK") == "slurm":
        env["NODE_RANK"] = env.get("SLURM_NODEID", "0")
        env["NNODES"] = env.get("SLURM_JOB_NUM_NODES", env.get("SLURM_NNODES", "1"))
    source = env.get("MRUN_NODE_RANK_FROM")
    if source:
        env["NODE_RANK"] = env.get(source, "0")
    env.setdefault("NODE_RANK", "0")
    env.setdefault("NNODES", "1")
    env.setdefault("MASTER_ADDR", "127.0.0.1")
    env.setdefault("MASTER_PORT", "29500")
    if LAUNCHER != "none":
        env["LOCAL_WORLD_SIZE"] = str(PROCS_PER_NODE)
        env["WORLD_SIZE"] = str(int(env["NNODES"]) * PROCS_PER_NODE)
    return env


def devices(env):
    """This node's GPUs, when known: CUDA_VISIBLE_DEVICES as the scheduler set it, else MRUN_GPUS."""
    listed = env.get("CUDA_VISIBLE_DEVICES") or env.get("MRUN_GPUS") or ""
    return [item for item in listed.split(",") if item.strip()]


def rank_environment(env, local_rank, gpus):
    env = dict(env)
    env["LOCAL_RANK"] = str(local_rank)
    env["RANK"] = env.get("SLURM_PROCID") if env.get("MRUN_GANG_TASK") == "slurm" else None
    env["RANK"] = env["RANK"] or str(int(env["NODE_RANK"]) * PROCS_PER_NODE + local_rank)
    if len(gpus) >= PROCS_PER_NODE:
        env["CUDA_VISIBLE_DEVICES"] = gpus[local_rank]
    return env


def relay(stream, out, prefix, lock):
    for line in iter(stream.readline, b""):
        with lock:
            out.write(prefix + line)
            out.flush()
    stream.close()


def status_of(code):
    return 128 - code if code < 0 else code


def run_ranks(env, local_ranks):
    gpus = devices(env)
    lock = threading.Lock()
    processes, relays = [], []
    for local_rank in local_ranks:
        rank_env = rank_environment(env, local_rank, gpus)
        process = subprocess.Popen(COMMAND, env=rank_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        prefix = f"[rank {rank_env['RANK']}] ".encode()
        for stream, out in ((process.stdout, sys.stdout.buffer), (process.stderr, sys.stderr.buffer)):
            thread = threading.Thread(target=relay, args=(stream, out, prefix, lock), daemon=True)
            thread.start()
            relays.append(thread)
        processes.append(process)

    def forward(signum, _frame):
        for process in processes:
            if process.poll() is None:
                process.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)

    failure = None
    running = list(processes)
    while running:
        for process in list(running):
            code = process.poll()
            if code is None:
                continue
            running.remove(process)
            if code != 0 and failure is None:
                failure = status_of(code)
                stop(running)
        time.sleep(0.05)
    for thread in relays:
        thread.join()
    return failure or 0


def stop(processes):
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def main():
    env = node_environment()
    if LAUNCHER == "torchrun":
        # torchrun runs the script with its own Python: drop ours ([python3, train.py, ...]).
        script, args = (COMMAND[0], COMMAND[1:]) if COMMAND[0].startswith("./") else (COMMAND[1], COMMAND[2:])
        argv = ["torchrun", "--nnodes", env["NNODES"], "--nproc-per-node", str(PROCS_PER_NODE),
                "--node-rank", env["NODE_RANK"], "--master-addr", env["MASTER_ADDR"],
                "--master-port", env["MASTER_PORT"], script, *args]
        os.execvpe(argv[0], argv, env)
    if LAUNCHER == "none":
        os.execvpe(COMMAND[0], COMMAND, env)
    if env.get("MRUN_GANG_TASK") == "slurm":
        # srun started this rank; CUDA_VISIBLE_DEVICES is the node's, narrowed by the rank's index.
        sys.exit(run_ranks(env, [int(env.get("SLURM_LOCALID", "0"))]))
    sys.exit(run_ranks(env, range(PROCS_PER_NODE)))


if __name__ == "__main__":
    main()

MRUN_GANG_STARTER
export MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"
export MASTER_PORT=29500
export NNODES=2
export MRUN_NODE_RANK_FROM=SLURM_NODEID
exec srun --kill-on-bad-exit=1 python3 "$mrun_starter" --epochs 3 --name 'a b' 'it'\''s'
