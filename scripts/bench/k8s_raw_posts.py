"""The fake API server's ceiling: every Job of a file POSTed as JSON over TLS with a client
certificate, THREADS connections in parallel (keep-alive), http.client only.
Usage (bench venv python, for PyYAML): k8s_raw_posts.py KUBECONFIG JOBS.yaml THREADS"""
import http.client
import json
import queue
import ssl
import sys
import threading
import urllib.parse

from k8s_load import jobs, tls_files

server, ca, cert, key = tls_files(sys.argv[1])
bodies = queue.Queue()
for job in jobs(sys.argv[2]):
    bodies.put((job["metadata"]["namespace"], json.dumps(job).encode()))
context = ssl.create_default_context(cafile=ca)
context.load_cert_chain(cert, key)
url = urllib.parse.urlparse(server)
failures = []


def worker():
    connection = http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=30)
    while True:
        try:
            namespace, body = bodies.get_nowait()
        except queue.Empty:
            break
        connection.request("POST", f"/apis/batch/v1/namespaces/{namespace}/jobs", body,
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 201:
            failures.append(response.status)
    connection.close()


threads = [threading.Thread(target=worker) for _ in range(int(sys.argv[3]))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
if failures:
    sys.exit(f"{len(failures)} POSTs failed, first status {failures[0]}")
