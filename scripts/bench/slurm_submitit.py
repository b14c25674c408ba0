"""Peer: submitit's map_array of POINTS calls, submitted with the local sbatch (this machine is the
cluster's login node). Run with the bench venv's python: slurm_submitit.py FOLDER POINTS"""
import sys

import submitit


def point(index):
    return index


executor = submitit.AutoExecutor(folder=sys.argv[1], cluster="slurm")
executor.update_parameters(slurm_partition="debug", name="benchsub", timeout_min=5)
jobs = executor.map_array(point, range(int(sys.argv[2])))
print(jobs[0].job_id)
