// `sirocco info`: what a model file holds.

import ArgumentParser
import Foundation
import SiroccoEngine

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print a model's architecture, hyperparameters, tensor types, tokenizer and template.")

    @OptionGroup var modelOptions: ModelOptions
    @Flag(help: "Also list every metadata key.")
    var metadata = false

    func run() throws {
        try reportingErrors {
            let model = try modelOptions.load()
            let c = model.config
            let f = model.file
            let mib = Double(f.fileSize) / 1_048_576
            var lines: [String] = []
            lines.append("file:              \(f.path)")
            lines.append("file size:         \(String(format: "%.1f MiB", mib)) (GGUF v\(f.version), \(f.tensors.count) tensors)")
            lines.append("name:              \(c.name)")
            lines.append("architecture:      \(c.architecture)")
            lines.append("parameters:        \(String(format: "%.1f M", Double(model.parameterCount) / 1e6))")
            lines.append("layers:            \(c.layerCount)")
            lines.append("embedding length:  \(c.embeddingLength)")
            lines.append("feed-forward:      \(c.feedForwardLength)")
            lines.append("heads:             \(c.headCount) query, \(c.kvHeadCount) key/value (head size \(c.headDim))")
            lines.append("context length:    \(c.trainedContextLength) (trained)")
            lines.append("rope:              \(c.ropeStyle.rawValue), base \(c.ropeFreqBase), \(c.ropeDimensions) dims")
            lines.append("rms epsilon:       \(c.rmsEpsilon)")
            lines.append("vocabulary:        \(c.vocabularySize) tokens, \(model.tokenizer.kindDescription)")
            let types = model.tensorTypeCounts.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }
            lines.append("tensor types:      \(types.joined(separator: ", "))")
            if let template = model.chatTemplate {
                lines.append("chat template:     \(GGUFValue.string(template).summary)")
            } else {
                lines.append("chat template:     none")
            }
            print(lines.joined(separator: "\n"))
            if metadata {
                print("metadata:")
                for key in f.metadataKeys { print("  \(key) = \(f.metadata[key]!.summary)") }
            }
        }
    }
}
