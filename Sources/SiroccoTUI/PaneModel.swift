// PaneModel: what a pane is opened on — a GGUF path or catalog name, or the base URL of a server
// speaking the OpenAI chat-completions API with the server's model name. Parsing only: a URL is
// told apart from a path by its scheme, so a file name is never taken for a server.

import Foundation
import SiroccoEngine

/// A pane's model as the user named it.
struct PaneModel: Equatable, Sendable {
    /// A GGUF path or catalog name, or a server's base URL.
    var reference: String
    /// The server's model name for a URL (nil: the server's choice, or a local model).
    var remoteModel: String?

    var isRemote: Bool { BackendLocation.isRemote(reference) }

    /// What a pane being opened is called: a file by its name, a server by its host.
    var displayName: String {
        if isRemote {
            let host = BackendLocation.remote(baseURL: reference, model: remoteModel ?? "").host ?? reference
            return remoteModel.map { "\($0) @ \(host)" } ?? host
        }
        return reference.contains("/") ? String(reference.split(separator: "/").last ?? "") : reference
    }

    /// `/model`'s argument: `URL [MODEL]` for a server, else the whole text (a path may hold spaces).
    static func parse(_ argument: String) -> PaneModel {
        guard BackendLocation.isRemote(argument),
              let space = argument.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return PaneModel(reference: argument) }
        let model = argument[space...].trimmingCharacters(in: .whitespaces)
        return PaneModel(reference: String(argument[..<space]), remoteModel: model.isEmpty ? nil : model)
    }
}
