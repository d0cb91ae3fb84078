// Request bodies into the engine's terms: every sampling field reaches SamplerSettings, the
// OpenAI variants (stop as a string or a list, max_completion_tokens, text parts, developer
// messages) are understood, and JSON types are never confused.

import Foundation
import SiroccoEngine
@testable import SiroccoServer
import Testing

@Suite struct RequestDecodingTests {
    func chat(_ json: String) throws(APIError) -> ChatCompletionParameters {
        try ChatCompletionParameters(json: Data(json.utf8))
    }

    @Test func everySamplingFieldReachesTheSettings() throws {
        let p = try chat("""
            {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5, "top_p": 0.9,
             "top_k": 7, "min_p": 0.1, "repeat_penalty": 1.1, "frequency_penalty": 0.25, "presence_penalty": -0.5,
             "seed": 42, "max_tokens": 99, "stop": ["a", "b"], "stream": true, "stream_options": {"include_usage": true}}
            """)
        var expected = SamplerSettings()
        expected.temperature = 0.5
        expected.topP = 0.9
        expected.topK = 7
        expected.minP = 0.1
        expected.repeatPenalty = 1.1
        expected.frequencyPenalty = 0.25
        expected.presencePenalty = -0.5
        expected.seed = 42
        #expect(p.generation == GenerationParameters(model: "m", settings: expected, maxTokens: 99, stop: ["a", "b"],
                                                     stream: true, includeUsage: true))
    }

    @Test func defaultsAreLlamaCppsAndNullsAreAbsent() throws {
        let p = try chat(#"{"messages": [{"role": "user", "content": "hi"}], "temperature": null, "stop": null, "seed": -1}"#)
        #expect(p.generation == GenerationParameters(model: nil, settings: SamplerSettings(), maxTokens: nil, stop: [],
                                                     stream: false, includeUsage: false))
    }

    @Test func openAIVariants() throws {
        let p = try chat("""
            {"messages": [{"role": "developer", "content": "Be brief."},
                          {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
                          {"role": "assistant", "content": null}],
             "stop": "END", "max_tokens": 5, "max_completion_tokens": 9, "n": 1, "logit_bias": {}, "tools": [],
             "response_format": {"type": "text"}, "user": "someone"}
            """)
        #expect(p.messages == [.system("Be brief."), .user("one\ntwo"), .assistant("")])
        #expect(p.generation.stop == ["END"])
        #expect(p.generation.maxTokens == 9)
    }

    @Test func integersWrittenAsWholeNumbersAreIntegers() throws {
        let p = try chat(#"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8.0, "top_k": 1e1, "temperature": 1}"#)
        #expect(p.generation.maxTokens == 8)
        #expect(p.generation.settings.topK == 10)
        #expect(p.generation.settings.temperature == 1)
    }

    @Test(arguments: [
        (#"{"messages": [{"role": "user", "content": "hi"}], "stream": 1}"#, "'stream' must be true or false, got an integer"),
        (#"{"messages": [{"role": "user", "content": "hi"}], "temperature": true}"#, "'temperature' must be a number, got a boolean"),
        (#"{"messages": [{"role": "user", "content": "hi"}], "top_p": 2}"#, "'top_p' must be between 0 and 1, got 2"),
        (#"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1.5}"#, "'max_tokens' must be an integer, got a number"),
        (#"{"messages": [{"role": "user", "content": "hi"}], "stop": ["a", 1]}"#, "'stop' must be a string or an array of strings, got an array holding an integer"),
        (#"{"messages": [{"role": "user"}, {"content": "x"}]}"#, "'messages[1].role' is required"),
        (#"{"messages": [5]}"#, "'messages[0]' must be an object, got an integer"),
        (#"{"messages": [{"role": "user", "content": "hi"}], "stream_options": true}"#, "'stream_options' must be an object, got a boolean"),
    ])
    func wrongTypesAreNamed(json: String, message: String) {
        #expect(throws: APIError.self) { try chat(json) }
        do { _ = try chat(json) } catch { #expect(error.message == message) }
    }

    @Test func textPromptForms() throws {
        #expect(try TextCompletionParameters(json: Data(#"{"prompt": "abc"}"#.utf8)).prompt == "abc")
        #expect(try TextCompletionParameters(json: Data(#"{"prompt": ["abc"]}"#.utf8)).prompt == "abc")
        #expect(throws: APIError.self) { try TextCompletionParameters(json: Data(#"{"prompt": "abc", "echo": true}"#.utf8)) }
    }

    @Test func tooManyMessagesOrStopsAreRefused() {
        let many = "[" + Array(repeating: #"{"role": "user", "content": "x"}"#, count: 4097).joined(separator: ",") + "]"
        #expect(throws: APIError.self) { try chat(#"{"messages": \#(many)}"#) }
        let stops = "[" + Array(repeating: #""x""#, count: 17).joined(separator: ",") + "]"
        #expect(throws: APIError.self) { try chat(#"{"messages": [{"role": "user", "content": "hi"}], "stop": \#(stops)}"#) }
    }

    @Test func nestingDepthIgnoresBracketsInStrings() {
        #expect(JSONValue.nestingDepth(of: Data(#"{"a": "[[[[{{{\"]]]", "b": [[1]]}"#.utf8)) == 3)
    }
}
