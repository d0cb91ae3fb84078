// ByteLevelMapping: GPT-2's reversible byte <-> Unicode scalar table, used by byte-level BPE
// vocabularies (tokenizer.ggml.model "gpt2"): every byte of the input is spelled as one printable
// scalar before merging ('Ġ' for a space), and token texts are mapped back to bytes when decoding.
// It must stay bit-for-bit the table of llama.cpp's unicode_byte_to_utf8_map.

enum ByteLevelMapping {
    /// The scalar value that stands for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var printable = [Bool](repeating: false, count: 256)
        for b in 0x21...0x7E { printable[b] = true }
        for b in 0xA1...0xAC { printable[b] = true }
        for b in 0xAE...0xFF { printable[b] = true }
        var next: UInt32 = 256
        for b in 0..<256 {
            if printable[b] {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// UTF-8 spelling of each byte's scalar (1 or 2 bytes).
    static let utf8ForByte: [[UInt8]] = scalarForByte.map { Array(String(Unicode.Scalar($0)!).utf8) }

    /// Inverse of `scalarForByte`: indexed by scalar value (< 324), -1 where no byte maps there.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (b, s) in scalarForByte.enumerated() { table[Int(s)] = Int16(b) }
        return table
    }()

    /// Bytes of a byte-level token text, as llama.cpp's llama_decode_text: a scalar outside the
    /// table becomes "[UNK_BYTE_0x<its utf-8 in hex><the whole token text>]".
    static func decode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            let v = Int(scalar.value)
            if v < byteForScalar.count, byteForScalar[v] >= 0 {
                out.append(UInt8(byteForScalar[v]))
            } else {
                out.append(contentsOf: Array("[UNK_BYTE_0x".utf8))
                for byte in String(scalar).utf8 { out.append(contentsOf: hex2(byte)) }
                out.append(contentsOf: Array(text.utf8))
                out.append(UInt8(ascii: "]"))
            }
        }
        return out
    }

    private static func hex2(_ b: UInt8) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return [digits[Int(b >> 4)], digits[Int(b & 15)]]
    }
}
