import FileStore
import Foundation
import Logging
import PostgresStore
import WhagoCore

/// `whago-bench store-crash-writer DIR` (a file store) or `store-crash-writer --postgres URL SCHEMA`:
/// writes from 16 tasks until killed, each write one batch — a chip, its sticky proxy lease and its
/// first event — printing `ack <chip id>` after each batch the store acknowledged, and `fail <chip
/// id>` for a batch the store refused (the database server died under it: that writer then stops).
/// The crash tests SIGKILL it (and the database server) at random points and check that every
/// acknowledged batch is there whole, and that no batch is there in part.
enum StoreCrashWriter {
    static func run(_ arguments: [String]) async throws {
        let store: any Store
        if arguments.first == "--postgres", arguments.count == 3 {
            var logger = Logger(label: "crash-writer")
            logger.logLevel = .critical
            store = try await PostgresStore(url: arguments[1], schema: arguments[2], connectTimeout: .seconds(5), logger: logger)
        } else if let directory = arguments.first {
            store = try await FileStore(directory: directory, compactEvery: 50)
        } else {
            throw BenchError("usage: whago-bench store-crash-writer DIR | --postgres URL SCHEMA")
        }
        let tenant = TenantID("crash")
        if try await store.tenant(tenant) == nil {
            try await store.apply(.createTenant(Tenant(id: tenant, name: "crash test")))
        }
        Acks.print("ready")
        let run = UUID().uuidString.prefix(8)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    for index in 0... {
                        let id = ChipID("c-\(run)-\(writer)-\(index)")
                        // A sticky port per chip: each writer of each run is a provider of its own.
                        let provider = "crash-\(run)-\(writer)"
                        let event = ChipEvent(id: EventID("e-\(id)"), chip: id, kind: .statusChanged, status: .provisioning)
                        do {
                            try await store.apply(StoreBatch([
                                .createChip(Chip(id: id, tenant: tenant, name: id.rawValue), chipLimit: nil),
                                .insertProxyLease(ProxyLease(chip: id, provider: provider, endpoint: nil, stickyPort: index % 65_535 + 1)),
                                .enqueue([OutboxEntry(event: event, tenant: tenant)]),
                            ]))
                        } catch {
                            // Whole or not there at all: the test checks which.
                            Acks.print("fail \(id)")
                            return
                        }
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
