import Foundation
import XCTest
@testable import SyncIO

/// Archive layouts torch.save does not produce for small files but readers meet in the wild: ZIP64 records
/// (every entry with ZIP64 extra fields, a ZIP64 end record) and deflated members; plus inert argparse objects.
final class ZipVariantsTests: XCTestCase {
    /// case_dtypes.pth re-zipped by Python's zipfile with ZIP64_LIMIT = 0 (ZIP64 extras, ZIP64 end record and
    /// locator), folder renamed `archive/`, and data.pkl and data/0 deflated.
    static let zip64Base64 = """
UEsDBC0AAAAIAAAAIQDi7SRh//////////8QABQAYXJjaGl2ZS9kYXRhLnBrbAEAEAB0AgAAAAAAAI8BAAAAAAAAVdLbU9NAFAbwpE2JxAoqoMULF1Fp
BGuvUVBfnA7DzDLDEF7ylkm3W5IhNnzJic++FMb/2k1WO/R15zu//XbO/q5wnsSx4BQl08w6T8ciFeNhxMmCZrvQm15V07RJr4sKpyTlYcvPKYozy0/F
KI/isU9imiWp/6trodpseqaMZzIZXAkYasQ6iZOALtWhhZqny0wbSyXNb3KYrEF4cME0VmFVZtxhmdWZwfQ7WH/CosZDQt3FI9Wl42AllFeF//nTIJ7M
9dVS7+BxaDKT8KRQzRmeMn2GNaWtEzZcPPMMGRwV3PMF7kdZt+PMyUZJdrEpySXCi4KsssotXsq++i1eKfY1YcvFtirp9LGzoA6TfBSLublbmj28kaZB
2FOPl+ZbZb5T5nvCvgu1hEia9oJ5lkyv5uKHUuzjQIo1wmEh1mb4WDy8pbRPhLaLjrcmg9P8pz8KiIci8ykN+LUYo6v0UFED9CSlE/qSsm1FDAiOi8+e
VayZB3GQ+sXn+PJvUu3WwZGaPL43+ZXwzcX3vPUXUEsDBC0AAAAAAAAAIQC379yD//////////8XABQAYXJjaGl2ZS8uZm9ybWF0X3ZlcnNpb24BABAA
AQAAAAAAAAABAAAAAAAAADFQSwMELQAAAAAAAAAhAD93cen//////////xoAFABhcmNoaXZlLy5zdG9yYWdlX2FsaWdubWVudAEAEAACAAAAAAAAAAIA
AAAAAAAANjRQSwMELQAAAAAAAAAhAIU94xn//////////xEAFABhcmNoaXZlL2J5dGVvcmRlcgEAEAAGAAAAAAAAAAYAAAAAAAAAbGl0dGxlUEsDBC0A
AAAIAAAAIQBf19nE//////////8OABQAYXJjaGl2ZS9kYXRhLzABABAAYAAAAAAAAABlAAAAAAAAAAFgAJ//ff2BPr4+Mb9ULem+Q5gNQEcEwb7hIRO+
r+QlP8DWFMDmFIS/qc2RP/mIOT+DLoo/vnjdP4VSvL/j7pE/Id8DQNnRZb/1m/G/eQ2sPrg8AD+y8As/22SHvmdQFr+LAF8/UEsDBC0AAAAAAAAAIQDY
Qxjd//////////8OABQAYXJjaGl2ZS9kYXRhLzEBABAADgAAAAAAAAAOAAAAAAAAACO697cJvB481bm3toc9UEsDBC0AAAAAAAAAIQA3HjXJ////////
//8OABQAYXJjaGl2ZS9kYXRhLzIBABAADAAAAAAAAAAMAAAAAAAAABw/u79DPxm/SL+avVBLAwQtAAAAAAAAACEAS9Ok2v//////////DgAUAGFyY2hp
dmUvZGF0YS8zAQAQACAAAAAAAAAAIAAAAAAAAAAAAACggjDtvwAAAABLGd+/AAAAAIfS6T8AAAAA7enfv1BLAwQtAAAAAAAAACEAHE6PbP//////////
DgAUAGFyY2hpdmUvZGF0YS80AQAQACgAAAAAAAAAKAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAgAAAAAAAAADAAAAAAAAAAQAAAAAAAAAUEsDBC0AAAAA
AAAAIQDc7jPV//////////8OABQAYXJjaGl2ZS9kYXRhLzUBABAACAAAAAAAAAAIAAAAAAAAABEAAAAAAAAAUEsDBC0AAAAAAAAAIQAuuhzC////////
//8OABQAYXJjaGl2ZS9kYXRhLzYBABAABAAAAAAAAAAEAAAAAAAAAAAAIEBQSwMELQAAAAAAAAAhANGeZ1X//////////w8AFABhcmNoaXZlL3ZlcnNp
b24BABAAAgAAAAAAAAACAAAAAAAAADMKUEsDBC0AAAAAAAAAIQDmzJxs//////////8eABQAYXJjaGl2ZS8uZGF0YS9zZXJpYWxpemF0aW9uX2lkAQAQ
ACgAAAAAAAAAKAAAAAAAAAAwNjg5NTI5NTY0Nzg1MjA2NTU3ODA0ODcxMzQ0ODY1NDU5MDEzMjIxUEsBAi0DLQAAAAgAAAAhAOLtJGH//////////xAA
FAAAAAAAAAAAAIABAAAAAGFyY2hpdmUvZGF0YS5wa2wBABAAdAIAAAAAAACPAQAAAAAAAFBLAQItAy0AAAAAAAAAIQC379yD//////////8XABwAAAAA
AAAAAACAAf////9hcmNoaXZlLy5mb3JtYXRfdmVyc2lvbgEAGAABAAAAAAAAAAEAAAAAAAAA0QEAAAAAAABQSwECLQMtAAAAAAAAACEAP3dx6f//////
////GgAcAAAAAAAAAAAAgAH/////YXJjaGl2ZS8uc3RvcmFnZV9hbGlnbm1lbnQBABgAAgAAAAAAAAACAAAAAAAAABsCAAAAAAAAUEsBAi0DLQAAAAAA
AAAhAIU94xn//////////xEAHAAAAAAAAAAAAIAB/////2FyY2hpdmUvYnl0ZW9yZGVyAQAYAAYAAAAAAAAABgAAAAAAAABpAgAAAAAAAFBLAQItAy0A
AAAIAAAAIQBf19nE//////////8OABwAAAAAAAAAAACAAf////9hcmNoaXZlL2RhdGEvMAEAGABgAAAAAAAAAGUAAAAAAAAAsgIAAAAAAABQSwECLQMt
AAAAAAAAACEA2EMY3f//////////DgAcAAAAAAAAAAAAgAH/////YXJjaGl2ZS9kYXRhLzEBABgADgAAAAAAAAAOAAAAAAAAAFcDAAAAAAAAUEsBAi0D
LQAAAAAAAAAhADceNcn//////////w4AHAAAAAAAAAAAAIAB/////2FyY2hpdmUvZGF0YS8yAQAYAAwAAAAAAAAADAAAAAAAAAClAwAAAAAAAFBLAQIt
Ay0AAAAAAAAAIQBL06Ta//////////8OABwAAAAAAAAAAACAAf////9hcmNoaXZlL2RhdGEvMwEAGAAgAAAAAAAAACAAAAAAAAAA8QMAAAAAAABQSwEC
LQMtAAAAAAAAACEAHE6PbP//////////DgAcAAAAAAAAAAAAgAH/////YXJjaGl2ZS9kYXRhLzQBABgAKAAAAAAAAAAoAAAAAAAAAFEEAAAAAAAAUEsB
Ai0DLQAAAAAAAAAhANzuM9X//////////w4AHAAAAAAAAAAAAIAB/////2FyY2hpdmUvZGF0YS81AQAYAAgAAAAAAAAACAAAAAAAAAC5BAAAAAAAAFBL
AQItAy0AAAAAAAAAIQAuuhzC//////////8OABwAAAAAAAAAAACAAf////9hcmNoaXZlL2RhdGEvNgEAGAAEAAAAAAAAAAQAAAAAAAAAAQUAAAAAAABQ
SwECLQMtAAAAAAAAACEA0Z5nVf//////////DwAcAAAAAAAAAAAAgAH/////YXJjaGl2ZS92ZXJzaW9uAQAYAAIAAAAAAAAAAgAAAAAAAABFBQAAAAAA
AFBLAQItAy0AAAAAAAAAIQDmzJxs//////////8eABwAAAAAAAAAAACAAf////9hcmNoaXZlLy5kYXRhL3NlcmlhbGl6YXRpb25faWQBABgAKAAAAAAA
AAAoAAAAAAAAAIgFAAAAAAAAUEsGBiwAAAAAAAAALQAtAAAAAAAAAAAADQAAAAAAAAANAAAAAAAAAJsEAAAAAAAAAAYAAAAAAABQSwYHAAAAAJsKAAAA
AAAAAQAAAFBLBQYAAAAADQANAJsEAAAABgAAAAA=
"""

