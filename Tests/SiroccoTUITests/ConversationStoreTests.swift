// The conversations folder: where a conversation's KV cache goes, and that only the newest chats
// keep theirs (a 2,000-token chat on a 1.5B model is a 57 MB cache).

import Foundation
@testable import SiroccoTUI
import Testing

struct ConversationStoreTests {
    @Test(arguments: [
        ("/c/20250101-120000-42-7-1.json", "/c/20250101-120000-42-7-1.kv"),
        ("notes.json", "notes.kv"),
        ("notes", "notes.kv"),
        ("chat.kv", "chat.kv.kv"),  // never the conversation itself
        ("a.json.txt", "a.json.txt.kv"),
    ])
    func theCacheLivesBesideTheConversation(conversation: String, cache: String) {
        #expect(ConversationStore.cachePath(forConversation: conversation) == cache)
    }

    @Test func onlyTheNewestChatsKeepTheirCaches() throws {
        let home = NSTemporaryDirectory() + "sirocco-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = ConversationStore(environment: ["XDG_DATA_HOME": home])
        let dir = store.directory
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // five chats, one a minute, the second with two panes
        var names: [String] = []
        for chat in 0..<5 {
            let date = Date(timeIntervalSinceNow: Double(chat - 5) * 60)
            for pane in 1...(chat == 1 ? 2 : 1) {
                for ext in ["json", "kv"] {
                    let name = "2025010\(chat)-120000-42-7-\(pane).\(ext)"
                    let path = dir + "/" + name
                    #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
                    try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
                    names.append(name)
                }
            }
        }
        // half-written saves: one of a process that is gone, one of this process (a save under way)
        let gone = ".20250104-120000-42-7-1.kv.999999999.tmp", ours = ".20250104-120000-42-7-1.kv.\(getpid()).tmp"
        for name in [gone, ours, "notes.txt"] { _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data()) }

        store.pruneCaches(keeping: 3)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        let dropped: Set = ["20250100-120000-42-7-1.kv", "20250101-120000-42-7-1.kv", "20250101-120000-42-7-2.kv", gone]
        #expect(left == Set(names + [ours, "notes.txt"]).subtracting(dropped))
    }
}
