// The chat against what it must survive: a crash gives the terminal back (after SIGSEGV or SIGABRT
// the shell is out of the alternate screen, in its own tty modes, and sees the signal in the exit
// status), and a model whose own template recurses chats on its built-in format with a note.

import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct HostileInputTests {
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

    @Test func aModelWhoseTemplateRecursesChatsOnTheBuiltInFormat() throws {
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SiroccoEngineTests/Fixtures/hostile/recursive-template.gguf").path
        let t = try TmuxSession(["chat", "--model", model, "--max-tokens", "8"], width: 120, height: 30)
        defer { t.close() }
        try t.waitFor("the chat") { $0.contains(TUIEndToEndTests.ready) }
        try t.submit("hello")
        let screen = try t.waitFor("the fallback note") { $0.contains("macro call depth of 50") && $0.contains("built-in llama2 format") }
        #expect(!screen.contains("[sirocco exited"))
        #expect(try t.query("#{alternate_on}") == "1")
    }

    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root (CI runs as root)"))
    func aFullDiskIsSaidInTheStatusLineAndTheChatGoesOn() throws {
        let model = defaultModelPath
        guard FileManager.default.fileExists(atPath: model) else { throw TUITestError("test model missing at \(model)") }
        let data = NSTemporaryDirectory() + "sirocco-full-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: data) }
        try TmpfsMount.mount(at: data, kibibytes: 64)
        defer { TmpfsMount.unmount(data) }
        // fill the disk to the last block
        let filler = FileHandle(forWritingAtPath: data + "/filler") ?? {
            FileManager.default.createFile(atPath: data + "/filler", contents: nil)
            return FileHandle(forWritingAtPath: data + "/filler")!
        }()
        while (try? filler.write(contentsOf: Data(count: 4096))) != nil {}
        try? filler.close()
        let t = try TmuxSession(["chat", "--model", model, "--max-tokens", "8", "--seed", "1"], width: 120, height: 30, dataHome: data)
        defer { t.close() }
        try t.waitFor("the chat") { $0.contains(TUIEndToEndTests.ready) }
        try t.submit("Hi")
        let screen = try t.waitFor("the autosave's failure") { $0.contains("autosave failed: no space left on device") }
        #expect(!screen.contains("[sirocco exited"))
        // the conversation goes on
        try t.submit("/show info")
        try t.waitFor("the chat still answering commands") { $0.contains("architecture") }
    }
}
