import Foundation
import Testing

@testable import MrunKit
@testable import MrunConfig
@testable import MrunSupport

/// `mrun context import`: mrunner's config files, written here in its two formats, through the binary.
@Suite struct MrunnerImportTests {
    /// mrunner's later format (`contexts:` by name, `current_context`), every key its backends read
    /// plus two it never knew.
    static let laterFormat = """
        contexts:
          cyf.rl:
            backend_type: slurm
            context_name: cyf.rl
            storage_dir: /net/scratch/people/plgann
            slurm_url: plgann@ares.example.org
            partition: plgrid-gpu
            account: rl-group
            time: 90
            cmd_type: srun
            modules_to_load: plgrid/tools/python/3.9 plgrid/libs/cuda
            venv: /net/people/plgann/envs/rl
            after_module_load_cmd: export OMP_NUM_THREADS=1
            requirements_file: requirements.txt
            nodes: 1
            ntasks: 2
            cpu: 8
            mem: 16G
            gpu: 2
            user_id: ann
            neptune: false
            sbatch_options: ["--exclusive"]
            singularity_container: /net/images/rl.sif
            log_output_path: /tmp/x.log
            project: rl
            env: {WANDB_MODE: offline}
            colour: blue
          gcp.big:
            backend_type: kubernetes
            context_name: gcp.big
            storage_dir: /storage
            registry_url: https://eu.gcr.io/rl-lab
            base_image: python:3.10
            google_project_id: rl-lab
            registry_username: ann
            registry_password: s3cr3t-do-not-show
            default_pvc_size: 100G
            resources: "cpu=4 mem=2G gpu=1"
            neptune: true
            env: {API_TOKEN: tok-do-not-show}
            shoe_size: 42
        current_context: cyf.rl

        """

    func importing(_ arguments: [String], _ text: String, sandbox: Sandbox) async throws -> CLIResult {
        let file = try sandbox.write(text, to: "mrunner.yaml", in: sandbox.root)
        return try await CLI.run(["context", "import", file.path] + arguments, sandbox: sandbox)
    }

