// TestModelFiles: where the tests' models are — the folder `sirocco pull` fills, and SmolLM2 in it.

import Foundation

public enum TestModelFiles {
    /// Where `sirocco pull` puts models ($SIROCCO_MODELS, else ~/.cache/sirocco/models).
    public static var directory: String {
        let env = ProcessInfo.processInfo.environment
        return env["SIROCCO_MODELS"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache/sirocco/models"
    }

    /// The tests' model (SmolLM2, `sirocco pull smollm2:135m`): $SIROCCO_MODEL, else its place in the models folder.
    public static var smolLM2: String {
        if let p = ProcessInfo.processInfo.environment["SIROCCO_MODEL"], !p.isEmpty { return p }
        return directory + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    }
}
