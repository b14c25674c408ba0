"""Reading a kubeconfig and a file of YAML Jobs (for the peers run in the bench venv, which has PyYAML)."""
import base64
import os
import tempfile

import yaml


def tls_files(kubeconfig):
    """(server URL, CA file, client certificate file, client key file) of the current context."""
    config = yaml.safe_load(open(kubeconfig))
    context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    directory = tempfile.mkdtemp(prefix="mrun-bench-tls-")
    files = []
    for key, data in [("ca", cluster["certificate-authority-data"]), ("cert", user["client-certificate-data"]),
                      ("key", user["client-key-data"])]:
        path = os.path.join(directory, key)
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))
        files.append(path)
    return (cluster["server"], *files)


def jobs(path):
    return [doc for doc in yaml.safe_load_all(open(path)) if doc]