    @Test func theLaterFormatWithEveryKeyMapsOrDropsEachOneAndTheDryRunWritesNothing() async throws {
        let sandbox = try Sandbox()
        let dry = try await importing(["--dry-run", "--current"], Self.laterFormat, sandbox: sandbox)
        #expect(dry.status == 0, "\(dry.standardError)")
        let out = dry.standardOutput
        for line in [
            "Context 'cyf.rl' (slurm), from ",
            "  slurm_url: plgann@ares.example.org -> host: plgann@ares.example.org\n",
            "  time: 90 -> time: \"1:30:00\" (mrunner's minutes)\n",
            "  cmd_type: srun -> dropped: mrun submits with sbatch",
            "  venv: /net/people/plgann/envs/rl -> setup: source \"/net/people/plgann/envs/rl/bin/activate\"\n",
            "  after_module_load_cmd: export OMP_NUM_THREADS=1 -> setup: export OMP_NUM_THREADS=1\n",
            "  modules_to_load: plgrid/tools/python/3.9 plgrid/libs/cuda -> modules: [plgrid/tools/python/3.9,",
            "  cpu: 8 -> cpus_per_task: 4 (8 CPUs over ntasks 2, as mrunner asked)\n",
            "  storage_dir: /net/scratch/people/plgann -> storage: /net/scratch/people/plgann, workdir:",
            "  user_id: ann -> dropped: mrun records who launched",
            "  log_output_path: /tmp/x.log -> dropped: ",
            "  colour: blue -> dropped: not a key mrunner's backends read\n",
            "  singularity_container: /net/images/rl.sif -> container_image: /net/images/rl.sif\n",
            "Context 'gcp.big' (kubernetes), from ",
            "  default_pvc_size: 100G -> default_pvc_size: 100Gi\n",
            "  resources: cpu=4 mem=2G gpu=1 -> resources: cpu=4 mem=2Gi gpu=1\n",
            "  google_project_id: rl-lab -> dropped: ",
            "  registry_password: <redacted> -> dropped: ",
            "  shoe_size: 42 -> dropped: not a key mrunner's backends read\n",
            "Would set current_context to 'cyf.rl'.\n", "Dry run: nothing written.\n",
        ] {
            #expect(out.contains(line), "missing \(line) in\n\(out)")
        }
        #expect(out.contains("    time: \"1:30:00\"\n"), "the context it would write")
        for secret in ["s3cr3t-do-not-show", "tok-do-not-show"] { #expect(!out.contains(secret)) }
        #expect(try sandbox.store.contextNames() == ["local"], "a dry run writes nothing")

        let real = try await importing(["--current"], Self.laterFormat, sandbox: sandbox)
        #expect(real.status == 0, "\(real.standardError)")
        #expect(real.standardOutput.contains("Imported 2 contexts from "))
        #expect(try sandbox.store.loadSettings().currentContext == "cyf.rl")
        let slurm = try sandbox.store.loadContext(named: "cyf.rl")
        #expect(slurm.slurm.host == "plgann@ares.example.org")
        #expect(slurm.slurm.time == "1:30:00" && slurm.slurm.partition == "plgrid-gpu")
        #expect(slurm.slurm.account == "rl-group" && slurm.slurm.ntasks == 2 && slurm.slurm.cpusPerTask == 4)
        #expect(slurm.slurm.mem == "16G" && slurm.resources.gpu == 2 && slurm.gang.nodes == 1)
        #expect(slurm.slurm.modules == ["plgrid/tools/python/3.9", "plgrid/libs/cuda"])
        #expect(
            slurm.slurm.setup == [
                "export OMP_NUM_THREADS=1", "source \"/net/people/plgann/envs/rl/bin/activate\"",
                "pip install -r requirements.txt",
            ], "mrunner's order: after module load, the venv, pip")
        #expect(slurm.slurm.sbatchOptions == ["--exclusive"] && slurm.slurm.containerImage == "/net/images/rl.sif")
        #expect(slurm.storage == "/net/scratch/people/plgann")
        #expect(slurm.slurm.workdir == "/net/scratch/people/plgann/mrunner_scratch")
        #expect(slurm.neptune == false && slurm.project == "rl" && slurm.env == ["WANDB_MODE": "offline"])
        let kube = try sandbox.store.loadContext(named: "gcp.big")
        #expect(kube.kubernetes.registryURL == "https://eu.gcr.io/rl-lab")
        #expect(kube.kubernetes.baseImage == "python:3.10" && kube.kubernetes.defaultPVCSize == "100Gi")
        #expect(kube.resources == Resources(cpu: "4", memory: "2Gi", gpu: 1))
        #expect(kube.env == ["API_TOKEN": "tok-do-not-show"], "values are imported, only not shown")
        let mode =
            try FileManager.default.attributesOfItem(
                atPath: sandbox.store.contextFile(named: "gcp.big").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// The README's earlier form: `name`, `type`, `storage`, resources as a string; as a list of
    /// contexts, and as a file that is one context, read from mrunner's default place.
    @Test func theEarlierFormatFromMrunnersOwnFile() async throws {
        let sandbox = try Sandbox()
        let listed = """
            contexts:
              - name: gke.sandbox
                type: kubernetes
                registry_url: https://gcr.io
                resources: cpu=4 tpu=1
                neptune: true
                storage: /storage
              - name: plg.old
                type: slurm
                slurm_url: me@cluster.example.org
                partition: plgrid-testing
                storage: $SCRATCH/me

            """
        let xdg = sandbox.root.appendingPathComponent("xdg")
        try sandbox.write(listed, to: "mrunner/config.yaml", in: xdg)
        let result = try await CLI.run(
            ["context", "import"], sandbox: sandbox, environment: ["XDG_CONFIG_HOME": xdg.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("from \(xdg.path)/mrunner/config.yaml:2"), "\(result.standardOutput)")
        let kube = try sandbox.store.loadContext(named: "gke.sandbox")
        #expect(kube.type == .kubernetes && kube.resources == Resources(cpu: "4", tpu: 1) && kube.storage == "/storage")
        #expect(try sandbox.store.loadContext(named: "plg.old").slurm.partition == "plgrid-testing")
        #expect(
            result.standardOutput.contains(
                "  storage: $SCRATCH/me -> dropped: mrun does not expand $VARIABLES in storage or workdir;"))
        #expect(try sandbox.store.loadContext(named: "plg.old").slurm.workdir == nil)
        #expect(try sandbox.store.loadSettings().currentContext == nil, "without --current")

        let noCurrent = try await CLI.run(
            ["context", "import", "--current", "--prefix", "x-"], sandbox: sandbox,
            environment: ["XDG_CONFIG_HOME": xdg.path])
        #expect(noCurrent.status != 0)
        #expect(
            noCurrent.standardError.hasSuffix(
                "config.yaml: it has no current_context; set one with 'mrun config set'\n"))
        #expect(!(try sandbox.store.contextNames().contains("x-plg.old")), "nothing written")

        let single = "name: solo\ntype: slurm\nslurm_url: me@solo.example.org\ntime: '2:00:00'\n"
        let one = try await importing([], single, sandbox: sandbox)
        #expect(one.status == 0, "\(one.standardError)")
        #expect(try sandbox.store.loadContext(named: "solo").slurm.time == "2:00:00", "sbatch's forms pass unchanged")
    }

    @Test func aNameThatExistsIsRefusedInOneLineUnlessPrefixedOrReplaced() async throws {
        let sandbox = try Sandbox()
        let add = try await CLI.run(
            ["context", "add", "--name", "gcp.big", "--type", "local", "--project", "mine"], sandbox: sandbox)
        #expect(add.status == 0, "\(add.standardError)")
        let clash = try await importing([], Self.laterFormat, sandbox: sandbox)
        #expect(clash.status != 0)
        #expect(
            clash.standardError
                == "error: context import: a context named 'gcp.big' already exists; import under other names"
                + " with --prefix P, or overwrite with --replace\n")
        #expect(try sandbox.store.contextNames() == ["gcp.big", "local"], "cyf.rl was not written either")
        #expect(try sandbox.store.loadContext(named: "gcp.big").type == .local)

        let prefixed = try await importing(["--prefix", "mr-", "--current"], Self.laterFormat, sandbox: sandbox)
        #expect(prefixed.status == 0, "\(prefixed.standardError)")
        #expect(try sandbox.store.contextNames() == ["gcp.big", "local", "mr-cyf.rl", "mr-gcp.big"])
        #expect(try sandbox.store.loadSettings().currentContext == "mr-cyf.rl")

        let replaced = try await importing(["--replace"], Self.laterFormat, sandbox: sandbox)
        #expect(replaced.status == 0, "\(replaced.standardError)")
        #expect(try sandbox.store.loadContext(named: "gcp.big").type == .kubernetes)
    }

