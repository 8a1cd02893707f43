import Crypto
import CurlHTTP
import Foundation
import LocalProcessRuntime
import Orchestrator
import Testing
import WAHAPlusProvider
import WhagoCore
import WhagoRig
import WhagoTesting

extension OrchestratorScenarios {
    @Suite("A chip's life through the orchestrator", .serialized, .timeLimit(.minutes(10)))
    struct LifecycleTests {
        @Test("pairing through the virtual phone makes the chip WORKING, with its chip.status events in order", arguments: StoreKind.available)
        func pairing(_ kind: StoreKind) async throws {
            try await withRig(kind, ports: 2) { rig in
                let tenant = try await makeTenant(rig, "pairing")
                let chip = try await rig.orchestrator.chips.create(ChipService.Request(name: "sales"), for: tenant)
                #expect(chip.status == .provisioning && chip.worker != nil, "the intent is stored, placed, before anything runs")
                let waiting = try await rig.waitForStatus(chip.id, .scanQRCode)
                try await scan(rig, waiting, as: tenant)
                let working = try await rig.waitForStatus(chip.id, .working)
                #expect(working.phone?.hasSuffix("@c.us") == true)
                #expect(working.metadata[ChipMetadata.pushName]?.hasPrefix("Simulated ") == true, "the profile name is kept")
                #expect(working.pairingSince == nil)
                let statuses = try await statusEvents(rig, chip.id, of: tenant)
                #expect(statuses.last == .working)
                // STARTING may be skipped when the session already waited for its scan when whago looked.
                let scanIndex = try #require(statuses.firstIndex(of: .scanQRCode))
                #expect(statuses.firstIndex(of: .starting).map { $0 < scanIndex } ?? true, "\(statuses)")
                #expect(scanIndex < statuses.firstIndex(of: .working)!, "\(statuses)")
                for (previous, next) in zip(statuses, statuses.dropFirst()) { #expect(previous != next, "no repeated status: \(statuses)") }
                await #expect { try await rig.orchestrator.chips.qrCode(chip.id, of: tenant) } throws: {
                    ($0 as? WhagoError)?.code == .invalidState && ($0 as? WhagoError)?.message.contains("WORKING") == true
                }
            }
        }

        @Test("a worker killed from outside comes back and its paired chip is WORKING again without a scan")
        func workerKilled() async throws {
            try await withRig(.file, ports: 2) { rig in
                let (tenant, chip) = try await pairedChip(rig)
                let worker = try await workerOf(rig, chip)
                let before = try workerPID(rig, worker)
                kill(-before, SIGKILL)
                try await rig.waitForChip(chip.id, "came back WORKING on a new process", timeout: .seconds(60)) { _ in
                    (try? workerPID(rig, worker)).map { $0 != before } ?? false
                }
                let again = try await rig.waitForStatus(chip.id, .working)
                #expect(again.phone == chip.phone)
                let recovered = try #require(try await rig.store.worker(worker.id))
                #expect(recovered.restarts >= 1)
                #expect(recovered.port == worker.port && recovered.name == worker.name)
                #expect(try await statusEvents(rig, chip.id, of: tenant).last == .working)
            }
        }

        @Test("a paired chip survives a restart of whago and of its worker", arguments: StoreKind.available)
        func survivesRestarts(_ kind: StoreKind) async throws {
            try await withRestartableRig(kind, ports: 2) { whago in
                let rig = whago.current
                let (_, chip) = try await pairedChip(rig)
                let worker = try await workerOf(rig, chip)
                await whago.stop()
                let pid = try workerPID(rig, worker)
                #expect(processIsAlive(pid), "a graceful stop of whago leaves its workers running")
                // whago is down; its worker dies too.
                kill(-pid, SIGKILL)
                try await whago.start()
                let back = try await whago.current.waitForChip(chip.id, "WORKING on a re-created worker") { chip in
                    chip?.status == .working
                }
                #expect(back?.phone == chip.phone)
                #expect(try await whago.current.store.workers().map(\.id) == [worker.id], "the same worker, re-created, no second one")
                let handles = try await whago.current.runtime.list(labels: [WorkerLabel.instance: rig.options.instance.rawValue])
                #expect(handles.map(\.name) == [worker.name])
            }
        }

