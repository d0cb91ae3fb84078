// ConversationStore: where conversations are saved as they go — one JSON file per pane under
// `$XDG_DATA_HOME/sirocco/conversations/` (else `~/.local/share/sirocco/conversations/`), named
// `<time>-<pid>-<pane>.json` so the files of one chat sort together and the newest chat can be
// found for `--resume`. Each has its pane's KV cache beside it (`<time>-<pid>-<pane>.kv`); only the
// newest chats keep theirs, so the folder does not fill with caches of tens of megabytes.

import Foundation
import SiroccoEngine

struct ConversationStore {
    let directory: String
    /// The name shared by this chat's files (changes on /clear so nothing is overwritten).
    private(set) var stem: String

    /// `$XDG_DATA_HOME/sirocco` or `~/.local/share/sirocco`.
    static func dataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") { return xdg + "/sirocco" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/sirocco"
    }

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        directory = ConversationStore.dataDirectory(environment: environment) + "/conversations"
        stem = ConversationStore.newStem()
    }

    private static func newStem() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "\(f.string(from: Date()))-\(getpid())-\(Int.random(in: 0..<1000))"
    }

    /// Where pane `pane`'s conversation is saved.
    func path(forPane pane: Int) -> String { "\(directory)/\(stem)-\(pane + 1).json" }

    /// Starts new files (after /clear).
    mutating func startNew() { stem = ConversationStore.newStem() }

    /// Continue saving into a resumed chat's files.
    mutating func continueChat(stem: String) { self.stem = stem }

    /// The newest saved chat: its stem and its files in pane order (empty when there is none).
    func latestChat() -> (stem: String, files: [String])? {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return nil }
        var newest: (date: Date, stem: String)?
        var byStem: [String: [(pane: Int, path: String)]] = [:]
        for name in names where name.hasSuffix(".json") {
            let base = String(name.dropLast(5))
            guard let dash = base.lastIndex(of: "-"), let pane = Int(base[base.index(after: dash)...]) else { continue }
            let stem = String(base[..<dash])
            let path = directory + "/" + name
            byStem[stem, default: []].append((pane, path))
            let date = (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            if newest == nil || date > newest!.date || (date == newest!.date && stem > newest!.stem) {
                newest = (date, stem)
            }
        }
        guard let newest, let files = byStem[newest.stem] else { return nil }
        return (newest.stem, files.sorted { $0.pane < $1.pane }.map(\.path))
    }

    /// Where the KV cache of the conversation saved at `path` goes: beside it, `.json` replaced by
    /// `.kv` (`.kv` appended to any other name).
    static func cachePath(forConversation path: String) -> String {
        (path.hasSuffix(".json") ? String(path.dropLast(5)) : path) + ".kv"
    }

    /// How many chats keep their KV caches (`--resume` opens the newest; older chats stay saved and
    /// read their conversation again when loaded).
    static let cachedChats = 3

    /// Deletes the KV caches of all but the `keep` chats saved most recently, and those a save cut
    /// off by a crash left half-written (`.<name>.kv.<pid>.tmp` of a process that is gone).
    func pruneCaches(keeping keep: Int = ConversationStore.cachedChats) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return }
        var newest: [String: Date] = [:]
        var files: [String: [String]] = [:]
        for name in names {
            if name.hasPrefix("."), name.hasSuffix(".tmp"), name.contains(".kv.") {
                let pid = name.dropLast(4).split(separator: ".").last.flatMap { pid_t($0) }
                if let pid, kill(pid, 0) != 0 && errno == ESRCH { try? fm.removeItem(atPath: directory + "/" + name) }
                continue
            }
            guard name.hasSuffix(".kv"), let dash = name.lastIndex(of: "-"),
                  Int(name[name.index(after: dash)...].dropLast(3)) != nil else { continue }
            let stem = String(name[..<dash])
            let date = (try? fm.attributesOfItem(atPath: directory + "/" + name)[.modificationDate] as? Date) ?? .distantPast
            newest[stem] = max(newest[stem] ?? .distantPast, date)
            files[stem, default: []].append(name)
        }
        let kept = Set(newest.sorted { ($0.value, $0.key) > ($1.value, $1.key) }.prefix(keep).map(\.key))
        for (stem, names) in files where !kept.contains(stem) {
            for name in names { try? fm.removeItem(atPath: directory + "/" + name) }
        }
    }

    /// The model a saved conversation was had with (for `--resume` without `--model`): its GGUF
    /// path, or its server's URL and the server's model name.
    static func savedModel(_ file: String) -> PaneModel? {
        guard let data = try? RegularFile.contents(of: file),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let model = object["model"] as? String else { return nil }
        return PaneModel(reference: model, remoteModel: object["remoteModel"] as? String)
    }
}