    @Test func brokenYAMLAndAnInvalidContextNameTheLineAndWriteNothing() async throws {
        let sandbox = try Sandbox()
        let broken = try await importing([], "contexts:\n  a: {backend_type: slurm\n", sandbox: sandbox)
        #expect(broken.status != 0)
        #expect(
            broken.standardError.hasPrefix("error: \(sandbox.root.path)/mrunner.yaml:3:"), "\(broken.standardError)")
        #expect(broken.standardError.split(separator: "\n").count == 1)

        let invalid = Self.laterFormat.replacingOccurrences(of: "time: 90", with: "time: soon")
        let refused = try await importing([], invalid, sandbox: sandbox)
        #expect(refused.status != 0)
        #expect(
            refused.standardError.hasPrefix("error: \(sandbox.root.path)/mrunner.yaml:9:"), "\(refused.standardError)")
        #expect(refused.standardError.contains("context 'cyf.rl': time 'soon'"), "\(refused.standardError)")
        let noType = try await importing([], "contexts:\n  x:\n    partition: p\n", sandbox: sandbox)
        #expect(noType.standardError.contains("context 'x': missing 'backend_type'"), "\(noType.standardError)")
        let noSlurmURL = try await importing([], "contexts:\n  y: {backend_type: slurm}\n", sandbox: sandbox)
        #expect(noSlurmURL.status != 0 && noSlurmURL.standardError.contains("context 'y':"))
        #expect(try sandbox.store.contextNames() == ["local"])

        let missing = try await CLI.run(
            ["context", "import"], sandbox: sandbox, environment: ["XDG_CONFIG_HOME": sandbox.root.path + "/none"])
        #expect(missing.status != 0 && missing.standardError.contains("/none/mrunner/config.yaml"))
    }

    @Test func mrunnersMinutesBecomeSbatchTime() {
        #expect(MrunnerKeys.slurmTime(minutes: 60) == "1:00:00")
        #expect(MrunnerKeys.slurmTime(minutes: 5) == "0:05:00")
        #expect(MrunnerKeys.slurmTime(minutes: 1500) == "1-01:00:00")
        #expect(MrunnerKeys.activation(of: "/a b/env") == "source \"/a b/env/bin/activate\"")
        #expect(MrunnerKeys.activation(of: "/x\"y") == "source '/x\"y/bin/activate'")
    }
}
