#!/bin/bash
# Rendered by mrun for sweep train-k3x9q (8 points, project lr-sweep).
#SBATCH --job-name=train-k3x9q
#SBATCH --array=0-7%2
#SBATCH --output=mrun/lr-sweep/train-k3x9q/slurm-%A_%a.out
#SBATCH --partition=plgrid-gpu
#SBATCH --account=grant
#SBATCH --time=2:00:00
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
# One array task per point: its name, its MRUN_PARAMS and its arguments, after the ones above.
case ${SLURM_ARRAY_TASK_ID:-} in
  0)
    export MRUN_EXPERIMENT=train-k3x9q-0
    export MRUN_PARAMS='{"opt": "adam", "lr": 0.1, "batch": 32}'
    MRUN_OUTPUT_DIR=${MRUN_OUTPUT_DIR:+${MRUN_OUTPUT_DIR%/*}/}train-k3x9q-0
    point_args=(--opt adam --lr 0.1 --batch 32)
    ;;
  1)
    export MRUN_EXPERIMENT=train-k3x9q-1
    export MRUN_PARAMS='{"opt": "adam", "lr": 0.1, "batch": 64}'
    MRUN_OUTPUT_DIR=${MRUN_OUTPUT_DIR:+${MRUN_OUTPUT_DIR%/*}/}train-k3x9q-1
    point_args=(--opt adam --lr 0.1 --batch 64)
    ;;
  2)
    export MRUN_EXPERIMENT=train-k3x9q-2
    export MRUN_PARAMS='{"opt": "adam", "lr": 0.01, "batch": 32}'
    MRUN_OUTPUT_DIR=${MRUN_OUTPUT_DIR:+${MRUN_OUTPUT_DIR%/*}/}train-k3x9q-2
    point_args=(--opt adam --lr 0.01 --batch 32)
    ;;
  3)
    export MRUN_EXPERIMENT=train-k3x9q-3
    export MRUN_PARAMS='{"opt": "adam", "lr": 0.01, "batch": 64}'
    MRUN_OUTPUT_DIR=${MRUN_OUTPUT_DIR:+${MRUN_OUTPUT_DIR%/*}/}train-k3x9q-3
    point_args=(--opt adam --lr 0.01 --batch 64)
    ;;
  4)
    export MRUN_EXPERIMENT=train-k3x9q-4
    export MRUN_PARAMS='{"opt": "it'\''s a \"test\"", "lr": 0.1, "batch": 32}'
    MRUN_OUTPUT_DIR=${MRUN_OUTPUT_DIR:+${MRUN_OUTPUT_DIR%/*}/}train-k3x9q-4
    point_args=(--opt 'it'\''s a "test"' --lr 0.1 --batch 32)
    ;;
  5)
    export MRUN_EXPERIMENT=train-k3x9q-5
    export MRUN_PARAMS='{"opt": "it'\''s a \"test\"", "lr": 0.1, "batch": 64}'
    MRUN_OUTPUT_DIR=${MRUN_OUTPUT_DIR:+${MRUN_OUTPUT_DIR%/*}/}train-k3x9q-5
    point_args=(--opt 'it'\''s a "test"' --lr 0.1 --batch 64)
    ;;
  6)
    export MRUN_EXPERIMENT=train-k3x9q-6
    export MRUN_PARAMS='{"opt": "it'\''s a \"test\"", "lr": 0.01, "batch": 32}'
    MRUN_OUTPUT_DIR=${MRUN_OUTPUT_DIR:+${MRUN_OUTPUT_DIR%/*}/}train-k3x9q-6
    point_args=(--opt 'it'\''s a "test"' --lr 0.01 --batch 32)
    ;;
  7)
    export MRUN_EXPERIMENT=train-k3x9q-7
    export MRUN_PARAMS='{"opt": "it'\''s a \"test\"", "lr": 0.01, "batch": 64}'
    MRUN_OUTPUT_DIR=${MRUN_OUTPUT_DIR:+${MRUN_OUTPUT_DIR%/*}/}train-k3x9q-7
    point_args=(--opt 'it'\''s a "test"' --lr 0.01 --batch 64)
    ;;
  *)
    echo "mrun: sweep k3x9q has no point '${SLURM_ARRAY_TASK_ID:-}'; submit it as a job array" >&2
    exit 2
    ;;
esac
# The launch's own directory for its results, which 'mrun fetch' copies back; a relative one is
# under the remote home.
case $MRUN_OUTPUT_DIR in /*) ;; *) MRUN_OUTPUT_DIR=$HOME/$MRUN_OUTPUT_DIR ;; esac
export MRUN_OUTPUT_DIR
mkdir -p -- "$MRUN_OUTPUT_DIR"
source ~/venv/bin/activate
exec python3 train.py --epochs 3 --name 'a b' 'it'\''s' "${point_args[@]}"
