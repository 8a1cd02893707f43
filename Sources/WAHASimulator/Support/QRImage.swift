internal import CPNG
internal import CQRencode
import Foundation

/// A real, scannable QR code as PNG, through libqrencode and libpng.
enum QRImage {
    /// PNG bytes of the QR code of `text`: 8 pixels per module, a 4-module quiet zone, black on white.
    static func png(for text: String, scale: Int = 8) -> [UInt8]? {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { return nil }
        defer { QRcode_free(code) }
        let modules = Int(code.pointee.width)
        let margin = 4
        let side = (modules + 2 * margin) * scale
        var pixels = [UInt8](repeating: 255, count: side * side)
        for y in 0..<modules {
            for x in 0..<modules where code.pointee.data[y * modules + x] & 1 == 1 {
                for dy in 0..<scale {
                    let row = ((y + margin) * scale + dy) * side
                    for dx in 0..<scale { pixels[row + (x + margin) * scale + dx] = 0 }
                }
            }
        }
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        guard whago_png_encode_gray(pixels, UInt32(side), UInt32(side), &output, &size) == 0, let output else { return nil }
        defer { free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }
}
