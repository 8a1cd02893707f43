import DataImpulseProxy
import DockerRuntime
import FileStore
import LocalProcessRuntime
import NoProxy
import PostgresStore
import StaticProxy
import SwarmRuntime
import WAHAPlusProvider
import WhagoCore

extension DriverRegistry {
    /// Every driver compiled into this executable: the one list of them. Adding a driver is one
    /// target, one import and one line here.
    static let compiledIn = DriverRegistry(
        runtimes: [LocalProcessRuntime.driver, DockerRuntime.driver, SwarmRuntime.driver],
        sessions: [WAHAPlusProvider.driver],
        proxies: [NoProxy.driver, DataImpulseProxy.driver, StaticProxy.driver],
        stores: [FileStore.driver, PostgresStore.driver]
    )
}
