// Package helm holds the tests of the Helm chart in co2-calculator/ (the
// chart itself is YAML and templates; this package has no code of its own):
//
//   - helm lint --strict and helm template with the default values and with
//     co2-calculator/ci/production-values.yaml (helm is pinned and installed
//     into .bin/ by scripts/tools.sh);
//   - every rendered object strictly decoded against its API type (the
//     Kubernetes built-ins, KEDA's ScaledObject and TriggerAuthentication,
//     the Prometheus Operator's ServiceMonitor): an unknown, misspelt or
//     duplicated field fails;
//   - the wiring: every variable of the README's Configuration table reaches
//     exactly the binaries that read it (secrets as NAME_FILE), references
//     between objects resolve, the pods are non-root with a read-only root
//     filesystem;
//   - the KEDA PostgreSQL scaler's SQL, read from the rendered ScaledObject,
//     run against a real database holding N waiting River jobs per queue,
//     and the replica count KEDA's HPA would choose.
//
// co2-calculator/files/variables.yaml is generated from pkg/config:
//
//	go test ./deploy/helm -run TestVariablesFile -update
package helm
