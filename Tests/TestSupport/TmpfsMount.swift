// TmpfsMount: a small tmpfs over a test's folder, to fill a disk for real (needs root, as CI is).

import Foundation

public enum TmpfsMount {
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Mounts a tmpfs of `kibibytes` at `path` (an existing folder).
    public static func mount(at path: String, kibibytes: Int) throws {
        let status = run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kibibytes)k", "tmpfs", path])
        guard status == 0 else { throw Failed(description: "mount -t tmpfs at \(path) failed (\(status))") }
    }

    public static func unmount(_ path: String) { _ = run("/bin/umount", [path]) }

    private static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
