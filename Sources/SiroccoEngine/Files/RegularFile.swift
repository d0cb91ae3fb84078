// RegularFile: reads a file the user named — a conversation, a template, messages, a theme — only
// if it is a regular file: a FIFO or a device is refused before anything can block (opened
// non-blocking, checked with fstat), and a file past its size limit is refused before it is read.

import Foundation

/// Reading small files safely.
public enum RegularFile {
    /// The bytes of the regular file at `path`, at most `maximumBytes`.
    public static func contents(of path: String, maximumBytes: Int = 64 << 20) throws -> Data {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.cannotRead(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError.cannotRead(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError.notARegularFile(path: path, kind: kind(st.st_mode)) }
        guard Int(st.st_size) <= maximumBytes else {
            throw FileError.tooLarge(path: path, size: Int(st.st_size), maximum: maximumBytes)
        }
        var data = Data(count: Int(st.st_size))
        var done = 0
        while done < data.count {
            let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        data.count = done
        return data
    }

    /// Names a file type for messages ("a FIFO").
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }
}

/// A file that could not be read or written; every case says which and why, in one line.
public enum FileError: Error, CustomStringConvertible, Equatable {
    case cannotRead(path: String, reason: String)
    case notARegularFile(path: String, kind: String)
    case tooLarge(path: String, size: Int, maximum: Int)
    case noSpace(path: String)
    case cannotWrite(path: String, reason: String)

    /// What went wrong, without the path (for messages that name the file themselves).
    public var reason: String {
        switch self {
        case let .cannotRead(_, reason), let .cannotWrite(_, reason): return reason
        case let .notARegularFile(_, kind): return "is \(kind), not a regular file"
        case let .tooLarge(_, size, maximum): return "\(size) bytes, more than the \(maximum >> 20) MiB accepted"
        case .noSpace: return "no space left on device; the previous version is kept"
        }
    }

    public var description: String {
        switch self {
        case let .noSpace(path): return "no space left on device (writing \(TerminalText.escaped(path))); the previous version is kept"
        case let .cannotRead(path, _), let .notARegularFile(path, _), let .tooLarge(path, _, _), let .cannotWrite(path, _):
            return "\(TerminalText.escaped(path)): \(reason)"
        }
    }
}
