// AtomicFile: writes a file so that a crash or a full disk never leaves it half-written — the bytes
// go to a temporary file beside it, are flushed (fsync), renamed over the old one, and the folder is
// flushed too, so the rename itself survives a power cut.

import Foundation

public enum AtomicFile {
    /// Replaces the file at `path` with `data`, or leaves the old one as it was and throws.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { sink in data.withUnsafeBytes { sink.append($0) } }
    }

    /// Replaces the file at `path` with the bytes `produce` appends to the sink (streamed through a
    /// buffer, so a large file is never held in memory whole), or leaves the old one as it was and
    /// throws — also when `produce` throws.
    public static func write(to path: String, _ produce: (Sink) throws -> Void) throws {
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
            let sink = Sink(fd: fd, path: path)
            try produce(sink)
            if let error = sink.error { throw error }
            try sink.flush()
            guard fsync(fd) == 0 else { throw failure(errno, path) }
        }
        syncFolder(folder)
        guard rename(temporary, path) == 0 else { throw failure(errno, path) }
        ok = true
        syncFolder(folder)
    }

    /// Where `write(to:_:)` puts the bytes of the file being made.
    public final class Sink {
        private let fd: Int32
        private let path: String
        private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        private var used = 0
        /// The first write that failed (later appends are dropped; `write` throws it).
        fileprivate var error: FileError?

        fileprivate init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
        }

        deinit { buffer.deallocate() }

        /// Appends `bytes` to the file.
        public func append(_ bytes: UnsafeRawBufferPointer) {
            guard error == nil, var p = bytes.baseAddress else { return }
            var n = bytes.count
            while n > 0 {
                if used == buffer.count {
                    do { try flush() } catch {
                        self.error = error as? FileError ?? .cannotWrite(path: path, reason: "\(error)")
                        return
                    }
                }
                let take = min(n, buffer.count - used)
                (buffer.baseAddress! + used).copyMemory(from: p, byteCount: take)
                used += take
                p += take
                n -= take
            }
        }

        /// Appends `value` little-endian.
        public func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { append($0) }
        }

        fileprivate func flush() throws {
            var done = 0
            while done < used {
                let n = Foundation.write(fd, buffer.baseAddress! + done, used - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw AtomicFile.failure(errno, path) }
                done += n
            }
            used = 0
        }
    }

    private static func syncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    fileprivate static func failure(_ code: Int32, _ path: String) -> FileError {
        code == ENOSPC || code == EDQUOT ? .noSpace(path: path) : .cannotWrite(path: path, reason: String(cString: strerror(code)))
    }
}
