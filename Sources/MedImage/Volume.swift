/// The axis perpendicular to a 2-D slice of a volume.
public enum VolumeAxis: Sendable, Equatable {
    /// Slice at fixed x (i): image rows run along z, columns along y.
    case x
    /// Slice at fixed y (j): image rows run along z, columns along x.
    case y
    /// Slice at fixed z (k): image rows run along y, columns along x (the axial slice of a DICOM series).
    case z
}

/// A 3-D (or 4-D) grid of Float32 voxels with its geometry.
///
/// Layout: `voxels[x + nx * (y + ny * (z + nz * t))]`, x fastest, the order NIfTI, NRRD and ITK store on disk.
/// For a DICOM series x = column, y = row, z = sorted slice index.
///
/// Geometry: `affine` maps a voxel index to RAS+ world millimetres (the NIfTI / nibabel convention):
/// `world = affine * [x, y, z, 1]`. For DICOM and NRRD sources the LPS matrix of the file is converted with
/// `diag(-1, -1, 1, 1)`; `affineLPS` gives it back. `spacing` is the voxel size along x, y, z in mm (the column
/// norms of the affine, or the header's stated pixdim).
public struct Volume: Sendable, Equatable {
    public let nx: Int
    public let ny: Int
    public let nz: Int
    /// Number of volumes (time points, NIfTI dim[4]); 1 for a plain 3-D volume.
    public let nt: Int
    /// `nx * ny * nz * nt` values, see the type's layout note.
    public var voxels: [Float]
    /// Voxel size along x, y, z in mm.
    public var spacing: SIMD3<Double>
    /// Voxel index -> RAS+ world (mm).
    public var affine: Matrix4

    /// Creates a volume; `voxels.count` must be `nx * ny * nz * nt`.
    public init(nx: Int, ny: Int, nz: Int, nt: Int = 1, voxels: [Float], spacing: SIMD3<Double>,
                affine: Matrix4) throws(MedImageError)
    {
        guard nx > 0, ny > 0, nz > 0, nt > 0 else {
            throw MedImageError(file: "<volume>", kind: .invalidArgument, "invalid volume size \(nx)x\(ny)x\(nz)x\(nt)")
        }
        guard voxels.count == nx * ny * nz * nt else {
            throw MedImageError(file: "<volume>", kind: .invalidArgument,
                                "voxel count \(voxels.count) does not match \(nx)x\(ny)x\(nz)x\(nt)")
        }
        self.nx = nx
        self.ny = ny
        self.nz = nz
        self.nt = nt
        self.voxels = voxels
        self.spacing = spacing
        self.affine = affine
    }

    init(unchecked nx: Int, _ ny: Int, _ nz: Int, _ nt: Int, _ voxels: [Float], spacing: SIMD3<Double>,
         affine: Matrix4)
    {
        self.nx = nx
        self.ny = ny
        self.nz = nz
        self.nt = nt
        self.voxels = voxels
        self.spacing = spacing
        self.affine = affine
    }

    /// Voxels per volume (`nx * ny * nz`).
    public var voxelsPerVolume: Int { nx * ny * nz }

    /// The voxel-to-LPS affine (DICOM / ITK world coordinates).
    public var affineLPS: Matrix4 { affine.flippedLR_AP }

    /// World (LPS) position of voxel (0, 0, 0), as ITK's `origin`.
    public var originLPS: SIMD3<Double> { affineLPS.translation }

    /// Unit direction cosines (LPS) of the x, y and z index axes, as the columns of ITK's `direction`.
    public var directionLPS: [SIMD3<Double>] {
        let a = affineLPS
        return (0..<3).map { c in
            let v = a.column3(c)
            let n = (v * v).sum().squareRoot()
            return n > 0 ? v / n : v
        }
    }

    /// Voxel value at index (x, y, z, t).
    @inlinable public subscript(x: Int, y: Int, z: Int, t: Int = 0) -> Float {
        get { voxels[x + nx * (y + ny * (z + nz * t))] }
        set { voxels[x + nx * (y + ny * (z + nz * t))] = newValue }
    }

