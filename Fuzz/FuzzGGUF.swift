// libFuzzer target: the GGUF reader on arbitrary bytes — it must throw a GGUFError or succeed,
// never crash, hang or allocate without bound; a file it accepts must also build a tokenizer and a
// model configuration without crashing.

import Foundation
@testable import SiroccoEngine

private let scratch = "/dev/shm/sirocco-fuzz-gguf-\(getpid()).gguf"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    guard let file = try? GGUFFile(path: scratch) else { return 0 }
    _ = file.fileTypeName
    for key in file.metadataKeys { _ = file.metadata[key]?.summary }
    _ = try? Tokenizer(gguf: file)
    _ = try? ModelConfig(gguf: file)
    return 0
}
