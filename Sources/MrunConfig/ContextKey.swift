import MrunSupport

/// Every key a context file may hold: its spelling, the shape of its value, which context types
/// accept it, and what it means. One table drives parsing, `context add` flags and the README.
public enum ContextKey: String, CaseIterable, Sendable {
    case name, type, project, env, neptune, resources, storage, python
    case templatesDir = "templates_dir"
    case gpus
    case notify
    case notifyOn = "notify_on"
    case notifyFrom = "notify_from"
    case registryURL = "registry_url"
    case baseImage = "base_image"
    case defaultPVCSize = "default_pvc_size"
    case kubeContext = "kube_context"
    case namespace
    case backoffLimit = "backoff_limit"
    case queue
    case priorityClass = "priority_class"
    case nodeSelector = "node_selector"
    case tolerations
    case sweepMode = "sweep_mode"
    case loginNode = "login_node"
    case host
    case identityFile = "identity_file"
    case sshConfig = "ssh_config"
    case nodes
    case procsPerNode = "procs_per_node"
    case launcher
    case masterPort = "master_port"
    case workdir, partition, account, qos, time, ntasks
    case cpusPerTask = "cpus_per_task"
    case mem, gres, constraint, modules, setup
    case sbatchOptions = "sbatch_options"
    case containerImage = "container_image"
    case requeue
    case hosts
    case maxPerHost = "max_per_host"

    public enum Shape: Sendable {
        case string, integer, boolean, stringList, stringMap, resources
        var noun: String {
            switch self {
            case .string: return "a string"
            case .integer: return "a whole number"
            case .boolean: return "true or false"
            case .stringList: return "a list of strings"
            case .stringMap: return "a mapping of names to strings"
            case .resources: return "a resources string like \"cpu=4 mem=8G gpu=1\" or a mapping"
            }
        }
    }

    public var shape: Shape {
        switch self {
        case .env, .nodeSelector: return .stringMap
        case .neptune, .loginNode, .requeue: return .boolean
        case .resources: return .resources
        case .backoffLimit, .nodes, .procsPerNode, .masterPort, .ntasks, .cpusPerTask, .maxPerHost: return .integer
        case .modules, .setup, .sbatchOptions, .gpus, .tolerations, .hosts, .notify, .notifyOn: return .stringList
        default: return .string
        }
    }

    public var appliesTo: Set<ContextType> {
        switch self {
        case .gpus: return [.local, .ssh]
        case .identityFile, .sshConfig, .workdir, .setup: return [.slurm, .ssh]
        case .hosts, .maxPerHost: return [.ssh]
        case .registryURL, .baseImage, .defaultPVCSize, .kubeContext, .namespace, .backoffLimit, .queue, .priorityClass,
            .nodeSelector, .tolerations, .sweepMode:
            return [.kubernetes]
        case .loginNode, .host, .partition, .account, .qos, .time, .ntasks, .cpusPerTask, .mem, .gres, .constraint,
            .modules, .sbatchOptions, .containerImage, .requeue:
            return [.slurm]
        default:
            return Set(ContextType.allCases)
        }
    }

