#!/bin/bash
# Rendered by mrun for experiment train-k3x9q (project lr-sweep).
#SBATCH --job-name=train-k3x9q
#SBATCH --output=mrun/lr-sweep/train-k3x9q/slurm-%j.out
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
# The container image; a relative path starts from the remote home, like the job directory's.
mrun_image='images/torch 2.sif'
case $mrun_image in /* | *://*) ;; *) mrun_image=$PWD/$mrun_image ;; esac
cd mrun/lr-sweep/train-k3x9q
export MRUN_EXPERIMENT=train-k3x9q
export MRUN_PROJECT=lr-sweep
export PYTHONUNBUFFERED=1
export STORAGE_DIR='/net/storage/lr sweep'
export MRUN_OUTPUT_DIR='/net/storage/lr sweep/lr-sweep/outputs/train-k3x9q'
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
# The experiment runs in the image, with apptainer or else singularity (after modules and setup,
# which may provide them). Both pass the variables above into the container (not PATH or
# LD_LIBRARY_PATH); the job directory is bound at the same path and is the working directory.
if command -v apptainer >/dev/null 2>&1; then
  mrun_container=apptainer
elif command -v singularity >/dev/null 2>&1; then
  mrun_container=singularity
else
  printf 'mrun: neither apptainer nor singularity is on the PATH on %s; cannot run %s (load one with modules or setup)\n' "$(hostname)" "$mrun_image" >&2
  exit 127
fi
mrun_binds=(--bind "$PWD")
mrun_binds+=(--bind '/net/storage/lr sweep')
exec "$mrun_container" exec --nv "${mrun_binds[@]}" --pwd "$PWD" "$mrun_image" python3 train.py --epochs 3 --name 'a b' 'it'\''s'
