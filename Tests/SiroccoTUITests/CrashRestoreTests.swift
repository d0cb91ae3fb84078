// A crash gives the terminal back: after SIGSEGV or SIGABRT the shell is out of the alternate
// screen, in its own tty modes (echo, line editing), and sees the signal in the exit status.

import Foundation
import Testing

@Suite(.serialized) struct CrashRestoreTests {
    @Test(arguments: [("SEGV", SIGSEGV), ("ABRT", SIGABRT)])
    func aCrashRestoresTheTerminal(name: String, signal: Int32) throws {
        let model = defaultModelPath
        guard FileManager.default.fileExists(atPath: model) else { throw TUITestError("test model missing at \(model)") }
        let t = try TmuxSession(["chat", "--model", model], width: 100, height: 30)
        defer { t.close() }
        try t.waitFor("the chat") { $0.contains(TUIEndToEndTests.ready) }
        #expect(try t.query("#{alternate_on}") == "1")
        let panePid = try t.query("#{pane_pid}")
        let children = (try? String(contentsOfFile: "/proc/\(panePid)/task/\(panePid)/children", encoding: .utf8)) ?? ""
        guard let pid = children.split(separator: " ").compactMap({ pid_t($0) }).first else {
            throw TUITestError("no sirocco process under the pane's shell \(panePid)")
        }
        kill(pid, signal)
        let screen = try t.waitFor("the crash's exit status") { $0.contains("[sirocco exited \(128 + signal)]") }
        #expect(try t.query("#{alternate_on}") == "0", "\(screen)")
        let modes = try shell(["stty", "-F", try t.query("#{pane_tty}"), "-a"]).stdout
        #expect(modes.contains(" icanon") && modes.contains(" echo ") && !modes.contains("-icanon"), "\(name): \(modes)")
    }
}
