// libFuzzer target: a byte-level BPE tokenizer (llama.cpp's ggml-vocab-qwen2.gguf, the default
// model's vocabulary, which does not clean spaces on decoding as Llama 3's does): any text
// round-trips through encode and decode exactly, and the streaming detokenizer fed any token ids
// yields exactly what decoding them at once yields.

import Foundation
@testable import SiroccoEngine

private let tokenizer: Tokenizer = {
    let path = ProcessInfo.processInfo.environment["FUZZ_VOCAB"]
        ?? "Tests/SiroccoEngineTests/Fixtures/vocab/ggml-vocab-qwen2.gguf"
    do { return try Tokenizer(gguf: try GGUFFile(path: path)) } catch { fatalError("cannot load \(path): \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // text → tokens → text
    let text = String(decoding: bytes, as: UTF8.self)
    let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
    let back = tokenizer.decode(ids)
    if back != text { fatalError("round trip changed \(text.debugDescription) into \(back.debugDescription) via \(ids)") }
    // any token ids: streamed pieces == one decode
    let vocabulary = tokenizer.vocabularySize
    var tokens: [TokenID] = []
    var i = 0
    while i + 1 < size {
        tokens.append(TokenID((Int(bytes[i]) << 8 | Int(bytes[i + 1])) * 3 % vocabulary))
        i += 2
    }
    var stream = StreamingDetokenizer(tokenizer: tokenizer, startsText: true)
    var streamed = ""
    for t in tokens { streamed += stream.append(t) }
    streamed += stream.finish()
    let whole = tokenizer.decode(tokens)
    if streamed != whole { fatalError("streamed \(streamed.debugDescription) but decoded \(whole.debugDescription) for \(tokens)") }
    return 0
}
