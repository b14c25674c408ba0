import FakeKubernetes
import Foundation

// The tests' fake kube-apiserver as a process of its own, for `make bench` and for trying mrun
// without a cluster: `mrun-fake-apiserver KUBECONFIG` starts it on an ephemeral port of 127.0.0.1,
// writes a kubeconfig reaching it as an administrator (a client certificate), prints
// `URL KUBECONFIG` on one line and serves until its standard input closes. `--write-latency MS`
// (default 3, fractions allowed) delays every write as a real server's etcd commit does. A line
// `traffic` on its input prints what the clients did since the start or the last `reset` line
// (connections by protocol, HTTP/2 streams, requests in flight) as one line of JSON.

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("mrun-fake-apiserver: \(message)\n".utf8))
    exit(status)
}

/// Answers the commands on standard input until it closes. Blocking reads stay off the
/// concurrency pool, which serves the requests.
func serveCommands(_ server: FakeKubernetesServer) async {
    await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
        Thread {
            while let line = readLine() {
                switch line.trimmingCharacters(in: .whitespaces) {
                case "traffic":
                    let counts = (try? JSONEncoder().encode(server.traffic.current)) ?? Data("{}".utf8)
                    FileHandle.standardOutput.write(counts + Data("\n".utf8))
                case "reset": server.traffic.reset()
                default: FileHandle.standardError.write(Data("mrun-fake-apiserver: commands: traffic, reset\n".utf8))
                }
            }
            finished.resume()
        }.start()
    }
}

let usage = "usage: mrun-fake-apiserver [--write-latency MS] KUBECONFIG (where to write a kubeconfig that reaches it)"
var arguments = Array(CommandLine.arguments.dropFirst())
// About what etcd takes to commit a write on a small VM's disk (fsync), which a real
// kube-apiserver waits for before it answers.
var writeLatency = Duration.milliseconds(3)
if arguments.first == "--write-latency" {
    guard arguments.count > 1, let milliseconds = Double(arguments[1]), milliseconds >= 0, milliseconds < 60_000
    else {
        fail("--write-latency takes milliseconds (e.g. 3 or 2.5); \(usage)", status: 2)
    }
    writeLatency = .microseconds(Int64(milliseconds * 1000))
    arguments.removeFirst(2)
}
guard arguments.count == 1, let path = arguments.first, !path.hasPrefix("-") else {
    fail(usage, status: 2)
}
do {
    let server = try await FakeKubernetesServer.started()
    server.writeLatency = writeLatency
    let written = try server.kubeconfig(for: .certificate("alice"))
    let destination = URL(fileURLWithPath: path)
    // It holds a client key: readable by its owner only, like any kubeconfig mrun writes.
    let temporary = destination.deletingLastPathComponent()
        .appendingPathComponent(".\(destination.lastPathComponent).tmp")
    guard
        FileManager.default.createFile(
            atPath: temporary.path, contents: try Data(contentsOf: written), attributes: [.posixPermissions: 0o600])
    else { fail("cannot write \(temporary.path)", status: 1) }
    guard rename(temporary.path, destination.path) == 0 else {
        fail("cannot write \(destination.path): \(String(cString: strerror(errno)))", status: 1)
    }
    FileHandle.standardOutput.write(Data("\(server.url.absoluteString) \(destination.path)\n".utf8))
    await serveCommands(server)
    await server.stop()
} catch {
    fail("\(error)", status: 1)
}
