// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "relsync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "relsync", targets: ["relsync"]),
        .executable(name: "notion-sim", targets: ["notion-sim"]),
        .library(name: "SyncKit", targets: ["SyncKit"]),
        .library(name: "NotionSimulator", targets: ["NotionSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        // C boundaries: the only places that see libcurl and libpq.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        .systemLibrary(
            name: "CLibpq",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),

        // HTTP: a transport protocol, its libcurl implementation.
        .target(name: "TransportKit", swiftSettings: strict),
        .target(name: "CurlTransport", dependencies: ["CCurl", "TransportKit"], swiftSettings: strict),

        // Notion: the client, and the simulator that tests, benchmarks and the demo run against.
        .target(
            name: "NotionClient",
            dependencies: ["TransportKit", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "NotionSimulator",
            dependencies: [
                "TransportKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "notion-sim",
            dependencies: [
                "NotionSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // PostgreSQL: libpq wrapper, migrations, the relsync schema's operations.
        .target(
            name: "PostgresStore",
            dependencies: ["CLibpq", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        // Pure logic: edge assembly, naming, diff planning. No I/O.
        .target(name: "ReconcilerCore", swiftSettings: strict),

        // Orchestration: config, fetch -> reconcile -> apply.
        .target(
            name: "SyncKit",
            dependencies: [
                "NotionClient", "PostgresStore", "ReconcilerCore", "TransportKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "relsync",
            dependencies: [
                "SyncKit", "CurlTransport", "TransportKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // `make bench`: API calls, wall time under a budget, PostgreSQL phase, memory. Never in `make test`.
        .executableTarget(
            name: "relsync-bench",
            dependencies: [
                "SyncKit", "NotionSimulator", "NotionClient", "PostgresStore", "ReconcilerCore", "CurlTransport", "TransportKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks",
            swiftSettings: strict
        ),

        .testTarget(name: "ReconcilerCoreTests", dependencies: ["ReconcilerCore"], swiftSettings: strict),
        .testTarget(
            name: "CurlTransportTests",
            dependencies: [
                "CurlTransport", "TransportKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NotionClientTests",
            dependencies: ["NotionClient", "NotionSimulator", "TransportKit", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NotionSimulatorTests",
            dependencies: ["NotionSimulator", "TransportKit"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: ["PostgresStore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SyncKitTests",
            dependencies: ["SyncKit", "NotionClient", "NotionSimulator", "PostgresStore", "TransportKit",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["NotionSimulator", "PostgresStore", "ReconcilerCore", "TransportKit", "CurlTransport"],
            swiftSettings: strict
        ),
    ]
)
