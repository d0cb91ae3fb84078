// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Sirocco",
    products: [
        .library(name: "SiroccoEngine", targets: ["SiroccoEngine"]),
        .executable(name: "sirocco", targets: ["SiroccoCLI"]),
        .library(name: "SiroccoTUI", targets: ["SiroccoTUI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
        // The terminal chat UI (`sirocco chat`): a client of the engine; the engine never imports it.
        .target(name: "SiroccoTUI", dependencies: ["SiroccoEngine", "CNCursesW", "CReadline"]),
        // The `sirocco` command: CLI subcommands and the TUI entry point.
        .executableTarget(
            name: "SiroccoCLI",
            dependencies: [
                "SiroccoEngine",
                "SiroccoTUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "SiroccoEngineTests",
            dependencies: ["SiroccoEngine", "CKernels"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "SiroccoTUITests", dependencies: ["SiroccoTUI", "SiroccoEngine"]),
    ],
    swiftLanguageModes: [.v5]
)
