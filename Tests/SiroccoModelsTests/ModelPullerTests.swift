// Pulling a model from a package index: three wheels made by Python's zipfile (scripts/
// make_wheel_fixtures.py) served from a loopback server — assembled, verified and installed, and
// every failure (hash, truncated part, missing package or version, unreachable registry, full
// disk, cancel) leaves the models folder without a half-written file.

import Foundation
import Testing
@testable import SiroccoModels
import TestSupport

struct WheelFixtures: Decodable {
    struct Wheel: Decodable {
        let package: String
        let version: String
        let file: String
        let member: String
        let wheel_sha256: String
    }
    let wheels: [Wheel]
    let size: Int64
    let sha256: String

    static func load() throws -> WheelFixtures {
        let url = Bundle.module.url(forResource: "wheels", withExtension: "json", subdirectory: "Fixtures")!
        return try JSONDecoder().decode(WheelFixtures.self, from: Data(contentsOf: url))
    }

    static func wheelData(_ file: String) throws -> Data {
        let url = Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Fixtures")!
        return try Data(contentsOf: url)
    }
}

/// A loopback package index serving the fixture wheels, and a scratch models folder.
final class FakeIndex {
    let server: LoopbackServer
    let fixtures: WheelFixtures
    let folder: String

    init() throws {
        server = try LoopbackServer()
        fixtures = try WheelFixtures.load()
        folder = NSTemporaryDirectory() + "sirocco-models-\(UUID().uuidString)"
        for wheel in fixtures.wheels {
            serveIndex(wheel.package, links: [(wheel.file, wheel.wheel_sha256)])
            server.route("/files/\(wheel.file)", .init(body: try WheelFixtures.wheelData(wheel.file)))
        }
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    func serveIndex(_ package: String, links: [(file: String, sha: String)]) {
        let anchors = links.map { "<a href=\"/files/\($0.file)#sha256=\($0.sha)\" data-requires-python=\"&gt;=3.8\">\($0.file)</a><br/>" }
        let html = "<!DOCTYPE html><html><body><h1>Links for \(package)</h1>\n\(anchors.joined(separator: "\n"))\n</body></html>"
        server.route("/simple/\(package)/", .init(body: Data(html.utf8)))
    }

    var store: ModelStore { ModelStore(directory: folder) }

    func entry(size: Int64? = nil, sha256: String? = nil, index: URL? = nil) -> CatalogEntry {
        let parts = fixtures.wheels.map { WheelPart(package: $0.package, version: $0.version, member: $0.member) }
        return CatalogEntry(name: "demo:520k", summary: "three fixture wheels", kind: .chat, fileName: "demo.gguf",
                            size: size ?? fixtures.size, sha256: sha256 ?? fixtures.sha256,
                            source: PyPIWheelSource(parts: parts, index: index ?? server.baseURL.appendingPathComponent("simple/")))
    }

    /// Files in the models folder (hidden partial files included).
    var files: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() }
}

