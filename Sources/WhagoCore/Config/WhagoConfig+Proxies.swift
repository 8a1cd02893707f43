extension WhagoConfig {
    /// A proxy driver whose proxies the session software cannot use at all: what is wrong and
    /// where to fix it (`proxy.<driver>.<setting>`), or nil. Every chip would otherwise fail to
    /// reach WhatsApp through its proxy (or be refused before its worker is asked), so whago
    /// refuses such a configuration at `check-config`, `doctor` and startup.
    public var proxyMismatch: (message: String, path: [String])? {
        guard let usable = sessions.proxySchemes, let offered = proxy.proxySchemes else { return nil }
        let common = usable.schemes.filter(offered.schemes.contains)
        guard common.isEmpty else { return nil }
        let names = { (schemes: [ProxyEndpoint.Scheme]) in schemes.map(\.rawValue).joined(separator: ", ") }
        let why = usable.reason.map { " (\($0))" } ?? ""
        return ("proxy.\(proxy.driver.name).\(offered.setting): its proxies are \(names(offered.schemes)), and sessions driver "
                + "'\(sessions.driver.name)' can use only \(names(usable.schemes))\(why): give it \(names(usable.schemes)) proxies",
                ["proxy", proxy.driver.name, offered.setting])
    }
}
