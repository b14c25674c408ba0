import MrunSupport

extension Kubernetes {
    /// Lets a pod run on nodes with a matching taint (`key=value:effect`): `Equal` matches the key
    /// and value, `Exists` any value of the key (and, with no key, every taint). An empty effect
    /// matches all three effects.
    public struct Toleration: Codable, Sendable, Hashable {
        public var key: String?
        /// `Equal` (the server's default) or `Exists`.
        public var `operator`: String?
        /// Empty for `Exists`.
        public var value: String?
        /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`; nil for all of them.
        public var effect: String?
        /// How long the pod stays on a node after a `NoExecute` taint appears there (only with that
        /// effect); nil for as long as the taint is there.
        public var tolerationSeconds: Int?

        public init(
            key: String? = nil, operator: String? = nil, value: String? = nil, effect: String? = nil,
            tolerationSeconds: Int? = nil
        ) {
            self.key = key
            self.operator = `operator`
            self.value = value
            self.effect = effect
            self.tolerationSeconds = tolerationSeconds
        }

        public enum Operator {
            public static let equal = "Equal"
            public static let exists = "Exists"
            public static let all = [equal, exists]
        }

        public enum Effect {
            public static let noSchedule = "NoSchedule"
            public static let preferNoSchedule = "PreferNoSchedule"
            public static let noExecute = "NoExecute"
            public static let all = [noSchedule, preferNoSchedule, noExecute]
        }
    }
}
