// PartialFile: a model file being assembled next to its final place — hashed and counted as it is
// written, made durable (fsync of the file and its folder) and renamed into place only when whole,
// removed on every failure, so the models folder never holds a half-written model.

import Foundation

/// A hidden temporary file in the models folder that becomes `destination` on `commit()`.
final class PartialFile {
    let destination: String
    let path: String
    private var descriptor: Int32
    private let hasher = SHA256()
    private(set) var bytesWritten: Int64 = 0
    private let neededBytes: Int64

    /// Opens `.NAME.partial` beside `destination` (a stale one from an interrupted pull is replaced).
    /// `neededBytes` is what the whole file will take, for the disk-full message.
    init(destination: String, neededBytes: Int64) throws {
        self.destination = destination
        self.neededBytes = neededBytes
        let url = URL(fileURLWithPath: destination)
        path = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".partial").path
        unlink(path)
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw PartialFile.error(errno, path: path, directory: url.deletingLastPathComponent().path, needed: neededBytes) }
    }

    deinit { discard() }

    /// Appends bytes; a full disk is `PullError.diskFull`.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Foundation.write(descriptor, base, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw PartialFile.error(errno, path: path, directory: directoryPath, needed: neededBytes)
            }
            left -= n
            base += n
        }
        hasher.update(bytes)
        bytesWritten += Int64(bytes.count)
    }

    /// SHA-256 of everything written (call once, before `commit`).
    func digest() -> String { hasher.hexDigest() }

    /// Flushes the file to disk and renames it to `destination`, then flushes the folder.
    func commit() throws {
        guard fsync(descriptor) == 0 else { throw PartialFile.error(errno, path: path, directory: directoryPath, needed: neededBytes) }
        close(descriptor)
        descriptor = -1
        guard rename(path, destination) == 0 else {
            throw PartialFile.error(errno, path: destination, directory: directoryPath, needed: neededBytes)
        }
        let folder = open(directoryPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Removes the temporary file (nothing happens after `commit`).
    func discard() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
            unlink(path)
        }
    }

    private var directoryPath: String { URL(fileURLWithPath: path).deletingLastPathComponent().path }

    static func error(_ code: Int32, path: String, directory: String, needed: Int64) -> PullError {
        if code == ENOSPC || code == EDQUOT {
            return .diskFull(directory: directory, needed: needed, available: FreeSpace.available(in: directory))
        }
        return .fileSystem(path: path, reason: String(cString: strerror(code)))
    }
}

/// Free space for an unprivileged writer.
enum FreeSpace {
    static func available(in directory: String) -> Int64? {
        var s = statvfs()
        guard statvfs(directory, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }
}
