#!/usr/bin/env python3
"""Scenario 2, a Kubernetes sweep of 200 Jobs into the fake API server run as its own process:
`mrun run --grid` (200 points, image already in the test bed's registry; once as 200 Jobs, once as
one Indexed Job with `sweep_mode: indexed`) beside `kubectl create -f`
of the same 200 rendered Jobs, a loop of the Python `kubernetes` client, and the server's own
ceiling (curl POSTing the 200 Jobs over HTTP/2, 64 at once); once with the fake answering at once,
once with every write held as etcd's commit holds it on a real server
(MRUN_BENCH_WRITE_LATENCY_MS, default 3). Each row's note is how the client talked to the server
in its last run, as the fake counted it. Usage: k8s_sweep.py MRUN FAKE_APISERVER"""
import json
import os
import re
import subprocess
import uuid

from common import RUNS, Skip, debian_tool, mrun_env, repeat, row, scenario_main, testbed_env, timed, venv_python
from fakeserver import FakeAPIServer

SCENARIO = "k8s sweep 200 Jobs"
POINTS = 200
TARGET = 0.4
PARALLEL = 64
# What a write waits for on a real server: etcd's commit (an fsync) on a small VM's disk. With
# it, kubectl's 200 creates one after another take about what they take against a real
# kube-apiserver v1.25 on such a machine (0.96 s).
WRITE_LATENCY_MS = float(os.environ.get("MRUN_BENCH_WRITE_LATENCY_MS", "3"))
SLOW_RUNS = max(1, min(RUNS, 3))
HERE = __file__.rsplit("/", 1)[0]


def setup_project(bench, fake, bed, name="k8s"):
    """A project and an MRUN_HOME with a kubernetes context `bench` on the test bed's registry."""
    work = bench["work"]
    project = work / f"project-{name}"
    project.mkdir()
    # A nonce: the test bed's registry outlives a bench, and code it has seen is not rebuilt.
    (project / "exp.py").write_text(f"import sys\nprint(sys.argv)\n# bench {uuid.uuid4()}\n")
    (project / "requirements.txt").write_text(f"# bench {uuid.uuid4()}\n")
    (work / "docker-config").mkdir(exist_ok=True)
    env = mrun_env(work, {"KUBECONFIG": fake.kubeconfig, "DOCKER_HOST": bed["DOCKER_HOST"],
                          "MRUN_HOME": str(work / f"mrun-home-{name}"),
                          "DOCKER_CONFIG": str(work / "docker-config"), "NEPTUNE_API_TOKEN": "bench-token"})
    subprocess.run([bench["mrun"], "context", "add", "--name", "bench", "--type", "kubernetes", "--registry_url",
                    bed["MRUN_TEST_REGISTRY"], "--base_image", bed["MRUN_TEST_BASE_IMAGE"], "--project", "bench"],
                   env=env, cwd=project, check=True, capture_output=True)
    # The same, with the sweep as one Indexed Job (one POST for every point).
    subprocess.run([bench["mrun"], "context", "add", "--name", "bench-indexed", "--type", "kubernetes",
                    "--registry_url", bed["MRUN_TEST_REGISTRY"], "--base_image", bed["MRUN_TEST_BASE_IMAGE"],
                    "--project", "bench", "--sweep_mode", "indexed"],
                   env=env, cwd=project, check=True, capture_output=True)
    return project, env


def grid(points):
    return ["--grid", "i=" + ",".join(str(i) for i in range(points))]


def rendered_job(bench, project, env):
    """Point 0's Job manifest as mrun renders it (YAML, from `--dry-run --output json`)."""
    result = subprocess.run([bench["mrun"], "--context", "bench", "run", "exp.py", "--requirements",
                             "requirements.txt", "--dry-run", "--output", "json", *grid(1)],
                            env=env, cwd=project, capture_output=True, text=True, check=True)
    artefacts = json.loads(result.stdout)["plan"]["artefacts"]
    job = next((item["content"] for item in artefacts if item["name"] == "job.yaml"), None)
    name = re.search(r'^  name: "?([^"\n]+)"?$', job or "", re.MULTILINE)
    if not name:
        raise Skip("no Job manifest in `mrun run --dry-run --output json`")
    return job, name.group(1)


def manifests(job, round_):
    """The 200 Jobs of one round as YAML documents, named bench-ROUND-INDEX."""
    text, name = job
    return "\n---\n".join(text.replace(name, f"bench-{round_}-{index}") for index in range(POINTS))


def run(bench):
    bed = testbed_env()
    # Measured here beside this build, round by round, rather than in a run of its own.
    bench["baseline"] = os.environ.get("MRUN_BENCH_BASELINE") or None
    rows = []
    # Without latency the rows measure each client's own work (the fake answers in about a
    # millisecond); with etcd's commit per write they measure what a real server makes of it,
    # where doing the requests in parallel matters.
    for latency, scenario in [(0, SCENARIO), (WRITE_LATENCY_MS, SCENARIO + f", {WRITE_LATENCY_MS:g} ms writes")]:
        rows += sweep_rows(bench, bed, latency, scenario)
    return rows


class Client:
    """One row's client: how to run a round of it, how many measured rounds, and its samples."""

    def __init__(self, name, kind, round_, runs=None, target=None, note=None):
        self.name, self.kind, self.round, self.target, self.note = name, kind, round_, target, note
        self.runs = RUNS if runs is None else runs
        self.samples = []


def interleaved(clients):
    """Every client's warm-up, then their measured rounds in turn (round 1 of each, then round 2…):
    this machine's speed drifts within minutes, and rows measured one after another would compare
    different minutes."""
    for client in clients:
        client.round()
    for index in range(max(client.runs for client in clients)):
        for client in clients:
            if index < client.runs:
                client.samples.append(client.round())


