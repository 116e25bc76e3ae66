// swift-tools-version:6.0
// SyncSAM: medical promptable segmentation (SAM / SyncSAM / LiteMedSAM) in Swift, CPU first.
import PackageDescription

let package = Package(
    name: "SyncSAM",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SyncTensor", targets: ["SyncTensor"]),
        .library(name: "SyncNN", targets: ["SyncNN"]),
        .library(name: "SyncIO", targets: ["SyncIO"]),
        .library(name: "MedImage", targets: ["MedImage"]),
        .library(name: "SyncSAM", targets: ["SyncSAM"]),
        .library(name: "SyncTrain", targets: ["SyncTrain"]),
        .executable(name: "syncsam", targets: ["syncsam"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries (Debian packages installed by scripts/setup-system.sh).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),

        // Tensor engine: storage, CPU kernels, BLAS, autograd.
        .target(name: "SyncTensor", dependencies: [
            .target(name: "CBLAS", condition: .when(platforms: [.linux])),
        ]),
        // Checkpoint and array file formats (PyTorch .pth, safetensors, .npy/.npz); no tensor dependency.
        .target(name: "SyncIO", dependencies: ["CZlib"]),
        // Layers, losses, optimisers, parameter naming and loading by checkpoint name.
        .target(name: "SyncNN", dependencies: ["SyncTensor", "SyncIO"]),
        // Medical images and volumes (PNG, JPEG, NIfTI, DICOM, NRRD), windowing, resizing; no ML.
        .target(name: "CMedCodecs", dependencies: ["CPNG", "CJPEG"]),
        .target(name: "MedImage", dependencies: ["CZlib", "CPNG", "CJPEG", "CMedCodecs"]),
        // The models (SAM, ResNet, SyncSAM, TinyViT/LiteMedSAM) and the predictor.
        .target(name: "SyncSAM", dependencies: ["SyncTensor", "SyncNN", "SyncIO", "MedImage"]),
        // Datasets, interactive prompt simulation, training loop, evaluation metrics.
        .target(name: "SyncTrain", dependencies: ["SyncSAM"]),
        .executableTarget(name: "syncsam", dependencies: [
            "SyncTensor", "SyncNN", "SyncIO", "MedImage", "SyncSAM", "SyncTrain",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Test data locations shared by every test target.
        .target(name: "SyncTestSupport", path: "Tests/SyncTestSupport"),
        .testTarget(name: "SyncTensorTests", dependencies: ["SyncTensor"]),
        .testTarget(name: "SyncIOTests", dependencies: ["SyncTestSupport", "SyncIO"]),
        .testTarget(name: "SyncNNTests", dependencies: ["SyncTestSupport", "SyncNN"]),
        .testTarget(name: "MedImageTests", dependencies: ["SyncTestSupport", "MedImage"]),
        .testTarget(name: "SyncSAMTests", dependencies: ["SyncTestSupport", "SyncSAM"]),
        .testTarget(name: "SyncTrainTests", dependencies: ["SyncTestSupport", "SyncTrain"]),
    ],
    swiftLanguageModes: [.v6]
)
