import Foundation

/// Certificates for the fake API server, made with the `openssl` CLI once per test process: a
/// cluster CA, a server certificate for 127.0.0.1 and localhost, client certificates whose CN is
/// the user and O the groups, and a second CA that the cluster does not trust.
package struct FakeKubernetesPKI: Sendable {
    package struct ClientCredential: Sendable {
        package var certificatePEM: String
        package var keyPEM: String
    }

    package let directory: URL
    package let caPEM: String
    /// A CA the fake server does not trust; its server certificate is not trusted by the cluster CA.
    package let otherCAPEM: String
    package let serverCertificatePEM: String
    package let serverKeyPEM: String
    /// The same server key pair signed by the other CA: a server whose certificate the cluster CA
    /// does not vouch for.
    package let untrustedServerCertificatePEM: String
    /// The server key pair for `DNS:kubernetes.fake` only, without an IP address: TLS clients
    /// connecting to 127.0.0.1 must be told that name (tls-server-name).
    package let namedServerCertificatePEM: String
    package let clients: [String: ClientCredential]

    /// Client certificates by name: `alice` (RSA PKCS#1 key, group system:masters), `bob` (RSA
    /// PKCS#8, mrun-users), `carol` (EC, mrun-users), `expired` (alice's identity, expired),
    /// `stranger` (signed by the other CA).
    package static let clientNames = ["alice", "bob", "carol", "expired", "stranger"]

    package static func shared() async throws -> FakeKubernetesPKI {
        try await cache.value
    }

    private static let cache = Task { try FakeKubernetesPKI.generate() }

    private static func generate() throws -> FakeKubernetesPKI {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mrun-fake-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let openssl = OpenSSL(directory: directory)
        try openssl.makeCA("ca", subject: "/CN=fake-kubernetes-ca")
        try openssl.makeCA("other-ca", subject: "/CN=someone-elses-ca")
        try openssl.ecKey("server")
        let serverExtensions = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"
        try openssl.sign("server", subject: "/CN=kube-apiserver", ca: "ca", extensions: serverExtensions)
        try openssl.sign(
            "server", subject: "/CN=kube-apiserver", ca: "other-ca", extensions: serverExtensions,
            output: "server-untrusted")
        try openssl.sign(
            "server", subject: "/CN=kube-apiserver", ca: "ca",
            extensions: "subjectAltName=DNS:kubernetes.fake\nextendedKeyUsage=serverAuth", output: "server-named")
        try openssl.run(["genrsa", "-traditional", "-out", "alice.key", "2048"])
        try openssl.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "bob.key"])
        for name in ["carol", "expired", "stranger"] { try openssl.ecKey(name) }
        try openssl.sign("alice", subject: "/CN=alice/O=system:masters", ca: "ca")
        try openssl.sign("bob", subject: "/CN=bob/O=mrun-users", ca: "ca")
        try openssl.sign("carol", subject: "/CN=carol/O=mrun-users/O=gpu-users", ca: "ca")
        // A negative validity ends the certificate a day before it starts: expired from birth.
        try openssl.sign("expired", subject: "/CN=alice/O=system:masters", ca: "ca", days: -1)
        try openssl.sign("stranger", subject: "/CN=alice/O=system:masters", ca: "other-ca")

        func read(_ name: String) throws -> String {
            try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        }
        var clients: [String: ClientCredential] = [:]
        for name in clientNames {
            clients[name] = ClientCredential(certificatePEM: try read("\(name).crt"), keyPEM: try read("\(name).key"))
        }
        return FakeKubernetesPKI(
            directory: directory, caPEM: try read("ca.crt"), otherCAPEM: try read("other-ca.crt"),
            serverCertificatePEM: try read("server.crt"), serverKeyPEM: try read("server.key"),
            untrustedServerCertificatePEM: try read("server-untrusted.crt"),
            namedServerCertificatePEM: try read("server-named.crt"), clients: clients)
    }
}

/// The `openssl` commands, run in one directory.
private struct OpenSSL {
    package let directory: URL

    package func makeCA(_ name: String, subject: String) throws {
        try ecKey(name)
        try run([
            "req", "-x509", "-new", "-key", "\(name).key", "-subj", subject, "-days", "3650", "-out", "\(name).crt",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    package func ecKey(_ name: String) throws {
        try run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "\(name).key"])
    }

    package func sign(
        _ name: String, subject: String, ca: String, days: Int = 365,
        extensions: String = "extendedKeyUsage=clientAuth", output: String? = nil
    ) throws {
        let output = output ?? name
        let extensionFile = directory.appendingPathComponent("\(output).ext")
        try Data(("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" + extensions).utf8)
            .write(to: extensionFile)
        try run(["req", "-new", "-key", "\(name).key", "-subj", subject, "-out", "\(output).csr"])
        try run([
            "x509", "-req", "-in", "\(output).csr", "-CA", "\(ca).crt", "-CAkey", "\(ca).key", "-set_serial",
            String(Int.random(in: 1000..<1_000_000_000)), "-days", String(days), "-extfile", extensionFile.path,
            "-out", "\(output).crt",
        ])
    }

    package func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = directory
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError(
                description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: "
                    + String(decoding: message, as: UTF8.self))
        }
    }
}
