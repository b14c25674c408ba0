import Foundation
import MrunSupport
import MrunConfig
import MrunTemplates
import MrunPlan
import MrunHistory
import KubernetesAPI

/// `--parallel auto` on this machine: one point per free GPU, each point's `CUDA_VISIBLE_DEVICES`
/// its own GPU, the next point started on a GPU as soon as the point on it ends.
extension LocalBackend {
    /// This machine's free GPUs: the context's `gpus` when it lists them, else what nvidia-smi
    /// lists with less than `GPUUsage.busyMemoryPercent` % of its memory used (a GPU busy with something else is left out).
    static func freeGPUs(context: Context, environment: [String: String]) async -> [String] {
        if !context.gpus.isEmpty { return context.gpus }
        let result = try? await SystemProcessRunner().run(
            ["nvidia-smi"] + GPUUsage.query,
            environment: environment, workingDirectory: nil)
        guard let result, result.status == .exited(0) else { return [] }
        return result.standardOutput.split(whereSeparator: \.isNewline).compactMap(GPUUsage.init(csvLine:))
            .filter { !$0.isBusy }.map { String($0.index) }
    }

    /// The point's plan on `gpu`: only it visible.
    static func on(gpu: String, _ plan: ExperimentPlan) -> ExperimentPlan {
        var plan = plan
        plan.environment.removeAll { $0.name == "CUDA_VISIBLE_DEVICES" }
        plan.environment.append(EnvironmentVariable(name: "CUDA_VISIBLE_DEVICES", value: gpu))
        return plan
    }
}

/// The GPUs of `--parallel auto`, handed to one point at a time.
actor GPUPool {
    private var free: [String]
    private var waiting: [CheckedContinuation<String, Never>] = []

    init(_ gpus: [String]) { free = gpus }

    func acquire() async -> String {
        if !free.isEmpty { return free.removeFirst() }
        return await withCheckedContinuation { waiting.append($0) }
    }

    func release(_ gpu: String) {
        if waiting.isEmpty { free.append(gpu) } else { waiting.removeFirst().resume(returning: gpu) }
    }
}
