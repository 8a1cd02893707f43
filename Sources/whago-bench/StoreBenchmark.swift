import FileStore
import Foundation
import Logging
import PostgresStore
import WhagoCore

/// `whago-bench store [--operations N] [--postgres URL]`: chip upserts/s, port lease+release/s,
/// batches/s (a chip, its sticky proxy lease and its first event, one change) and outbox
/// claim+ack/s, one task and 16 at once, for the `file` store (in a temporary directory, its
/// secrets sealed) and, when a URL is given, the `postgres` store (in a fresh schema). Every write
/// is durable before it counts.
enum StoreBenchmark {
    static func run(operations: Int, postgresURL: String?) async throws {
        var rows: [(String, [Double])] = []
        let directory = NSTemporaryDirectory() + "whago-bench-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sealer = SecretSealer(masterKey: SecretSealer.generateMasterKey())
        let file = try await FileStore(directory: directory, sealer: sealer)
        rows.append(("file", try await measure(file, operations: operations)))
        await file.shutdown()
        if let postgresURL {
            var logger = Logger(label: "bench")
            logger.logLevel = .critical
            let schema = "bench_" + UUID().uuidString.prefix(8).lowercased()
            let postgres = try await PostgresStore(url: postgresURL, schema: schema, poolSize: 20, sealer: sealer, logger: logger)
            rows.append(("postgres", try await measure(postgres, operations: operations)))
            await postgres.shutdown()
        }
        let header = ["store", "upserts/s x1", "upserts/s x16", "leases/s x1", "leases/s x16", "batches/s x1", "batches/s x16",
                      "claim+ack/s x1", "claim+ack/s x16"]
        print(header.map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
        for (name, figures) in rows {
            print(([name] + figures.map { String(format: "%.0f", $0) }).map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
        }
    }

    /// Upserts/s and lease+release/s with 1 and 16 tasks.
    private static func measure(_ store: any Store, operations: Int) async throws -> [Double] {
        try await store.apply(.createTenant(Tenant(id: "bench", name: "bench")))
        var figures: [Double] = []
        for tasks in [1, 16] {
            figures.append(try await rate(operations: operations, tasks: tasks) { task, index in
                let id = ChipID("chip-\(tasks)-\(task)-\(index % 50)")
                var chip = Chip(id: id, tenant: "bench", name: id.rawValue, status: index % 2 == 0 ? .working : .scanQRCode)
                if index < 50 { try await store.apply(.createChip(chip)) } else {
                    chip.statusChangedAt = Date()
                    // Each chip is written by one task only: the version it last wrote.
                    chip.version = index / 50
                    try await store.apply(.updateChip(chip))
                }
            })
        }
        for tasks in [1, 16] {
            let range = try PortRange(20000, 29999)
            figures.append(try await rate(operations: operations, tasks: tasks) { task, index in
                let worker = Worker(id: WorkerID("w-\(tasks)-\(task)-\(index)"), tenant: "bench", name: "w", host: "bench", port: range.lowerBound,
                                    apiKey: Secret("k"), webhookSecret: Secret("s"))
                try await store.apply(.leasePort(worker, ports: range))
                try await store.apply(.removeWorker(worker.id))
            })
        }
        // A chip as the orchestrator creates one: the chip under its tenant's quota, a sticky
        // port, the first event, in one change. Each writer is another tenant (one tenant's own
        // chip creations wait for each other: its quota is checked under a lock).
        for tenant in 0..<16 { try await store.apply(.createTenant(Tenant(id: TenantID("bench-\(tenant)"), name: "bench"))) }
        for tasks in [1, 16] {
            figures.append(try await rate(operations: operations, tasks: tasks) { task, index in
                let id = ChipID("batch-\(tasks)-\(task)-\(index)")
                let event = ChipEvent(id: EventID("e-\(id)"), chip: id, kind: .statusChanged, status: .provisioning)
                try await store.apply(StoreBatch([
                    .createChip(Chip(id: id, tenant: TenantID("bench-\(task)"), name: id.rawValue), chipLimit: 1_000_000),
                    .insertProxyLease(ProxyLease(chip: id, provider: "bench-\(tasks)-\(task)", endpoint: nil, stickyPort: index % 65_535 + 1)),
                    .enqueue([OutboxEntry(event: event, tenant: TenantID("bench-\(task)"))]),
                ]))
            })
        }
        // Delivery: claim a due entry, acknowledge it. The batches above left 2 x operations
        // entries, one per chip, so per-chip order never holds a claimer back.
        for tasks in [1, 16] {
            figures.append(try await rate(operations: operations, tasks: tasks) { task, _ in
                let claimed = try await store.claimDue(limit: 1, owner: "bench-\(task)", for: .seconds(60), now: Date())
                for entry in claimed { try await store.apply(.acknowledge(entry.id, at: Date())) }
            })
        }
        return figures
    }

    private static func rate(operations: Int, tasks: Int, _ body: @escaping @Sendable (Int, Int) async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for index in 0..<(operations / tasks) { try await body(task, index) }
                }
            }
            try await group.waitForAll()
        }
        return Double(operations / tasks * tasks) / (ContinuousClock.now - start).seconds
    }
}
