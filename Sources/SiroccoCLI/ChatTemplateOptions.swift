// --chat-template / --chat-template-file, shared by the commands that render conversations.

import ArgumentParser
import Foundation
import SiroccoEngine

struct ChatTemplateOptions: ParsableArguments {
    @Option(help: "Chat template: a built-in name (\(ChatTemplate.allCases.map(\.rawValue).joined(separator: ", "))) or 'model' for the model's own (default).")
    var chatTemplate: String?
    @Option(help: "A Jinja chat template file to use instead of the model's.")
    var chatTemplateFile: String?

    func validate() throws {
        if chatTemplate != nil && chatTemplateFile != nil {
            throw ValidationError("--chat-template and --chat-template-file cannot be used together")
        }
    }

    /// The chosen format; a fallback notice (if any) is printed to stderr once.
    func format(for model: Model) throws -> ChatFormat {
        do {
            if let file = chatTemplateFile { return try .file(file, for: model) }
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
        FileHandle.standardError.write(Data("sirocco: note: \(notice)\n".utf8))
    }
}
