// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Sirocco",
    products: [
        .library(name: "SiroccoEngine", targets: ["SiroccoEngine"]),
        .executable(name: "sirocco", targets: ["SiroccoCLI"]),
        .library(name: "SiroccoTUI", targets: ["SiroccoTUI"]),
        .library(name: "SiroccoModels", targets: ["SiroccoModels"]),
        .library(name: "SiroccoRemote", targets: ["SiroccoRemote"]),
        .library(name: "SiroccoServer", targets: ["SiroccoServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Hummingbird's and async-http-client's own dependencies, named for the modules imported:
        // graceful shutdown (ServiceGroup, signals), a silent logger, sockets, errors and headers
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
    ],
    targets: [
        // Hot numeric kernels (quantized dot products, attention, activations) with AVX2 paths
        // chosen at run time and portable scalar fallbacks.
        .target(name: "CKernels"),
        // The inference engine: GGUF loading, tokenizers, model forward pass, sampling, chat.
        .target(name: "SiroccoEngine", dependencies: ["CKernels"]),
        // The system's wide-character ncurses and GNU readline (apt: libncursesw5-dev, libreadline-dev).
        .systemLibrary(name: "CNCursesW"),
        .systemLibrary(name: "CReadline"),
        // The system's zlib and libcrypto (apt: zlib1g-dev, libssl-dev): wheel archives and SHA-256.
        .systemLibrary(name: "CZlib"),
        .systemLibrary(name: "CLibCrypto"),
        // The model catalog: names, sources (PyPI wheels), pulling into the models folder, listing.
        // Knows nothing of inference; the engine never imports it.
        .target(name: "SiroccoModels", dependencies: ["CZlib", "CLibCrypto"]),
        // Remote backends: conversations answered by a server that speaks the OpenAI-compatible
        // chat-completions API (llama-server, vLLM, Ollama) — its values, server-sent events, the
        // HTTP client and `RemoteSession`, a `ChatBackend` beside the engine's own.
        .target(
            name: "SiroccoRemote",
            dependencies: [
                "SiroccoEngine",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // `sirocco serve`: the engine behind the OpenAI-compatible HTTP API (models, chat and text
        // completions), one generation thread and FIFO queue per model. Never runs generation on an
        // event loop or the cooperative pool; never logs the API key.
        .target(
            name: "SiroccoServer",
            dependencies: [
                "SiroccoEngine",
                "SiroccoRemote",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // Gives the terminal back when the process crashes (async-signal-safe, on an alternate stack).
        .target(name: "CTerminalRescue"),
        // The terminal chat UI (`sirocco chat`): a client of the engine; the engine never imports it.
        .target(name: "SiroccoTUI", dependencies: ["SiroccoEngine", "CNCursesW", "CReadline", "CTerminalRescue"]),
        // The `sirocco` command: CLI subcommands and the TUI entry point.
        .executableTarget(
            name: "SiroccoCLI",
            dependencies: [
                "SiroccoEngine",
                "SiroccoTUI",
                "SiroccoModels",
                "SiroccoRemote",
                "SiroccoServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers several test targets share (a tmpfs to fill a disk for real, where the test models are).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "SiroccoEngineTests",
            dependencies: ["SiroccoEngine", "CKernels", "TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "SiroccoTUITests", dependencies: ["SiroccoTUI", "SiroccoEngine", "TestSupport"]),
        .testTarget(name: "SiroccoRemoteTests", dependencies: ["SiroccoRemote", "SiroccoEngine", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "SiroccoServerTests", dependencies: ["SiroccoServer", "SiroccoRemote", "SiroccoEngine", "TestSupport"]),
        .testTarget(name: "SiroccoModelsTests", dependencies: ["SiroccoModels", "TestSupport"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