    /// Volume `t` of a 4-D series as a 3-D volume with the same geometry.
    public func volume(at t: Int) throws(MedImageError) -> Volume {
        guard t >= 0, t < nt else {
            throw MedImageError(file: "<volume>", kind: .invalidArgument, "time index \(t) out of range 0..<\(nt)")
        }
        let n = voxelsPerVolume
        return Volume(unchecked: nx, ny, nz, 1, Array(voxels[(t * n)..<((t + 1) * n)]), spacing: spacing,
                      affine: affine)
    }

    /// Extracts a 2-D slice as a one-channel `Image2D`, without any flip or transpose beyond what `VolumeAxis`
    /// states: for `.z` the image is `nx` wide and `ny` high with pixel (row y, column x) = voxel (x, y, index);
    /// for `.y` it is `nx` wide and `nz` high (row = z); for `.x` it is `ny` wide and `nz` high (row = z).
    /// The pixel spacing is taken from the two in-plane axes.
    public func slice(_ axis: VolumeAxis, index: Int, t: Int = 0) throws(MedImageError) -> Image2D {
        let extent = axis == .x ? nx : (axis == .y ? ny : nz)
        guard index >= 0, index < extent, t >= 0, t < nt else {
            throw MedImageError(file: "<volume>", kind: .invalidArgument,
                                "slice index \(index) (t \(t)) out of range for axis of size \(extent)")
        }
        let base = t * voxelsPerVolume
        let (w, h): (Int, Int)
        let (strideCol, strideRow, offset): (Int, Int, Int)
        let sp: PixelSpacing
        switch axis {
        case .z:
            (w, h) = (nx, ny)
            (strideCol, strideRow, offset) = (1, nx, base + index * nx * ny)
            sp = PixelSpacing(x: spacing.x, y: spacing.y)
        case .y:
            (w, h) = (nx, nz)
            (strideCol, strideRow, offset) = (1, nx * ny, base + index * nx)
            sp = PixelSpacing(x: spacing.x, y: spacing.z)
        case .x:
            (w, h) = (ny, nz)
            (strideCol, strideRow, offset) = (nx, nx * ny, base + index)
            sp = PixelSpacing(x: spacing.y, y: spacing.z)
        }
        var out = [Float](repeating: 0, count: w * h)
        voxels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<h {
                    let s = offset + r * strideRow
                    for c in 0..<w { dst[r * w + c] = src[s + c * strideCol] }
                }
            }
        }
        return Image2D(unchecked: w, h, 1, out, spacing: sp)
    }

    /// A zero-filled (or `fill`-filled) 3-D volume on the same grid and geometry, for label maps.
    public func makeLabelVolume(fill: Float = 0) -> Volume {
        Volume(unchecked: nx, ny, nz, 1, [Float](repeating: fill, count: voxelsPerVolume), spacing: spacing,
               affine: affine)
    }

    /// Writes a one-channel image into slice `index` along `axis` (the inverse of `slice(_:index:t:)`).
    public mutating func setSlice(_ axis: VolumeAxis, index: Int, from image: Image2D, t: Int = 0)
        throws(MedImageError)
    {
        let extent = axis == .x ? nx : (axis == .y ? ny : nz)
        let (w, h) = axis == .z ? (nx, ny) : (axis == .y ? (nx, nz) : (ny, nz))
        guard index >= 0, index < extent, t >= 0, t < nt, image.channels == 1, image.width == w,
              image.height == h
        else {
            throw MedImageError(file: "<volume>", kind: .invalidArgument,
                                "slice \(image.width)x\(image.height)x\(image.channels) does not fit axis slot \(index)")
        }
        let base = t * voxelsPerVolume
        let (strideCol, strideRow, offset): (Int, Int, Int)
        switch axis {
        case .z: (strideCol, strideRow, offset) = (1, nx, base + index * nx * ny)
        case .y: (strideCol, strideRow, offset) = (1, nx * ny, base + index * nx)
        case .x: (strideCol, strideRow, offset) = (nx, nx * ny, base + index)
        }
        image.pixels.withUnsafeBufferPointer { src in
            voxels.withUnsafeMutableBufferPointer { dst in
                for r in 0..<h {
                    let d = offset + r * strideRow
                    for c in 0..<w { dst[d + c * strideCol] = src[r * w + c] }
                }
            }
        }
    }
}