        @Test("drift is repaired: a worker found on another port than its lease is replaced, a STOPPED session is started again")
        func drift() async throws {
            try await withRestartableRig(.file, ports: 3) { whago in
                let rig = whago.current
                let (_, chip) = try await pairedChip(rig)
                let worker = try await workerOf(rig, chip)
                await whago.stop()
                // Someone replaced the worker with one of the same name on another port.
                let handle = try #require(try await rig.runtime.list(labels: [WorkerLabel.worker: worker.id.rawValue]).first)
                try await rig.runtime.remove(handle)
                let stray = rig.options.ports.upperBound
                var labels = handle.labels
                labels[WorkerLabel.port] = "\(stray)"
                _ = try await rig.runtime.launch(WorkerSpec(name: worker.name, image: "", labels: labels, hostPort: stray, containerPort: stray))
                try await waitUntil("the stray worker listens") { acceptsConnections(port: stray) }

                try await whago.start()
                let current = whago.current
                try await waitUntil("the stray worker is gone") { !acceptsConnections(port: stray) }
                let endpoint = current.endpoint(of: worker)
                let sessions = current.sessions
                try await waitUntil("the chip's session is WORKING on its own port again") {
                    (try? await sessions.status(of: chip.id, on: endpoint))?.status == .working
                }
                #expect(try await current.store.chip(chip.id)?.phone == chip.phone, "without a new scan")
                let handles = try await current.runtime.list(labels: [WorkerLabel.instance: rig.options.instance.rawValue])
                #expect(handles.map { $0.labels[WorkerLabel.port] } == ["\(worker.port)"])

                // A session stopped behind whago's back is started again.
                try await current.sessions.stop(chip.id, on: endpoint)
                try await waitUntil("the session runs again") {
                    guard try await current.store.chip(chip.id)?.status == .working else { return false }
                    return try await current.sessions.status(of: chip.id, on: endpoint)?.status == .working
                }
            }
        }

        @Test("delete removes the session, the proxy lease and the record, and frees the idle worker's port after the grace")
        func deleteAndReap() async throws {
            try await withRig(.file, ports: 2, settings: testSettings(idleWorkerGrace: .seconds(1))) { rig in
                let tenant = try await makeTenant(rig, "deleting")
                let chip = try await rig.orchestrator.chips.create(ChipService.Request(name: "short-lived"), for: tenant)
                try await rig.waitForStatus(chip.id, .scanQRCode)
                let worker = try await workerOf(rig, chip)
                #expect(try await rig.sessions.sessions(on: rig.endpoint(of: worker)) == [chip.id])
                try await rig.orchestrator.chips.delete(chip.id, of: tenant)
                #expect(try await rig.store.chip(chip.id) == nil)
                #expect(try await rig.store.proxyLease(of: chip.id) == nil)
                #expect(try await rig.sessions.sessions(on: rig.endpoint(of: worker)).isEmpty)
                let events = try await rig.store.events(of: tenant, after: 0, limit: 100).filter { $0.chip == chip.id }
                #expect(events.last?.event.kind == .deleted)
                #expect(events.contains { $0.event.status == .deleting })
                // Gone: not found, as another tenant's chip would be.
                await #expect { try await rig.orchestrator.chips.delete(chip.id, of: tenant) } throws: { ($0 as? WhagoError)?.code == .notFound }
                try await waitUntil("the idle worker is reaped") { rig.orchestrator.counters[.workersReaped] == 1 }
                #expect(try await rig.store.workers().isEmpty)
                #expect(try await rig.runtime.list(labels: [WorkerLabel.instance: rig.options.instance.rawValue]).isEmpty)
                #expect(try await rig.store.portLeases().isEmpty)
                try await waitUntil("the worker's port is free") { !acceptsConnections(port: worker.port) }
            }
        }

