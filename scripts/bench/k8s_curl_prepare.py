"""Writes what the server-ceiling row sends: each Job of a YAML file as a JSON body, and a curl
config POSTing them all (curl runs them in parallel; only curl is timed).
Usage (bench venv python, for PyYAML): k8s_curl_prepare.py KUBECONFIG JOBS.yaml DIRECTORY
Prints the curl arguments, one per line."""
import json
import os
import sys

from k8s_load import jobs, tls_files

server, ca, cert, key = tls_files(sys.argv[1])
directory = sys.argv[3]
os.makedirs(directory, exist_ok=True)
entries = []
for index, job in enumerate(jobs(sys.argv[2])):
    body = os.path.join(directory, f"job-{index}.json")
    with open(body, "w") as handle:
        json.dump(job, handle)
    namespace = job["metadata"]["namespace"]
    # `next` starts a new set of options: each transfer names its TLS files again.
    entries.append(f'url = "{server}/apis/batch/v1/namespaces/{namespace}/jobs"\n'
                   f'cacert = "{ca}"\ncert = "{cert}"\nkey = "{key}"\nsilent\nshow-error\n'
                   f'data-binary = "@{body}"\nheader = "Content-Type: application/json"\n'
                   f'output = "/dev/null"\nwrite-out = "%{{http_code}}\\n"\n')
config = os.path.join(directory, "curl.config")
with open(config, "w") as handle:
    handle.write("next\n".join(entries))
print("\n".join(["--silent", "--show-error", "--config", config]))
