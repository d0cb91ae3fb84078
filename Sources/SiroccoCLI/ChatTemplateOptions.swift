// --chat-template / --chat-template-file, shared by the commands that render conversations.

import ArgumentParser
import Foundation
import SiroccoEngine

struct ChatTemplateOptions: ParsableArguments {
    @Option(help: "Chat template: \(ChatFormat.names.joined(separator: ", ")) (model: the model's own, the default; completion: plain text, the default for a model without a template).")
    var chatTemplate: String?
    @Option(help: "A Jinja chat template file to use instead of the model's.")
    var chatTemplateFile: String?

    func validate() throws {
        if chatTemplate != nil && chatTemplateFile != nil {
            throw ValidationError("--chat-template and --chat-template-file cannot be used together")
        }
    }

    /// The chosen format. A template file the user named is strict (`ChatFormat.file`): one that
    /// fails is an error, not a quiet fallback to a built-in format.
    func format(for model: Model) throws -> ChatFormat {
        do {
            if let file = chatTemplateFile { return try ChatFormat.file(file, for: model) }
            if let name = chatTemplate { return try .named(name, for: model) }
            return .forModel(model)
        } catch {
            throw CLIError("\(error)")
        }
    }
}

/// Prints a format's notice (a template that fell back to a built-in one) to stderr.
func reportNotice(of format: ChatFormat) {
    if let notice = format.takeNotice() {
        FileHandle.standardError.write(Data("sirocco: note: \(TerminalText.escaped(notice))\n".utf8))
    }
}