        @Test("an orphan (a labelled worker no record knows) is removed; a chip never scanned expires after the QR budget and can be restarted")
        func orphanAndExpiry() async throws {
            try await withRig(.file, ports: 4, settings: testSettings(qrBudget: .seconds(2))) { rig in
                let ghostPort = rig.options.ports.upperBound
                let ghost = try await rig.runtime.launch(WorkerSpec(
                    name: "whago-ghost", image: "", labels: [WorkerLabel.instance: rig.options.instance.rawValue, WorkerLabel.worker: "wrk_ghost"],
                    hostPort: ghostPort, containerPort: ghostPort))
                try await waitUntil("the orphan is removed") { rig.orchestrator.counters[.orphansRemoved] >= 1 }
                #expect(try await !rig.runtime.list(labels: [WorkerLabel.instance: rig.options.instance.rawValue]).contains { $0.name == ghost.name })

                let tenant = try await makeTenant(rig, "slow scanner")
                let chip = try await rig.orchestrator.chips.create(ChipService.Request(name: "never scanned"), for: tenant)
                let expired = try await rig.waitForStatus(chip.id, .expired)
                let worker = try await workerOf(rig, expired)
                // The session is stopped right after EXPIRED is stored (a crash between the two is the reconciler's).
                try await waitUntil("its session is stopped") {
                    try await rig.sessions.status(of: chip.id, on: rig.endpoint(of: worker))?.status == .stopped
                }
                let reason = try await rig.store.events(of: tenant, after: 0, limit: 100).last { $0.event.status == .expired }?.event.payload["reason"]
                #expect(reason?.stringValue?.contains("QR budget") == true)
                // The tenant restarts it: a new pairing, a new budget.
                let restarted = try await rig.orchestrator.chips.restart(chip.id, of: tenant)
                #expect(restarted.status == .starting)
                #expect(restarted.pairingSince.map { $0 > expired.pairingSince! } == true)
                try await rig.waitForChip(chip.id, "waits for a scan again") { $0?.status == .scanQRCode || $0?.status == .expired }
            }
        }

