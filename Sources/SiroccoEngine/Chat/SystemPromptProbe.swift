// SystemPromptProbe: finds the system prompt a chat template writes by itself when the
// conversation has none (Qwen2.5: "You are Qwen, created by Alibaba Cloud. …", SmolLM2: "You are a
// helpful AI assistant named SmolLM, …"), for any template, by rendering two probe conversations.
// Never posts notices or changes state: it only calls the render function it is given.

/// The default system prompt of a template, found by rendering.
enum SystemPromptProbe {
    static let userMark = "SiroccoProbeUserMark7f3a"
    static let systemMark = "SiroccoProbeSystemMark7f3a"

    /// Renders [user: MARK] and [system: SYSMARK, user: MARK]. The second gives the text before the
    /// system prompt (its block's prefix) and between it and MARK (its suffix and the user turn's
    /// start); when the first begins with that prefix and has that suffix before MARK, what lies in
    /// between is the template's default. Nil when rendering fails or nothing is written there.
    static func defaultPrompt(_ render: ([ChatMessage], Bool) throws -> String) -> String? {
        guard let plainText = try? render([.user(userMark)], false),
              let systemText = try? render([.system(systemMark), .user(userMark)], false) else { return nil }
        // bytes, not Characters: a grapheme may straddle the edge of a piece of template text
        let plain = Array(plainText.utf8), withSystem = Array(systemText.utf8)
        guard let system = find(Array(systemMark.utf8), in: withSystem, from: 0),
              let user = find(Array(userMark.utf8), in: withSystem, from: system + systemMark.utf8.count) else { return nil }
        let prefix = withSystem[..<system]
        let suffix = Array(withSystem[(system + systemMark.utf8.count)..<user]) + Array(userMark.utf8)
        guard plain.starts(with: prefix), let end = find(suffix, in: plain, from: prefix.count), end > prefix.count
        else { return nil }
        return String(decoding: plain[prefix.count..<end], as: UTF8.self)
    }

    /// The first index at or after `start` where `needle` occurs in `haystack`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for i in start...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }
}
