// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "mrun",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mrun", targets: ["mrun"]),
        .library(name: "MrunKit", targets: ["MrunKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/stencilproject/Stencil", exact: "0.15.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // AsyncHTTPClient's own HTTP/2; the fake API server speaks it too, as a real one does.
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    ],
    targets: [
        .executableTarget(
            name: "mrun",
            dependencies: [
                "MrunKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The library, one target per layer; each depends only on those below it (ARCHITECTURE.md).
        .target(
            name: "MrunSupport",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"), .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "KubernetesAPI",
            dependencies: [
                "MrunSupport",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .target(
            name: "MrunConfig",
            dependencies: [
                "MrunSupport", .product(name: "Yams", package: "Yams"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        .target(
            name: "MrunTemplates",
            dependencies: [
                "MrunSupport", .product(name: "Stencil", package: "Stencil"), .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "MrunPlan",
            dependencies: [
                "MrunConfig", "MrunTemplates", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "MrunHistory",
            dependencies: ["MrunPlan", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "MrunBackends",
            dependencies: [
                "MrunHistory", "KubernetesAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        // Launching: what the commands call (launcher, job service, relaunches); re-exports the layers.
        .target(
            name: "MrunKit",
            dependencies: ["MrunBackends"]
        ),
        // The fake kube-apiserver the tests and `make bench` run against (the real one cannot be
        // installed here): a library for in-process tests and a small executable for the bench.
        .target(
            name: "FakeKubernetes",
            dependencies: [
                "KubernetesAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .executableTarget(
            name: "mrun-fake-apiserver",
            dependencies: ["FakeKubernetes"]
        ),
        .testTarget(
            name: "MrunKitTests",
            dependencies: [
                "MrunKit", "mrun", "FakeKubernetes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            // The recorded Kubernetes exchanges are read through Bundle.module. The golden files are
            // read and rewritten (MRUN_UPDATE_GOLDEN=1) in the source tree through #filePath, so that
            // a rewrite is compared against at once; declaring them keeps SwiftPM from warning.
            resources: [.copy("Fixtures"), .copy("Golden")]
        ),
    ]
)
