import MrunSupport

/// A value of one context key, typed by the key's shape.
public enum ContextValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case list([String])
    case map([String: String])
    case resources(Resources)
}

extension Context {
    /// Stores `value` under `key`; the caller has checked that its shape fits.
    public mutating func apply(_ key: ContextKey, _ value: ContextValue) {
        switch (key, value) {
        case (.name, .string(let text)): name = text
        case (.type, .string(let text)): type = ContextType(rawValue: text) ?? type
        case (.project, .string(let text)): project = text
        case (.env, .map(let map)): env = map
        case (.neptune, .boolean(let flag)): neptune = flag
        case (.resources, .resources(let value)): resources = value
        case (.storage, .string(let text)): storage = text
        case (.python, .string(let text)): python = text
        case (.templatesDir, .string(let text)): templatesDir = text
        case (.gpus, .list(let items)) where type == .ssh: ssh.gpus = items
        case (.gpus, .string(let text)) where type == .ssh: ssh.applyGPUs(scalar: text)
        case (.gpus, .list(let items)): gpus = items
        case (.notify, .list(let items)): notify = items
        case (.notifyOn, .list(let items)): notifyOn = items
        case (.notifyFrom, .string(let text)): notifyFrom = text
        case (.gpus, .string(let text)): gpus = [text]
        case (.hosts, .list(let items)): ssh.hosts = items
        case (.maxPerHost, .integer(let number)): ssh.maxPerHost = number
        case (.identityFile, .string(let text)) where type == .ssh: ssh.identityFile = text
        case (.sshConfig, .string(let text)) where type == .ssh: ssh.sshConfig = text
        case (.workdir, .string(let text)) where type == .ssh: ssh.workdir = text
        case (.setup, .list(let items)) where type == .ssh: ssh.setup = items
        case (.registryURL, .string(let text)): kubernetes.registryURL = text
        case (.baseImage, .string(let text)): kubernetes.baseImage = text
        case (.defaultPVCSize, .string(let text)): kubernetes.defaultPVCSize = text
        case (.kubeContext, .string(let text)): kubernetes.kubeContext = text
        case (.namespace, .string(let text)): kubernetes.namespace = text
        case (.backoffLimit, .integer(let number)): kubernetes.backoffLimit = number
        case (.queue, .string(let text)): kubernetes.queue = text
        case (.priorityClass, .string(let text)): kubernetes.priorityClass = text
        case (.nodeSelector, .map(let map)): kubernetes.nodeSelector = map.isEmpty ? nil : map
        case (.tolerations, .list(let items)): kubernetes.tolerations = items.isEmpty ? nil : items
        case (.sweepMode, .string(let text)): kubernetes.sweepMode = text
        case (.loginNode, .boolean(let flag)): slurm.loginNode = flag
        case (.host, .string(let text)): slurm.host = text
        case (.identityFile, .string(let text)): slurm.identityFile = text
        case (.sshConfig, .string(let text)): slurm.sshConfig = text
        case (.workdir, .string(let text)): slurm.workdir = text
        case (.partition, .string(let text)): slurm.partition = text
        case (.account, .string(let text)): slurm.account = text
        case (.qos, .string(let text)): slurm.qos = text
        case (.time, .string(let text)): slurm.time = text
        case (.nodes, .integer(let number)): gang.nodes = number
        case (.procsPerNode, .integer(let number)): gang.procsPerNode = number
        case (.launcher, .string(let text)): gang.launcher = text
        case (.masterPort, .integer(let number)): gang.masterPort = number
        case (.ntasks, .integer(let number)): slurm.ntasks = number
        case (.cpusPerTask, .integer(let number)): slurm.cpusPerTask = number
        case (.mem, .string(let text)): slurm.mem = text
        case (.gres, .string(let text)): slurm.gres = text
        case (.constraint, .string(let text)): slurm.constraint = text
        case (.modules, .list(let items)): slurm.modules = items
        case (.setup, .list(let items)): slurm.setup = items
        case (.sbatchOptions, .list(let items)): slurm.sbatchOptions = items
        case (.containerImage, .string(let text)): slurm.containerImage = text
        case (.requeue, .boolean(let flag)): slurm.requeue = flag
        default: break
        }
    }

    /// The value stored under `key`, or nil when it is unset (defaults are not reported).
    public func value(of key: ContextKey) -> ContextValue? {
        func text(_ value: String?) -> ContextValue? { value.map(ContextValue.string) }
        func number(_ value: Int?) -> ContextValue? { value.map(ContextValue.integer) }
        func items(_ value: [String]) -> ContextValue? { value.isEmpty ? nil : .list(value) }
        switch key {
        case .name: return .string(name)
        case .type: return .string(type.rawValue)
        case .project: return text(project)
        case .env: return env.isEmpty ? nil : .map(env)
        case .neptune: return .boolean(neptune)
        case .resources: return resources.isEmpty ? nil : .resources(resources)
        case .storage: return text(storage)
        case .python: return text(python)
        case .templatesDir: return text(templatesDir)
        case .notify: return items(notify)
        case .notifyOn: return items(notifyOn)
        case .notifyFrom: return text(notifyFrom)
        case .gpus: return type == .ssh ? ssh.gpusValue : items(gpus)
        case .hosts: return items(ssh.hosts)
        case .maxPerHost: return number(ssh.maxPerHost)
        case .registryURL: return text(kubernetes.registryURL)
        case .baseImage: return text(kubernetes.baseImage)
        case .defaultPVCSize: return text(kubernetes.defaultPVCSize)
        case .kubeContext: return text(kubernetes.kubeContext)
        case .namespace: return text(kubernetes.namespace)
        case .backoffLimit: return number(kubernetes.backoffLimit)
        case .queue: return text(kubernetes.queue)
        case .priorityClass: return text(kubernetes.priorityClass)
        case .nodeSelector: return kubernetes.nodeSelector.flatMap { $0.isEmpty ? nil : .map($0) }
        case .tolerations: return items(kubernetes.tolerations ?? [])
        case .sweepMode: return text(kubernetes.sweepMode)
        case .loginNode: return slurm.loginNode.map(ContextValue.boolean)
        case .host: return text(slurm.host)
        case .identityFile: return text(type == .ssh ? ssh.identityFile : slurm.identityFile)
        case .sshConfig: return text(type == .ssh ? ssh.sshConfig : slurm.sshConfig)
        case .workdir: return text(type == .ssh ? ssh.workdir : slurm.workdir)
        case .partition: return text(slurm.partition)
        case .account: return text(slurm.account)
        case .qos: return text(slurm.qos)
        case .time: return text(slurm.time)
        case .nodes: return number(gang.nodes)
        case .procsPerNode: return number(gang.procsPerNode)
        case .launcher: return text(gang.launcher)
        case .masterPort: return number(gang.masterPort)
        case .ntasks: return number(slurm.ntasks)
        case .cpusPerTask: return number(slurm.cpusPerTask)
        case .mem: return text(slurm.mem)
        case .gres: return text(slurm.gres)
        case .constraint: return text(slurm.constraint)
        case .modules: return items(slurm.modules)
        case .setup: return items(type == .ssh ? ssh.setup : slurm.setup)
        case .sbatchOptions: return items(slurm.sbatchOptions)
        case .containerImage: return text(slurm.containerImage)
        case .requeue: return slurm.requeue.map(ContextValue.boolean)
        }
    }
}
