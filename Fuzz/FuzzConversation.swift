// libFuzzer target: loading a saved conversation — any bytes decode to a checked conversation or
// throw ChatError.badConversationFile; whatever loads renders through ChatML without a crash.

import Foundation
@testable import SiroccoEngine

private let chatml = ChatFormat.builtin(.chatml)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConversation(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let saved = try? ChatSession.Saved.decode(Data(bytes: data, count: size), path: "fuzz.json") else { return 0 }
    var messages = saved.messages
    if let system = saved.systemPrompt { messages.insert(.system(system), at: 0) }
    _ = try? chatml.render(messages)
    return 0
}