        @Test("a FAILED session is restarted by the policy (failedRestarts: 1), then left FAILED for the tenant")
        func failedPolicy() async throws {
            try await withRig(.file, ports: 2, settings: testSettings(failedRestarts: 1)) { rig in
                let tenant = try await makeTenant(rig, "flaky")
                let created = try await rig.orchestrator.chips.create(ChipService.Request(name: "flaky"), for: tenant)
                let chip = try await rig.waitForStatus(created.id, .scanQRCode)
                try await simulate(rig, chip, "/_sim/sessions/\(chip.id)/fail", #"{"reason": "engine crashed"}"#)
                try await waitUntil("the policy restarts it") { rig.orchestrator.counters[.failedSessionsRestarted] == 1 }
                try await rig.waitForStatus(chip.id, .scanQRCode)
                try await simulate(rig, chip, "/_sim/sessions/\(chip.id)/fail", #"{"reason": "engine crashed again"}"#)
                try await waitUntil("the policy gives up") { rig.orchestrator.counters[.failedSessionsGivenUp] == 1 }
                #expect(try await rig.store.chip(chip.id)?.status == .failed)
                #expect(rig.orchestrator.counters[.failedSessionsRestarted] == 1)
                let statuses = try await statusEvents(rig, chip.id, of: tenant)
                #expect(statuses.filter { $0 == .failed }.count == 2, "\(statuses)")
                // The tenant may still restart it.
                #expect(try await rig.orchestrator.chips.restart(chip.id, of: tenant).status == .starting)
            }
        }

        @Test("sends are recorded first; a repeated idempotency key sends nothing (with another text it is a conflict); a worker answering 5xx makes the send unknown")
        func sendText() async throws {
            // No pacing gap here: this is about what a send records (pacing is the API walkthrough's).
            let unpaced = LimitsConfig(sending: SendingLimits(minGap: .seconds(0), jitter: .seconds(0)))
            try await withRig(.file, ports: 2, limits: unpaced) { rig in
                let (tenant, chip) = try await pairedChip(rig)
                let text = OutgoingText(chatID: "5511988887777@c.us", text: "hello")
                let sent = try await rig.orchestrator.chips.sendText(text, from: chip.id, of: tenant, idempotencyKey: "order-1")
                #expect(sent.status == .sent)
                #expect(try await rig.store.message(sent.id)?.status == .sent)
                let repeated = try await rig.orchestrator.chips.sendText(text, from: chip.id, of: tenant, idempotencyKey: "order-1")
                #expect(repeated.id == sent.id)
                #expect(try await rig.store.messageCount(of: chip.id, since: .distantPast) == 1)
                for other in [OutgoingText(chatID: text.chatID, text: "another text"), OutgoingText(chatID: "5511911112222@c.us", text: text.text)] {
                    let error = await #expect(throws: WhagoError.self) {
                        try await rig.orchestrator.chips.sendText(other, from: chip.id, of: tenant, idempotencyKey: "order-1")
                    }
                    #expect(error?.code == .idempotencyConflict && error?.message.contains(sent.id.rawValue) == true, "\(String(describing: error))")
                }
                #expect(try await rig.store.messageCount(of: chip.id, since: .distantPast) == 1, "neither was sent")

                let worker = try await workerOf(rig, chip)
                try await setFaults(rig, worker, errorRate: 1)
                let unknown = try await rig.orchestrator.chips.sendText(text, from: chip.id, of: tenant, idempotencyKey: "order-2")
                #expect(unknown.status == .unknown, "the request left and no good answer came: never retried blindly")
                #expect(try await rig.store.message(unknown.id)?.status == .unknown)
                try await setFaults(rig, worker, errorRate: 0)
            }
        }

        @Test("a worker's webhook moves only chips placed on it: another tenant's chip is not touched, and a bad signature is refused")
        func foreignWebhook() async throws {
            try await withRig(.file, ports: 3) { rig in
                let mine = try await makeTenant(rig, "attacker")
                let theirs = try await makeTenant(rig, "victim")
                let attackerChip = try await rig.orchestrator.chips.create(ChipService.Request(name: "a"), for: mine)
                let victimChip = try await rig.orchestrator.chips.create(ChipService.Request(name: "v"), for: theirs)
                try await rig.waitForStatus(attackerChip.id, .scanQRCode)
                let victim = try await rig.waitForStatus(victimChip.id, .scanQRCode)
                let attacker = try await workerOf(rig, attackerChip)
                #expect(attacker.id != victim.worker)
                let body = Array(#"""
                    {"id":"evt_forged","timestamp":\#(Int(Date().timeIntervalSince1970 * 1000)),"event":"session.status","session":"\#(victimChip.id)",
                     "metadata":{"whago.chip":"\#(victimChip.id)"},"payload":{"status":"FAILED"}}
                    """#.utf8)
                let signature = Hex.encode(HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Array(attacker.webhookSecret.revealed.utf8))))
                let receipt = try await rig.orchestrator.webhooks.receive(worker: attacker.id.rawValue, body: body,
                                                                          headers: ["X-Webhook-Hmac": signature, "X-Webhook-Hmac-Algorithm": "sha512"])
                #expect(receipt.dropped == 1 && receipt.applied == 0)
                #expect(rig.orchestrator.counters[.webhookEventsForeign] == 1)
                #expect(try await rig.store.chip(victimChip.id)?.status == .scanQRCode)
                #expect(try await rig.store.chip(victimChip.id)?.version == victim.version)
                await #expect { try await rig.orchestrator.webhooks.receive(worker: victim.worker!.rawValue, body: body, headers: ["X-Webhook-Hmac": signature]) } throws: {
                    ($0 as? WhagoError)?.code == .unauthorized
                }
                await #expect { try await rig.orchestrator.webhooks.receive(worker: "wrk_nobody", body: body, headers: ["X-Webhook-Hmac": signature]) } throws: {
                    ($0 as? WhagoError)?.code == .unauthorized
                }
            }
        }

        @Test("a webhook WAHA retries 4,500 s after its event (the default schedule's last retry comes up to 4,910 s after) is accepted, once; past webhookMaxSkew it is refused")
        func lateRetry() async throws {
            try await withRig(.file, ports: 2) { rig in
                let (tenant, chip) = try await pairedChip(rig)
                let worker = try await workerOf(rig, chip)
                let stamp = Int(Date().timeIntervalSince1970 * 1000)
                let body = Array(#"""
                    {"id":"evt_late","timestamp":\#(stamp),"event":"message","session":"\#(chip.id)","metadata":{"whago.chip":"\#(chip.id)"},
                     "payload":{"id":"false_5511999990000@c.us_LATE","from":"5511999990000@c.us","body":"sent while whago was away"}}
                    """#.utf8)
                let signature = Hex.encode(HMAC<SHA512>.authenticationCode(for: body, using: SymmetricKey(data: Array(worker.webhookSecret.revealed.utf8))))
                let headers = ["X-Webhook-Hmac": signature, "X-Webhook-Hmac-Algorithm": "sha512"]
                // The clock whago checks with is the test's: 4,500 s after the event.
                let later = Date(timeIntervalSince1970: Double(stamp) / 1000 + 4_500)
                let first = try await rig.orchestrator.webhooks.receive(worker: worker.id.rawValue, body: body, headers: headers, now: later)
                #expect(first.applied == 1)
                let again = try await rig.orchestrator.webhooks.receive(worker: worker.id.rawValue, body: body, headers: headers, now: later.addingTimeInterval(1))
                #expect(again.duplicates == 1 && again.applied == 0, "a repeat changes nothing")
                let messages = try await rig.store.events(of: tenant, after: 0, limit: 100).filter { $0.event.kind == .message }
                #expect(messages.count == 1, "the message reached the tenant once")
                await #expect {
                    try await rig.orchestrator.webhooks.receive(worker: worker.id.rawValue, body: body, headers: headers,
                                                                now: Date(timeIntervalSince1970: Double(stamp) / 1000 + 7_300))
                } throws: { ($0 as? WhagoError)?.code == .unauthorized }
            }
        }
    }
}

/// A tenant with one chip, paired by the virtual phone.
func pairedChip(_ rig: OrchestratorRig) async throws -> (TenantID, Chip) {
    let tenant = try await makeTenant(rig, "paired")
    let created = try await rig.orchestrator.chips.create(ChipService.Request(name: "main"), for: tenant)
    let waiting = try await rig.waitForStatus(created.id, .scanQRCode)
    try await scan(rig, waiting, as: tenant)
    return (tenant, try await rig.waitForStatus(created.id, .working))
}

/// The pid of a `local` worker's process, from the runtime's pid file.
func workerPID(_ rig: OrchestratorRig, _ worker: Worker) throws -> pid_t {
    let data = try Data(contentsOf: URL(fileURLWithPath: "\(rig.options.directory)/workers/\(worker.name)/pid"))
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return pid_t(try #require(object?["pid"] as? Int))
}

/// The simulator's fault injection on a worker.
func setFaults(_ rig: OrchestratorRig, _ worker: Worker, errorRate: Double) async throws {
    let endpoint = rig.endpoint(of: worker)
    let request = HTTPClientRequest(.post, endpoint.baseURL.absoluteString + "/_sim/faults",
                                    headers: [("Content-Type", "application/json"), ("X-Api-Key", endpoint.apiKey.revealed)],
                                    body: Array(#"{"errorRate": \#(errorRate)}"#.utf8))
    #expect(try await HTTPClient.shared.execute(request).status == 200)
}

/// Waits until `condition` holds (60 s at most).
func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw WhagoError(.timedOut, "never: \(what)") }
        try await Task.sleep(for: .milliseconds(25))
    }
}
