// Command gitops-validator judges Kubernetes documents the way kube-apiserver's create path does,
// without a server: it builds the API server's own REST storage for every built-in resource
// (k8s.io/kubernetes/pkg/registry) and for the custom resources of the CRDs it is taught
// (k8s.io/apiextensions-apiserver), backed by a storage that holds nothing, and creates each
// document there with fieldValidation=Strict (a real create into that empty storage, not a dry
// run: see create.go).
//
// Protocol: newline-delimited JSON on stdin and stdout, one answer per request, in order.
//
//	{"id": "a", "op": "learn", "object": {<CustomResourceDefinition>}}
//	{"id": "f", "op": "learn", "file": "/path/to/crds.yaml"}   (every CRD of a YAML file)
//	{"id": "b", "object": {<any document>}, "namespace": "integration"}
//	-> {"id": "b", "allowed": false, "reason": "Invalid", "message": "...", "causes": [...]}
//
// What it does not judge: admission plugins (Pod Security, quotas, LimitRanges, webhooks, the
// namespace's existence) and anything else that depends on objects already in a cluster.
//
// Exit codes: 0 every request answered (whatever the verdicts); 2 bad flags or a malformed
// request line (named on stderr).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/capabilities"
)

// The Kubernetes release this binary's code comes from; the Go module pins it (go.mod).
const binaryMinor = 36

// kube-apiserver can emulate up to three minors back (--emulated-version; KEP-4330).
const oldestEmulatedMinor = binaryMinor - 3

type options struct {
	kubernetesVersion string
	featureGates      string
	serviceCIDR       string
	nodePortRange     string
	allowPrivileged   bool
	printVersion      bool
	listKinds         bool
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("gitops-validator", flag.ContinueOnError)
	fs.StringVar(&o.kubernetesVersion, "kubernetes-version", fmt.Sprintf("1.%d", binaryMinor),
		"the Kubernetes minor to judge as (feature gates and served APIs of that version)")
	fs.StringVar(&o.featureGates, "feature-gates", "", "overrides, as kube-apiserver takes them: A=true,B=false")
	fs.StringVar(&o.serviceCIDR, "service-cluster-ip-range", "10.96.0.0/12", "kube-apiserver --service-cluster-ip-range")
	fs.StringVar(&o.nodePortRange, "service-node-port-range", "30000-32767", "kube-apiserver --service-node-port-range")
	// kube-apiserver's own default is false; kubeadm, kind and kwokctl all start it with true.
	fs.BoolVar(&o.allowPrivileged, "allow-privileged", true, "kube-apiserver --allow-privileged")
	fs.BoolVar(&o.printVersion, "version", false, "print the upstream version and exit")
	fs.BoolVar(&o.listKinds, "list-kinds", false, "print every served apiVersion/kind and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	return o, nil
}

func main() {
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	if opts.printVersion {
		fmt.Println(upstreamVersion())
		return
	}
	// What kube-apiserver's Run does with the flag (cmd/kube-apiserver/app/server.go).
	capabilities.Setup(opts.allowPrivileged, 0)
	if err := configureFeatureGates(opts); err != nil {
		fmt.Fprintf(os.Stderr, "gitops-validator: %v\n", err)
		os.Exit(2)
	}
	server, err := newServer(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gitops-validator: %v\n", err)
		os.Exit(2)
	}
	if opts.listKinds {
		for _, kind := range server.servedKinds() {
			fmt.Println(kind)
		}
		return
	}
	if path := os.Getenv("GITOPS_VALIDATOR_CPUPROFILE"); path != "" {
		// For `go tool pprof`: where the time of a run goes.
		if stop, err := startProfile(path); err == nil {
			defer stop()
		}
	}
	if err := serve(server, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "gitops-validator: %v\n", err)
		os.Exit(2)
	}
}

func startProfile(path string) (func(), error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); out.Close() }, nil
}

// upstreamVersion reads the k8s.io/kubernetes version this binary was built from.
func upstreamVersion() string {
	info, ok := debug.ReadBuildInfo()
	if ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/kubernetes" {
				return "kube-apiserver " + dep.Version
			}
		}
	}
	return fmt.Sprintf("kube-apiserver v1.%d", binaryMinor)
}

