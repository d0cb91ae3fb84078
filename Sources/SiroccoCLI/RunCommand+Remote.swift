// `sirocco run --model http://…/v1`: the prompt answered by a server, streamed to stdout like a
// local answer; Ctrl-C cancels the request and keeps what arrived.

import ArgumentParser
import Foundation
import SiroccoEngine
import SiroccoRemote

extension RunCommand {
    func runRemote(_ url: String, prompt: String, settings: SamplerSettings) throws {
        if raw { throw CLIError("--raw needs a local model: a server applies its own chat template") }
        if templateOptions.chatTemplate != nil || templateOptions.chatTemplateFile != nil {
            throw CLIError("--chat-template needs a local model: a server applies its own chat template")
        }
        let session = try remote.open(url, settings: settings, systemPrompt: system)
        session.maxAnswerTokens = maxTokens
        let interrupt = InterruptFlag.install { session.cancel() }
        defer { interrupt.uninstall() }
        let out = FileHandle.standardOutput
        let result: GenerationResult
        do {
            result = try session.respond(to: prompt, seed: nil) { event in
                switch event {
                case let .text(piece): out.write(Data(piece.utf8))
                case let .notice(text): FileHandle.standardError.write(Data("sirocco: \(TerminalText.escaped(text))\n".utf8))
                case .progress, .finished: break
                }
            }
        } catch {
            out.write(Data("\n".utf8))
            throw CLIError("\(session.client.endpoint.host): \(error)")
        }
        out.write(Data("\n".utf8))
        if !quiet {
            let s = result.stats
            // a server that sends no usage (llama_cpp.server) leaves the prompt's size unknown
            let prompt = s.promptTokens > 0 ? "\(s.promptTokens) tokens" : "–"
            let report = String(format: "\nprompt: %@ | generation: %d tokens, %.1f tokens/s | first token: %.0f ms | stop: %@ | kv cache: on the server (%@) | model: %@\n",
                                prompt, s.generatedTokens, s.generationTokensPerSecond, s.timeToFirstToken * 1000,
                                result.stop.rawValue, session.client.endpoint.host, TerminalText.escaped(session.model))
            FileHandle.standardError.write(Data(report.utf8))
        }
        if result.stop == .cancelled { throw ExitCode(130) }
    }
}