    func testZip64AndDeflatedMembers() throws {
        let bytes = try XCTUnwrap(Data(base64Encoded: ZipVariantsTests.zip64Base64, options: .ignoreUnknownCharacters))
        let path = try temporaryDirectory(self) + "/zip64.pth"
        try bytes.write(to: URL(fileURLWithPath: path))
        let checkpoint = try Checkpoint.load(path: path)
        XCTAssertEqual(checkpoint.format, .pthZip)
        let reference = try Checkpoint.load(path: try SharedFolder.file("fixtures/pth_cases/case_dtypes.pth"))
        XCTAssertEqual(checkpoint.tensors.names, reference.tensors.names)
        for name in reference.tensors.names {
            assertSameTensor(checkpoint.tensors[name], reference.tensors[name]!, name)
        }
        // A corrupted deflated member is caught (inflate error or CRC mismatch), not returned.
        var damaged = [UInt8](bytes)
        let pickleStart = 30 + "archive/data.pkl".utf8.count + 20  // local header, name, ZIP64 extra
        damaged[pickleStart + 40] ^= 0x55
        XCTAssertThrowsError(try Checkpoint.load(ByteBuffer.copying(damaged), path: "damaged"))
    }

    func testArgparseNamespaceIsInertData() throws {
        // {'args': argparse.Namespace(lr=0.5)} as protocol 2 writes it: NEWOBJ then BUILD with the attribute dict.
        var bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x58, 4, 0, 0, 0] + Array("args".utf8)
        bytes += Array("cargparse\nNamespace\n".utf8) + [0x29, 0x81, 0x7D, 0x58, 2, 0, 0, 0] + Array("lr".utf8) + [0x47]
        bytes += withUnsafeBytes(of: (0.5 as Double).bitPattern.bigEndian) { Array($0) }
        bytes += [0x73, 0x62, 0x73, 0x2E]
        let value = try TorchReaders.decodePickle(bytes)
        guard case let .object(type, _)? = value["args"], type == "argparse.Namespace" else { return XCTFail("\(value)") }
        guard case .float(0.5)? = value["args"]?["lr"] else { return XCTFail("\(value)") }
    }
}