def sweep_rows(bench, bed, latency, scenario):
    rows = []
    with FakeAPIServer(bench["fake"], bench["work"], write_latency_ms=latency) as fake:
        project, env = setup_project(bench, fake, bed, name=f"k8s-{latency}")
        # mrun, and the build it is compared with when one is given, side by side in every round.
        builds = [("", "mrun", bench["mrun"])]
        if bench.get("baseline"):
            builds.append((" [baseline]", "baseline", bench["baseline"]))
        clients = []
        for suffix, kind, binary in builds:
            # The first launch builds and pushes the image; the measured ones find it in the registry.
            first = subprocess.run([binary, "--context", "bench", "run", "exp.py", "--requirements",
                                    "requirements.txt", *grid(1)], env=env, cwd=project, capture_output=True,
                                   text=True, timeout=600)
            if first.returncode != 0:
                raise Skip(f"mrun{suffix} could not launch on the fake server: {first.stderr.strip()[-300:]}")
            for context, what, target in [("bench", "mrun run --grid (200 points, 1 process)", TARGET),
                                          ("bench-indexed",
                                           "mrun run --grid, sweep_mode: indexed (one Indexed Job)", None)]:
                command = [binary, "--context", context, "run", "exp.py", "--requirements", "requirements.txt",
                           *grid(POINTS)]
                clients.append(Client(what + suffix, kind, lambda command=command: timed(
                    command, env=env, cwd=project, timeout=120), target=target))
                if context == "bench":
                    clients[-1].note = lambda command=command: wire(fake, command, env=env, cwd=project)

        job = rendered_job(bench, project, env)
        counter = iter(range(10**6))

        def write_round():
            round_ = next(counter)
            path = bench["work"] / f"jobs-{latency}-{round_}.yaml"
            path.write_text(manifests(job, round_))
            return round_, path

        skipped = []
        try:
            kubectl = debian_tool("kubectl", "kubernetes-client")
            kenv = {**env, "KUBECONFIG": fake.kubeconfig}

            # The fake serves no OpenAPI document, which kubectl's client-side validation downloads;
            # --validate=false spares kubectl that work, so its figure is if anything flattering.
            def kubectl_round():
                _, path = write_round()
                return timed([kubectl, "create", "--validate=false", "-f", str(path)], env=kenv, timeout=300)

            def kubectl_note():
                fake.reset_traffic()
                kubectl_round()
                return described(fake.traffic())
            clients.append(Client("kubectl create --validate=false -f (the same 200 Jobs)", "peer", kubectl_round,
                                  runs=SLOW_RUNS if latency else RUNS, note=kubectl_note))
        except Skip as error:
            skipped.append(row(scenario, "kubectl create -f", "peer", skipped=str(error)))

        try:
            python = venv_python("kubernetes")
            script = f"{HERE}/k8s_python_client.py"

            def python_round():
                round_, path = write_round()
                return timed([python, script, fake.kubeconfig, str(path)], timeout=300)
            clients.append(Client("Python kubernetes client, create loop (1 process)", "peer", python_round,
                                  runs=SLOW_RUNS if latency else RUNS))
        except Skip as error:
            skipped.append(row(scenario, "Python kubernetes client", "peer", skipped=str(error)))

        try:
            curl = curl_round(bench, fake, write_round)

            def curl_note():
                fake.reset_traffic()
                curl()
                return described(fake.traffic())
            clients.append(Client(f"server ceiling: curl --http2 --parallel, {PARALLEL} at once", "ceiling", curl,
                                  note=curl_note))
        except Skip as error:
            skipped.append(row(scenario, "server ceiling (curl --parallel)", "ceiling", skipped=str(error)))

        interleaved(clients)
        for client in clients:
            rows.append(row(scenario, client.name, client.kind, client.samples, target=client.target,
                            note=client.note() if client.note else None))
        rows += skipped
    return rows


def described(counts):
    """The fake's traffic counts in a few words."""
    connections = []
    if counts["http2Connections"]:
        connections.append(f"{counts['http2Connections']} HTTP/2 connection(s), {counts['http2Streams']} streams")
    if counts["http1Connections"]:
        connections.append(f"{counts['http1Connections']} HTTP/1.1 connection(s)")
    return (", ".join(connections) + f"; {counts['requests']} requests, at most {counts['peakInFlight']} in flight"
            + f" ({counts['peakInFlightPerConnection']} on one connection)")


def wire(fake, command, **kwargs):
    """One more run of `command`, counted by the fake."""
    fake.reset_traffic()
    timed(command, timeout=120, **kwargs)
    return described(fake.traffic())


def curl_round(bench, fake, write_round):
    """A round of the ceiling: 200 POSTs by curl over HTTP/2, PARALLEL at once (curl multiplexes
    them on as few connections as it can); the bodies are written before the clock starts, and
    every answer must be 201."""
    curl = debian_tool("curl", "curl")
    python = venv_python("pyyaml:yaml")

    def prepare():
        round_, path = write_round()
        directory = bench["work"] / f"curl-{round_}"
        prepared = subprocess.run([python, f"{HERE}/k8s_curl_prepare.py", fake.kubeconfig, str(path),
                                   str(directory)], capture_output=True, text=True, check=True)
        return [curl, "--http2", "--parallel", "--parallel-max", str(PARALLEL),
                *prepared.stdout.splitlines()]

    checked = subprocess.run(prepare(), capture_output=True, text=True, timeout=300)
    codes = checked.stdout.split()
    if checked.returncode != 0 or codes != ["201"] * POINTS:
        raise Skip(f"curl's POSTs were not all created: exit {checked.returncode}, {sorted(set(codes))}")

    def round_():
        return timed(prepare(), timeout=300)
    return round_


if __name__ == "__main__":
    scenario_main(run)
