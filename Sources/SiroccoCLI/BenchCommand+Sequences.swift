// `sirocco bench --sequences`: several sequences generating at once, as panes comparing settings of
// one model or a server's concurrent requests do, each on its own thread with its own sampler.

import Foundation
import SiroccoEngine

extension BenchCommand {
    /// How N sequences that generate at once share the machine.
    enum SequenceSharing {
        /// Decoded together: one SequenceBatcher on all the threads, one pass over the weights a step.
        case together
        /// Each on its own context with threads ÷ N threads, reading the weights apart.
        case apart
    }

    /// Aggregate generation speed of N sequences generating at once, together and apart, the
    /// counts and the two ways alternating inside every repeat.
    func runSequences(_ model: Model) throws {
        let clock = ContinuousClock()
        var together = [[Double]](repeating: [], count: sequences.count)
        var apart = [[Double]](repeating: [], count: sequences.count)
        var requestsPerStep = [Double](repeating: 0, count: sequences.count)
        for _ in 0..<repeats {
            for (i, n) in sequences.enumerated() {
                let (rate, perStep) = try generateAtOnce(model, count: n, sharing: .together, clock: clock)
                together[i].append(rate)
                requestsPerStep[i] = perStep
                apart[i].append(try generateAtOnce(model, count: n, sharing: .apart, clock: clock).rate)
            }
        }
        let medians = together.map(median), apartMedians = apart.map(median)
        if json {
            func object(_ values: [Double]) -> String {
                "{" + zip(sequences, values).map { String(format: "\"%d\": %.2f", $0, $1) }.joined(separator: ", ") + "}"
            }
            print(String(format: "{\"sequences_gen_tps\": %@, \"sequences_apart_gen_tps\": %@, \"sequences_per_step\": %@, \"threads\": %d, \"n_prompt\": %d, \"n_gen\": %d, \"repeats\": %d}",
                         object(medians), object(apartMedians), object(requestsPerStep), threads, promptTokens, genTokens, repeats))
        } else {
            print("model:       \(model.file.path)")
            print("threads:     \(threads)")
            for (i, n) in sequences.enumerated() {
                print(String(format: "%2d sequences: %.1f tokens/s in all together (%.2f× %d; %.1f a step), %.1f apart (%.2f×)  (tg%d each, median of %d)",
                             n, medians[i], medians[i] / medians[0], sequences[0], requestsPerStep[i],
                             apartMedians[i], apartMedians[i] / apartMedians[0], genTokens, repeats))
            }
        }
    }

    /// Generates `genTokens` after a prompt of `promptTokens` in `count` sequences at once, each on
    /// its own thread sampling with the default settings, and returns the tokens a second in all
    /// (from the moment all prompts are in) and the sequences served a forward call.
    private func generateAtOnce(_ model: Model, count: Int, sharing: SequenceSharing,
                                clock: ContinuousClock) throws -> (rate: Double, perStep: Double) {
        let batcher = sharing == .together ? SequenceBatcher(model: model, threads: threads) : nil
        let threadsEach = sharing == .together ? 1 : max(1, threads / count)
        let contexts = try (0..<count).map { _ in
            try InferenceContext(model: model, contextLength: promptTokens + genTokens + 1, batchSize: 512,
                                 threads: threadsEach, cacheType: cacheType)
        }
        for context in contexts {
            context.batcher = batcher
            context.adaptsThreadCount = !fixedThreads
        }
        let vocab = model.config.vocabularySize
        let ready = DispatchGroup(), start = DispatchSemaphore(value: 0), done = DispatchGroup()
        let failure = LockedValue<Error?>(nil)
        for (s, context) in contexts.enumerated() {
            ready.enter()
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                var waiting = true
                do {
                    var logits = try context.evaluate((0..<promptTokens).map { TokenID(($0 * 7919 + 13 + s * 101) % vocab) })
                    batcher?.join()
                    defer { batcher?.leave() }
                    waiting = false
                    ready.leave()
                    start.wait()
                    var settings = SamplerSettings()
                    settings.seed = UInt64(s)
                    var sampler = SamplerChain(settings: settings)
                    for _ in 0..<genTokens {
                        let next = sampler.sample(logits)
                        logits = try context.evaluate([next])
                    }
                } catch {
                    failure.set(error)
                    if waiting { ready.leave() }
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        ready.wait()
        let (steps0, served0) = (batcher?.steps ?? 0, batcher?.requestsServed ?? 0)
        let t0 = clock.now
        for _ in 0..<count { start.signal() }
        done.wait()
        if let error = failure.value { throw error }
        let seconds = (clock.now - t0).seconds
        let perStep = batcher.map { Double($0.requestsServed - served0) / Double(max(1, $0.steps - steps0)) } ?? 1
        return (Double(count * genTokens) / seconds, perStep)
    }
}

/// A value shared between threads, behind a lock.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func set(_ value: Value) { lock.withLock { stored = value } }
}
