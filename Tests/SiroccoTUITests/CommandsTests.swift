// Slash commands and sampling keys: what a typed line means, and knobs that stay in range.

@testable import SiroccoTUI
import SiroccoEngine
import Testing

struct CommandsTests {
    @Test(arguments: [
        ("hello there", Command.send("hello there")),
        ("//etc/passwd is a path", .send("/etc/passwd is a path")),
        ("/set temp 0.7", .set(.temperature(0.7))),
        ("/set temperature 1", .set(.temperature(1))),
        ("/set top_p 0.9", .set(.topP(0.9))),
        ("/set top-p=0.5", .set(.topP(0.5))),
        ("/set top_k 40", .set(.topK(40))),
        ("/set min_p 0.05", .set(.minP(0.05))),
        ("/set repeat_penalty 1.1", .set(.repeatPenalty(1.1))),
        ("/set seed 42", .set(.seed(42))),
        ("/set seed random", .set(.seed(nil))),
        ("/set seed -1", .set(.seed(nil))),
        ("/set", .showSettings),
        // Ollama's /set parameter NAME VALUE, /set system TEXT, /show, /bye
        ("/set parameter temperature 0.5", .set(.temperature(0.5))),
        ("/set parameter top_k 20", .set(.topK(20))),
        ("/set parameter repeat_penalty 1.2", .set(.repeatPenalty(1.2))),
        ("/set parameter repeat_last_n 32", .set(.penaltyLastN(32))),
        ("/set parameter seed 7", .set(.seed(7))),
        ("/set parameter num_predict 100", .maxAnswerTokens(100)),
        ("/set parameter num_predict -1", .maxAnswerTokens(nil)),
        ("/set num_predict 5", .maxAnswerTokens(5)),
        ("/set parameter", .showSettings),
        ("/set system You are  terse. Really.", .system("You are  terse. Really.")),
        ("/set system", .system(nil)),
        ("/show info", .showInfo),
        ("/show parameters", .showSettings),
        ("/show system", .system(nil)),
        ("/show template", .template(nil)),
        ("/bye", .quit),
        ("/system You are terse.", .system("You are terse.")),
        ("/system", .system(nil)),
        ("/clear", .clear),
        ("/save /tmp/chat.json", .save("/tmp/chat.json")),
        ("/load ~/chat.json", .load("~/chat.json")),
        ("/template chatml", .template("chatml")),
        ("/template", .template(nil)),
        ("/theme light", .theme("light")),
        ("/help", .help),
        ("/quit", .quit),
        ("/QUIT", .quit),
        ("/exit", .quit),
        ("/raw", .raw),
        ("/copy", .copy(.lastCodeBlock)),
        ("/copy 2", .copy(.codeBlock(2))),
        ("/copy ALL", .copy(.answer)),
        ("/retry", .retry),
        ("/edit", .edit),
    ])
    func parses(line: String, command: Command) throws {
        #expect(try CommandParser.parse(line) == command)
    }

    @Test(arguments: [
        ("/frobnicate", CommandError.unknownCommand("frobnicate")),
        ("/set warmth 3", .unknownSetting("warmth")),
        ("/set temp", .missingArgument(command: "set temp", usage: "/set temp VALUE")),
        ("/set temp hot", .badValue(setting: "temp", value: "hot")),
        ("/set top_k 4.5", .badValue(setting: "top_k", value: "4.5")),
        ("/set seed -2", .badValue(setting: "seed", value: "-2")),
        ("/set seed lucky", .badValue(setting: "seed", value: "lucky")),
        ("/set parameter num_ctx 8192", .fixedSetting(name: "num_ctx", reason: Command.fixedParameters["num_ctx"]!)),
        ("/set parameter num_predict 0", .badValue(setting: "num_predict", value: "0")),
        ("/set parameter mirostat 1", .unknownSetting("mirostat")),
        ("/show", .missingArgument(command: "show", usage: "/show info")),
        ("/show modelfile", .unknownShow("modelfile")),
        ("/set temp 0.7 0.8", .badValue(setting: "temp", value: "0.7 0.8")),
        ("/save", .missingArgument(command: "save", usage: "/save FILE")),
        ("/load", .missingArgument(command: "load", usage: "/load FILE")),
        ("/copy 0", .badCopyTarget("0")),
        ("/copy the code", .badCopyTarget("the code")),
    ])
    func rejects(line: String, error: CommandError) {
        #expect(throws: error) { try CommandParser.parse(line) }
        #expect(!error.description.isEmpty)
    }

