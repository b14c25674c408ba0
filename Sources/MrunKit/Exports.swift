// The commands see every layer through `import MrunKit`.
@_exported import KubernetesAPI
@_exported import MrunBackends
@_exported import MrunConfig
@_exported import MrunHistory
@_exported import MrunPlan
@_exported import MrunSupport
@_exported import MrunTemplates
