internal import CCurl
import Foundation
import Synchronization

/// One thread that owns a `CURLM` and every easy handle, looping on `curl_multi_poll`.
///
/// Other threads only touch ``inbox`` (under its lock) and call `curl_multi_wakeup`, which libcurl
/// documents as callable from any thread; the wake-up happens under the lock so that it never
/// reaches a multi handle the loop has already cleaned up.
final class CurlLoop: @unchecked Sendable {
    private struct Inbox {
        var starting: [Transfer] = []
        var cancelling: [Transfer] = []
        var stopping = false
        var closed = false
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private let configuration: HTTPClient.Configuration
    private let stopped = DispatchSemaphore(value: 0)

    // Loop thread only.
    private var active: [ObjectIdentifier: Transfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private static let maxIdleHandles = 64

    init(configuration: HTTPClient.Configuration) {
        precondition(CurlGlobal.initialized, "curl_global_init failed")
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        self.configuration = configuration
        if configuration.maxConnectionsPerHost > 0 {
            _ = whago_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maxConnectionsPerHost)
        }
        let thread = Thread { [self] in run() }
        thread.name = "whago-curl"
        thread.start()
    }

    /// Hands a transfer to the loop; fails it at once when the client has shut down.
    func start(_ transfer: Transfer) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.stopping else { return false }
            inbox.starting.append(transfer)
            curl_multi_wakeup(multi)
            return true
        }
        if !accepted {
            transfer.complete(.failure(HTTPClientError(.cancelled, message: "the HTTP client has shut down")))
        }
    }

    /// Asks the loop to abort a transfer; harmless when it has already finished.
    func cancel(_ transfer: Transfer) {
        transfer.cancelRequested.store(true, ordering: .sequentiallyConsistent)
        inbox.withLock { inbox in
            guard !inbox.closed else { return }
            inbox.cancelling.append(transfer)
            curl_multi_wakeup(multi)
        }
    }

    /// Fails every transfer still in flight and stops the thread; waits until it has stopped.
    func shutdown() {
        let first = inbox.withLock { inbox -> Bool in
            guard !inbox.stopping else { return false }
            inbox.stopping = true
            curl_multi_wakeup(multi)
            return true
        }
        if first { stopped.wait() }
    }

    // MARK: The loop (its own thread)

    private func run() {
        while true {
            let (starting, cancelling, stopping) = inbox.withLock { inbox in
                defer { inbox.starting = []; inbox.cancelling = [] }
                return (inbox.starting, inbox.cancelling, inbox.stopping)
            }
            for transfer in starting { add(transfer) }
            for transfer in cancelling where active[ObjectIdentifier(transfer)] != nil {
                finish(transfer, .failure(HTTPClientError(.cancelled, message: "the request was cancelled")))
            }
            if stopping { break }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            collectCompleted()
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for transfer in Array(active.values) {
            finish(transfer, .failure(HTTPClientError(.cancelled, message: "the HTTP client has shut down")))
        }
        inbox.withLock { $0.closed = true }
        for easy in idleHandles { curl_easy_cleanup(easy) }
        idleHandles = []
        curl_multi_cleanup(multi)
        stopped.signal()
    }

    private func add(_ transfer: Transfer) {
        if transfer.cancelRequested.load(ordering: .sequentiallyConsistent) {
            transfer.complete(.failure(HTTPClientError(.cancelled, message: "the request was cancelled")))
            return
        }
        guard let easy = idleHandles.popLast() ?? curl_easy_init() else {
            transfer.complete(.failure(HTTPClientError(.other, message: "curl_easy_init failed: out of memory")))
            return
        }
        if let error = transfer.configure(easy, defaults: configuration) {
            recycle(easy)
            transfer.complete(.failure(error))
            return
        }
        active[ObjectIdentifier(transfer)] = transfer
        curl_multi_add_handle(multi, easy)
    }

    private func collectCompleted() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard whago_curl_msg_is_done(message) != 0, let easy = whago_curl_msg_easy_handle(message) else { continue }
            let result = whago_curl_msg_result(message)
            var pointer: UnsafeMutableRawPointer?
            _ = whago_curl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &pointer)
            guard let pointer else { continue }
            let transfer = Unmanaged<Transfer>.fromOpaque(pointer).takeUnretainedValue()
            if result == CURLE_OK {
                finish(transfer, .success(()))
            } else if transfer.refusedAddress && result == CURLE_COULDNT_CONNECT {
                finish(transfer, .failure(HTTPClientError(.addressNotAllowed, curlCode: Int(result.rawValue),
                                                          message: "the host's addresses are not ones this request may connect to")))
            } else {
                let error = HTTPClientError.from(result, detail: transfer.errorDetail, usingProxy: transfer.request.proxy != nil,
                                                 hiding: transfer.secrets)
                finish(transfer, .failure(error))
            }
        }
    }

    /// Detaches the transfer's handle (back to the pool) and resumes its caller.
    private func finish(_ transfer: Transfer, _ result: Result<Void, HTTPClientError>) {
        guard active.removeValue(forKey: ObjectIdentifier(transfer)) != nil, let easy = transfer.easy else { return }
        curl_multi_remove_handle(multi, easy)
        transfer.easy = nil
        recycle(easy)
        transfer.complete(result)
    }

    private func recycle(_ easy: UnsafeMutableRawPointer) {
        if idleHandles.count < Self.maxIdleHandles {
            curl_easy_reset(easy)
            idleHandles.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }
}
