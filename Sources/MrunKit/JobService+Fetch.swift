import Foundation
import MrunSupport
import MrunConfig
import MrunPlan
import MrunHistory
import MrunBackends

extension JobService {
    /// Copies each launch's output directory (`paths` under it, or all of it) to `base/NAME/`,
    /// one launch after another; a launch that fails does not stop the others.
    public func fetch(_ launches: [LaunchRecord], paths: [String], to base: URL, force: Bool) async
        -> [(LaunchRecord, Result<FetchReport, any Error>)]
    {
        var results: [(LaunchRecord, Result<FetchReport, any Error>)] = []
        for launch in launches {
            do {
                let context = context(of: launch)
                guard
                    let directory = try JobControls.outputDirectory(
                        of: launch, context: context, environment: environment)
                else {
                    throw FetchError.nothingWritten(launch: launch.id, directory: "MRUN_OUTPUT_DIR")
                }
                let history = history
                let transport = try JobControls.output(
                    for: launch, context: context, environment: environment, history: { history })
                let request = FetchRequest(
                    paths: paths, destination: base.appendingPathComponent(launch.experimentName), force: force)
                results.append(
                    (launch, .success(try await transport.fetch(directory, request, sink: environment.sink))))
            } catch {
                results.append((launch, .failure(error)))
                if case FetchError.interrupted = error { break }
            }
        }
        return results
    }
}
