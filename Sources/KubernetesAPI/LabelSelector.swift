import Foundation
import MrunSupport

extension Kubernetes {
    /// A label selector in the query-string form (`a=b,c in (x,y),!d`): rendered for
    /// `labelSelector=` by the client, and parsed and evaluated by a fake server the way
    /// kube-apiserver does. Requirements are ANDed; an empty selector selects everything.
    public struct LabelSelector: Sendable, Equatable, CustomStringConvertible {
        public var requirements: [Requirement]

        public init(requirements: [Requirement] = []) {
            self.requirements = requirements
        }

        /// Equality on every label, in key order so the rendered text is stable.
        public init(_ labels: [String: String]) {
            requirements = labels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
        }

        public enum Operator: String, Sendable, Equatable {
            case equals = "="
            case notEquals = "!="
            case `in` = "in"
            case notIn = "notin"
            case exists = ""
            case doesNotExist = "!"
            /// Integer comparisons; the label must exist and be an integer.
            case greaterThan = ">"
            case lessThan = "<"
        }

        public struct Requirement: Sendable, Equatable, CustomStringConvertible {
            public var key: String
            public var `operator`: Operator
            /// One value for the comparisons, a set for `in`/`notin`, none for (does not) exist.
            public var values: [String]

            public init(key: String, operator: Operator, values: [String]) {
                self.key = key
                self.operator = `operator`
                self.values = values
            }

            public static func equals(_ key: String, _ value: String) -> Requirement {
                Requirement(key: key, operator: .equals, values: [value])
            }

            public static func notEquals(_ key: String, _ value: String) -> Requirement {
                Requirement(key: key, operator: .notEquals, values: [value])
            }

            public static func `in`(_ key: String, _ values: [String]) -> Requirement {
                Requirement(key: key, operator: .in, values: values)
            }

            public static func notIn(_ key: String, _ values: [String]) -> Requirement {
                Requirement(key: key, operator: .notIn, values: values)
            }

            public static func exists(_ key: String) -> Requirement {
                Requirement(key: key, operator: .exists, values: [])
            }

            public static func doesNotExist(_ key: String) -> Requirement {
                Requirement(key: key, operator: .doesNotExist, values: [])
            }

            public var description: String {
                switch self.operator {
                case .exists: return key
                case .doesNotExist: return "!" + key
                case .in, .notIn: return "\(key) \(self.operator.rawValue) (\(values.joined(separator: ",")))"
                case .equals, .notEquals, .greaterThan, .lessThan:
                    return key + self.operator.rawValue + (values.first ?? "")
                }
            }

            /// kube-apiserver's semantics: the negative forms also select objects without the key.
            public func matches(_ labels: [String: String]) -> Bool {
                let value = labels[key]
                switch self.operator {
                case .equals, .in:
                    return value.map(values.contains) ?? false
                case .notEquals, .notIn:
                    return value.map { !values.contains($0) } ?? true
                case .exists:
                    return value != nil
                case .doesNotExist:
                    return value == nil
                case .greaterThan, .lessThan:
                    guard let actual = value.flatMap({ Int64($0) }), let bound = values.first.flatMap({ Int64($0) })
                    else { return false }
                    return self.operator == .greaterThan ? actual > bound : actual < bound
                }
            }
        }

        /// The text for `?labelSelector=`; percent-encoding is the URL builder's job.
        public var description: String {
            requirements.map(\.description).joined(separator: ",")
        }

        public var isEmpty: Bool { requirements.isEmpty }

        public var queryItem: URLQueryItem {
            URLQueryItem(name: "labelSelector", value: description)
        }

        public func matches(_ labels: [String: String]?) -> Bool {
            let labels = labels ?? [:]
            return requirements.allSatisfy { $0.matches(labels) }
        }

        public func matches(_ object: some KubernetesObject) -> Bool {
            matches(object.metadata.labels)
        }
    }
}

extension Kubernetes.LabelSelector: ExpressibleByArrayLiteral {
    public init(arrayLiteral requirements: Requirement...) {
        self.init(requirements: requirements)
    }
}
