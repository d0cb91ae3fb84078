// `sirocco tokenize`: print the token ids of a text as a JSON array.

import ArgumentParser
import Foundation
import SiroccoEngine

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of TEXT as a JSON array (special tokens in the text are parsed).")

    @OptionGroup var modelOptions: ModelOptions
    @Flag(help: "Do not parse special tokens such as <|im_start|> in the text.")
    var noParseSpecial = false
    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        try reportingErrors {
            let model = try modelOptions.load()
            let ids = model.tokenizer.encode(text, addSpecial: true, parseSpecial: !noParseSpecial)
            print("[" + ids.map(String.init).joined(separator: ", ") + "]")
        }
    }
}
