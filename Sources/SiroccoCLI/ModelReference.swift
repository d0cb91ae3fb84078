// ModelReference: what a user means by a model — a catalog name (`qwen2.5-coder:1.5b`), pulled on
// first use where a command runs the model, or a GGUF path.

import Foundation
import SiroccoModels

enum ModelReference {
    /// The model named by `text`, else $SIROCCO_MODEL, else the catalog's default chat model.
    static func requested(_ text: String?) -> String {
        if let text, !text.isEmpty { return text }
        if let env = ProcessInfo.processInfo.environment["SIROCCO_MODEL"], !env.isEmpty { return env }
        return ModelCatalog.defaultChatModel
    }

    /// A path for `text`: an existing file as is; a catalog name's file in the models folder,
    /// pulled first (with progress on stderr) when `pull` is set, else an error saying how to get it.
    static func path(for text: String, pull: Bool) throws -> String {
        if FileManager.default.fileExists(atPath: text) { return text }
        let store = ModelStore.standard()
        if let entry = ModelCatalog.entry(named: text) {
            if store.contains(entry) { return store.path(for: entry) }
            guard pull else {
                throw CLIError("model \(entry.name) is not pulled yet: run sirocco pull \(entry.name)")
            }
            return try ModelReference.pull(entry, store: store)
        }
        if ModelCatalog.looksLikeName(text) {
            throw CLIError(PullError.unknownModel(name: text, known: ModelCatalog.entries.map(\.name)).description)
        }
        return text
    }

    /// Pulls `entry` with a progress bar; Ctrl-C cancels it cleanly (nothing half-written stays).
    @discardableResult
    static func pull(_ entry: CatalogEntry, store: ModelStore) throws -> String {
        let interrupt = InterruptFlag.install()
        defer { interrupt.uninstall() }
        let puller = ModelPuller(store: store, http: HTTPFetcher(isCancelled: { interrupt.isSet }))
        FileHandle.standardError.write(Data("pulling \(entry.name): \(entry.summary)\n  from \(entry.source.origin)\n".utf8))
        let bar = ProgressBar(label: entry.name)
        do {
            let outcome = try puller.pull(entry) { bar.update($0) }
            bar.finish()
            switch outcome {
            case let .alreadyPresent(path):
                FileHandle.standardError.write(Data("\(entry.name) is already in \(path)\n".utf8))
                return path
            case let .downloaded(path, seconds):
                let note = String(format: "verified SHA-256 and saved %@ in %.0f s: %@\n", ByteCount.format(entry.size), seconds, path)
                FileHandle.standardError.write(Data(note.utf8))
                return path
            }
        } catch {
            bar.finish()
            throw CLIError("cannot pull \(entry.name): \(error)")
        }
    }
}

/// Ctrl-C while pulling or streaming a remote answer: noted (and `onInterrupt` called), so the
/// work stops and cleans up instead of the process dying mid-write.
final class InterruptFlag: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private let lock = NSLock()
    private var set = false

    private init() {
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    }

    static func install(onInterrupt: @escaping @Sendable () -> Void = {}) -> InterruptFlag {
        let flag = InterruptFlag()
        signal(SIGINT, SIG_IGN)
        flag.source.setEventHandler { [flag] in
            flag.lock.lock()
            flag.set = true
            flag.lock.unlock()
            onInterrupt()
        }
        flag.source.resume()
        return flag
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return set
    }

    func uninstall() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
