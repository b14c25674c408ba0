"""Peer: the Python `kubernetes` client creating each Job of a file in a loop, as a Python launcher
would. Run with the bench venv's python: k8s_python_client.py KUBECONFIG JOBS.yaml"""
import sys

from kubernetes import client, config

from k8s_load import jobs

config.load_kube_config(config_file=sys.argv[1])
batch = client.BatchV1Api()
for job in jobs(sys.argv[2]):
    batch.create_namespaced_job(namespace=job["metadata"]["namespace"], body=job)
