import Foundation

/// A DICOM series assembled into a volume.
public struct DICOMSeries: Sendable {
    /// Modality values (`stored * slope + intercept` per slice, HU for CT), x = column, y = row,
    /// z = sorted slice; `affine` is RAS+, `volume.affineLPS` the DICOM patient-coordinate matrix.
    public var volume: Volume
    /// Files in volume order (slice 0 first).
    public var files: [URL]
    /// Headers and stored values of the slices in volume order.
    public var slices: [DICOMImage]
    /// Gaps between consecutive slice positions along the normal (mm), one fewer than slices.
    public var sliceGaps: [Double]
}

extension DICOM {
    /// Reads every DICOM file in `folder` (non-recursive; hidden files and files without DICOM structure are
    /// skipped) and stacks one series into a volume.
    ///
    /// Order: ascending `dot(ImagePositionPatient, n)` with `n = cross(row direction, column direction)` from
    /// ImageOrientationPatient (ties and missing positions fall back to InstanceNumber). Slice spacing comes from
    /// the sorted positions (not SliceThickness, which may differ). Geometry (LPS): column i steps
    /// `rowDirection * columnSpacing`, row j steps `columnDirection * rowSpacing`, slice k steps
    /// `(lastIPP - firstIPP) / (n - 1)`, origin = first IPP; stored as RAS+ in `volume.affine`.
    /// - Parameter seriesInstanceUID: which series to load when the folder holds several (nil: the only one).
    public static func readSeries(folder: URL, seriesInstanceUID: String? = nil) throws(MedImageError) -> DICOMSeries {
        let folderName = MedImageError.label(for: folder)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw MedImageError(file: folderName, kind: .io, "cannot list folder (\(error.localizedDescription))")
        }
        var images: [(URL, DICOMImage)] = []
        for n in names {
            let url = folder.appendingPathComponent(n)
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue { continue }
            do {
                images.append((url, try read(url)))
            } catch {
                if error.kind == .corrupt && error.message.hasPrefix("not a DICOM file") { continue }
                if error.kind == .noPixelData { continue }  // DICOMDIR and other non-image objects
                throw error
            }
        }
        let uids = Set(images.map { $0.1.seriesInstanceUID ?? "" })
        if let wanted = seriesInstanceUID {
            images = images.filter { ($0.1.seriesInstanceUID ?? "") == wanted }
        } else if uids.count > 1 {
            throw MedImageError(file: folderName, kind: .invalidArgument,
                                "folder holds \(uids.count) series (\(uids.sorted().joined(separator: ", "))); choose one with seriesInstanceUID")
        }
        return try stack(images, name: folderName)
    }

    /// Sorts and stacks already-decoded slices of one series (see `readSeries`).
    public static func stack(_ items: [(URL, DICOMImage)], name: String) throws(MedImageError) -> DICOMSeries {
        guard let first = items.first?.1 else {
            throw MedImageError(file: name, kind: .invalidArgument, "no DICOM images found")
        }
        for (url, im) in items where im.rows != first.rows || im.columns != first.columns || im.samplesPerPixel != 1
            || im.frames != 1
        {
            throw MedImageError(file: MedImageError.label(for: url), kind: .unsupported,
                                "slice is \(im.columns)x\(im.rows)x\(im.samplesPerPixel) (\(im.frames) frames); a series needs single-frame grey slices of \(first.columns)x\(first.rows)")
        }
        let iop = first.imageOrientationPatient ?? [1, 0, 0, 0, 1, 0]
        let rowDir = SIMD3(iop[0], iop[1], iop[2])
        let colDir = SIMD3(iop[3], iop[4], iop[5])
        let normal = SIMD3(rowDir.y * colDir.z - rowDir.z * colDir.y, rowDir.z * colDir.x - rowDir.x * colDir.z,
                           rowDir.x * colDir.y - rowDir.y * colDir.x)
        let allHavePositions = items.allSatisfy { $0.1.imagePositionPatient != nil }
        func key(_ im: DICOMImage) -> Double { allHavePositions ? (im.imagePositionPatient! * normal).sum() : 0 }
        let sorted = items.enumerated().sorted { a, b in
            let ka = key(a.element.1), kb = key(b.element.1)
            if ka != kb { return ka < kb }
            let ia = a.element.1.instanceNumber ?? a.offset, ib = b.element.1.instanceNumber ?? b.offset
            return ia != ib ? ia < ib : a.offset < b.offset
        }.map(\.element)
        let positions = sorted.map { key($0.1) }
        let gaps = zip(positions.dropFirst(), positions).map { $0 - $1 }
        let n = sorted.count
        var sliceStep: SIMD3<Double>
        if allHavePositions && n > 1 && positions[n - 1] > positions[0] {
            sliceStep = (sorted[n - 1].1.imagePositionPatient! - sorted[0].1.imagePositionPatient!) / Double(n - 1)
        } else {
            let spacing = first.spacingBetweenSlices ?? first.sliceThickness ?? 1
            sliceStep = normal * (spacing > 0 ? spacing : 1)
        }
        let ps = first.pixelSpacing ?? PixelSpacing(x: 1, y: 1)
        let origin = sorted[0].1.imagePositionPatient ?? SIMD3(0, 0, 0)
        var lps = Matrix4.identity
        let columnStep = rowDir * ps.x
        let rowStep = colDir * ps.y
        for r in 0..<3 {
            lps[r, 0] = columnStep[r]
            lps[r, 1] = rowStep[r]
            lps[r, 2] = sliceStep[r]
            lps[r, 3] = origin[r]
        }
        let perSlice = first.rows * first.columns
        var voxels = [Float](repeating: 0, count: perSlice * n)
        for (k, item) in sorted.enumerated() {
            let slice = try item.1.frame(0, rescaled: true)
            slice.pixels.withUnsafeBufferPointer { src in
                voxels.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<perSlice { dst[k * perSlice + i] = src[i] }
                }
            }
        }
        let sliceSpacing = (sliceStep * sliceStep).sum().squareRoot()
        let volume = Volume(unchecked: first.columns, first.rows, n, 1, voxels,
                            spacing: SIMD3(ps.x, ps.y, sliceSpacing), affine: lps.flippedLR_AP)
        return DICOMSeries(volume: volume, files: sorted.map(\.0), slices: sorted.map(\.1), sliceGaps: gaps)
    }
}
