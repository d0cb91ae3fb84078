// The `sirocco` command: subcommands over the engine's public API.

import ArgumentParser
import Foundation
import SiroccoEngine
import SiroccoModels

@main
struct Sirocco: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sirocco",
        abstract: "Chat with local language models in the terminal, on Sirocco's own inference engine.",
        subcommands: [ChatCommand.self, RunCommand.self, PullCommand.self, ListCommand.self, RemoveCommand.self, RenderCommand.self,
                      TokenizeCommand.self, InfoCommand.self, BenchCommand.self, PerplexityCommand.self, ServeCommand.self],
        defaultSubcommand: ChatCommand.self
    )

    /// Checks the arguments' bytes before parsing: Swift would quietly turn bytes that are not
    /// UTF-8 (a terminal or script in another encoding) into U+FFFD.
    static func main() {
        if let message = invalidUTF8Argument() {
            FileHandle.standardError.write(Data("sirocco: error: \(message)\n".utf8))
            Self.exit(withError: ExitCode(1))
        }
        main(nil)
    }

    /// Describes the first argument that is not valid UTF-8, if any.
    static func invalidUTF8Argument() -> String? {
        for i in 1..<max(1, Int(CommandLine.argc)) {
            guard let raw = CommandLine.unsafeArgv[i], String(validatingCString: raw) == nil else { continue }
            let bytes = UnsafeBufferPointer(start: raw, count: strlen(raw)).map { UInt8(bitPattern: $0) }
            var parser = Unicode.UTF8.ForwardParser()
            var iterator = bytes.makeIterator()
            var offset = 0  // where the first sequence that is not UTF-8 starts
            while case let .valid(scalar) = parser.parseScalar(from: &iterator) { offset += scalar.count }
            let shown = String(decoding: bytes.prefix(40), as: UTF8.self)
            return "argument \(i) (\"\(shown)\(bytes.count > 40 ? "…" : "")\") is not valid UTF-8: byte 0x\(String(bytes[offset], radix: 16, uppercase: true)) at offset \(offset)"
        }
        return nil
    }
}

/// Where the model comes from: `--model NAME|PATH`, else `$SIROCCO_MODEL`, else the default model.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "A catalog name (\(ModelCatalog.defaultChatModel), sirocco list --all shows them) a GGUF file path, or (run, chat) a server's OpenAI-compatible API URL such as http://127.0.0.1:8080/v1 (default: $SIROCCO_MODEL, else \(ModelCatalog.defaultChatModel)).")
    var model: String?

    /// The path of the model asked for; a catalog name that is not pulled yet is pulled first
    /// when `pull` is set (commands that run the model), else it is an error saying how to get it.
    func resolvedPath(pull: Bool) throws -> String {
        let requested = ModelReference.requested(model)
        if BackendLocation.isRemote(requested) {
            throw CLIError("this command needs a local model; a server's URL works with sirocco run and sirocco chat")
        }
        return try ModelReference.path(for: requested, pull: pull)
    }

    /// Loads the model or exits with a one-line message.
    func load(pull: Bool = false) throws -> Model {
        let path = try resolvedPath(pull: pull)
        do {
            return try Model(path: path)
        } catch {
            throw CLIError("\(error)")
        }
    }
}

/// A user-facing failure: printed as one line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

extension ParsableCommand {
    /// Runs `body`, turning any error into "sirocco: error: …" and exit status 1.
    func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("sirocco: error: \(TerminalText.escaped(error.description))\n".utf8))
            throw ExitCode(1)
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("sirocco: error: \(TerminalText.escaped("\(error)"))\n".utf8))
            throw ExitCode(1)
        }
    }
}

func defaultThreadCount() -> Int { ProcessInfo.processInfo.activeProcessorCount }

extension KVCacheType: ExpressibleByArgument {}

let cacheTypeHelp = ArgumentHelp(
    "KV cache type: f16 (llama.cpp's default) or q8_0 (half the bytes per cached position, as llama.cpp's --cache-type-k/-v q8_0).")
