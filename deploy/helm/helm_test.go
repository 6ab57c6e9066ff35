package helm_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

// chartDir is the chart, relative to this package.
const chartDir = "co2-calculator"

// release and namespace of every rendering.
const (
	release   = "co2"
	namespace = "co2"
)

// SkipEnv, set to 1, skips the tests that need helm instead of failing when
// it is not installed (developer escape hatch; make test never sets it).
const SkipEnv = "CO2_SKIP_HELM"

// helmBin is <repo>/.bin/helm (scripts/tools.sh), else helm on PATH.
func helmBin(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../.bin/helm")
	require.NoError(t, err)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%s=1: helm is not installed", SkipEnv)
	}
	t.Fatalf("helm not found in .bin/ or on PATH: run `make tools` (scripts/tools.sh installs the pinned helm); %s=1 skips", SkipEnv)
	return ""
}

// valuesFiles writes each YAML document to a temporary file and returns
// the -f arguments.
func valuesFiles(t *testing.T, values []string) []string {
	t.Helper()
	var args []string
	for i, v := range values {
		if strings.HasSuffix(v, ".yaml") && !strings.Contains(v, "\n") {
			args = append(args, "-f", v) // a file of the chart
			continue
		}
		p := filepath.Join(t.TempDir(), fmt.Sprintf("values-%d.yaml", i))
		require.NoError(t, os.WriteFile(p, []byte(v), 0o600))
		args = append(args, "-f", p)
	}
	return args
}

// templateErr runs helm template with the values (YAML text or chart file paths).
func templateErr(t *testing.T, values ...string) ([]byte, error) {
	t.Helper()
	args := append([]string{"template", release, chartDir, "--namespace", namespace}, valuesFiles(t, values)...)
	cmd := exec.CommandContext(t.Context(), helmBin(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helm template: %w: %s", err, stderr.String())
	}
	return out, nil
}

func template(t *testing.T, values ...string) []byte {
	t.Helper()
	out, err := templateErr(t, values...)
	require.NoError(t, err)
	return out
}

var (
	codecOnce sync.Once
	codec     runtime.Decoder
)

// strictDecoder decodes YAML into the registered API types and fails on
// unknown, misspelt (matching is case-sensitive) or duplicated fields, and
// on kinds it does not know.
func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	codecOnce.Do(func() {
		scheme := runtime.NewScheme()
		for _, add := range []func(*runtime.Scheme) error{
			corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, networkingv1.AddToScheme,
			policyv1.AddToScheme, autoscalingv2.AddToScheme, kedav1alpha1.AddToScheme, monitoringv1.AddToScheme,
		} {
			if err := add(scheme); err != nil {
				panic(err)
			}
		}
		codec = json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
			json.SerializerOptions{Yaml: true, Strict: true})
	})
	return codec
}

// manifest is a rendered chart, decoded.
type manifest struct {
	Deployments     map[string]*appsv1.Deployment
	Services        map[string]*corev1.Service
	ConfigMaps      map[string]*corev1.ConfigMap
	Secrets         map[string]*corev1.Secret
	ServiceAccounts map[string]*corev1.ServiceAccount
	PVCs            map[string]*corev1.PersistentVolumeClaim
	Ingresses       map[string]*networkingv1.Ingress
	NetworkPolicies map[string]*networkingv1.NetworkPolicy
	HPAs            map[string]*autoscalingv2.HorizontalPodAutoscaler
	PDBs            map[string]*policyv1.PodDisruptionBudget
	Jobs            map[string]*batchv1.Job
	CronJobs        map[string]*batchv1.CronJob
	ScaledObjects   map[string]*kedav1alpha1.ScaledObject
	TriggerAuths    map[string]*kedav1alpha1.TriggerAuthentication
	ServiceMonitors map[string]*monitoringv1.ServiceMonitor
	// Kinds counts the objects per kind.
	Kinds map[string]int
}

// documents splits helm's multi-document output, dropping empty documents.
func documents(out []byte) ([][]byte, error) {
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		empty := true
		for line := range strings.SplitSeq(string(doc), "\n") {
			if s := strings.TrimSpace(line); s != "" && !strings.HasPrefix(s, "#") && s != "---" {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, doc)
		}
	}
}

// decodeStrict decodes every document of out with the strict decoder.
func decodeStrict(t *testing.T, out []byte) manifest {
	t.Helper()
	m := manifest{
		Deployments: map[string]*appsv1.Deployment{}, Services: map[string]*corev1.Service{},
		ConfigMaps: map[string]*corev1.ConfigMap{}, Secrets: map[string]*corev1.Secret{},
		ServiceAccounts: map[string]*corev1.ServiceAccount{}, PVCs: map[string]*corev1.PersistentVolumeClaim{},
		Ingresses: map[string]*networkingv1.Ingress{}, NetworkPolicies: map[string]*networkingv1.NetworkPolicy{},
		HPAs: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, PDBs: map[string]*policyv1.PodDisruptionBudget{},
		Jobs: map[string]*batchv1.Job{}, CronJobs: map[string]*batchv1.CronJob{},
		ScaledObjects: map[string]*kedav1alpha1.ScaledObject{}, TriggerAuths: map[string]*kedav1alpha1.TriggerAuthentication{},
		ServiceMonitors: map[string]*monitoringv1.ServiceMonitor{}, Kinds: map[string]int{},
	}
	docs, err := documents(out)
	require.NoError(t, err)
	require.NotEmpty(t, docs)
	dec := strictDecoder(t)
	seen := map[string]bool{}
	for _, doc := range docs {
		obj, gvk, err := dec.Decode(doc, nil, nil)
		require.NoError(t, err, "strict decoding of:\n%s", doc)
		kind := gvk.Kind
		m.Kinds[kind]++
		acc, err := meta.Accessor(obj)
		require.NoError(t, err)
		name := acc.GetName()
		require.NotEmpty(t, name, "a %s without a name", kind)
		require.False(t, seen[kind+"/"+name], "two %s named %s", kind, name)
		seen[kind+"/"+name] = true
		switch o := obj.(type) {
		case *appsv1.Deployment:
			m.Deployments[name] = o
		case *corev1.Service:
			m.Services[name] = o
		case *corev1.ConfigMap:
			m.ConfigMaps[name] = o
		case *corev1.Secret:
			m.Secrets[name] = o
		case *corev1.ServiceAccount:
			m.ServiceAccounts[name] = o
		case *corev1.PersistentVolumeClaim:
			m.PVCs[name] = o
		case *networkingv1.Ingress:
			m.Ingresses[name] = o
		case *networkingv1.NetworkPolicy:
			m.NetworkPolicies[name] = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.HPAs[name] = o
		case *policyv1.PodDisruptionBudget:
			m.PDBs[name] = o
		case *batchv1.Job:
			m.Jobs[name] = o
		case *batchv1.CronJob:
			m.CronJobs[name] = o
		case *kedav1alpha1.ScaledObject:
			m.ScaledObjects[name] = o
		case *kedav1alpha1.TriggerAuthentication:
			m.TriggerAuths[name] = o
		case *monitoringv1.ServiceMonitor:
			m.ServiceMonitors[name] = o
		default:
			t.Fatalf("rendered a %s (%T) the tests do not check", kind, obj)
		}
	}
	return m
}

// name is the chart's object name of a component (release co2).
func name(component string) string {
	if component == "" {
		return release + "-co2-calculator"
	}
	return release + "-co2-calculator-" + component
}
