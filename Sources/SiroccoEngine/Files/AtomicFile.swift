// AtomicFile: writes a file so that a crash or a full disk never leaves it half-written — the bytes
// go to a temporary file beside it, are flushed (fsync), renamed over the old one, and the folder is
// flushed too, so the rename itself survives a power cut.

import Foundation

public enum AtomicFile {
    /// Replaces the file at `path` with `data`, or leaves the old one as it was and throws.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw FileError.cannotWrite(path: folder, reason: "cannot create the folder")
        }
        let temporary = folder + "/." + url.lastPathComponent + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(errno, path) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            var done = 0
            while done < data.count {
                let n = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, $0.count - done) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw failure(errno, path) }
                done += n
            }
            guard fsync(fd) == 0 else { throw failure(errno, path) }
        }
        syncFolder(folder)
        guard rename(temporary, path) == 0 else { throw failure(errno, path) }
        ok = true
        syncFolder(folder)
    }

    private static func syncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    private static func failure(_ code: Int32, _ path: String) -> FileError {
        code == ENOSPC || code == EDQUOT ? .noSpace(path: path) : .cannotWrite(path: path, reason: String(cString: strerror(code)))
    }
}
