// ModelPuller: fetches a catalog model into the models folder — room checked first, bytes streamed
// from the entry's source into a hidden partial file, size and SHA-256 verified, then renamed into
// place. Progress is reported as bytes of the assembled file.

import Foundation

/// How far a pull has come.
public struct PullProgress: Sendable, Equatable {
    public var completed: Int64
    public var total: Int64
    /// Seconds since the download started.
    public var elapsed: Double

    public var fraction: Double { total > 0 ? min(1, Double(completed) / Double(total)) : 0 }
    public var bytesPerSecond: Double { elapsed > 0 ? Double(completed) / elapsed : 0 }
    /// Seconds left at the average speed so far (nil before there is a speed).
    public var secondsLeft: Double? {
        let speed = bytesPerSecond
        return speed > 0 ? Double(max(0, total - completed)) / speed : nil
    }
}

/// What a pull did.
public enum PullOutcome: Sendable, Equatable {
    case downloaded(path: String, seconds: Double)
    case alreadyPresent(path: String)
}

/// Pulls catalog models into a store.
public struct ModelPuller: Sendable {
    public let store: ModelStore
    public let http: HTTPFetcher

    public init(store: ModelStore, http: HTTPFetcher = HTTPFetcher()) {
        self.store = store
        self.http = http
    }

    /// Downloads `entry` unless it is already there. `progress` is called as bytes arrive (from
    /// the download's thread).
    public func pull(_ entry: CatalogEntry, source: ModelSource? = nil,
                     progress: @escaping (PullProgress) -> Void = { _ in }) throws -> PullOutcome {
        let destination = store.path(for: entry)
        if store.contains(entry) { return .alreadyPresent(path: destination) }
        do {
            try FileManager.default.createDirectory(atPath: store.directory, withIntermediateDirectories: true)
        } catch {
            throw PullError.fileSystem(path: store.directory, reason: "cannot create the models folder (\((error as NSError).localizedDescription))")
        }
        // a file of the wrong size in the way is replaced only once the new one is whole
        if let free = FreeSpace.available(in: store.directory), free < entry.size {
            throw PullError.diskFull(directory: store.directory, needed: entry.size, available: free)
        }
        let partial = try PartialFile(destination: destination, neededBytes: entry.size)
        defer { partial.discard() }
        let start = ContinuousClock.now
        var lastReport = start - .seconds(1)
        let total = entry.size
        func report(force: Bool) {
            let now = ContinuousClock.now
            guard force || now - lastReport >= .milliseconds(100) else { return }
            lastReport = now
            let elapsed = now - start
            progress(PullProgress(completed: partial.bytesWritten, total: total,
                                  elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18))
        }
        report(force: true)
        try (source ?? entry.source).fetch(with: http) { bytes in
            guard partial.bytesWritten + Int64(bytes.count) <= total else {
                throw PullError.sizeMismatch(name: entry.name, expected: total, actual: partial.bytesWritten + Int64(bytes.count))
            }
            try partial.write(bytes)
            report(force: false)
        }
        report(force: true)
        guard partial.bytesWritten == total else {
            throw PullError.sizeMismatch(name: entry.name, expected: total, actual: partial.bytesWritten)
        }
        let digest = partial.digest()
        guard digest == entry.sha256 else { throw PullError.hashMismatch(name: entry.name, expected: entry.sha256, actual: digest) }
        try partial.commit()
        let elapsed = ContinuousClock.now - start
        return .downloaded(path: destination, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
}
