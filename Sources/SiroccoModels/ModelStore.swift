// ModelStore: the models folder — where a catalog model lives, which models are there, removing
// one. The folder is ${SIROCCO_MODELS:-~/.cache/sirocco/models}.

import Foundation

/// A model file in the models folder.
public struct InstalledModel: Sendable, Equatable {
    /// The catalog name, or the file name without ".gguf" for a file the catalog does not know.
    public let name: String
    public let path: String
    public let size: Int64
    /// The catalog entry, when the file is one (by name and size).
    public let entry: CatalogEntry?
}

/// The folder of pulled models.
public struct ModelStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The folder the environment names: $SIROCCO_MODELS, else ~/.cache/sirocco/models.
    public static func standard(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ModelStore {
        if let dir = environment["SIROCCO_MODELS"], !dir.isEmpty { return ModelStore(directory: dir) }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return ModelStore(directory: (home as NSString).appendingPathComponent(".cache/sirocco/models"))
    }

    public func path(for entry: CatalogEntry) -> String {
        (directory as NSString).appendingPathComponent(entry.fileName)
    }

    /// Whether the entry's file is here, whole (its size; the hash was checked when it was pulled).
    public func contains(_ entry: CatalogEntry) -> Bool {
        size(of: path(for: entry)) == entry.size
    }

    /// Every GGUF file in the folder, catalog models first (in catalog order), then the others by name.
    public func installed() -> [InstalledModel] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".gguf") && !$0.hasPrefix(".") }
        var result: [InstalledModel] = []
        var known = Set<String>()
        for entry in ModelCatalog.entries where files.contains(entry.fileName) {
            let p = path(for: entry)
            guard let s = size(of: p) else { continue }
            known.insert(entry.fileName)
            result.append(InstalledModel(name: s == entry.size ? entry.name : entry.fileName, path: p, size: s,
                                         entry: s == entry.size ? entry : nil))
        }
        for file in files.sorted() where !known.contains(file) {
            let p = (directory as NSString).appendingPathComponent(file)
            guard let s = size(of: p) else { continue }
            result.append(InstalledModel(name: String(file.dropLast(5)), path: p, size: s, entry: nil))
        }
        return result
    }

    /// Deletes a model by catalog name or by the name `installed()` lists; returns the path removed.
    @discardableResult
    public func remove(_ name: String) throws -> String {
        guard let model = installed().first(where: { $0.name == name.lowercased() || $0.name == name }) else {
            throw StoreError.notInstalled(name: name, directory: directory)
        }
        do { try FileManager.default.removeItem(atPath: model.path) } catch {
            throw StoreError.cannotRemove(path: model.path, reason: (error as NSError).localizedDescription)
        }
        return model.path
    }

    private func size(of path: String) -> Int64? {
        var s = stat()
        guard stat(path, &s) == 0, (s.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(s.st_size)
    }
}

/// A models-folder operation that failed.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case notInstalled(name: String, directory: String)
    case cannotRemove(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notInstalled(name, directory): return "no model '\(name)' in \(directory) (sirocco list shows what is there)"
        case let .cannotRemove(path, reason): return "cannot remove \(path): \(reason)"
        }
    }
}