    public var summary: String {
        switch self {
        case .name: return "Context name: letters, digits, '.', '_' and '-' (e.g. gke.sandbox)."
        case .type: return "local, kubernetes, slurm or ssh."
        case .project:
            return "Default project (namespace on Kubernetes) when neither --project nor a Neptune config names one."
        case .env: return "Extra environment variables for every experiment."
        case .neptune: return "Pass Neptune credentials to experiments (default true)."
        case .resources: return "Resources per experiment: cpu, mem, gpu, tpu."
        case .storage: return "Shared storage path; exported as STORAGE_DIR (the PVC mount on Kubernetes)."
        case .python: return "Python interpreter that runs the script (default python3)."
        case .templatesDir: return "Directory whose templates override the built-in ones, file by file."
        case .notify: return "Webhook URLs or 'command: ARGV' lines told when a launch ends (see the README)."
        case .notifyOn: return "Events notified: end (default), fail, start."
        case .notifyFrom: return "Who sends notifications: job (default) or here ('mrun wait --notify')."
        case .gpus:
            return
                "GPUs: a local gang's, e.g. [0, 1] (default: nvidia-smi's); on ssh hosts auto (default), a list or 0."
        case .registryURL: return "Docker registry the image is pushed to, e.g. gcr.io/my-project."
        case .baseImage: return "Base image of the experiment's Dockerfile (default python:3.11-slim)."
        case .defaultPVCSize: return "Size of the project's PersistentVolumeClaim (default 40Gi)."
        case .kubeContext: return "kubeconfig context to use (default: its current-context)."
        case .namespace: return "Namespace to use instead of the one named after the project."
        case .backoffLimit: return "Job retries before it is marked failed (default 0)."
        case .queue: return "Kueue LocalQueue the Job is submitted to (label kueue.x-k8s.io/queue-name)."
        case .priorityClass: return "PriorityClass of the Job's pods (priorityClassName)."
        case .nodeSelector: return "Node labels the pods need, LABEL=VALUE (e.g. cloud.google.com/gke-nodepool=gpu)."
        case .tolerations: return "Node taints the pods tolerate: KEY, KEY:EFFECT, KEY=VALUE or KEY=VALUE:EFFECT."
        case .sweepMode:
            return "How a sweep becomes Jobs: jobs (default, one Job per point) or indexed (one Indexed Job)."
        case .loginNode:
            return "mrun runs on the cluster's login node: Slurm commands run here, without ssh (default false)."
        case .host: return "ssh destination: an alias from ~/.ssh/config or user@host[:port]."
        case .identityFile: return "ssh private key to use (default: ssh's own choice)."
        case .sshConfig: return "ssh client config file used instead of ~/.ssh/config (ssh -F)."
        case .workdir:
            return "Remote directory under which experiments are shipped, relative to the remote home (default mrun)."
        case .partition: return "Slurm partition (--partition)."
        case .account: return "Slurm account (--account)."
        case .qos: return "Slurm quality of service (--qos)."
        case .time: return "Slurm time limit, e.g. 1:00:00 (--time)."
        case .nodes: return "Nodes of a gang (default 1); on Slurm also --nodes."
        case .procsPerNode:
            return "Processes per node (default: the GPUs per node when resources.gpu is set, else 1)."
        case .launcher: return "How a gang's processes start: mrun (default), torchrun or none."
        case .masterPort: return "Port of rank 0 for the gang's rendezvous, MASTER_PORT (default 29500)."
        case .ntasks: return "Number of tasks (--ntasks)."
        case .cpusPerTask: return "CPUs per task (--cpus-per-task)."
        case .mem: return "Memory per node, e.g. 8G (--mem)."
        case .gres: return "Generic resources, e.g. gpu:1 (--gres)."
        case .constraint: return "Node features required (--constraint)."
        case .modules: return "Environment modules loaded before the run (module load ...)."
        case .setup: return "Shell lines run before the experiment (e.g. activating a venv)."
        case .sbatchOptions: return "Raw sbatch options, one per item (e.g. --exclusive)."
        case .requeue: return "Put a job Slurm preempted or whose node failed back in the queue (--requeue)."
        case .containerImage:
            return "Apptainer/Singularity image the experiment runs in (apptainer exec --nv IMAGE ...)."
        case .hosts: return "ssh hosts experiments run on: aliases from ~/.ssh/config or user@host[:port]."
        case .maxPerHost: return "Points at once on a host without GPUs (default 1)."
        }
    }

    /// Keys that a context of this type accepts.
    public static func keys(for type: ContextType) -> [ContextKey] {
        allCases.filter { $0.appliesTo.contains(type) }
    }
}
