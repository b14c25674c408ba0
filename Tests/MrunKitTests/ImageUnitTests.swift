import Foundation
import Testing

@testable import MrunKit
@testable import KubernetesAPI
@testable import MrunBackends
@testable import MrunConfig
@testable import MrunHistory
@testable import MrunPlan
@testable import MrunSupport
@testable import MrunTemplates

/// The image step's parsing and reporting, without docker or a registry.
@Suite struct ImageUnitTests {
    @Test(arguments: [
        ("127.0.0.1:5000/proj/exp:abc", "127.0.0.1:5000", "proj/exp", "abc"),
        ("gcr.io/my-project/lr/train:0123", "gcr.io", "my-project/lr/train", "0123"),
        ("localhost/a/b", "localhost", "a/b", "latest"),
        ("user/train:1", "docker.io", "user/train", "1"),
        ("python:3.11-slim", "docker.io", "library/python", "3.11-slim"),
        ("[::1]:5000/p/n:t", "[::1]:5000", "p/n", "t"),
    ])
    func referencesSplitAsDockerSplitsThem(name: String, registry: String, repository: String, tag: String) throws {
        let reference = try #require(ImageReference(name))
        #expect(reference.registry == registry)
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
    }

    @Test func loopbackAndDockerHubAreRecognised() throws {
        #expect(try #require(ImageReference("127.0.0.1:5000/p/n:t")).isLoopback)
        #expect(try #require(ImageReference("localhost:5000/p/n:t")).isLoopback)
        #expect(try #require(ImageReference("[::1]:5000/p/n:t")).isLoopback)
        #expect(!(try #require(ImageReference("gcr.io/p/n:t")).isLoopback))
        let hub = try #require(ImageReference("docker.io/user/n:t"))
        #expect(hub.apiHost == "registry-1.docker.io")
        #expect(hub.credentialKey == "https://index.docker.io/v1/")
        #expect(hub.repositoryName == "user/n")
        #expect(ImageReference("") == nil)
        #expect(ImageReference("a//b:t") == nil)
        #expect(ImageReference("gcr.io/p/n:") == nil)
    }

    @Test func schemesFollowTheRegistryURL() throws {
        let local = try #require(ImageReference("127.0.0.1:5000/p/n:t"))
        let remote = try #require(ImageReference("gcr.io/p/n:t"))
        #expect(DockerImageBuilder.schemes(registryURL: "127.0.0.1:5000", reference: local) == ["https", "http"])
        #expect(DockerImageBuilder.schemes(registryURL: "gcr.io/p", reference: remote) == ["https"])
        #expect(DockerImageBuilder.schemes(registryURL: "http://gcr.io/p", reference: remote) == ["http"])
        #expect(DockerImageBuilder.schemes(registryURL: "https://127.0.0.1:5000", reference: local) == ["https"])
    }

