// Parity with llama.cpp on real models that llama.cpp's own quantizer wrote as Q2_K, Q3_K_S/M/L,
// IQ4_NL and IQ4_XS (the types people download). The files are hundreds of MiB and need llama.cpp to
// make, so this suite runs only when scripts/quant_parity.py points SIROCCO_QUANT_PARITY_DIR at the
// files and references it made (manifest.json there); every test run covers these types through the
// synthetic models (SyntheticModelTests) and the kernel tests. The rules are ModelParityTests'.

import Foundation
import Testing
@testable import SiroccoEngine

/// One file of scripts/quant_parity.py's manifest: a quantized model and llama.cpp's reference for it.
struct QuantizedParityFile: Decodable {
    var name: String
    var model: String
    var reference: String

    static var directory: String? { ProcessInfo.processInfo.environment["SIROCCO_QUANT_PARITY_DIR"] }

    static func manifest() throws -> [QuantizedParityFile] {
        let url = URL(fileURLWithPath: directory ?? "").appendingPathComponent("manifest.json")
        return try JSONDecoder().decode([QuantizedParityFile].self, from: Data(contentsOf: url))
    }
}

@Suite(.serialized, .enabled(if: QuantizedParityFile.directory != nil, "needs SIROCCO_QUANT_PARITY_DIR (scripts/quant_parity.py)"))
struct QuantizedModelParityTests {
    @Test func quantizedFilesMatchLlamaCpp() throws {
        let parity = ModelParityTests()
        for file in try QuantizedParityFile.manifest() {
            let model = try Model(path: file.model)
            let reference = try JSONDecoder().decode(ReferenceModel.Data.self, from: Data(contentsOf: URL(fileURLWithPath: file.reference)))
            try parity.checkPromptParity(model, reference.prompts, label: file.name)
            try parity.checkGreedyParity(model, reference.prompts, spreads: reference.prompts.map { $0.flash_attn_off!.top5_maxdiff },
                                         cacheType: .f16, label: file.name)
        }
    }
}
