// libFuzzer target: restoring a KV cache file. Any bytes, with the checksum a hostile file would
// carry (the last 8 bytes are replaced by the XXH64 of the rest), restored into a context of the
// synthetic Gemma 3 (rolling-buffer and full-attention layers): a count of restored tokens within
// the expected ones, or KVCacheFileError / FileError; what is restored evaluates, and sampling
// (greedy and the default chain) picks a token of the vocabulary. Finite logits are not a property:
// finite but huge keys and values (F16 up to 65504) overflow attention's F16 accumulator into
// inf/NaN, as they would in llama.cpp; the sampler copes. No crash, hang or allocation the file
// asks for.

import Foundation
@testable import SiroccoEngine

@_silgen_name("__lsan_disable") private func lsanDisable()
@_silgen_name("__lsan_enable") private func lsanEnable()

/// Made once, with LeakSanitizer looking away: it reports what a Model kept for the whole run holds
/// (its GGUF metadata values) as leaked.
private let context: InferenceContext = {
    lsanDisable()
    defer { lsanEnable() }
    let path = "Tests/SiroccoEngineTests/Fixtures/synthetic/gemma3-q8_0.gguf"
    do { return InferenceContext(model: try Model(path: path), contextLength: 64, threads: 1) } catch {
        fatalError("cannot load \(path): \(error)")
    }
}()
/// In memory (/dev/shm) where there is one: a disk write per input is most of the time otherwise.
private let path = (access("/dev/shm", W_OK) == 0 ? "/dev/shm/" : NSTemporaryDirectory()) + "sirocco-fuzz-kvcache-\(getpid()).kv"
/// The tokens the seed files hold (KVCacheFileTests.tokens(10)).
private let expected: [TokenID] = (0..<10).map { TokenID(($0 * 37 + 5) % 250) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKVCache(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if bytes.count >= 8 {
        let hash = bytes.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0.dropLast(8))) }
        withUnsafeBytes(of: hash.littleEndian) { bytes.replaceSubrange(bytes.count - 8..<bytes.count, with: $0) }
    }
    do { try Data(bytes).write(to: URL(fileURLWithPath: path)) } catch { fatalError("cannot write \(path): \(error)") }
    defer { unlink(path) }
    context.reset()
    do {
        let restored = try context.restoreCache(from: path, tokens: expected)
        precondition(restored <= expected.count && context.position == restored && context.tokens == Array(expected.prefix(restored)))
        if restored > 0 {
            let logits = try context.evaluate([expected[0]])
            for settings in [SamplerSettings.greedy, SamplerSettings()] {
                var sampler = SamplerChain(settings: settings)
                let token = sampler.sample(logits)
                precondition(token >= 0 && Int(token) < logits.count, "sampled \(token) of \(logits.count)")
            }
        }
    } catch is KVCacheFileError {
    } catch is FileError {
    } catch {
        preconditionFailure("unexpected error \(error)")
    }
    return 0
}