    @Test func numCtxIsRefusedWithTheWayToChangeIt() {
        let error = CommandError.fixedSetting(name: "num_ctx", reason: Command.fixedParameters["num_ctx"]!)
        #expect(error.description == "num_ctx cannot be changed: the context size is fixed when the chat starts (sirocco chat --ctx-size N)")
    }

    @Test func seedEditsSayWhatTheNextAnswerUses() {
        var s = SamplerSettings()
        SamplerEdit.seed(42).apply(to: &s)
        #expect(s.seed == 42)
        #expect(SamplerEdit.seed(42).summary.hasPrefix("seed 42 (fixed"))
        SamplerEdit.seed(nil).apply(to: &s)
        #expect(s.seed == nil)
        #expect(SamplerEdit.seed(nil).summary.hasPrefix("seed random"))
    }

    @Test func outOfRangeValuesParseButFailValidation() throws {
        // range checks are the engine's: the UI shows SamplerSettings' message
        guard case let .set(edit) = try CommandParser.parse("/set top_p 7") else { Issue.record("not a /set"); return }
        var settings = SamplerSettings()
        edit.apply(to: &settings)
        #expect(throws: SamplerError.self) { try settings.validate() }
    }

    @Test func knobsStepAndClamp() {
        var s = SamplerSettings()
        s.temperature = 0.8
        #expect(abs(SamplerKnob.temperature.step(s, direction: 1).temperature - 0.9) < 1e-6)
        #expect(abs(SamplerKnob.temperature.step(s, direction: -1).temperature - 0.7) < 1e-6)
        s.temperature = 0.05
        #expect(SamplerKnob.temperature.step(s, direction: -1).temperature == 0)
        s.topP = 1
        #expect(SamplerKnob.topP.step(s, direction: 1).topP == 1)
        #expect(abs(SamplerKnob.topP.step(s, direction: -1).topP - 0.95) < 1e-6)
        s.topK = 0
        #expect(SamplerKnob.topK.step(s, direction: -1).topK == 0)
        #expect(SamplerKnob.topK.step(s, direction: 1).topK == 5)
        s.minP = 0
        #expect(SamplerKnob.minP.step(s, direction: -1).minP == 0)
        s.repeatPenalty = 1
        #expect(SamplerKnob.repeatPenalty.step(s, direction: -1).repeatPenalty == 1)
        #expect(abs(SamplerKnob.repeatPenalty.step(s, direction: 1).repeatPenalty - 1.05) < 1e-6)
        // every step keeps the settings valid
        var t = SamplerSettings()
        for knob in SamplerKnob.allCases {
            for direction in [1, -1] {
                for _ in 0..<50 { t = knob.step(t, direction: direction) }
                #expect(throws: Never.self) { try t.validate() }
            }
        }
    }

    @Test func everyFunctionKeyIsInTheHelp() {
        let help = Screen.helpLines().map { $0.0 + " " + $0.1 }.joined(separator: "\n")
        for binding in KeyBinding.all where binding.key.hasPrefix("F") {
            #expect(help.contains(binding.key), "\(binding.key) missing from /help")
        }
        for command in ["/set", "/system", "/clear", "/save", "/load", "/template", "/theme", "/help", "/quit", "/bye",
                        "/show info", "/set parameter", "/set system", "/raw", "/copy", "/copy all", "Ctrl-D", "\"\"\"", "seed random", "num_predict"] {
            #expect(help.contains(command), "\(command) missing from /help")
        }
        #expect(!help.contains("when idle, quit"))
        #expect(help.contains("focused pane"))
    }

    @Test func numbersAreFormattedForThePanel() {
        #expect(Format.decimal(0.7) == "0.70")
        #expect(Format.decimal(1) == "1.00")
        #expect(Format.decimal(0.05) == "0.05")
        #expect(Format.oneDecimal(123.45) == "123.5")
        #expect(Format.mebibytes(94_371_840) == "90.0")
    }
}
