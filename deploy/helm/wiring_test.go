package helm_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// TestEveryVariable sets every variable of every binary (config and
// secrets.values, generated from pkg/config) and checks that each binary's
// container gets exactly its own: the value through its ConfigMap (or inline
// for the migrate hook), a secret as NAME_FILE naming a mounted file of the
// Secret holding it. Per-binary config overrides the shared one.
func TestEveryVariable(t *testing.T) {
	t.Parallel()
	all, names := variables()
	cfg, secrets := map[string]any{}, map[string]any{}
	want := map[string]string{}
	for _, n := range names {
		v := all[n]
		switch {
		case chartSet[n]:
		case v.Secret:
			secrets[n] = "secret-" + strings.ToLower(n)
		case n == "WORKER_QUEUES":
			cfg[n] = "imports=3,compute=5,default=1"
			want[n] = "imports=3,compute=5,default=1"
		case n == "BLOB_BACKEND":
			cfg[n], want[n] = "s3", "s3"
		case n == "SCHEDULE_ECB": // set but empty through setEmpty below
		default:
			cfg[n] = "v-" + strings.ToLower(n)
			want[n] = cfg[n].(string)
		}
	}
	values, err := yaml.Marshal(map[string]any{
		"config":         cfg,
		"secrets":        map[string]any{"values": secrets},
		"api":            map[string]any{"config": map[string]any{"DB_MAX_CONNS": 21, "UPLOAD_MAX_BYTES": 209715200}},
		"worker":         map[string]any{"config": map[string]any{"DB_MAX_CONNS": 31}, "shutdownTimeoutSeconds": 40},
		"migrate":        map[string]any{"config": map[string]any{"OTEL_SERVICE_NAME": "migrations"}},
		"ports":          map[string]any{"http": 8181, "admin": 9191},
		"setEmpty":       []string{"SCHEDULE_ECB"},
		"dbDump":         map[string]any{"enabled": true},
		"serviceMonitor": map[string]any{"enabled": true},
	})
	require.NoError(t, err)
	m := decodeStrict(t, template(t, string(values)))
	checkManifest(t, m, nil)

	containers := map[string]map[string]string{
		"api":     containerEnv(t, m, m.Deployments[name("api")].Spec.Template.Spec.Containers[0]),
		"worker":  containerEnv(t, m, m.Deployments[name("worker")].Spec.Template.Spec.Containers[0]),
		"migrate": containerEnv(t, m, m.Jobs[name("migrate")].Spec.Template.Spec.Containers[0]),
	}
	for _, b := range binaries {
		env := containers[b]
		for _, n := range names {
			v := all[n]
			if !slices.Contains(v.Binaries, b) {
				require.NotContains(t, env, n, "%s gets %s, which it does not read", b, n)
				require.NotContains(t, env, n+"_FILE", "%s gets %s_FILE", b, n)
				continue
			}
			switch {
			case v.Secret:
				require.Equal(t, "/var/run/secrets/co2-calculator/"+n, env[n+"_FILE"], "%s: %s_FILE", b, n)
				require.NotContains(t, env, n)
			case n == "SCHEDULE_ECB":
				require.Contains(t, env, n, "%s: setEmpty passes SCHEDULE_ECB set but empty", b)
				require.Empty(t, env[n])
			case n == "HTTP_ADDR":
				require.Equal(t, ":8181", env[n])
			case n == "ADMIN_ADDR":
				require.Equal(t, ":9191", env[n])
			case n == "WORKER_SHUTDOWN_TIMEOUT":
				require.Equal(t, "40s", env[n])
			case n == "DB_MAX_CONNS":
				require.Equal(t, map[string]string{"api": "21", "worker": "31"}[b], env[n])
			case n == "UPLOAD_MAX_BYTES":
				require.Equal(t, "209715200", env[n], "integral numbers are written without an exponent")
			case n == "OTEL_SERVICE_NAME" && b == "migrate":
				require.Equal(t, "migrations", env[n])
			default:
				require.Equal(t, want[n], env[n], "%s: %s", b, n)
			}
		}
	}
	// The worker's grace period follows worker.shutdownTimeoutSeconds; KEDA follows WORKER_QUEUES.
	require.Equal(t, int64(40+35), *m.Deployments[name("worker")].Spec.Template.Spec.TerminationGracePeriodSeconds)
	var queues []string
	for _, tr := range m.ScaledObjects[name("worker")].Spec.Triggers {
		if tr.Type == "postgresql" {
			queues = append(queues, tr.Name+"="+tr.Metadata["targetQueryValue"])
		}
	}
	require.Equal(t, []string{"queue-compute=5", "queue-default=1", "queue-imports=3"}, queues)
	// dbdump gets the S3 target of the app and the database URL as a file.
	dump := m.CronJobs[name("db-dump")].Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	denv := containerEnv(t, m, dump)
	require.Equal(t, want["S3_BUCKET"], denv["S3_BUCKET"])
	require.Equal(t, "/var/run/secrets/co2-calculator/DATABASE_URL", denv["DATABASE_URL_FILE"])
	require.Equal(t, "720h", denv["DUMP_RETENTION"])
}

