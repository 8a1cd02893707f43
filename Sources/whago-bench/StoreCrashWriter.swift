import FileStore
import Foundation
import WhagoCore

/// `whago-bench store-crash-writer DIR`: writes chips to a file store from 16 tasks until killed,
/// printing `ack <chip id>` after each write the store acknowledged. The crash tests SIGKILL it at
/// random points and check that every acknowledged chip survived.
enum StoreCrashWriter {
    static func run(directory: String) async throws {
        let store = try await FileStore(directory: directory, compactEvery: 50)
        let tenant = TenantID("crash")
        if try await store.tenant(tenant) == nil {
            try await store.createTenant(Tenant(id: tenant, name: "crash test"))
        }
        Acks.print("ready")
        let run = UUID().uuidString.prefix(8)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    for index in 0... {
                        let id = ChipID("c-\(run)-\(writer)-\(index)")
                        try await store.createChip(Chip(id: id, tenant: tenant, name: id.rawValue))
                        Acks.print("ack \(id)")
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// Whole lines on stdout, unbuffered: one `write` each, so a line printed is a line the parent sees.
enum Acks {
    static func print(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
