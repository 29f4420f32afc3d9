// k8scheck decodes every manifest of a rendered Helm chart strictly into the real Kubernetes API
// types (k8s.io/api): an unknown or misplaced field, or a value of the wrong type, is an error.
// Offline: no schema download. Strimzi KafkaTopic and prometheus-operator ServiceMonitor are
// checked against minimal structs written from their CRDs (the fields this chart uses).
//
// Usage: k8scheck rendered.yaml
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// KafkaTopic (kafka.strimzi.io/v1beta2), the fields of its CRD this chart uses.
type KafkaTopic struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		TopicName  string                 `json:"topicName"`
		Partitions int32                  `json:"partitions"`
		Replicas   int32                  `json:"replicas"`
		Config     map[string]interface{} `json:"config"`
	} `json:"spec"`
}

// KafkaUser (kafka.strimzi.io/v1beta2), the fields of its CRD this chart uses.
type KafkaUser struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Authentication struct {
			Type string `json:"type"`
		} `json:"authentication"`
		Authorization struct {
			Type string `json:"type"`
			Acls []struct {
				Resource struct {
					Type        string `json:"type"`
					Name        string `json:"name"`
					PatternType string `json:"patternType"`
				} `json:"resource"`
				Operations []string `json:"operations"`
				Host       string   `json:"host"`
			} `json:"acls"`
		} `json:"authorization"`
	} `json:"spec"`
}

// Cluster (postgresql.cnpg.io/v1, CloudNativePG), the fields of its CRD this chart uses.
type CnpgCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Instances int32  `json:"instances"`
		ImageName string `json:"imageName,omitempty"`
		Storage   struct {
			Size         string `json:"size"`
			StorageClass string `json:"storageClass,omitempty"`
		} `json:"storage"`
		Bootstrap struct {
			Initdb struct {
				Database                string   `json:"database"`
				Owner                   string   `json:"owner"`
				PostInitApplicationSQL []string `json:"postInitApplicationSQL"`
			} `json:"initdb"`
		} `json:"bootstrap"`
		Backup map[string]interface{} `json:"backup,omitempty"`
	} `json:"spec"`
}

// ServiceMonitor (monitoring.coreos.com/v1), likewise.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel  string               `json:"jobLabel"`
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port       string              `json:"port,omitempty"`
			TargetPort *intstr.IntOrString `json:"targetPort,omitempty"`
			Path       string              `json:"path,omitempty"`
			Interval   string              `json:"interval,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

func target(apiVersion, kind string) (interface{}, bool) {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Secret":
		return &corev1.Secret{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "v1/PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, true
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}, true
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	case "kafka.strimzi.io/v1beta2/KafkaTopic":
		return &KafkaTopic{}, true
	case "kafka.strimzi.io/v1beta2/KafkaUser":
		return &KafkaUser{}, true
	case "postgresql.cnpg.io/v1/Cluster":
		return &CnpgCluster{}, true
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &ServiceMonitor{}, true
	}
	return nil, false
}

func documents(r io.Reader) ([]string, error) {
	var docs []string
	var cur strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "---" {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line + "\n")
	}
	docs = append(docs, cur.String())
	return docs, sc.Err()
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: k8scheck rendered.yaml")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	docs, err := documents(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	failed := 0
	kinds := map[string]int{}
	for i, doc := range docs {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			fmt.Printf("FAIL document %d: not YAML: %v\n", i, err)
			failed++
			continue
		}
		if string(bytes.TrimSpace(js)) == "null" {
			continue // empty document (a disabled template)
		}
		var meta metav1.TypeMeta
		if err := json.Unmarshal(js, &meta); err != nil || meta.Kind == "" {
			fmt.Printf("FAIL document %d: no apiVersion/kind\n", i)
			failed++
			continue
		}
		obj, ok := target(meta.APIVersion, meta.Kind)
		if !ok {
			fmt.Printf("FAIL document %d: unknown type %s %s\n", i, meta.APIVersion, meta.Kind)
			failed++
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			var named struct {
				Metadata struct{ Name string } `json:"metadata"`
			}
			_ = json.Unmarshal(js, &named)
			fmt.Printf("FAIL %s %s: %v\n", meta.Kind, named.Metadata.Name, err)
			failed++
			continue
		}
		kinds[meta.Kind]++
	}
	var summary []string
	for k, n := range kinds {
		summary = append(summary, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(summary)
	if failed > 0 {
		fmt.Printf("%d manifest(s) failed\n", failed)
		os.Exit(1)
	}
	fmt.Printf("OK: %s (KafkaTopic and ServiceMonitor against minimal CRD structs)\n", strings.Join(summary, ", "))
}