// TestRejectedValues: values the binaries would refuse, or that the chart
// would silently drop, fail the rendering with a message naming them.
func TestRejectedValues(t *testing.T) {
	t.Parallel()
	for caseName, tc := range map[string]struct{ values, want string }{
		"UnknownVariable":   {"config: {LOG_LEVL: debug}", "config.LOG_LEVL: not a variable"},
		"SecretInConfig":    {"config: {DATABASE_URL: postgres://x}", "config.DATABASE_URL: a secret"},
		"ChartSetVariable":  {"api: {config: {HTTP_ADDR: ':80'}}", "api.config.HTTP_ADDR: set by the chart"},
		"UnknownSecret":     {"secrets: {values: {LOG_LEVEL: x}}", "secrets.values.LOG_LEVEL: not a secret"},
		"UnknownSecretKey":  {"secrets: {create: false, existingSecret: s, existingSecretKeys: [PASSWORD]}", "PASSWORD is neither"},
		"SecretBothWays":    {"secrets: {existingSecret: s}", "set create: false"},
		"KEDAMinZero":       {"worker: {autoscaling: {keda: {minReplicas: 0}}}", "minReplicas: at least 1"},
		"KEDAMinOverMax":    {"worker: {autoscaling: {keda: {minReplicas: 5, maxReplicas: 2}}}", "minReplicas > maxReplicas"},
		"KEDAUnknownQueue":  {"worker: {autoscaling: {keda: {queueTargets: {emails: 3}}}}", "queueTargets.emails"},
		"BadQueues":         {"config: {WORKER_QUEUES: 'imports:2'}", "is not queue=maxWorkers"},
		"BadQueueName":      {"config: {WORKER_QUEUES: \"x'y=2\"}", "want [a-z0-9_-]+"},
		"ShortGraceMargin":  {"worker: {terminationGraceMarginSeconds: 5}", "terminationGraceMarginSeconds: at least 10"},
		"DumpWithoutBucket": {"dbDump: {enabled: true}", "dbDump.enabled needs an S3 bucket"},
		"S3WithoutBucket":   {"config: {BLOB_BACKEND: s3}", "S3_BUCKET is required"},
		"SetEmptyUnknown":   {"setEmpty: [SCHEDULE_EVERYTHING]", "setEmpty: SCHEDULE_EVERYTHING"},
	} {
		t.Run(caseName, func(t *testing.T) {
			t.Parallel()
			_, err := templateErr(t, tc.values+"\n")
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestStrictDecoding: the decoder the rendering goes through refuses
// unknown, misspelt (case included) and duplicated fields of every kind.
func TestStrictDecoding(t *testing.T) {
	t.Parallel()
	valid := map[string]string{
		"Deployment": `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - name: c
          image: i
          %s
`,
		"ScaledObject": `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: s}
spec:
  scaleTargetRef: {name: d}
  %s
  triggers: [{type: cpu, metadata: {value: "50"}}]
`,
		"ServiceMonitor": `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m}
spec:
  selector: {}
  endpoints: [{port: admin, %s}]
`,
	}
	for caseName, tc := range map[string]struct{ kind, good, bad, want string }{
		"DeploymentUnknownField": {"Deployment", "ports: [{containerPort: 80}]", "portz: [{containerPort: 80}]", `unknown field "spec.template.spec.containers[0].portz"`},
		"DeploymentFieldCase":    {"Deployment", "ports: [{containerPort: 80}]", "ports: [{ContainerPort: 80}]", `unknown field "spec.template.spec.containers[0].ports[0].ContainerPort"`},
		"DeploymentDuplicate":    {"Deployment", "imagePullPolicy: Always", "imagePullPolicy: Always\n          imagePullPolicy: Never", `key "imagePullPolicy" already set in map`},
		"ScaledObjectMisspelt":   {"ScaledObject", "minReplicaCount: 1", "minReplicas: 1", `unknown field "spec.minReplicas"`},
		"ServiceMonitorUnknown":  {"ServiceMonitor", "interval: 30s", "intervall: 30s", `unknown field "spec.endpoints[0].intervall"`},
	} {
		t.Run(caseName, func(t *testing.T) {
			t.Parallel()
			dec := strictDecoder(t)
			_, _, err := dec.Decode(fmt.Appendf(nil, valid[tc.kind], tc.good), nil, nil)
			require.NoError(t, err)
			_, _, err = dec.Decode(fmt.Appendf(nil, valid[tc.kind], tc.bad), nil, nil)
			require.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("UnknownKind", func(t *testing.T) {
		t.Parallel()
		_, _, err := strictDecoder(t).Decode([]byte("apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: d}\n"), nil, nil)
		require.ErrorContains(t, err, "no kind \"Deploymnet\"")
	})
}
