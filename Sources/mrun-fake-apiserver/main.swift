import FakeKubernetes
import Foundation

// The tests' fake kube-apiserver as a process of its own, for `make bench` and for trying mrun
// without a cluster: `mrun-fake-apiserver KUBECONFIG` starts it on an ephemeral port of 127.0.0.1,
// writes a kubeconfig reaching it as an administrator (a client certificate), prints
// `URL KUBECONFIG` on one line and serves until its standard input closes. `--write-latency MS`
// delays every write as a real server's etcd commit does.

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("mrun-fake-apiserver: \(message)\n".utf8))
    exit(status)
}

/// Blocking reads stay off the concurrency pool, which serves the requests.
func standardInputClosed() async {
    await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
        Thread {
            _ = FileHandle.standardInput.readDataToEndOfFile()
            finished.resume()
        }.start()
    }
}

let usage = "usage: mrun-fake-apiserver [--write-latency MS] KUBECONFIG (where to write a kubeconfig that reaches it)"
var arguments = Array(CommandLine.arguments.dropFirst())
var writeLatency = Duration.zero
if arguments.first == "--write-latency" {
    guard arguments.count > 1, let milliseconds = Int(arguments[1]), milliseconds >= 0 else {
        fail("--write-latency takes a whole number of milliseconds; \(usage)", status: 2)
    }
    writeLatency = .milliseconds(milliseconds)
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
    await standardInputClosed()
    await server.stop()
} catch {
    fail("\(error)", status: 1)
}
