/// DICOM transfer syntaxes: how the dataset and the pixel data are encoded.
public struct DICOMTransferSyntax: Sendable, Equatable, Hashable {
    public let uid: String

    public init(uid: String) { self.uid = uid }

    public static let implicitVRLittleEndian = DICOMTransferSyntax(uid: "1.2.840.10008.1.2")
    public static let explicitVRLittleEndian = DICOMTransferSyntax(uid: "1.2.840.10008.1.2.1")
    public static let deflatedExplicitVRLittleEndian = DICOMTransferSyntax(uid: "1.2.840.10008.1.2.1.99")
    public static let explicitVRBigEndian = DICOMTransferSyntax(uid: "1.2.840.10008.1.2.2")
    public static let rleLossless = DICOMTransferSyntax(uid: "1.2.840.10008.1.2.5")
    public static let jpegBaseline = DICOMTransferSyntax(uid: "1.2.840.10008.1.2.4.50")

    /// Dataset encoded with implicit VRs.
    public var isImplicitVR: Bool { uid == Self.implicitVRLittleEndian.uid }
    /// Dataset (and native pixel data) big-endian.
    public var isBigEndian: Bool { uid == Self.explicitVRBigEndian.uid }
    /// Pixel data stored as uncompressed native samples.
    public var isNative: Bool {
        [Self.implicitVRLittleEndian, .explicitVRLittleEndian, .deflatedExplicitVRLittleEndian, .explicitVRBigEndian]
            .contains(self)
    }

    /// Standard name (PS3.6 Annex A), or "unknown transfer syntax".
    public var name: String {
        switch uid {
        case "1.2.840.10008.1.2": "Implicit VR Little Endian"
        case "1.2.840.10008.1.2.1": "Explicit VR Little Endian"
        case "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian"
        case "1.2.840.10008.1.2.2": "Explicit VR Big Endian"
        case "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)"
        case "1.2.840.10008.1.2.4.51": "JPEG Extended (Process 2 & 4)"
        case "1.2.840.10008.1.2.4.57": "JPEG Lossless, Non-Hierarchical (Process 14)"
        case "1.2.840.10008.1.2.4.70":
            "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])"
        case "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless Image Compression"
        case "1.2.840.10008.1.2.4.81": "JPEG-LS Lossy (Near-Lossless) Image Compression"
        case "1.2.840.10008.1.2.4.90": "JPEG 2000 Image Compression (Lossless Only)"
        case "1.2.840.10008.1.2.4.91": "JPEG 2000 Image Compression"
        case "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000 Image Compression (Lossless Only)"
        case "1.2.840.10008.1.2.4.202": "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)"
        case "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000 Image Compression"
        case "1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.101": "MPEG2 video"
        case "1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.4.103", "1.2.840.10008.1.2.4.104",
            "1.2.840.10008.1.2.4.105", "1.2.840.10008.1.2.4.106": "MPEG-4 AVC/H.264 video"
        case "1.2.840.10008.1.2.4.107", "1.2.840.10008.1.2.4.108": "HEVC/H.265 video"
        case "1.2.840.10008.1.2.5": "RLE Lossless"
        default: "unknown transfer syntax"
        }
    }
}
