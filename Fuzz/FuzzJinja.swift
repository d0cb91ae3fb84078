// libFuzzer target: the Jinja lexer, parser and evaluator with their limits — any template text
// must compile and render or throw a JinjaError; a crash, a hang (libFuzzer's -timeout) or memory
// past -rss_limit_mb is a finding.

import Foundation
@testable import SiroccoEngine

private let conversation: [ChatMessage] = [
    .system("Be brief."), .user("Hi ☀️"), .assistant("Hello!"), ChatMessage(role: "tool", content: "{\"x\": 1}"), .user("2+2?"),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJinja(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let template = try? JinjaTemplate(source) else { return 0 }
    _ = try? template.renderChat(conversation, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>",
                                 extra: ["tools": .array([.object(["name": .string("f")])])])
    return 0
}