    @Test func bearerChallengesParse() throws {
        let challenge = try #require(
            AuthChallenge(
                #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#
            ))
        #expect(challenge.scheme == "bearer")
        #expect(challenge.parameters["realm"] == "https://auth.example/token")
        #expect(challenge.parameters["service"] == "registry.example")
        #expect(challenge.parameters["scope"] == "repository:a/b:pull,push")
        let basic = try #require(AuthChallenge(#"Basic realm="mrun-test-registry""#))
        #expect(basic.scheme == "basic")
        #expect(basic.parameters == ["realm": "mrun-test-registry"])
        #expect(AuthChallenge("")?.scheme == nil)
    }

    @Test func daemonAndPushFailuresAreRecognised() {
        let daemon = "Cannot connect to the Docker daemon at unix:///x/docker.sock. Is the docker daemon running?"
        #expect(
            DockerFailure.daemonProblem(in: "noise\n" + daemon) == .daemonUnreachable(address: "unix:///x/docker.sock"))
        #expect(DockerFailure.daemonProblem(in: "Step 1/2 : FROM x") == nil)
        let denied = ["The push refers to repository [r/p/n]", "denied: requested access to the resource is denied"]
        #expect(
            DockerFailure.pushProblem(in: denied, tag: "r/p/n:t", registry: "r", loggedIn: true)
                == .pushDenied(tag: "r/p/n:t", reason: "denied: requested access to the resource is denied"))
        #expect(
            DockerFailure.pushProblem(in: ["no basic auth credentials"], tag: "r/p/n:t", registry: "r", loggedIn: false)
                == .notLoggedIn(registry: "r"))
        let refused = [#"Get "http://r/v2/": dial tcp 127.0.0.1:9: connect: connection refused"#]
        #expect(
            DockerFailure.pushProblem(in: refused, tag: "r/p/n:t", registry: "r", loggedIn: false)
                == .registryUnreachable(registry: "r", reason: refused[0]))
        #expect(
            ImageError.pushDenied(tag: "r/p/n:t", reason: "denied: nope").description
                == "the registry denied the push of r/p/n:t (denied: nope); check that your login may push to this repository"
        )
        #expect(
            ImageError.dockerNotInstalled.description
                == "docker is not installed (no 'docker' on PATH); install Docker to build images for Kubernetes runs")
    }

    @Test func linesSplitAtNewlinesAndCarriageReturnsWithoutColours() {
        var splitter = LineSplitter()
        #expect(splitter.feed(Array("a\r\nb\rc\n\u{1B}[91mred\u{1B}[0m\npart".utf8)) == ["a", "b", "c", "red"])
        #expect(splitter.feed(Array("ial\n".utf8)) == ["partial"])
        #expect(splitter.finish() == nil)
        #expect(splitter.feed(Array("tail".utf8)).isEmpty)
        #expect(splitter.finish() == "tail")
    }

    @Test func terminalProgressKeepsOneLivePerStepAndMarksCachedSteps() async {
        let sink = RecordingSink()
        let progress = ImageProgress(sink: sink, style: .terminal(width: 40))
        for line in [
            "DEPRECATED: The legacy builder is deprecated and will be removed in a future release.",
            "            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0", "",
            "Sending build context to Docker daemon  3.072kB", "Step 1/3 : FROM base", " ---> 08e4ceb7164b",
            "Step 2/3 : RUN pip install -r requirements.txt", " ---> Using cache", " ---> f28134304536",
            "Step 3/3 : RUN python3 -c 'print(1)' && echo a very long line indeed", " ---> Running in 0c24db3697d8",
            "1", "Successfully built 63a3774d39a8",
        ] {
            await progress.build(
                line, from: line.hasPrefix("DEPRECATED") || line.hasPrefix(" ") ? .standardError : .standardOutput)
        }
        await progress.closeLiveLine()
        let shown = await sink.text(of: .error)
        let finished = shown.split(separator: "\n").map { $0.components(separatedBy: "\r\u{1B}[K").last ?? "" }
        #expect(
            finished == [
                "Step 1/3 : FROM base", "Step 2/3 : RUN pip install -r… (cached)",
                "Step 3/3 : RUN python3 -c 'print(1)' &…",
            ])
        #expect(shown.contains("Step 3/3 : RUN python3 -c 'print(1)' &…"))
        #expect(!shown.contains("DEPRECATED"))
        #expect(await progress.steps.map(\.cached) == [false, true, false])
        #expect(await progress.tail.first == "Step 3/3 : RUN python3 -c 'print(1)' && echo a very long line indeed")
    }

    @Test func terminalPushProgressCountsLayersAndKeepsTheDigest() async {
        let sink = RecordingSink()
        let progress = ImageProgress(sink: sink, style: .terminal(width: 80))
        for line in [
            "The push refers to repository [127.0.0.1:5000/p/n]", "8d5614f81d3c: Preparing", "b3e39c974d19: Preparing",
            "b3e39c974d19: Mounted from local/python", "8d5614f81d3c: Pushing", "8d5614f81d3c: Pushed",
            "t: digest: sha256:794241155a141e0b9bdd4a26438857f37c2f0467f23ec411faa8b6648c2d860a size: 1356",
        ] {
            await progress.push(line, from: .standardOutput)
        }
        await progress.closeLiveLine()
        let shown = await sink.text(of: .error)
        #expect(shown.contains("\r\u{1B}[KPushing layer 8d5614f81d3c Pushing, 1/2 layers done"))
        #expect(shown.hasSuffix("\r\u{1B}[KPushed 2 layers\n"))
        #expect(
            await progress.pushedDigest == "sha256:794241155a141e0b9bdd4a26438857f37c2f0467f23ec411faa8b6648c2d860a")
    }

    @Test func plainProgressPrintsDockersLines() async {
        let sink = RecordingSink()
        let progress = ImageProgress(sink: sink, style: .plain)
        for line in ["Step 1/1 : FROM base", " ---> Using cache", "Successfully built 1"] {
            await progress.build(line, from: .standardOutput)
        }
        #expect(await sink.text(of: .error) == "Step 1/1 : FROM base\n ---> Using cache\nSuccessfully built 1\n")
    }

    @Test func dockerConfigLoginsAreFoundUnderAnySpellingOfTheRegistry() async throws {
        let sandbox = try Sandbox()
        let config = sandbox.root.appendingPathComponent("docker")
        let auth = Data("ada:s3cret:with:colons".utf8).base64EncodedString()
        try sandbox.write(
            """
            {"auths": {"https://reg.example:5000/v1/": {"auth": "\(auth)"}, "tok.example": {"identitytoken": "x"}}}
            """, to: "config.json", in: config)
        let host = sandbox.host(["DOCKER_CONFIG": config.path])
        let docker = try DockerConfig(host: host)
        let login = try await docker.login(for: "reg.example:5000", host: host)
        #expect(login == .credentials(RegistryCredentials(username: "ada", password: "s3cret:with:colons")))
        #expect(!"\(login)".contains("s3cret"), "printing a login never shows the password")
        #expect(try await docker.login(for: "tok.example", host: host) == .opaque)
        #expect(try await docker.login(for: "other.example", host: host) == .missing)

        try sandbox.write("{not json", to: "config.json", in: config)
        #expect(throws: ImageError.dockerConfigInvalid(path: config.path + "/config.json", reason: "not valid JSON")) {
            try DockerConfig(host: host)
        }
        let empty = try DockerConfig(
            host: sandbox.host(["DOCKER_CONFIG": sandbox.root.appendingPathComponent("none").path]))
        #expect(try await empty.login(for: "reg.example:5000", host: host) == .missing)
    }

    @Test func testBedExportsAreUnquotedAsTheShellWould() {
        let text = """
            # comment
            export A=plain
            export B=''
            export C=debug\\ long
            export D='it'\\''s'
            export E="x \\"y\\" $z"
            """
        #expect(
            TestBed.parseExports(text) == ["A": "plain", "B": "", "C": "debug long", "D": "it's", "E": "x \"y\" $z"])
    }
}