// configureFeatureGates sets the process-wide gates the registry strategies read, as
// kube-apiserver --emulated-version and --feature-gates would.
func configureFeatureGates(opts options) error {
	emulated, err := version.ParseMajorMinor(opts.kubernetesVersion)
	if err != nil {
		return fmt.Errorf("--kubernetes-version %q: expected MAJOR.MINOR such as 1.%d", opts.kubernetesVersion, binaryMinor)
	}
	if emulated.Major() != 1 || emulated.Minor() > binaryMinor || emulated.Minor() < oldestEmulatedMinor {
		return fmt.Errorf("--kubernetes-version %s: this build (1.%d) judges 1.%d to 1.%d", opts.kubernetesVersion,
			binaryMinor, oldestEmulatedMinor, binaryMinor)
	}
	gates := utilfeature.DefaultMutableFeatureGate
	if err := gates.SetEmulationVersion(emulated); err != nil {
		return fmt.Errorf("emulating %s: %v", opts.kubernetesVersion, err)
	}
	overrides, err := parseGates(opts.featureGates)
	if err != nil {
		return err
	}
	if len(overrides) > 0 {
		if err := gates.SetFromMap(overrides); err != nil {
			return fmt.Errorf("--feature-gates: %v", err)
		}
	}
	return nil
}

func parseGates(spec string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, found := strings.Cut(item, "=")
		if !found || (value != "true" && value != "false") {
			return nil, fmt.Errorf("--feature-gates: %q: expected Name=true or Name=false", item)
		}
		out[strings.TrimSpace(name)] = value == "true"
	}
	return out, nil
}

type validationRequest struct {
	ID        string          `json:"id"`
	Op        string          `json:"op,omitempty"`
	Namespace string          `json:"namespace,omitempty"`
	Object    json.RawMessage `json:"object"`
	// File (op learn only): a YAML file of CustomResourceDefinitions to learn instead of
	// Object, read here so the caller need not parse it (gitops' bundled CRDs).
	File string `json:"file,omitempty"`
}

type cause struct {
	Field   string `json:"field,omitempty"`
	Type    string `json:"type,omitempty"`
	Message string `json:"message"`
}

type verdict struct {
	ID       string   `json:"id"`
	Allowed  bool     `json:"allowed"`
	Reason   string   `json:"reason,omitempty"`
	Message  string   `json:"message,omitempty"`
	Causes   []cause  `json:"causes,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// NotServed: no API of this version serves the document's apiVersion/kind and no CRD
	// taught defines it (kubectl's "no matches for kind").
	NotServed bool `json:"notServed,omitempty"`
}

// serve answers every request line of in on out, in order.
func serve(server *server, in io.Reader, out io.Writer) error {
	reader := bufio.NewReaderSize(in, 1<<20)
	writer := bufio.NewWriterSize(out, 1<<16)
	defer writer.Flush()
	encoder := json.NewEncoder(writer)
	encoder.SetEscapeHTML(false)
	for line := 1; ; line++ {
		raw, err := reader.ReadBytes('\n')
		if len(strings.TrimSpace(string(raw))) > 0 {
			var req validationRequest
			if jsonErr := json.Unmarshal(raw, &req); jsonErr != nil {
				return fmt.Errorf("stdin line %d: expected one JSON request object: %v", line, jsonErr)
			}
			answer := server.answer(req)
			if encErr := encoder.Encode(answer); encErr != nil {
				return encErr
			}
			if reader.Buffered() == 0 {
				if flushErr := writer.Flush(); flushErr != nil {
					return flushErr
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *server) answer(req validationRequest) (v verdict) {
	defer func() {
		// A code path that needs a part of the API server we do not run (a real storage, a
		// client) panics on our empty storage: report it for this document, keep serving.
		if recovered := recover(); recovered != nil {
			v = verdict{ID: req.ID, Reason: "InternalError",
				Message: fmt.Sprintf("gitops-validator cannot judge this document: %v", recovered)}
		}
	}()
	switch req.Op {
	case "", "validate":
		v = s.validate(req.Object, req.Namespace)
	case "learn":
		if req.File != "" {
			v = s.learnFile(req.File)
		} else {
			v = s.learn(req.Object)
		}
	default:
		v = verdict{Reason: "BadRequest", Message: fmt.Sprintf("unknown op %q: expected validate or learn", req.Op)}
	}
	v.ID = req.ID
	sort.Strings(v.Warnings)
	return v
}
