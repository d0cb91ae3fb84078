// `sirocco render`: print the prompt a conversation renders to, exactly.

import ArgumentParser
import Foundation
import SiroccoEngine

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the prompt a conversation renders to with the chat template (messages as JSON: [{\"role\": ..., \"content\": ...}]).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var templateOptions: ChatTemplateOptions
    @Option(help: "A JSON file with the messages ('-' for standard input).")
    var messages: String
    @Flag(help: "Do not end the prompt with the assistant's turn header.")
    var noGenerationPrompt = false

    func run() throws {
        try reportingErrors {
            let data: Data
            if messages == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                do { data = try RegularFile.contents(of: messages) } catch {
                    throw CLIError("cannot read the messages file: \(error)")
                }
            }
            let conversation: [ChatMessage]
            do {
                conversation = try JSONDecoder().decode([ChatMessage].self, from: data)
            } catch {
                throw CLIError("\(messages): expected a JSON array of {\"role\": ..., \"content\": ...} objects")
            }
            let model = try modelOptions.load()
            let format = try templateOptions.format(for: model)
            let prompt: String
            do {
                prompt = try format.render(conversation, addGenerationPrompt: !noGenerationPrompt)
            } catch {
                throw CLIError("cannot render the conversation: \(error)")
            }
            reportNotice(of: format)
            FileHandle.standardOutput.write(Data(prompt.utf8))
        }
    }
}
