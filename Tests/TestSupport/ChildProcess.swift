// ChildProcess: starts a program for a test with posix_spawn — no signal blocked or ignored (test
// threads block some, and a child inherits the mask: tmux and the app under it would never see
// SIGWINCH or SIGHUP), stdin from /dev/null, output to files (a tmux server started from a test
// would hold a pipe open forever), optionally in a process group of its own.

import Foundation

public enum ChildProcess {
    /// Starts `arguments` (the program found on PATH) with `environment` as its whole environment;
    /// stdout to the file `stdout`, stderr to `stderr` (nil: the same file). `newGroup`: in a
    /// process group whose id is the child's, so that `kill(-pid, …)` ends it and its children.
    public static func spawn(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                             stdout: String, stderr: String? = nil, newGroup: Bool = false) throws -> pid_t {
        let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if let stderr {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, envp)
        guard rc == 0 else { throw ChildProcessError(description: "cannot run \(arguments.joined(separator: " ")): error \(rc)") }
        return pid
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
}