@Suite struct ModelPullerTests {
    @Test func pullAssemblesVerifiesAndInstalls() throws {
        let index = try FakeIndex()
        let entry = index.entry()
        let seen = ProgressLog()
        let outcome = try ModelPuller(store: index.store).pull(entry) { seen.add($0) }
        guard case let .downloaded(path, _) = outcome else { Issue.record("\(outcome)"); return }
        #expect(index.files == ["demo.gguf"])
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Int64(data.count) == index.fixtures.size)
        let hasher = SHA256()
        hasher.update(Array(data))
        #expect(hasher.hexDigest() == index.fixtures.sha256)
        // progress counts bytes of the assembled file, up to the whole
        #expect(seen.last?.completed == index.fixtures.size && seen.last?.total == index.fixtures.size)
        #expect(seen.all.map(\.completed) == seen.all.map(\.completed).sorted())
        // pulled once: the second pull finds it
        #expect(try ModelPuller(store: index.store).pull(entry) == .alreadyPresent(path: path))
        #expect(index.store.installed().map(\.name) == ["demo"])
    }

    @Test func hashMismatchInstallsNothing() throws {
        let index = try FakeIndex()
        let wrong = String(repeating: "0", count: 64)
        #expect(throws: PullError.hashMismatch(name: "demo:520k", expected: wrong, actual: index.fixtures.sha256)) {
            try ModelPuller(store: index.store).pull(index.entry(sha256: wrong))
        }
        #expect(index.files.isEmpty)
    }

    @Test func sizeMismatchInstallsNothing() throws {
        let index = try FakeIndex()
        #expect(throws: PullError.sizeMismatch(name: "demo:520k", expected: index.fixtures.size + 1, actual: index.fixtures.size)) {
            try ModelPuller(store: index.store).pull(index.entry(size: index.fixtures.size + 1))
        }
        #expect(index.files.isEmpty)
    }

    @Test func truncatedPartIsReported() throws {
        let index = try FakeIndex()
        let wheel = index.fixtures.wheels[1]
        let data = try WheelFixtures.wheelData(wheel.file)
        index.server.route("/files/\(wheel.file)", .init(body: data, sendOnly: data.count / 2))
        do {
            _ = try ModelPuller(store: index.store).pull(index.entry())
            Issue.record("a truncated wheel was accepted")
        } catch let error as PullError {
            guard case let .truncated(url, received, expected) = error else { Issue.record("\(error)"); return }
            #expect(url.hasSuffix(wheel.file) && received == Int64(data.count / 2) && expected == Int64(data.count))
        }
        #expect(index.files.isEmpty)
    }

    @Test func corruptWheelIsReported() throws {
        let index = try FakeIndex()
        let wheel = index.fixtures.wheels[0]
        var data = try WheelFixtures.wheelData(wheel.file)
        data[data.count / 3] ^= 0xFF  // inside the deflated member
        index.server.route("/files/\(wheel.file)", .init(body: data))
        #expect(throws: PullError.self) { try ModelPuller(store: index.store).pull(index.entry()) }
        #expect(index.files.isEmpty)
        // not a zip at all
        index.server.route("/files/\(wheel.file)", .init(body: Data("<html>maintenance</html>".utf8)))
        #expect(throws: PullError.badArchive(url: index.server.baseURL.absoluteString + "files/\(wheel.file)", reason: "not a zip archive")) {
            try ModelPuller(store: index.store).pull(index.entry())
        }
        #expect(index.files.isEmpty)
    }

    @Test func missingPackageAndVersion() throws {
        let index = try FakeIndex()
        index.server.route("/simple/demo-model-part2/", .init(status: 404))
        #expect(throws: PullError.packageMissing(package: "demo-model-part2", registry: "127.0.0.1")) {
            try ModelPuller(store: index.store).pull(index.entry())
        }
        index.serveIndex("demo-model-part2", links: [("demo_model_part2-0.9.0-py3-none-any.whl", "00")])
        #expect(throws: PullError.versionMissing(package: "demo-model-part2", version: "1.0.0")) {
            try ModelPuller(store: index.store).pull(index.entry())
        }
        #expect(index.files.isEmpty)
    }

    @Test func unreachableRegistry() throws {
        let index = try FakeIndex()
        let closed = try LoopbackServer()
        let url = closed.baseURL.appendingPathComponent("simple/")
        closed.stop()
        do {
            _ = try ModelPuller(store: index.store).pull(index.entry(index: url))
            Issue.record("pulled from a closed port")
        } catch let PullError.unreachable(_, reason) {
            #expect(reason == "connection refused")
        }
        #expect(index.files.isEmpty)
    }

    @Test func serverErrorStatusIsReported() throws {
        let index = try FakeIndex()
        let wheel = index.fixtures.wheels[2]
        index.server.route("/files/\(wheel.file)", .init(status: 503, body: Data("busy".utf8)))
        #expect(throws: PullError.httpStatus(url: index.server.baseURL.absoluteString + "files/\(wheel.file)", status: 503)) {
            try ModelPuller(store: index.store).pull(index.entry())
        }
        #expect(index.files.isEmpty)
    }

    @Test func cancelStopsAndCleansUp() throws {
        let index = try FakeIndex()
        let puller = ModelPuller(store: index.store, http: HTTPFetcher(isCancelled: { true }))
        #expect(throws: PullError.cancelled) { try puller.pull(index.entry()) }
        #expect(index.files.isEmpty)
    }

    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root (CI runs as root)"))
    func diskFullInASmallTmpfs() throws {
        let index = try FakeIndex()
        try FileManager.default.createDirectory(atPath: index.folder, withIntermediateDirectories: true)
        try TmpfsMount.mount(at: index.folder, kibibytes: 256)
        defer { TmpfsMount.unmount(index.folder) }
        // the model (508 KiB) does not fit: refused before anything is downloaded
        do {
            _ = try ModelPuller(store: index.store).pull(index.entry())
            Issue.record("pulled into a full disk")
        } catch let PullError.diskFull(directory, needed, available) {
            #expect(directory == index.folder && needed == index.fixtures.size && (available ?? .max) < needed)
        }
        #expect(!index.server.requested.contains { $0.hasPrefix("/files/") })
        #expect(index.files.isEmpty)
        // the disk fills while writing: the same error, and the partial file goes
        let partial = try PartialFile(destination: index.folder + "/big.gguf", neededBytes: 1 << 20)
        let chunk = [UInt8](repeating: 7, count: 64 << 10)
        do {
            for _ in 0..<16 { try chunk.withUnsafeBytes { try partial.write($0) } }
            Issue.record("wrote 1 MiB into a 256 KiB tmpfs")
        } catch let PullError.diskFull(directory, _, _) {
            #expect(directory == index.folder)
            #expect(PullError.diskFull(directory: directory, needed: 1 << 20, available: 0).description.hasPrefix("no space left on device"))
        }
        partial.discard()
        #expect(index.files.isEmpty)
    }
}

/// Progress reports collected from the download thread.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [PullProgress] = []
    func add(_ p: PullProgress) { lock.lock(); items.append(p); lock.unlock() }
    var all: [PullProgress] { lock.lock(); defer { lock.unlock() }; return items }
    var last: PullProgress? { all.last }
}
