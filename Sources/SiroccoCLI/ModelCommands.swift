// `sirocco pull`, `list` and `rm`: the models folder, by catalog name (as `ollama pull/list/rm`).

import ArgumentParser
import Foundation
import SiroccoEngine
import SiroccoModels

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Download catalog models into the models folder (size and SHA-256 checked).",
        discussion: "Models: \(ModelCatalog.entries.map { "\($0.name)\($0.kind == .base ? " (base model)" : "")" }.joined(separator: ", ")). The folder is $SIROCCO_MODELS, default ~/.cache/sirocco/models.")

    @Argument(help: "Catalog names (default: \(ModelCatalog.defaultChatModel)).")
    var names: [String] = []

    func run() throws {
        try reportingErrors {
            let names = self.names.isEmpty ? [ModelCatalog.defaultChatModel] : self.names
            let entries = try names.map { name in
                guard let entry = ModelCatalog.entry(named: name) else {
                    throw CLIError(PullError.unknownModel(name: name, known: ModelCatalog.entries.map(\.name)).description)
                }
                return entry
            }
            for entry in entries { try ModelReference.pull(entry, store: .standard()) }
        }
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the models in the models folder: name, size, architecture, quantization, path.")

    @Flag(help: "Also list the catalog's models that are not pulled.")
    var all = false

    func run() throws {
        try reportingErrors {
            let store = ModelStore.standard()
            var rows: [[String]] = [["NAME", "SIZE", "ARCH", "QUANT", "PATH"]]
            for model in store.installed() {
                let (arch, quant) = ListCommand.describe(model.path)
                let name = model.name + (model.entry?.kind == .base ? " (base)" : "")
                rows.append([name, ByteCount.format(model.size), arch, quant, model.path])
            }
            if all {
                for entry in ModelCatalog.entries where !store.contains(entry) {
                    rows.append([entry.name + (entry.kind == .base ? " (base)" : ""), ByteCount.format(entry.size), "-", "-",
                                 "not pulled (sirocco pull \(entry.name))"])
                }
            }
            if rows.count == 1 {
                print("no models in \(store.directory) (sirocco pull \(ModelCatalog.defaultChatModel) gets the default)")
                return
            }
            let widths = (0..<4).map { c in rows.map { $0[c].count }.max() ?? 0 }
            for row in rows {
                let padded = (0..<4).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                print((padded + [row[4]]).joined(separator: "  "))
            }
        }
    }

    /// Architecture and quantization from the file's metadata ("?" when it cannot be read).
    static func describe(_ path: String) -> (String, String) {
        guard let file = try? GGUFFile(path: path) else { return ("?", "unreadable") }
        return (file.string(GGUFKey.architecture) ?? "?", file.fileTypeName ?? "?")
    }
}

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete models from the models folder.")

    @Argument(help: "Names as `sirocco list` shows them.")
    var names: [String]

    func run() throws {
        try reportingErrors {
            let store = ModelStore.standard()
            for name in names {
                do {
                    let path = try store.remove(name)
                    print("deleted \(name) (\(path))")
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
            }
        }
    }
}
