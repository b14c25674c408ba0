"""The fake kube-apiserver (mrun-fake-apiserver) as a child process for a scenario."""
import json
import subprocess

from common import Skip


class FakeAPIServer:
    def __init__(self, binary, work, write_latency_ms=0):
        if not binary:
            raise Skip("no mrun-fake-apiserver binary given")
        self.kubeconfig = str(work / f"fake-kubeconfig-{write_latency_ms}".replace(".", "_"))
        self.process = subprocess.Popen([binary, "--write-latency", str(write_latency_ms), self.kubeconfig],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        line = self.process.stdout.readline().split()
        if len(line) != 2:
            self.stop()
            raise Skip(f"mrun-fake-apiserver did not start: {self.process.stderr.read().strip()[-200:]}")
        self.url = line[0]

    def traffic(self, reset=True):
        """What the clients did since the last reset (connections by protocol, HTTP/2 streams,
        requests in flight at once), as the fake counted it; then counts afresh."""
        self.process.stdin.write("traffic\n" + ("reset\n" if reset else ""))
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def reset_traffic(self):
        self.process.stdin.write("reset\n")
        self.process.stdin.flush()

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()
